//! JWT access tokens (RFC 9068): signature against the issuer's keys, `iss`, `aud`, `exp`,
//! `nbf`, algorithm.
//!
//! The header's `alg` must be one the owner allowed (asymmetric only; `none` and HMAC are
//! refused before any key is looked at, so a token "signed" with the issuer's public key as an
//! HMAC secret never verifies), and must fit the key: an RSA key verifies RS*/PS* only, a P-256
//! key ES256 only, and a JWK that names its `alg` that one only.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm as JwtAlg, Validation, errors::ErrorKind};
use serde_json::Value;

use super::challenge::Challenge;
use super::fetch::Fetcher;
use super::jwks::{CacheSettings, Jwks, Lookup};
use super::{Algorithm, Verified, scopes};

pub(crate) struct Settings {
    pub(crate) issuers: Vec<String>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) audience: String,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: Duration,
    pub(crate) cache: CacheSettings,
    pub(crate) fetcher: Fetcher,
}

/// Checks JWT access tokens of the configured issuers.
pub(crate) struct JwtVerifier {
    issuers: Vec<(String, Jwks)>,
    audience: String,
    algorithms: Vec<JwtAlg>,
    leeway: Duration,
}

/// True when `token` has the shape of a JWS compact serialization (three base64url parts).
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    let mut parts = 0;
    for part in token.split('.') {
        parts += 1;
        if part.is_empty() && parts < 3
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    parts == 3
}

fn b64(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
}

/// The unverified header and payload: only used to pick the issuer and key, and to explain a
/// refusal; everything is verified afterwards.
fn peek(
    token: &str,
) -> Option<(
    serde_json::Map<String, Value>,
    serde_json::Map<String, Value>,
)> {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&b64(it.next()?)?).ok()?;
    let payload = serde_json::from_slice(&b64(it.next()?)?).ok()?;
    Some((header, payload))
}

impl JwtVerifier {
    pub(crate) fn new(s: Settings) -> JwtVerifier {
        let single = s.issuers.len() == 1;
        JwtVerifier {
            issuers: s
                .issuers
                .into_iter()
                .map(|iss| {
                    let uri = if single { s.jwks_uri.clone() } else { None };
                    let jwks = Jwks::new(iss.clone(), uri, s.cache, s.fetcher.clone());
                    (iss, jwks)
                })
                .collect(),
            audience: s.audience,
            algorithms: s.algorithms.iter().map(|a| a.to_jwt()).collect(),
            leeway: s.leeway,
        }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Verified, Challenge> {
        let bad = Challenge::invalid_token;
        let (header, payload) = peek(token).ok_or(bad("malformed token"))?;
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let alg = Algorithm::from_name(alg_name)
            .map(Algorithm::to_jwt)
            .filter(|a| self.algorithms.contains(a))
            .ok_or(if alg_name.eq_ignore_ascii_case("none") {
                bad("unsigned tokens (alg none) are not accepted")
            } else {
                bad("the token's signature algorithm is not accepted")
            })?;
        let iss = payload.get("iss").and_then(Value::as_str);
        let (issuer, jwks) = self
            .issuers
            .iter()
            .find(|(i, _)| Some(i.as_str()) == iss)
            .ok_or(bad("the token's issuer is not trusted"))?;
        let kid = header.get("kid").and_then(Value::as_str);
        let key = match jwks.key(kid, alg).await {
            Lookup::Found(k) => k,
            Lookup::Unknown => return Err(bad("the token is signed with an unknown key")),
            Lookup::Unavailable => return Err(Challenge::Unavailable),
        };
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
        v.leeway = self.leeway.as_secs();
        v.validate_exp = true;
        v.validate_nbf = true;
        v.set_issuer(&[issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &v)
            .map_err(|e| {
                bad(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                    ErrorKind::InvalidAudience => "the token was issued for another resource",
                    ErrorKind::InvalidIssuer => "the token's issuer is not trusted",
                    ErrorKind::InvalidSignature => "the token's signature does not verify",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks exp, iss or aud",
                    ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit its key",
                    _ => "malformed token",
                })
            })?;
        let claims = data.claims;
        let subject = claims
            .get("sub")
            .or_else(|| claims.get("client_id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(bad("the token names no subject (sub)"))?
            .to_owned();
        let scopes: BTreeSet<String> = scopes::from_claims(&claims);
        Ok(Verified {
            issuer: issuer.clone(),
            subject,
            granted: scopes.clone(),
            scopes,
            claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
        assert!(!looks_like_jwt("opaque-token"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt(".b.c"));
        assert!(!looks_like_jwt("a b.c.d"));
    }
}
