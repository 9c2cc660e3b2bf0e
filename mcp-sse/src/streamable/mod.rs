//! Streamable HTTP (revisions 2025-03-26 to 2025-11-25) on one endpoint, `/mcp` by default.
//!
//! * `POST` carries one message (or a batch on 2025-03-26 sessions). Notifications and
//!   responses get `202`. A request is answered with `application/json` when its response is
//!   the first message it produces, otherwise with an SSE stream carrying its notifications and
//!   server-to-client requests, then the response.
//! * `initialize` without `Mcp-Session-Id` opens a session (a random UUID v4 is returned in
//!   `Mcp-Session-Id`; a client-chosen id is never adopted). Every later request must carry it
//!   (missing: 400; unknown or ended: 404). `DELETE` ends the session.
//! * `GET` opens the session's standalone stream for server-initiated messages (one at a time:
//!   a second concurrent one gets 409), or resumes any stream with `Last-Event-ID`.
//! * Every SSE event has an id `<stream>-<seq>`, unique within the session. Each stream reads
//!   its own bounded queue (the session queue's bounds and stall timeout apply) and keeps the
//!   events it wrote in a replay log bounded in bytes ([`crate::Builder::replay_bytes`],
//!   oldest dropped first). A client that lost a connection, or whose stream the server closed
//!   early (`Context::close_sse_stream`), resumes with `GET` + `Last-Event-ID` and receives
//!   that stream's later events; a stream that ended cleanly keeps nothing. A POST stream
//!   whose request was cancelled ends. Messages for the standalone stream are dropped until
//!   the client first opens it. Sessions at 2025-11-25 get the priming event (an id and empty
//!   data) and a `retry` hint when a stream opens.
//! * An `initialize` that fails leaves no session behind and returns no `Mcp-Session-Id`.
//! * Sessions idle longer than [`crate::Builder::idle_timeout`] with no open stream are ended.

mod delete;
mod get;
mod headers;
pub(crate) mod idle;
mod post;
pub(crate) mod state;
mod stream;

use std::sync::Arc;

use crate::body::RequestBody;
use http::request::Parts;
use http::{Method, Response};
use mcp_core::Caller;

use crate::response::{Body, method_not_allowed};
use crate::security::Identity;
use crate::shared::Shared;

/// Handles a request on the MCP endpoint.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    identity: Identity,
    caller: &Caller,
    req: &Parts,
    body: RequestBody,
) -> Response<Body> {
    #[cfg(feature = "cluster")]
    {
        use crate::cluster::Op;
        let op = match req.method {
            Method::GET => Some(Op::McpGet),
            Method::DELETE => Some(Op::McpDelete),
            _ => None,
        };
        if let Some(op) = op
            && let Some(r) = forward_elsewhere(
                shared,
                &identity,
                caller,
                op,
                &req.headers,
                bytes::Bytes::new(),
            )
            .await
        {
            return r;
        }
    }
    match req.method {
        Method::POST => post::post(shared, identity, caller, req, body).await,
        Method::GET | Method::DELETE
            if crate::stateless::names_sessionless_revision(&req.headers) =>
        {
            crate::stateless::method_not_allowed()
        }
        Method::GET => get::get(shared, identity, &req.headers),
        Method::DELETE => delete::delete(shared, identity, &req.headers),
        _ => method_not_allowed("GET, POST, DELETE"),
    }
}

/// The request headers the MCP endpoint reads, forwarded with a request to another instance.
#[cfg(feature = "cluster")]
const FORWARDED_HEADERS: [http::HeaderName; 5] = [
    http::header::ACCEPT,
    http::header::CONTENT_TYPE,
    headers::SESSION_HEADER,
    headers::VERSION_HEADER,
    headers::LAST_EVENT_ID,
];

/// Cluster mode: a request for a session another instance holds goes to that instance, and
/// its response comes back. `None`: no session header, or the session is held here (or
/// nowhere: the local path answers 404 then).
#[cfg(feature = "cluster")]
pub(super) async fn forward_elsewhere(
    shared: &Arc<Shared>,
    identity: &Identity,
    caller: &Caller,
    op: crate::cluster::Op,
    h: &http::HeaderMap,
    body: bytes::Bytes,
) -> Option<Response<Body>> {
    let cluster = shared.cluster.as_ref()?;
    // Absent or repeated: the local path answers (400 for a repeated one).
    let id = headers::single_str(h, &headers::SESSION_HEADER)
        .ok()
        .flatten()?;
    if shared.sessions.get(id, identity).is_some() {
        return None;
    }
    let forwarded = FORWARDED_HEADERS
        .iter()
        .filter_map(|n| {
            h.get(n).map(|v| {
                (
                    n.as_str().to_owned(),
                    bytes::Bytes::copy_from_slice(v.as_bytes()),
                )
            })
        })
        .collect();
    let kind = crate::cluster::Kind::Streamable;
    let routed = cluster
        .route(id, kind, identity, caller, op, forwarded, body)
        .await;
    Some(routed.unwrap_or_else(|| {
        crate::response::text(
            http::StatusCode::NOT_FOUND,
            "unknown or ended session: initialize a new one",
        )
    }))
}

/// Cluster mode: runs a request another instance forwarded for a session held here (its
/// credential was checked there); `None` when the session is not a Streamable HTTP one.
#[cfg(feature = "cluster")]
pub(crate) async fn serve_forwarded(
    shared: &Arc<Shared>,
    entry: crate::sessions::Entry,
    caller: &Caller,
    op: crate::cluster::Op,
    h: http::HeaderMap,
    body: bytes::Bytes,
) -> Option<Response<Body>> {
    use crate::cluster::Op;
    entry.streamable()?;
    let identity = entry.identity.clone();
    Some(match op {
        Op::McpPost => match crate::body::parse_rpc(shared, &body) {
            Ok(incoming) => post::post_parsed(shared, identity, caller, &h, incoming).await,
            Err(r) => r,
        },
        Op::McpGet => get::get(shared, identity, &h),
        Op::McpDelete => delete::delete(shared, identity, &h),
        Op::LegacyPost | Op::StatelessPost => return None,
    })
}
