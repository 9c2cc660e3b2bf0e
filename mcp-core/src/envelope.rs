//! The request envelope: everything the dispatcher knows about the client behind one request
//! (revision, capabilities, identity, log level, caller), whichever era produced it.
//!
//! A session-based revision (2025-11-25 and earlier) fills it from the session's `initialize`
//! and `logging/setLevel`; the stateless revision (2026-07-28) fills it from the request's own
//! `_meta` ([`Envelope::from_meta`]). The dispatcher and [`Context`](crate::Context) read it
//! through its methods and never ask where it came from.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

pub use crate::caller::Identity;
use crate::caller::{Caller, NO_HEADERS, RequestHeaders};
use crate::error::McpError;
use crate::protocol::{Implementation, JsonObject, LoggingLevel};
use crate::request_meta::{Known, MetaRest};
pub use crate::request_meta::{
    META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, RequestMeta,
};
use crate::version::ProtocolVersion;

/// Result `_meta` key: the server's name and version (2026-07-28).
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Notification `_meta` key: the `subscriptions/listen` request a notification belongs to.
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// What is known about the client behind one request. Cheap to clone.
///
/// ```
/// use mcp_core::envelope::Envelope;
/// use serde_json::json;
///
/// let meta = json!({
///     "io.modelcontextprotocol/protocolVersion": "2026-07-28",
///     "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} },
///     "io.modelcontextprotocol/clientInfo": { "name": "c", "version": "1" },
/// });
/// let env = Envelope::from_meta(meta.as_object()).unwrap();
/// assert_eq!(env.protocol_version().as_str(), "2026-07-28");
/// assert!(env.has_client_capability("elicitation"));
/// assert_eq!(env.log_level(), None);
/// ```
#[derive(Clone, Debug)]
pub struct Envelope {
    version: ProtocolVersion,
    client_info: Option<Arc<Implementation>>,
    client_capabilities: Option<Arc<Value>>,
    log_level: Option<LoggingLevel>,
    identity: Option<Identity>,
    headers: Option<Arc<RequestHeaders>>,
    /// A stateless request's `_meta` read apart from its params ([`Envelope::from_request_meta`]).
    split: Option<Split>,
}

/// What an envelope read from a [`RequestMeta`] keeps beside its fields: the rest of the
/// `_meta` (when there is any), and the message it came in.
#[derive(Clone)]
struct Split {
    rest: Option<Arc<MetaRest>>,
    body: Option<Bytes>,
}

impl std::fmt::Debug for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The message holds the tool's arguments: only its size is shown.
        f.debug_struct("Split")
            .field("rest", &self.rest.is_some())
            .field("body_bytes", &self.body.as_ref().map(Bytes::len))
            .finish()
    }
}

impl Envelope {
    /// The envelope of a session-based request: the session's negotiated revision, the client's
    /// `initialize` data and the session's log level.
    pub fn session(
        version: ProtocolVersion,
        client_info: Option<Arc<Implementation>>,
        client_capabilities: Option<Arc<Value>>,
        log_level: LoggingLevel,
    ) -> Self {
        Envelope {
            version,
            client_info,
            client_capabilities,
            log_level: Some(log_level),
            identity: None,
            headers: None,
            split: None,
        }
    }

    /// The envelope of a stateless request, read from its `params._meta`.
    ///
    /// Errors: a missing or malformed required field is -32602; a revision not served, or one
    /// that uses sessions, is -32022 with `data.supported` and `data.requested`.
    pub fn from_meta(meta: Option<&JsonObject>) -> Result<Self, McpError> {
        let meta = meta.ok_or_else(|| {
            missing(
                META_PROTOCOL_VERSION,
                "is required: every request carries its protocol version and client capabilities in params._meta",
            )
        })?;
        let mut envelope = Self::from_request_meta(RequestMeta::of_object(meta))?;
        // The `_meta` stays in the request's params: nothing was taken apart from them.
        envelope.split = None;
        Ok(envelope)
    }

    /// [`Envelope::from_meta`] for a `_meta` read apart from its params
    /// ([`jsonrpc::parse_stateless`](crate::jsonrpc::parse_stateless)): the same checks, in the
    /// same order, with the same errors. `Context::meta` gives the whole `_meta` back.
    pub fn from_request_meta(meta: RequestMeta) -> Result<Self, McpError> {
        let crate::request_meta::MetaFields {
            version,
            capabilities,
            client_info,
            log_level,
            mut rest,
            body,
        } = *meta.fields;
        let version = match version {
            None => return Err(missing(META_PROTOCOL_VERSION, "is required")),
            Some(Known::Is(v)) if !v.has_sessions() => v,
            Some(Known::Is(v)) => return Err(McpError::unsupported_protocol_version(v.as_str())),
            Some(Known::Other(Value::String(s))) => {
                return Err(McpError::unsupported_protocol_version(&s));
            }
            Some(Known::Other(_)) => {
                return Err(missing(META_PROTOCOL_VERSION, "must be a string"));
            }
        };
        let client_capabilities = match capabilities {
            None => return Err(missing(META_CLIENT_CAPABILITIES, "is required")),
            // Most clients declare nothing: they share one empty object.
            Some(Value::Object(m)) if m.is_empty() => no_capabilities(),
            Some(v @ Value::Object(_)) => Arc::new(v),
            Some(_) => return Err(missing(META_CLIENT_CAPABILITIES, "must be an object")),
        };
        let bad_info = || {
            missing(
                META_CLIENT_INFO,
                "must be an object with string \"name\" and \"version\"",
            )
        };
        let client_info = match client_info {
            None => None,
            Some(info) if info.valid.is_some() => info.valid,
            Some(info) => {
                let (Some(Value::String(name)), Some(Value::String(v)), None) =
                    (info.name, info.version, info.other)
                else {
                    return Err(bad_info());
                };
                let title = match info.title {
                    None => None,
                    Some(Value::Null) => {
                        rest.client_info_extra.insert("title".into(), Value::Null);
                        None
                    }
                    Some(Value::String(t)) => Some(t),
                    Some(_) => return Err(bad_info()),
                };
                rest.client_info_extra.extend(info.extra);
                Some(Arc::new(Implementation {
                    name,
                    version: v,
                    title,
                }))
            }
        };
        let log_level = match log_level {
            None => None,
            Some(Known::Is(l)) => Some(l),
            Some(Known::Other(_)) => {
                return Err(missing(
                    META_LOG_LEVEL,
                    "must be one of debug, info, notice, warning, error, critical, alert, emergency",
                ));
            }
        };
        Ok(Envelope {
            version,
            client_info,
            client_capabilities: Some(client_capabilities),
            log_level,
            identity: None,
            headers: None,
            split: Some(Split {
                rest: (!rest.is_empty()).then(|| Arc::new(rest)),
                body,
            }),
        })
    }

    /// Sets who is calling.
    pub fn with_identity(mut self, identity: Option<Identity>) -> Self {
        self.identity = identity;
        self
    }

    /// Applies what the transport learned about the sender of this request: its identity
    /// (when it has one, it replaces the session's) and its exposed headers.
    pub fn with_caller(mut self, caller: &Caller) -> Self {
        if let Some(identity) = caller.identity() {
            self.identity = Some(identity.clone());
        }
        self.headers = caller.shared_headers();
        self
    }

    /// The revision this request is answered in.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The client's name and version, when it sent them.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.client_info.as_deref()
    }

    /// The client's declared capabilities.
    pub fn client_capabilities(&self) -> Option<&Value> {
        self.client_capabilities.as_deref()
    }

    /// True when the client declared the top-level capability `name` (e.g. `"elicitation"`).
    pub fn has_client_capability(&self, name: &str) -> bool {
        self.client_capabilities()
            .and_then(|c| c.get(name))
            .is_some_and(|v| !v.is_null())
    }

    /// True when the client declared the extension `id` in its capabilities' `extensions`.
    pub fn has_extension(&self, id: &str) -> bool {
        self.client_capabilities()
            .and_then(|c| c.get("extensions"))
            .and_then(|e| e.get(id))
            .is_some_and(|v| !v.is_null())
    }

    /// The lowest level of log message to send for this request; `None` sends none.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        self.log_level
    }

    /// Who is calling, when the transport authenticated the caller.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The request headers the transport exposes (on HTTP, those the server owner listed).
    pub fn headers(&self) -> &RequestHeaders {
        self.headers.as_deref().unwrap_or(&NO_HEADERS)
    }

    /// For an envelope read from a [`RequestMeta`], the request's whole `_meta`, put back
    /// together; `None` for any other.
    pub(crate) fn meta_tree(&self) -> Option<JsonObject> {
        let split = self.split.as_ref()?;
        let mut m = JsonObject::new();
        if let Some(rest) = &split.rest {
            m.clone_from(&rest.others);
            if let Some(t) = &rest.progress_token {
                m.insert("progressToken".into(), t.clone());
            }
        }
        m.insert(META_PROTOCOL_VERSION.into(), self.version.as_str().into());
        if let Some(c) = &self.client_capabilities {
            m.insert(META_CLIENT_CAPABILITIES.into(), (**c).clone());
        }
        if let Some(info) = &self.client_info {
            let mut i = split
                .rest
                .as_ref()
                .map(|r| r.client_info_extra.clone())
                .unwrap_or_default();
            i.insert("name".into(), info.name.clone().into());
            i.insert("version".into(), info.version.clone().into());
            if let Some(t) = &info.title {
                i.insert("title".into(), t.clone().into());
            }
            m.insert(META_CLIENT_INFO.into(), Value::Object(i));
        }
        if let Some(l) = self.log_level {
            m.insert(
                META_LOG_LEVEL.into(),
                serde_json::to_value(l).unwrap_or(Value::Null),
            );
        }
        Some(m)
    }

    /// For an envelope read from a [`RequestMeta`], the request's progress token (`None`
    /// inside: it sent none); `None` for any other.
    pub(crate) fn split_progress_token(&self) -> Option<Option<&Value>> {
        let split = self.split.as_ref()?;
        Some(split.rest.as_ref().and_then(|r| r.progress_token.as_ref()))
    }

    /// For an envelope read from a [`RequestMeta`], the message it came in, when known.
    pub(crate) fn request_body(&self) -> Option<&Bytes> {
        self.split.as_ref()?.body.as_ref()
    }

    /// This envelope without what it kept of the request's `_meta`: the request was put back
    /// together with its `_meta` in its params (for middleware, which sees and may change them).
    pub(crate) fn without_request_meta(mut self) -> Self {
        self.split = None;
        self
    }
}

/// The empty capabilities object, shared.
fn no_capabilities() -> Arc<Value> {
    static EMPTY: std::sync::LazyLock<Arc<Value>> =
        std::sync::LazyLock::new(|| Arc::new(Value::Object(JsonObject::new())));
    EMPTY.clone()
}

/// The error for a missing or malformed `_meta` field.
fn missing(key: &str, what: &str) -> McpError {
    McpError::invalid_params(format!("params._meta[{key:?}] {what}"))
}

/// True when `params._meta` carries the stateless revision's per-request fields: such a
/// request is served statelessly ([`Server::serve_stateless`](crate::Server::serve_stateless)),
/// whatever connection it arrived on.
pub fn is_stateless_request(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(META_PROTOCOL_VERSION))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::code;
    use serde_json::json;

    fn env(meta: Value) -> Result<Envelope, McpError> {
        Envelope::from_meta(meta.as_object())
    }

    #[test]
    fn required_fields_are_invalid_params() {
        let caps = json!({});
        for meta in [
            json!({}),
            json!({ META_CLIENT_CAPABILITIES: caps }),
            json!({ META_PROTOCOL_VERSION: 20260728, META_CLIENT_CAPABILITIES: caps }),
            json!({ META_PROTOCOL_VERSION: "2026-07-28" }),
            json!({ META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: [] }),
            json!({ META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: caps, META_LOG_LEVEL: "loud" }),
            json!({ META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: caps, META_CLIENT_INFO: "me" }),
        ] {
            assert_eq!(
                env(meta.clone()).unwrap_err().code(),
                code::INVALID_PARAMS,
                "{meta}"
            );
        }
        assert_eq!(
            Envelope::from_meta(None).unwrap_err().code(),
            code::INVALID_PARAMS
        );
    }

    #[test]
    fn unserved_and_session_revisions_are_unsupported() {
        for v in ["1900-01-01", "2025-11-25"] {
            let e =
                env(json!({ META_PROTOCOL_VERSION: v, META_CLIENT_CAPABILITIES: {} })).unwrap_err();
            assert_eq!(e.code(), code::UNSUPPORTED_PROTOCOL_VERSION);
            let data = e.data().unwrap();
            assert_eq!(data["requested"], v);
            assert_eq!(data["supported"][0], "2026-07-28");
        }
    }

    #[test]
    fn reads_every_field() {
        let e = env(json!({
            META_PROTOCOL_VERSION: "2026-07-28",
            META_CLIENT_CAPABILITIES: { "sampling": {}, "roots": null },
            META_CLIENT_INFO: { "name": "c", "version": "2" },
            META_LOG_LEVEL: "warning",
        }))
        .unwrap()
        .with_identity(Some(Identity::new("alice").with_details(7u32)));
        assert_eq!(e.protocol_version(), ProtocolVersion::V2026_07_28);
        assert!(e.has_client_capability("sampling"));
        assert!(!e.has_client_capability("roots"));
        assert_eq!(e.client_info().unwrap().version, "2");
        assert_eq!(e.log_level(), Some(LoggingLevel::Warning));
        assert_eq!(e.identity().unwrap().subject(), "alice");
        assert_eq!(e.identity().unwrap().details::<u32>(), Some(&7));
    }
}
