//! Opaque access tokens, checked by token introspection (RFC 7662) at the authorization server.
//!
//! Answers are cached by the token's SHA-256 digest (the token itself is not kept), for at most
//! the configured time and never past the token's `exp`; inactive answers are cached too, so a
//! client repeating a revoked token costs one request per cache lifetime. The cache holds a
//! bounded number of entries (expired ones go first, then the one closest to expiry), and a
//! bounded number of introspection requests run at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};
// Tokio's clock (the system's monotonic clock unless a test pauses it), as for the key cache.
use tokio::time::Instant;

use super::challenge::Challenge;
use super::fetch::{Fetcher, issuer_metadata};
use super::{Verified, scopes};

pub(crate) struct Settings {
    pub(crate) endpoint: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<String>,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
    pub(crate) entries: usize,
    pub(crate) ttl: Duration,
    pub(crate) concurrency: usize,
    pub(crate) fetcher: Fetcher,
}

type Digest32 = [u8; 32];

struct Entry {
    until: Instant,
    /// `None`: the token is not active (or not for this resource).
    verified: Option<Verified>,
    reason: &'static str,
}

/// Checks opaque tokens by introspection.
pub(crate) struct Introspector {
    s: Settings,
    endpoint: OnceCell<String>,
    cache: Mutex<HashMap<Digest32, Entry>>,
    permits: Semaphore,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `aud` as a list (a string or an array).
fn audiences(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Introspector {
    pub(crate) fn new(s: Settings) -> Introspector {
        let permits = Semaphore::new(s.concurrency);
        let endpoint = match &s.endpoint {
            Some(e) => OnceCell::new_with(Some(e.clone())),
            None => OnceCell::new(),
        };
        Introspector {
            s,
            endpoint,
            cache: Mutex::new(HashMap::new()),
            permits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest32, Entry>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn endpoint(&self) -> Result<&str, Challenge> {
        self.endpoint
            .get_or_try_init(|| async {
                let issuer = self.s.issuer.as_deref().ok_or(Challenge::Unavailable)?;
                let meta = issuer_metadata(&self.s.fetcher, issuer).await.map_err(|e| {
                    tracing::warn!(target: "mcp::oauth", error = %e, "cannot fetch the authorization server's metadata");
                    Challenge::Unavailable
                })?;
                meta.get("introspection_endpoint")
                    .and_then(Value::as_str)
                    .filter(|u| super::fetch::check_url("introspection", u, true).is_ok())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        tracing::warn!(target: "mcp::oauth", "the authorization server's metadata names no usable introspection_endpoint");
                        Challenge::Unavailable
                    })
            })
            .await
            .map(String::as_str)
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Verified, Challenge> {
        let digest: Digest32 = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.cached(&digest) {
            return hit;
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Challenge::Unavailable)?;
        // Another request may have introspected the same token meanwhile.
        if let Some(hit) = self.cached(&digest) {
            return hit;
        }
        let endpoint = self.endpoint().await?;
        let basic = self
            .s
            .client_id
            .as_deref()
            .map(|id| (id, self.s.client_secret.as_deref()));
        let answer = self
            .s
            .fetcher
            .post_form(
                endpoint,
                &[("token", token), ("token_type_hint", "access_token")],
                basic,
            )
            .await
            .map_err(|e| {
                tracing::warn!(target: "mcp::oauth", error = %e, "token introspection failed");
                Challenge::Unavailable
            })?;
        let Value::Object(claims) = answer else {
            return Err(Challenge::Unavailable);
        };
        let (verified, reason, exp) = self.judge(claims);
        let now = Instant::now();
        let mut until = now + self.s.ttl;
        if let Some(exp) = exp {
            let left = exp.saturating_sub(now_secs());
            until = until.min(now + Duration::from_secs(left));
        }
        let result = verified.clone().ok_or(Challenge::invalid_token(reason));
        self.store(
            digest,
            Entry {
                until,
                verified,
                reason,
            },
        );
        result
    }

    fn cached(&self, digest: &Digest32) -> Option<Result<Verified, Challenge>> {
        let cache = self.lock();
        let e = cache.get(digest)?;
        if e.until <= Instant::now() {
            return None;
        }
        Some(e.verified.clone().ok_or(Challenge::invalid_token(e.reason)))
    }

    fn store(&self, digest: Digest32, entry: Entry) {
        if self.s.entries == 0 {
            return;
        }
        let mut cache = self.lock();
        if cache.len() >= self.s.entries && !cache.contains_key(&digest) {
            let now = Instant::now();
            cache.retain(|_, e| e.until > now);
            if cache.len() >= self.s.entries
                && let Some(k) = cache.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| *k)
            {
                cache.remove(&k);
            }
        }
        cache.insert(digest, entry);
    }

    /// Whether the introspection answer makes a usable token, why not, and its `exp`.
    fn judge(
        &self,
        claims: serde_json::Map<String, Value>,
    ) -> (Option<Verified>, &'static str, Option<u64>) {
        let exp = claims.get("exp").and_then(Value::as_u64);
        if claims.get("active") != Some(&Value::Bool(true)) {
            return (None, "the token is not active", exp);
        }
        let now = now_secs();
        let leeway = self.s.leeway.as_secs();
        if exp.is_some_and(|e| e + leeway < now) {
            return (None, "the token has expired", exp);
        }
        if claims
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|n| n > now + leeway)
        {
            return (None, "the token is not valid yet (nbf)", exp);
        }
        if !audiences(claims.get("aud")).contains(&self.s.audience.as_str()) {
            return (None, "the token was issued for another resource", exp);
        }
        let issuer = match (claims.get("iss").and_then(Value::as_str), &self.s.issuer) {
            (Some(i), Some(expected)) if i != expected => {
                return (None, "the token's issuer is not trusted", exp);
            }
            (Some(i), _) => i.to_owned(),
            (None, Some(expected)) => expected.clone(),
            (None, None) => self.endpoint.get().cloned().unwrap_or_default(),
        };
        let Some(subject) = claims
            .get("sub")
            .or_else(|| claims.get("client_id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
        else {
            return (None, "the token names no subject (sub)", exp);
        };
        let scopes: BTreeSet<String> = scopes::from_claims(&claims);
        (
            Some(Verified {
                issuer,
                subject,
                granted: scopes.clone(),
                scopes,
                claims,
            }),
            "",
            exp,
        )
    }
}
