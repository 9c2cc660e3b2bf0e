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
//! * Every SSE event has an id `<stream>-<seq>`, unique within the session. Events are kept in
//!   a bounded per-session store ([`crate::Builder::event_store_capacity`], oldest dropped first),
//!   so a client that lost a connection, or whose stream the server closed early
//!   (`Context::close_sse_stream`), resumes with `GET` + `Last-Event-ID` and receives only that
//!   stream's later events. Sessions at 2025-11-25 get the priming event (an id and empty data)
//!   and a `retry` hint when a stream opens.
//! * Sessions idle longer than [`crate::Builder::idle_timeout`] with no open stream are ended.

mod delete;
mod get;
mod headers;
pub(crate) mod idle;
mod post;
pub(crate) mod state;
mod stream;

use std::sync::Arc;

use http::{Method, Request, Response};
use hyper::body::Incoming;
use mcp_core::Caller;

use crate::response::{Body, method_not_allowed};
use crate::security::Identity;
use crate::shared::Shared;

/// Handles a request on the MCP endpoint.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    identity: Identity,
    caller: &Caller,
    req: Request<Incoming>,
) -> Response<Body> {
    match *req.method() {
        Method::POST => post::post(shared, identity, caller, req).await,
        Method::GET => get::get(shared, identity, req.headers()),
        Method::DELETE => delete::delete(shared, identity, req.headers()),
        _ => method_not_allowed("GET, POST, DELETE"),
    }
}
