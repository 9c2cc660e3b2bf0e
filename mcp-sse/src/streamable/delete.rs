//! `DELETE` on the MCP endpoint: ends the session.

use std::sync::Arc;

use http::{HeaderMap, Response};

use super::headers::{check_version_header, lookup, session_header};
use crate::response::{Body, empty};
use crate::security::Identity;
use crate::shared::Shared;

pub(crate) fn delete(shared: &Arc<Shared>, identity: Identity, h: &HeaderMap) -> Response<Body> {
    if let Err(r) = check_version_header(h) {
        return r;
    }
    let named = match session_header(h) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match lookup(shared, named, &identity) {
        Ok((id, _, _)) => {
            shared.sessions.remove(id);
            tracing::info!(target: "mcp::http", session_id = %id, "streamable session deleted");
            Response::new(empty())
        }
        Err(r) => r,
    }
}
