//! OAuth 2.1 resource server (feature `oauth`): the server accepts bearer access tokens issued
//! by the owner's authorization server, as the MCP authorization specification asks.
//!
//! * [`metadata`]: the protected-resource metadata document (RFC 9728) and the well-known paths
//!   it is served at.
//! * [`challenge`]: the `WWW-Authenticate` challenges of 401/403 answers (RFC 6750 §3).
//! * [`jwks`] and [`jwt`]: JWT access tokens checked against the issuer's published keys.
//! * [`introspection`]: opaque tokens checked by token introspection (RFC 7662).
//! * [`scopes`]: granted and required scopes, with the owner's scope hierarchy.
//!
//! A request is authenticated once, before routing to a transport: the token comes only from
//! the `Authorization: Bearer` header (a token in the query string, or two `Authorization`
//! headers, are refused with 400 `invalid_request`), is never logged, and is dropped once it is
//! checked: only the verified claims travel on, into the caller identity a tool sees.

pub(crate) mod challenge;
mod fetch;
pub(crate) mod introspection;
pub(crate) mod jwks;
pub(crate) mod jwt;
pub(crate) mod metadata;
pub(crate) mod route;
pub(crate) mod scopes;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

use self::challenge::Challenge;
use self::fetch::Fetcher;
use self::introspection::Introspector;
use self::jwt::JwtVerifier;
use self::scopes::ScopeRules;

/// A signature algorithm the server may accept for JWT access tokens. Only asymmetric
/// algorithms exist here: `none` and the HMAC family (whose "secret" would be the issuer's
/// public key) are never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            Algorithm::RS256 => A::RS256,
            Algorithm::RS384 => A::RS384,
            Algorithm::RS512 => A::RS512,
            Algorithm::PS256 => A::PS256,
            Algorithm::PS384 => A::PS384,
            Algorithm::PS512 => A::PS512,
            Algorithm::ES256 => A::ES256,
            Algorithm::ES384 => A::ES384,
            Algorithm::EdDSA => A::EdDSA,
        }
    }

    /// The JOSE name (`"RS256"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Algorithm> {
        [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
    }
}

/// Why an OAuth configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// A URL is malformed, or not `https` (plain `http` is allowed for loopback hosts only).
    #[error("invalid {what} URL {url:?}: {reason}")]
    InvalidUrl {
        /// Which setting.
        what: &'static str,
        /// The value.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A scope contains characters RFC 6749 §3.3 does not allow (space, `"`, `\`, controls).
    #[error("invalid scope {0:?}: {rule}", rule = mcp_syntax::scope::RULE)]
    InvalidScope(String),
    /// No resource URL was set (and none could be derived from a bound address).
    #[error("no resource URL: set OAuthBuilder::resource to the server's canonical URL")]
    NoResource,
    /// Neither an authorization server nor token introspection was configured.
    #[error(
        "no way to check tokens: add an authorization server (JWT access tokens) or token introspection"
    )]
    NoValidator,
    /// No signature algorithm is allowed.
    #[error("no signature algorithm allowed for JWT access tokens")]
    NoAlgorithm,
    /// The HTTP client for the authorization server could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The resource server's settings; build with [`OAuth::builder`] and pass to
/// [`crate::Builder::oauth`].
///
/// ```
/// use mcp_sse::oauth::OAuth;
///
/// let oauth = OAuth::builder()
///     .resource("https://mcp.example.com/mcp")
///     .authorization_server("https://idp.example.com/realms/mcp")
///     .required_scopes(["mcp"])
///     .build()
///     .unwrap();
/// // Challenges point clients here; nothing is fetched until a token arrives.
/// assert_eq!(
///     oauth.metadata_url(),
///     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
/// );
/// ```
///
/// | setting | default |
/// |---|---|
/// | resource (canonical URL, the tokens' required `aud`) | required |
/// | authorization servers (issuers) | none; at least one, or introspection |
/// | JWKS URL | from the issuer's metadata (`jwks_uri`) |
/// | allowed algorithms | RS256, ES256 |
/// | clock leeway for `exp` / `nbf` | 30 s |
/// | JWKS cache lifetime | 10 min |
/// | keys kept per issuer | 32 |
/// | fewest time between key refreshes on an unknown `kid` | 30 s |
/// | HTTP timeout / largest response from the authorization server | 10 s / 256 KiB |
/// | introspection cache | 1,024 tokens, each for at most 60 s (and never past its `exp`) |
/// | concurrent introspection requests | 16 |
/// | scopes required on every request | none |
#[derive(Clone)]
pub struct OAuth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) resource: String,
    pub(crate) metadata: metadata::Metadata,
    pub(crate) rules: ScopeRules,
    pub(crate) required: Vec<String>,
    jwt: Option<JwtVerifier>,
    introspection: Option<Introspector>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("resource", &self.inner.resource)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuth`] configuration.
#[must_use]
#[derive(Debug, Clone)]
pub struct OAuthBuilder {
    resource: Option<String>,
    issuers: Vec<String>,
    jwks_uri: Option<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    jwks_lifetime: Duration,
    jwks_max_keys: usize,
    refresh_interval: Duration,
    http_timeout: Duration,
    max_response: usize,
    introspection: Option<IntrospectionSettings>,
    introspection_cache: usize,
    introspection_ttl: Duration,
    introspection_concurrency: usize,
    scopes_supported: Vec<String>,
    required: Vec<String>,
    implies: Vec<(String, Vec<String>)>,
    resource_name: Option<String>,
    documentation: Option<String>,
}

#[derive(Debug, Clone)]
struct IntrospectionSettings {
    endpoint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl OAuth {
    /// Starts a resource-server configuration.
    pub fn builder() -> OAuthBuilder {
        OAuthBuilder {
            resource: None,
            issuers: Vec::new(),
            jwks_uri: None,
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            leeway: Duration::from_secs(30),
            jwks_lifetime: Duration::from_secs(600),
            jwks_max_keys: 32,
            refresh_interval: Duration::from_secs(30),
            http_timeout: Duration::from_secs(10),
            max_response: 256 * 1024,
            introspection: None,
            introspection_cache: 1024,
            introspection_ttl: Duration::from_secs(60),
            introspection_concurrency: 16,
            scopes_supported: Vec::new(),
            required: Vec::new(),
            implies: Vec::new(),
            resource_name: None,
            documentation: None,
        }
    }

    /// The canonical resource URL.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// The URL of the protected-resource metadata document, as challenges announce it.
    pub fn metadata_url(&self) -> &str {
        &self.inner.metadata.url
    }

    /// Checks the request's credentials. `Ok(None)`: no token was sent.
    pub(crate) async fn verify(&self, headers: &HeaderMap, query: Option<&str>) -> Verdict {
        let token = match bearer_token(headers, query) {
            Ok(Some(t)) => t,
            Ok(None) => return Err(Challenge::Missing),
            Err(c) => return Err(c),
        };
        let inner = &self.inner;
        let verified = if let Some(jwt) = &inner.jwt
            && (inner.introspection.is_none() || jwt::looks_like_jwt(token))
        {
            jwt.verify(token).await?
        } else if let Some(i) = &inner.introspection {
            i.verify(token).await?
        } else {
            return Err(Challenge::invalid_token("no validator for this token"));
        };
        let granted = inner.rules.expand(&verified.scopes);
        let missing: Vec<String> = inner
            .required
            .iter()
            .filter(|s| !granted.contains(*s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(Challenge::InsufficientScope {
                scopes: inner.required.clone(),
                description: "the token lacks a scope this server requires",
            });
        }
        Ok(Verified {
            granted,
            ..verified
        })
    }

    /// The `scope` a challenge announces when no particular operation asked for more.
    pub(crate) fn default_challenge_scopes(&self) -> &[String] {
        if self.inner.required.is_empty() {
            &self.inner.metadata.scopes_supported
        } else {
            &self.inner.required
        }
    }
}

/// The outcome of checking a request's token.
pub(crate) type Verdict = Result<Verified, Challenge>;

/// What a valid token says about its bearer.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub(crate) issuer: String,
    pub(crate) subject: String,
    /// The scopes the token carries, as sent.
    pub(crate) scopes: BTreeSet<String>,
    /// The scopes it carries plus those they imply in the owner's hierarchy.
    pub(crate) granted: BTreeSet<String>,
    /// Every claim (JWT payload, or introspection response).
    pub(crate) claims: serde_json::Map<String, serde_json::Value>,
}

/// The bearer token of a request: only from one `Authorization` header; a token in the query
/// string (`access_token=`) or a repeated header is a malformed request.
fn bearer_token<'a>(
    headers: &'a HeaderMap,
    query: Option<&str>,
) -> Result<Option<&'a str>, Challenge> {
    if let Some(q) = query
        && q.split('&')
            .any(|p| p.split('=').next() == Some("access_token"))
    {
        return Err(Challenge::InvalidRequest(
            "access tokens are not accepted in the query string; send Authorization: Bearer",
        ));
    }
    // RFC 6750 §3.1: repeating the credential is a malformed request (400), not a bad token.
    let value = crate::fields::single(headers, http::header::AUTHORIZATION)
        .map_err(|_| Challenge::InvalidRequest("more than one Authorization header"))?;
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Challenge::InvalidRequest("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(Challenge::InvalidRequest("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme is no bearer token: answered like a request without one.
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Challenge::InvalidRequest("empty bearer token"));
    }
    Ok(Some(token))
}

impl OAuthBuilder {
    /// The canonical URL of the MCP server (the `resource` of its metadata, and the `aud` every
    /// token must carry), e.g. `"https://mcp.example.com/mcp"`. Set it whenever clients reach the
    /// server through a proxy or another name; without it, [`crate::Builder::oauth`] uses
    /// `http://<bound address><mount prefix><MCP path>`.
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into());
        self
    }

    /// Adds an authorization server by its issuer identifier (e.g.
    /// `"https://login.example.com/realms/mcp"`): it is listed in the metadata's
    /// `authorization_servers`, JWT access tokens whose `iss` is exactly this value are checked
    /// against its keys, found through its metadata (`/.well-known/oauth-authorization-server`,
    /// then `/.well-known/openid-configuration`) unless [`OAuthBuilder::jwks_uri`] names them.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Fetches the signing keys from this URL instead of discovering them (with one
    /// authorization server).
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.jwks_uri = Some(url.into());
        self
    }

    /// The signature algorithms accepted (default RS256 and ES256).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock skew tolerated when checking `exp` and `nbf` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How long fetched signing keys are used before they are fetched again (default 10 min).
    pub fn jwks_cache_lifetime(mut self, lifetime: Duration) -> Self {
        self.jwks_lifetime = lifetime;
        self
    }

    /// The most signing keys kept per issuer (default 32; a larger key set is cut).
    pub fn jwks_max_keys(mut self, keys: usize) -> Self {
        self.jwks_max_keys = keys.max(1);
        self
    }

    /// The fewest time between two key fetches caused by tokens naming an unknown `kid`
    /// (default 30 s), so forged `kid`s cannot make the server hammer the issuer.
    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// The timeout of each request to the authorization server (default 10 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// The largest response accepted from the authorization server (default 256 KiB).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response = bytes.max(1024);
        self
    }

    /// Checks opaque tokens (and, with no authorization server for JWTs, every token) by token
    /// introspection (RFC 7662) at `endpoint`, authenticating as `client_id` with
    /// `client_secret` (HTTP Basic). The endpoint may be `None` to take the
    /// `introspection_endpoint` from the first authorization server's metadata.
    pub fn introspection(
        mut self,
        endpoint: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Self {
        self.introspection = Some(IntrospectionSettings {
            endpoint,
            client_id,
            client_secret,
        });
        self
    }

    /// The introspection cache: at most `entries` tokens, each kept at most `ttl` (default
    /// 1,024 and 60 s; never past the token's `exp`). Results for inactive tokens are kept too.
    pub fn introspection_cache(mut self, entries: usize, ttl: Duration) -> Self {
        self.introspection_cache = entries;
        self.introspection_ttl = ttl;
        self
    }

    /// The most introspection requests in flight at once (default 16); further requests wait.
    pub fn introspection_concurrency(mut self, requests: usize) -> Self {
        self.introspection_concurrency = requests.max(1);
        self
    }

    /// The scopes listed as `scopes_supported` in the metadata.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes every request needs (403 `insufficient_scope` without them); also announced in
    /// every 401 challenge.
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Declares that a token granted `broad` also holds each of `narrower` (e.g. `"files"`
    /// implies `"files:read"` and `"files:write"`); applies transitively.
    pub fn scope_implies<I, S>(mut self, broad: impl Into<String>, narrower: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.implies
            .push((broad.into(), narrower.into_iter().map(Into::into).collect()));
        self
    }

    /// The human-readable `resource_name` of the metadata.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// The `resource_documentation` URL of the metadata.
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.documentation = Some(url.into());
        self
    }

    /// Checks the settings and builds the configuration. Nothing is fetched yet: keys and
    /// metadata are fetched on the first token that needs them.
    pub fn build(self) -> Result<OAuth, OAuthError> {
        self.build_with_default(None)
    }

    /// [`OAuthBuilder::build`], with the resource URL to use when none was set.
    pub(crate) fn build_with_default(mut self, default: Option<&str>) -> Result<OAuth, OAuthError> {
        let resource = self
            .resource
            .take()
            .or_else(|| default.map(str::to_owned))
            .ok_or(OAuthError::NoResource)?;
        let resource = resource.trim_end_matches('/').to_owned();
        fetch::check_url("resource", &resource, false)?;
        for issuer in &self.issuers {
            fetch::check_url("authorization server", issuer, true)?;
        }
        if let Some(u) = &self.jwks_uri {
            fetch::check_url("JWKS", u, true)?;
        }
        let all_scopes = self.scopes_supported.iter().chain(&self.required).chain(
            self.implies
                .iter()
                .flat_map(|(b, n)| std::iter::once(b).chain(n)),
        );
        for s in all_scopes {
            if !scopes::is_valid_scope(s) {
                return Err(OAuthError::InvalidScope(s.clone()));
            }
        }
        if self.issuers.is_empty() && self.introspection.is_none() {
            return Err(OAuthError::NoValidator);
        }
        if self.algorithms.is_empty() {
            return Err(OAuthError::NoAlgorithm);
        }
        let fetcher = Fetcher::new(self.http_timeout, self.max_response)?;
        let jwt = (!self.issuers.is_empty()).then(|| {
            JwtVerifier::new(jwt::Settings {
                issuers: self.issuers.clone(),
                jwks_uri: self.jwks_uri.clone(),
                audience: resource.clone(),
                algorithms: self.algorithms.clone(),
                leeway: self.leeway,
                cache: jwks::CacheSettings {
                    lifetime: self.jwks_lifetime,
                    max_keys: self.jwks_max_keys,
                    refresh_interval: self.refresh_interval,
                },
                fetcher: fetcher.clone(),
            })
        });
        let introspection = match self.introspection {
            Some(s) => {
                if let Some(e) = &s.endpoint {
                    fetch::check_url("introspection", e, true)?;
                }
                Some(Introspector::new(introspection::Settings {
                    endpoint: s.endpoint,
                    issuer: self.issuers.first().cloned(),
                    client_id: s.client_id,
                    client_secret: s.client_secret,
                    audience: resource.clone(),
                    leeway: self.leeway,
                    entries: self.introspection_cache,
                    ttl: self.introspection_ttl,
                    concurrency: self.introspection_concurrency,
                    fetcher,
                }))
            }
            None => None,
        };
        let metadata = metadata::Metadata::new(metadata::Document {
            resource: &resource,
            authorization_servers: &self.issuers,
            scopes_supported: &self.scopes_supported,
            resource_name: self.resource_name.as_deref(),
            documentation: self.documentation.as_deref(),
        });
        Ok(OAuth {
            inner: Arc::new(Inner {
                rules: ScopeRules::new(self.implies),
                required: self.required,
                resource,
                metadata,
                jwt,
                introspection,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_only_from_one_header() {
        assert_eq!(
            bearer_token(&headers(&["Bearer abc"]), None).unwrap(),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&["bearer  abc "]), None).unwrap(),
            Some("abc")
        );
        assert_eq!(bearer_token(&headers(&[]), None).unwrap(), None);
        assert_eq!(bearer_token(&headers(&["Basic eDp5"]), None).unwrap(), None);
        assert!(bearer_token(&headers(&["Bearer a", "Bearer b"]), None).is_err());
        assert!(bearer_token(&headers(&["Bearer "]), None).is_err());
        assert!(bearer_token(&headers(&[]), Some("sessionId=1&access_token=x")).is_err());
        assert!(bearer_token(&headers(&["Bearer a"]), Some("access_token")).is_err());
        assert_eq!(
            bearer_token(&headers(&[]), Some("sessionId=1&x_access_token=2")).unwrap(),
            None
        );
    }

    #[test]
    fn build_checks_settings() {
        assert!(matches!(
            OAuth::builder()
                .resource("https://mcp.example.com/mcp")
                .build(),
            Err(OAuthError::NoValidator)
        ));
        assert!(matches!(
            OAuth::builder()
                .resource("https://mcp.example.com/mcp")
                .authorization_server("http://login.example.com")
                .build(),
            Err(OAuthError::InvalidUrl { .. })
        ));
        assert!(matches!(
            OAuth::builder()
                .resource("https://mcp.example.com/mcp")
                .authorization_server("https://login.example.com")
                .required_scopes(["bad scope"])
                .build(),
            Err(OAuthError::InvalidScope(_))
        ));
        let ok = OAuth::builder()
            .resource("https://mcp.example.com/mcp/")
            .authorization_server("http://127.0.0.1:9/issuer")
            .build()
            .unwrap();
        assert_eq!(ok.resource(), "https://mcp.example.com/mcp");
        assert_eq!(
            ok.metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
    }
}
