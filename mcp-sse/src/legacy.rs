//! The HTTP+SSE transport of protocol revision 2024-11-05: `GET /sse` opens a session's event
//! stream, whose first event names the URL to `POST` messages to.

use std::sync::Arc;

use crate::body::RequestBody;
use http::request::Parts;
use http::{Response, StatusCode};
use mcp_core::{Caller, jsonrpc};
use tracing::Instrument;

use crate::conn::Kill;
use crate::open::open_session;
use crate::response::{Body, event_stream, status, text};
use crate::security::Identity;
use crate::sessions::{Entry, Transport};
use crate::shared::Shared;
use crate::sse::{SseBody, frame};

/// `GET /sse`: creates a session and streams its messages.
pub(crate) async fn open_stream(
    shared: &Arc<Shared>,
    kill: Option<Arc<Kill>>,
    identity: Identity,
) -> Response<Body> {
    let cfg = &shared.config;
    #[cfg(feature = "cluster")]
    let bound = identity.clone();
    let (id, entry, rx) = match open_session(shared, identity, |rx| (Transport::Legacy, rx)) {
        Ok(o) => o,
        Err(r) => return r,
    };
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &shared.cluster {
        let cap = cfg.max_sessions;
        if let Err(r) = cluster
            .register(&id, crate::cluster::Kind::Legacy, &bound, cap)
            .await
        {
            shared.sessions.remove(&id);
            return r;
        }
    }
    let endpoint = format!("{}{}?sessionId={id}", cfg.prefix, cfg.messages_path);
    // A client that stopped reading leaves its body unpolled, so the body cannot notice the
    // stall itself: the send that gives up ends the session and drops the connection. Over
    // HTTP/2 (`kill` is `None`) the connection carries other streams and stays: the session
    // ends, its queue is freed, and its stream ends when the client reads again or leaves.
    let sessions = shared.sessions.clone();
    let stall_id = id.clone();
    entry.outbound.on_stall(move || {
        tracing::warn!(target: "mcp::sse", session_id = %stall_id, "client stopped reading; session closed");
        sessions.remove(&stall_id);
        if let Some(kill) = kill {
            kill.kill();
        }
    });
    drop(entry);
    let sessions = shared.sessions.clone();
    // The writer of the stream may run the session's requests itself (see `deliver`).
    let jobs = rx.reader_jobs();
    let body = SseBody::new(
        Some(frame(Some("endpoint"), None, endpoint.as_bytes())),
        rx,
        cfg.keep_alive,
    )
    .on_close(Box::new(move || {
        sessions.remove(&id);
        tracing::info!(target: "mcp::sse", session_id = %id, "session closed");
    }));
    let mut resp = event_stream(http_body_util::BodyExt::boxed_unsync(body));
    resp.extensions_mut().insert(jobs);
    resp
}

/// The `sessionId` query parameter: exactly one, non-empty.
fn session_id(query: Option<&str>) -> Result<&str, &'static str> {
    let query = query.unwrap_or("");
    // The query of the endpoint event's URL, alone: one `memchr` instead of splitting.
    if let Some(v) = query.strip_prefix("sessionId=")
        && !v.is_empty()
        && !v.as_bytes().contains(&b'&')
    {
        return Ok(v);
    }
    let mut found = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "sessionId" {
            if found.is_some() {
                return Err("sessionId must be given once");
            }
            found = Some(v);
        }
    }
    match found {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err("missing sessionId query parameter: POST to the URL from the endpoint event"),
    }
}

/// `POST /messages?sessionId=`: validates, answers 202, and hands the message to the session.
pub(crate) async fn post_message(
    shared: &Arc<Shared>,
    identity: Identity,
    caller: &Caller,
    req: &Parts,
    body: RequestBody,
) -> Response<Body> {
    let (entry, id) = match session_id(req.uri.query()) {
        // A session opened with another credential is indistinguishable from an unknown one.
        Ok(id) => (
            shared.sessions.get(id, &identity).filter(|e| e.is_legacy()),
            id,
        ),
        Err(msg) => return text(StatusCode::BAD_REQUEST, msg),
    };
    let Some(entry) = entry else {
        #[cfg(feature = "cluster")]
        if let Some(cluster) = &shared.cluster {
            let id = id.to_owned();
            return post_elsewhere(shared, cluster, &id, identity, caller, req, body).await;
        }
        let _ = id;
        return not_found();
    };
    let (incoming, len) = match crate::body::read_rpc(shared, caller, req, body).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    deliver(shared, &entry, incoming, len, caller)
}

fn not_found() -> Response<Body> {
    text(
        StatusCode::NOT_FOUND,
        "unknown or ended session: open a new one with GET /sse",
    )
}

/// Cluster mode: a message for a session another instance holds. Validated here (the
/// credential against the session's, the body limits, the JSON, the scopes), then forwarded;
/// `202` once the owner has it.
#[cfg(feature = "cluster")]
async fn post_elsewhere(
    shared: &Arc<Shared>,
    cluster: &crate::cluster::Cluster,
    id: &str,
    identity: Identity,
    caller: &Caller,
    parts: &Parts,
    body: RequestBody,
) -> Response<Body> {
    let bytes = match crate::body::read_rpc_raw(shared, caller, parts, body).await {
        Ok((bytes, _)) => bytes,
        Err(r) => return r,
    };
    let op = crate::cluster::Op::LegacyPost;
    let kind = crate::cluster::Kind::Legacy;
    cluster
        .route(id, kind, &identity, caller, op, Vec::new(), bytes)
        .await
        .unwrap_or_else(not_found)
}

/// Cluster mode: a message another instance validated and forwarded to this session's owner.
#[cfg(feature = "cluster")]
pub(crate) fn deliver_forwarded(
    shared: &Arc<Shared>,
    entry: &Entry,
    body: &[u8],
    caller: &Caller,
) -> Option<Response<Body>> {
    if !entry.is_legacy() {
        return None;
    }
    Some(match crate::body::parse_rpc(shared, body) {
        Ok(incoming) => deliver(shared, entry, incoming, body.len(), caller),
        Err(r) => r,
    })
}

/// Hands a parsed message of `len` bytes to its session; the `202` (or `429`, or `400` for a
/// body the session refuses as a whole) to answer.
fn deliver(
    shared: &Arc<Shared>,
    entry: &Entry,
    incoming: jsonrpc::Incoming,
    len: usize,
    caller: &Caller,
) -> Response<Body> {
    if let Err(r) = crate::body::check_session(&entry.session, &incoming) {
        return r;
    }
    // What the session holds is bounded (queued plus accepted and not yet answered): past
    // it the POST is refused, never accepted and then dropped.
    let Some(admission) = entry.outbound.admit(len) else {
        let (messages, bytes) = entry.outbound.pending();
        tracing::warn!(target: "mcp::sse", session_id = entry.session.id(), messages, bytes, "session holds its limit; POST refused");
        return busy();
    };
    let span = tracing::debug_span!(target: "mcp::sse", "message", session_id = entry.session.id());
    if let Some(fut) = span.in_scope(|| {
        entry
            .session
            .receive_incoming_from(incoming, &entry.outbound, caller)
    }) {
        // Not polled here: the 202 only acknowledges receipt, so a synchronous tool that
        // computes for a while must not hold it back (a client's POST timeout would race the
        // tool); the answer travels on the stream anyway. The task writing the stream runs
        // it when it can (it then writes the answer in the same turn, with no task spawned
        // and no wake-up in between); otherwise it gets a task of its own. Either way a
        // graceful shutdown waits for it, and the admission is held until the answer is
        // queued.
        let tracked = shared.tasks.token();
        let job: mcp_core::Job = Box::pin(
            async move {
                fut.await;
                drop(admission);
                drop(tracked);
            }
            .instrument(span),
        );
        if let Err(job) = entry.outbound.run_on_reader(job) {
            tokio::spawn(job);
        }
    }
    status(StatusCode::ACCEPTED)
}

/// 429 for a POST past what its session may hold.
fn busy() -> Response<Body> {
    let mut r = text(
        StatusCode::TOO_MANY_REQUESTS,
        "this session holds too many unanswered messages: read its stream, then retry",
    );
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::session_id;

    #[test]
    fn session_id_query() {
        assert_eq!(session_id(Some("sessionId=abc")).unwrap(), "abc");
        assert_eq!(session_id(Some("x=1&sessionId=abc")).unwrap(), "abc");
        assert!(session_id(None).is_err());
        assert!(session_id(Some("sessionId=")).is_err());
        assert!(session_id(Some("sessionId=a&sessionId=b")).is_err());
        assert!(session_id(Some("sessionId=a&sessionId=")).is_err());
        assert_eq!(session_id(Some("sessionId=a&x=1")).unwrap(), "a");
        assert_eq!(session_id(Some("sessionId=a=b")).unwrap(), "a=b");
        assert!(session_id(Some("sessionid=a")).is_err());
    }
}
