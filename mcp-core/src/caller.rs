//! Who sent a request: the authenticated [`Identity`] (the principal the transport's
//! authentication established) and the request headers the server owner chose to expose,
//! bundled as a [`Caller`].
//!
//! A transport authenticates each incoming message (over HTTP: the bearer token, checked by the
//! configured validator) and hands the result to the session with the message, through
//! [`Session::receive_from`](crate::Session::receive_from). It becomes part of the request's
//! [`Envelope`](crate::Envelope), and handlers read it from the
//! [`Context`](crate::Context): [`Context::identity`](crate::Context::identity) and
//! [`Context::header`](crate::Context::header). The credential itself (the token) is never
//! part of a `Caller`.
//!
//! ```
//! use mcp_core::caller::{Caller, Identity, RequestHeaders};
//!
//! let identity = Identity::new("user-42")
//!     .with_issuer("https://auth.example.com")
//!     .with_scopes(["tools:read", "tools:write"]);
//! let mut headers = RequestHeaders::new();
//! headers.append("X-Request-Id", "abc-123");
//! let caller = Caller::new().with_identity(identity).with_headers(headers);
//!
//! let who = caller.identity().unwrap();
//! assert_eq!(who.subject(), "user-42");
//! assert!(who.has_scope("tools:write"));
//! assert_eq!(caller.headers().get("x-request-id"), Some("abc-123"));
//! ```

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use crate::protocol::JsonObject;

/// Who is calling, as the transport's authentication established it: the principal a token
/// validator returned for the request's credential. Cheap to clone.
///
/// The subject (the stable name of the caller, e.g. a token's `sub`) is required; everything
/// else is optional and filled by the validator: the issuer that vouched for the subject, the
/// OAuth client the credential was issued to, the granted scopes, the credential's claims as
/// JSON, and details of any type (a user record the validator loaded). An `Identity` never
/// holds the token itself.
///
/// ```
/// use mcp_core::Identity;
/// use serde_json::json;
///
/// #[derive(Debug, PartialEq)]
/// struct Plan(&'static str);
///
/// let claims = json!({ "sub": "alice", "email": "alice@example.com" });
/// let id = Identity::new("alice")
///     .with_client_id("cli")
///     .with_scope("read")
///     .with_claims(claims.as_object().unwrap().clone())
///     .with_details(Plan("pro"));
/// assert_eq!(id.claim("email"), Some(&json!("alice@example.com")));
/// assert_eq!(id.scopes(), ["read"]);
/// assert_eq!(id.details::<Plan>(), Some(&Plan("pro")));
/// ```
#[derive(Clone)]
pub struct Identity {
    inner: Arc<IdentityInner>,
}

#[derive(Clone)]
struct IdentityInner {
    subject: Arc<str>,
    issuer: Option<String>,
    client_id: Option<String>,
    scopes: Vec<String>,
    claims: JsonObject,
    details: Option<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Claim values may be personal data: only their names are printed.
        let i = &self.inner;
        f.debug_struct("Identity")
            .field("subject", &i.subject)
            .field("issuer", &i.issuer)
            .field("client_id", &i.client_id)
            .field("scopes", &i.scopes)
            .field("claims", &i.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// An identity with this subject (a user id, a service account, an OAuth `sub`) and
    /// nothing else.
    pub fn new(subject: impl Into<Arc<str>>) -> Self {
        Identity {
            inner: Arc::new(IdentityInner {
                subject: subject.into(),
                issuer: None,
                client_id: None,
                scopes: Vec::new(),
                claims: JsonObject::new(),
                details: None,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut IdentityInner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// Sets who vouched for the subject (an OAuth `iss`).
    pub fn with_issuer(self, issuer: impl Into<String>) -> Self {
        self.edit(|i| i.issuer = Some(issuer.into()))
    }

    /// Sets the client the credential was issued to (an OAuth `client_id` or `azp`).
    pub fn with_client_id(self, client_id: impl Into<String>) -> Self {
        self.edit(|i| i.client_id = Some(client_id.into()))
    }

    /// Adds one granted scope.
    pub fn with_scope(self, scope: impl Into<String>) -> Self {
        self.edit(|i| i.scopes.push(scope.into()))
    }

    /// Adds granted scopes (for an OAuth `scope` claim: `scope.split_whitespace()`).
    pub fn with_scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.edit(|i| i.scopes.extend(scopes.into_iter().map(Into::into)))
    }

    /// Sets the credential's claims (for a JWT: its payload).
    pub fn with_claims(self, claims: JsonObject) -> Self {
        self.edit(|i| i.claims = claims)
    }

    /// Attaches details of any type (roles, a user record), read back with
    /// [`Identity::details`]; replaces earlier details.
    pub fn with_details<T: Send + Sync + 'static>(self, details: T) -> Self {
        self.edit(|i| i.details = Some(Arc::new(details)))
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// The issuer, when the validator set one.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The client the credential was issued to, when the validator set one.
    pub fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }

    /// The granted scopes, in the order they were added.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// True when `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.inner.scopes.iter().any(|s| s == scope)
    }

    /// Every claim.
    pub fn claims(&self) -> &JsonObject {
        &self.inner.claims
    }

    /// One claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.inner.claims.get(name)
    }

    /// The details, when they are of type `T`.
    pub fn details<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner
            .details
            .as_deref()
            .and_then(|d| d.downcast_ref::<T>())
    }
}

impl From<String> for Identity {
    /// An identity with only a subject.
    fn from(subject: String) -> Self {
        Identity::new(subject)
    }
}

impl From<&str> for Identity {
    /// An identity with only a subject.
    fn from(subject: &str) -> Self {
        Identity::new(subject)
    }
}

/// Request headers a transport exposes to handlers: only those the server owner listed, in
/// arrival order. Names are compared case-insensitively and kept in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    entries: Vec<(String, String)>,
}

impl RequestHeaders {
    /// No headers.
    pub fn new() -> Self {
        RequestHeaders::default()
    }

    /// Adds a header (a repeated name keeps every value).
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let mut name = name.into();
        name.make_ascii_lowercase();
        self.entries.push((name, value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in arrival order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)` pair, names in lower case.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What a transport learned about the sender of one message: its identity, if it
/// authenticated one, and the exposed request headers. Cheap to clone. The default is an
/// anonymous caller with no headers.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    identity: Option<Identity>,
    headers: Option<Arc<RequestHeaders>>,
}

/// The headers of a request that exposes none.
pub(crate) static NO_HEADERS: RequestHeaders = RequestHeaders {
    entries: Vec::new(),
};

impl Caller {
    /// An anonymous caller with no headers.
    pub fn new() -> Self {
        Caller::default()
    }

    /// Sets the authenticated identity.
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Sets the exposed request headers.
    pub fn with_headers(mut self, headers: RequestHeaders) -> Self {
        self.headers = (!headers.is_empty()).then(|| Arc::new(headers));
        self
    }

    /// The authenticated identity; `None` when the transport authenticated no one.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The exposed request headers (empty off HTTP, or when none were listed).
    pub fn headers(&self) -> &RequestHeaders {
        self.headers.as_deref().unwrap_or(&NO_HEADERS)
    }

    /// The exposed request headers, shared.
    pub(crate) fn shared_headers(&self) -> Option<Arc<RequestHeaders>> {
        self.headers.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_keep_repeats() {
        let mut h = RequestHeaders::new();
        h.append("X-Tenant", "a");
        h.append("x-tenant", "b");
        h.append("User-Agent", "test");
        assert_eq!(h.get("X-TENANT"), Some("a"));
        assert_eq!(h.get_all("x-tenant").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(h.iter().next(), Some(("x-tenant", "a")));
        assert_eq!(h.get("missing"), None);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn default_caller_is_anonymous() {
        let c = Caller::new();
        assert!(c.identity().is_none());
        assert!(c.headers().is_empty());
        let c = Caller::new().with_identity(Identity::from("bob"));
        assert_eq!(c.identity().map(Identity::subject), Some("bob"));
    }

    #[test]
    fn clones_share_until_edited() {
        let a = Identity::new("alice").with_scope("read");
        let b = a.clone().with_scope("write");
        assert_eq!(a.scopes(), ["read"]);
        assert_eq!(b.scopes(), ["read", "write"]);
        assert_eq!(b.details::<u32>(), None);
    }

    #[test]
    fn debug_prints_claim_names_only() {
        let mut claims = JsonObject::new();
        claims.insert("email".into(), "alice@example.com".into());
        let id = Identity::new("alice").with_claims(claims);
        let text = format!("{id:?}");
        assert!(text.contains("email"), "{text}");
        assert!(!text.contains("alice@example.com"), "{text}");
    }
}
