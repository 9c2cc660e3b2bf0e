//! The issuer's signing keys (JWKS), fetched over HTTP and cached.
//!
//! * The key set is used for [`CacheSettings::lifetime`], then fetched again on the next token.
//! * A token naming a `kid` the cached set lacks causes a fetch (the issuer rotated its keys),
//!   but at most once per [`CacheSettings::refresh_interval`]: forged `kid`s cannot make the
//!   server hammer the issuer. The same interval spaces retries after a failed fetch.
//! * At most [`CacheSettings::max_keys`] keys are kept; symmetric (`oct`) keys, keys for
//!   encryption and keys of unknown types are dropped.
//! * One fetch at a time; requests that need it wait for it rather than starting their own.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey};
use serde_json::Value;
// Tokio's clock (the system's monotonic clock unless a test pauses it), so key expiry and the
// refresh interval can be tested without waiting for them.
use tokio::time::Instant;

use super::fetch::{Fetcher, issuer_metadata};

/// Bounds of the key cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheSettings {
    pub(crate) lifetime: Duration,
    pub(crate) max_keys: usize,
    pub(crate) refresh_interval: Duration,
}

/// One usable verification key.
struct Key {
    kid: Option<String>,
    /// The algorithm the JWK is restricted to, when it says.
    alg: Option<JwtAlg>,
    params: Kind,
    key: Arc<DecodingKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    Ec(EcCurve),
    Ed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EcCurve {
    P256,
    P384,
}

impl Kind {
    fn fits(self, alg: JwtAlg) -> bool {
        matches!(
            (self, alg),
            (
                Kind::Rsa,
                JwtAlg::RS256
                    | JwtAlg::RS384
                    | JwtAlg::RS512
                    | JwtAlg::PS256
                    | JwtAlg::PS384
                    | JwtAlg::PS512,
            ) | (Kind::Ec(EcCurve::P256), JwtAlg::ES256)
                | (Kind::Ec(EcCurve::P384), JwtAlg::ES384)
                | (Kind::Ed, JwtAlg::EdDSA)
        )
    }
}

#[derive(Default)]
struct State {
    keys: Vec<Key>,
    fetched: Option<Instant>,
    last_attempt: Option<Instant>,
    /// The discovered (or configured) key set URL.
    jwks_uri: Option<String>,
}

/// The result of looking a key up.
pub(crate) enum Lookup {
    Found(Arc<DecodingKey>),
    /// The issuer publishes no such key (after a refresh, or when one was not allowed yet).
    Unknown,
    /// The keys could not be fetched and none are cached.
    Unavailable,
}

/// The key cache of one issuer.
pub(crate) struct Jwks {
    issuer: String,
    settings: CacheSettings,
    fetcher: Fetcher,
    state: RwLock<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub(crate) fn new(
        issuer: String,
        jwks_uri: Option<String>,
        settings: CacheSettings,
        fetcher: Fetcher,
    ) -> Jwks {
        Jwks {
            issuer,
            settings,
            fetcher,
            state: RwLock::new(State {
                jwks_uri,
                ..State::default()
            }),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// `(fresh, key)`: whether the cached set is within its lifetime, and the key for
    /// `kid`/`alg` in it.
    fn cached(&self, kid: Option<&str>, alg: JwtAlg) -> (bool, Option<Arc<DecodingKey>>) {
        let st = self.read();
        let fresh = st
            .fetched
            .is_some_and(|t| t.elapsed() < self.settings.lifetime);
        if !fresh {
            return (false, None);
        }
        let usable = |k: &&Key| k.params.fits(alg) && k.alg.is_none_or(|a| a == alg);
        let key = match kid {
            Some(kid) => st
                .keys
                .iter()
                .filter(usable)
                .find(|k| k.kid.as_deref() == Some(kid)),
            // Without a `kid`, only an unambiguous key set can say which key signed.
            None => {
                let mut it = st.keys.iter().filter(usable);
                match (it.next(), it.next()) {
                    (Some(k), None) => Some(k),
                    _ => None,
                }
            }
        };
        (true, key.map(|k| k.key.clone()))
    }

    /// The key that verifies a token with header `kid` and `alg`.
    pub(crate) async fn key(&self, kid: Option<&str>, alg: JwtAlg) -> Lookup {
        if let (true, Some(k)) = self.cached(kid, alg) {
            return Lookup::Found(k);
        }
        let _single = self.refresh.lock().await;
        // Another request may have fetched while this one waited.
        let (fresh, found) = self.cached(kid, alg);
        if let Some(k) = found {
            return Lookup::Found(k);
        }
        let may_fetch = self
            .read()
            .last_attempt
            .is_none_or(|t| t.elapsed() >= self.settings.refresh_interval);
        if !may_fetch {
            return if fresh {
                Lookup::Unknown
            } else {
                Lookup::Unavailable
            };
        }
        self.write().last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::debug!(target: "mcp::oauth", issuer = %self.issuer, keys = keys.len(), "signing keys fetched");
                let mut st = self.write();
                st.keys = keys;
                st.fetched = Some(Instant::now());
            }
            Err(e) => {
                tracing::warn!(target: "mcp::oauth", issuer = %self.issuer, error = %e, "cannot fetch the issuer's signing keys");
                if !fresh {
                    // An expired set is not used past its lifetime.
                    let mut st = self.write();
                    st.keys.clear();
                    st.fetched = None;
                    return Lookup::Unavailable;
                }
                return Lookup::Unknown;
            }
        }
        match self.cached(kid, alg) {
            (_, Some(k)) => Lookup::Found(k),
            _ => Lookup::Unknown,
        }
    }

    async fn fetch(&self) -> Result<Vec<Key>, super::fetch::FetchError> {
        let uri = self.read().jwks_uri.clone();
        let uri = match uri {
            Some(u) => u,
            None => {
                let meta = issuer_metadata(&self.fetcher, &self.issuer).await?;
                let u = meta
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .filter(|u| super::fetch::check_url("JWKS", u, true).is_ok())
                    .ok_or(super::fetch::FetchError::NotJson)?
                    .to_owned();
                self.write().jwks_uri = Some(u.clone());
                u
            }
        };
        let set = self.fetcher.get_json(&uri).await?;
        Ok(parse_keys(&set, self.settings.max_keys))
    }
}

/// The usable verification keys of a JWK set, at most `max`.
fn parse_keys(set: &Value, max: usize) -> Vec<Key> {
    let Some(items) = set.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let jwk: Jwk = serde_json::from_value(item.clone()).ok()?;
            if jwk
                .common
                .public_key_use
                .as_ref()
                .is_some_and(|u| *u != PublicKeyUse::Signature)
            {
                return None;
            }
            if jwk
                .common
                .key_operations
                .as_ref()
                .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
            {
                return None;
            }
            let params = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Kind::Rsa,
                AlgorithmParameters::EllipticCurve(p) => match p.curve {
                    EllipticCurve::P256 => Kind::Ec(EcCurve::P256),
                    EllipticCurve::P384 => Kind::Ec(EcCurve::P384),
                    _ => return None,
                },
                AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                    Kind::Ed
                }
                // Symmetric and unknown keys are never used.
                _ => return None,
            };
            let alg = match jwk.common.key_algorithm {
                Some(a) => Some(JwtAlg::try_from(a).ok()?),
                None => None,
            };
            if alg.is_some_and(|a| !params.fits(a)) {
                return None;
            }
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some(Key {
                kid: jwk.common.key_id.clone(),
                alg,
                params,
                key: Arc::new(key),
            })
        })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_asymmetric_signing_keys_are_kept() {
        let set = json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "sig", "alg": "ES256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "mislabelled", "alg": "RS256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "unknown"},
            "not an object"
        ]});
        let keys = parse_keys(&set, 10);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("sig"));
        assert!(keys[0].params.fits(JwtAlg::ES256));
        assert!(!keys[0].params.fits(JwtAlg::HS256));
        assert!(!keys[0].params.fits(JwtAlg::RS256));
        assert_eq!(parse_keys(&json!({"keys": []}), 10).len(), 0);
    }
}
