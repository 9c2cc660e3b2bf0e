//! The stateless revision (2026-07-28) on the MCP endpoint, beside the session-based ones.
//!
//! A request is stateless when its `MCP-Protocol-Version` header names a revision without
//! sessions (or one this server does not know), or when its `params._meta` carries the
//! per-request protocol version. Everything else keeps the session-based Streamable HTTP
//! path, unchanged.
//!
//! * `POST` carries one request; there is no `initialize` and no `Mcp-Session-Id` (one sent is
//!   ignored, none is ever issued). The headers are checked against the body first
//!   ([`headers`]: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), each
//!   disagreement answered 400 with `HeaderMismatch` (-32020). The request is then served by
//!   `mcp_core::Server::serve_stateless`, which validates `_meta` and answers.
//! * The answer is `application/json` when the response is the first message, otherwise an SSE
//!   stream of the request's notifications then its response, which ends it. Closing the
//!   stream cancels the request.
//! * Errors carry the HTTP status the revision gives them: 404 for `-32601` (unknown and
//!   removed methods), 400 for `_meta` problems (-32602), unsupported versions (-32022),
//!   missing client capabilities (-32021, also when a tool's `Context::elicit`, `sample` or
//!   `list_roots` finds the capability missing) and header mismatches (-32020). Once a stream
//!   has begun (a notification came first) its status is sent: an error is then the stream's
//!   final message.
//! * `subscriptions/listen` streams like any request whose first message is not its response:
//!   the acknowledgement, then the notifications the client opted in to, keep-alives while
//!   idle, and, at shutdown (`Server::end_subscriptions`), the closing result. Their number is
//!   bounded by the server (`ServerBuilder::max_subscriptions`).
//! * `GET` and `DELETE` with a stateless `MCP-Protocol-Version` are 405: this revision has no
//!   standalone stream and no session to end.

// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

mod headers;

pub(crate) use headers::VERSION;

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use mcp_core::envelope::RequestMeta;
use mcp_core::jsonrpc::{self, Incoming, Message, Request, RequestId};
use mcp_core::stateless::StatelessOptions;
use mcp_core::{Caller, Outbound, OutgoingKind, ProtocolVersion};
use serde_json::Value;

use crate::response::{Body, event_stream, json, rpc_error, status, text};
use crate::shared::Shared;

/// JSON-RPC codes answered with 400 on this revision.
const BAD_REQUEST_CODES: [i32; 4] = [
    jsonrpc::code::INVALID_REQUEST,
    jsonrpc::code::HEADER_MISMATCH,
    jsonrpc::code::MISSING_REQUIRED_CLIENT_CAPABILITY,
    jsonrpc::code::UNSUPPORTED_PROTOCOL_VERSION,
];

/// True when `MCP-Protocol-Version` names a revision that is not session-based: one without
/// sessions, or one this server does not know (answered by the stateless path's validation).
pub(crate) fn named_by_header(h: &HeaderMap) -> bool {
    h.get(headers::VERSION).is_some_and(|v| {
        match v.to_str().ok().map(str::parse::<ProtocolVersion>) {
            Some(Ok(v)) => !v.has_sessions(),
            _ => true,
        }
    })
}

/// True when `MCP-Protocol-Version` names a known revision without sessions: a GET or DELETE
/// addressed to it has no meaning (an unknown version there is the session path's 400).
pub(crate) fn names_sessionless_revision(h: &HeaderMap) -> bool {
    h.get(headers::VERSION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<ProtocolVersion>().ok())
        .is_some_and(|v| !v.has_sessions())
}

/// The 405 a stateless GET or DELETE gets.
pub(crate) fn method_not_allowed() -> Response<Body> {
    let mut r = text(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: protocol revision 2026-07-28 has no GET stream and no session to delete; POST every request",
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// The `Mcp-Param-*` names a CORS preflight asks for (`Access-Control-Request-Headers`), to
/// allow them: they are the tool parameters mirrored into headers, named by each tool.
pub(crate) fn requested_param_headers(h: &HeaderMap) -> Option<String> {
    let asked = h
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)?
        .to_str()
        .ok()?;
    let params: Vec<&str> = asked
        .split(',')
        .map(str::trim)
        .filter(|n| {
            n.len() > 10
                && n[..10].eq_ignore_ascii_case("mcp-param-")
                && http::HeaderName::from_bytes(n.as_bytes()).is_ok()
        })
        .collect();
    (!params.is_empty()).then(|| params.join(", "))
}

/// True when a POST body is a request of the stateless revision: its `params._meta` carries the
/// per-request protocol version.
pub(crate) fn named_by_body(incoming: &Incoming) -> bool {
    match incoming {
        Incoming::Single(Message::Request(r)) => {
            mcp_core::envelope::is_stateless_request(r.params.as_ref())
        }
        Incoming::Single(Message::Notification(n)) => {
            mcp_core::envelope::is_stateless_request(n.params.as_ref())
        }
        _ => false,
    }
}

fn invalid_request(id: Option<&RequestId>, msg: &str) -> Response<Body> {
    rpc_error(
        StatusCode::BAD_REQUEST,
        id,
        &mcp_core::McpError::invalid_request(msg).into_error_object(),
    )
}

/// Serves one stateless POST whose body is already read.
pub(crate) async fn post(
    shared: &Arc<Shared>,
    caller: &Caller,
    h: &HeaderMap,
    incoming: Incoming,
    meta: Option<RequestMeta>,
) -> Response<Body> {
    let msg = match incoming {
        Incoming::Single(m) => m,
        Incoming::Batch(_) => {
            return invalid_request(
                None,
                "batches are not part of protocol revision 2026-07-28: POST one request at a time",
            );
        }
    };
    match msg {
        Message::Request(req) => request(shared, caller, h, req, meta).await,
        // This revision defines no client notification over HTTP (closing a stream is the
        // cancellation); one sent anyway is accepted and has no effect.
        Message::Notification(_) => status(StatusCode::ACCEPTED),
        Message::Response(_) => invalid_request(
            None,
            "clients send no responses on protocol revision 2026-07-28 (input goes in inputResponses on a retry)",
        ),
    }
}

/// The header checks, in the revision's order: version against `_meta`, then method and name,
/// then a tool's mirrored parameters.
fn check_headers(
    shared: &Shared,
    h: &HeaderMap,
    req: &Request,
    meta: Option<&RequestMeta>,
) -> Result<(), headers::Mismatch> {
    let params = req.params.as_ref();
    let meta_version = match meta {
        Some(m) => m.protocol_version(),
        None => params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(mcp_core::envelope::META_PROTOCOL_VERSION))
            .and_then(Value::as_str),
    };
    let standard = headers::Standard::find(h);
    headers::check_version(&standard, meta_version)?;
    let name = headers::check_standard(&standard, &req.method, params)?;
    // A tool call's name is its `params.name`, which `Mcp-Name` was just checked against.
    if req.method == "tools/call"
        && let Some(name) = name
        && let Some(marked) = shared.server.tool_header_params(name)
    {
        headers::check_params(h, &marked, params.and_then(|p| p.get("arguments")))?;
    }
    Ok(())
}

/// The HTTP status of a response on this revision: 404 for an unknown method, 400 for the
/// revision's request errors, 200 otherwise (tool errors, invalid arguments and the like are
/// JSON-RPC errors of a well-formed exchange). `error_code` is the response's, when it is an
/// error.
fn status_of(error_code: Option<i32>) -> StatusCode {
    match error_code {
        Some(jsonrpc::code::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(c) if BAD_REQUEST_CODES.contains(&c) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

async fn request(
    shared: &Arc<Shared>,
    caller: &Caller,
    h: &HeaderMap,
    req: Request,
    meta: Option<RequestMeta>,
) -> Response<Body> {
    let cfg = &shared.config;
    if let Err(headers::Mismatch(msg)) = check_headers(shared, h, &req, meta.as_ref()) {
        tracing::debug!(target: "mcp::http", method = %req.method, "stateless request refused: header mismatch");
        return rpc_error(
            StatusCode::BAD_REQUEST,
            Some(&req.id),
            &mcp_core::McpError::header_mismatch(format!("Header mismatch: {msg}"))
                .into_error_object(),
        );
    }
    let (reply, mut rx) = Outbound::channel(cfg.queue);
    let reply = reply.with_stall_timeout(cfg.stall_timeout);
    // Who is calling and the headers handlers may read, as authentication found them.
    let options = StatelessOptions::new("streamable-http")
        .caller(caller)
        .meta(meta);
    // The work stops when the client closes the stream: dropping the body drops `rx`.
    let work = match shared.server.serve_stateless(req, options, reply) {
        Ok(w) => w,
        Err(rejection) => {
            let code = if rejection.error.code() == jsonrpc::code::METHOD_NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut r = json(rejection.outgoing().json);
            *r.status_mut() = code;
            return r;
        }
    };
    shared.run_or_spawn(work);
    // A response first is sent as JSON (a listen request's first message is its
    // acknowledgement, unless it failed); anything else opens the stream.
    let first = match rx.recv().await {
        // The work ended without an answer (it was cancelled): nothing to send.
        None => return status(StatusCode::ACCEPTED),
        Some(m) if m.kind == OutgoingKind::Response => {
            let code = status_of(m.error_code);
            let mut r = json(m.json);
            *r.status_mut() = code;
            return r;
        }
        Some(m) => crate::sse::frame(Some("message"), None, &m.json),
    };
    // Progress and logs, keep-alives while idle, and the response, which ends it. Dropping it
    // (the client closed the stream) drops `rx`, which cancels the request.
    let body = crate::sse::SseBody::new(Some(first), rx, cfg.keep_alive).until_response();
    event_stream(BodyExt::boxed_unsync(body))
}
