//! The request context handed to handlers: progress, logging, cancellation, request metadata,
//! client information, typed state and server-to-client requests.

use std::sync::Arc;

use crate::jsonrpc::RequestId;
use crate::outbound::Outbound;
use crate::protocol::JsonObject;
use crate::session::Session;
use crate::version::ProtocolVersion;

/// Everything a handler may need about the request it is answering. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    session: Session,
    request_id: RequestId,
    reply: Outbound,
    meta: Option<JsonObject>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(
        session: Session,
        request_id: RequestId,
        reply: Outbound,
        meta: Option<JsonObject>,
    ) -> Self {
        Context {
            inner: Arc::new(ContextInner {
                session,
                request_id,
                reply,
                meta,
            }),
        }
    }

    /// The id of the request being answered.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The request's `_meta`, if it had one.
    pub fn meta(&self) -> Option<&JsonObject> {
        self.inner.meta.as_ref()
    }

    /// The transport's session id, if it has one.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session.id()
    }

    /// The negotiated protocol revision.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner
            .session
            .protocol_version()
            .unwrap_or(ProtocolVersion::LATEST)
    }

    /// Shared application state of type `T`, if the server was built with one.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.inner.session.server().inner.state.get::<T>()
    }

    /// Where messages about this request go.
    pub(crate) fn reply(&self) -> &Outbound {
        &self.inner.reply
    }
}
