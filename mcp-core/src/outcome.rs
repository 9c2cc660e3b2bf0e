//! What handling one request produces: a result body (a fresh value, a cached serialization
//! or a tool result) or an error. The dispatcher produces it, middleware wraps it and the
//! transports serialize it.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use bytes::Bytes;

use crate::error::McpError;
use crate::jsonrpc::{self, RequestId};
use crate::wire;

/// A result body: a fresh value, or a cached serialization.
pub(crate) enum Body {
    Value(Value),
    /// A result already completed for the stateless revision.
    Complete(Value),
    Raw(Arc<RawValue>),
    Call(wire::CallResult),
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Value(v) | Body::Complete(v) => v.serialize(s),
            Body::Raw(r) => r.serialize(s),
            Body::Call(c) => c.serialize(s),
        }
    }
}

impl Body {
    /// The whole response answering request `id` with this body.
    pub(crate) fn response_bytes(&self, id: &RequestId) -> Bytes {
        match self {
            Body::Call(c) => c.response_bytes(id),
            _ => jsonrpc::result_bytes(id, self),
        }
    }
}

pub(crate) type Outcome = Result<Body, McpError>;
