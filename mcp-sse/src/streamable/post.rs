//! `POST` on the MCP endpoint: one message or batch in; `202`, a JSON response, or an SSE
//! stream of the request's messages out.

// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use crate::body::RequestBody;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use mcp_core::jsonrpc::{Incoming as Body_, Message};
use mcp_core::{Caller, Outbound, OutgoingKind};

use super::headers::{SESSION_HEADER, accepts, check_version_header, lookup, session_header};
use super::state::StreamState;
use super::stream::{Start, sse_response};
use crate::open::open_session;
use crate::response::{Body, json, status, text};
use crate::security::Identity;
use crate::sessions::{Entry, Transport};
use crate::shared::Shared;

fn is_initialize(incoming: &Body_) -> bool {
    matches!(incoming, Body_::Single(Message::Request(r)) if r.method == "initialize")
}

pub(crate) async fn post(
    shared: &Arc<Shared>,
    identity: Identity,
    caller: &Caller,
    parts: &Parts,
    body: RequestBody,
) -> Response<Body> {
    let h = &parts.headers;
    let accepted = accepts(h);
    if !(accepted.json && accepted.event_stream) {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list both application/json and text/event-stream",
        );
    }
    // A request naming the stateless revision in its header goes there whatever its body.
    let stateless = crate::stateless::named_by_header(h);
    if !stateless && let Err(r) = check_version_header(h) {
        return r;
    }
    // A stateless body's `_meta` is read as text: its envelope fields are all the revision
    // needs of it on most requests.
    let (_bytes, incoming, meta) =
        match crate::body::read_rpc_split(shared, caller, parts, body, stateless).await {
            Ok(m) => m,
            Err(r) => return r,
        };
    if stateless || crate::stateless::named_by_body(&incoming) {
        #[cfg(feature = "cluster")]
        if let Some(r) = crate::remote::task_elsewhere(shared, caller, h, &incoming, &_bytes).await
        {
            return r;
        }
        return crate::stateless::post(shared, caller, h, incoming, meta).await;
    }
    #[cfg(feature = "cluster")]
    if let Some(r) = super::forward_elsewhere(
        shared,
        &identity,
        caller,
        crate::cluster::Op::McpPost,
        h,
        _bytes,
    )
    .await
    {
        return r;
    }
    post_parsed(shared, identity, caller, h, incoming).await
}

/// A `POST` whose headers were checked and whose body was read: finds or opens the session
/// and runs the message.
pub(crate) async fn post_parsed(
    shared: &Arc<Shared>,
    identity: Identity,
    caller: &Caller,
    h: &HeaderMap,
    incoming: Body_,
) -> Response<Body> {
    let cfg = &shared.config;
    let named = match session_header(h) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The id of a session this request opens; a request for an existing one needs no copy.
    let (created, entry, state) = if named.is_none() && is_initialize(&incoming) {
        match open(shared, identity).await {
            Ok((id, entry, state)) => (Some(id), entry, state),
            Err(r) => return r,
        }
    } else {
        match lookup(shared, named, &identity) {
            Ok((_, entry, state)) => (None, entry, state),
            Err(r) => return r,
        }
    };
    if let Err(r) = crate::body::check_session(&entry.session, &incoming) {
        return r;
    }
    state.touch();
    let has_request = match &incoming {
        Body_::Single(m) => m.is_request(),
        Body_::Batch(items) => items
            .iter()
            .any(|i| matches!(i, Ok(m) if m.is_request()) || i.is_err()),
    };
    let (reply, mut rx) = Outbound::bounded(
        cfg.queue,
        cfg.pending_bytes,
        cfg.pending_messages,
        cfg.pending_bytes,
    );
    let reply = reply.with_stall_timeout(cfg.stall_timeout);
    let close = rx.stream_close_signal();
    let fut = entry
        .session
        .receive_incoming_from(incoming, &reply, caller);
    drop(reply);
    let mut resp = match fut {
        None if !has_request => status(StatusCode::ACCEPTED),
        None => status(StatusCode::OK),
        Some(fut) => {
            shared.run_or_spawn(fut);
            // A handler that closes its stream before sending anything still gets an SSE
            // stream: primed, then closed, its answer kept for the client's resumption.
            let first = tokio::select! {
                biased;
                m = rx.recv() => m.map(Some),
                _ = close.requested() => Some(None),
            };
            match first {
                None => {
                    // The request was cancelled before it answered: nothing to send.
                    status(StatusCode::ACCEPTED)
                }
                Some(Some(first)) if first.kind == OutgoingKind::Response => json(first.json),
                Some(first) => {
                    let stream = state.new_stream();
                    let start = Start {
                        rx,
                        first,
                        replay: Vec::new(),
                        cursor: 0,
                        close: Some(close),
                        priming: true,
                    };
                    sse_response(shared, &entry, state.clone(), stream, start)
                }
            }
        }
    };
    let Some(session_id) = created else {
        return resp;
    };
    if entry.session.protocol_version().is_none() {
        // The initialize failed: the session never existed for the client.
        shared.sessions.remove(&session_id);
        tracing::debug!(target: "mcp::http", "initialize failed; session dropped");
        return resp;
    }
    if let Ok(v) = HeaderValue::from_str(&session_id) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    resp
}

/// Opens a Streamable HTTP session; its session-wide messages go to the standalone stream.
/// A standalone stream whose reader stops reading ends the session, as on HTTP+SSE.
async fn open(
    shared: &Arc<Shared>,
    identity: Identity,
) -> Result<(String, Entry, Arc<StreamState>), Response<Body>> {
    let cfg = &shared.config;
    #[cfg(feature = "cluster")]
    let bound = identity.clone();
    let (id, entry, state) = open_session(shared, identity, |rx| {
        let state = Arc::new(StreamState::new(cfg.replay_bytes, rx));
        (Transport::Streamable(state.clone()), state)
    })?;
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &shared.cluster {
        let kind = crate::cluster::Kind::Streamable;
        if let Err(r) = cluster
            .register(&id, kind, &bound, shared.config.max_sessions)
            .await
        {
            shared.sessions.remove(&id);
            return Err(r);
        }
    }
    let sessions = shared.sessions.clone();
    let stall_id = id.clone();
    entry.outbound.on_stall(move || {
        tracing::warn!(target: "mcp::http", session_id = %stall_id, "client stopped reading its stream; session closed");
        sessions.remove(&stall_id);
    });
    Ok((id, entry, state))
}
