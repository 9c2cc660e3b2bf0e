//! The 2024-11-05 HTTP+SSE transport: `GET /sse` opens a session stream, `POST /messages`
//! delivers client messages to it.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming as HttpBody;
use mcp_core::jsonrpc::{self, Incoming, Message};
use mcp_core::{Outbound, Outgoing, SessionOptions};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::body::{self, ResponseBody};
use crate::error::{json, plain};
use crate::security::Credential;
use crate::server::App;
use crate::sessions::{OpenError, SessionEntry};
use crate::sse::{OnDrop, SseBody, event_frame};

struct RemoveOnDrop {
    app: Arc<App>,
    id: Uuid,
}

impl OnDrop for RemoveOnDrop {
    fn dropped(&mut self) {
        tracing::debug!(target: "mcp::sse", session = %self.id, "stream closed; session ended");
        self.app.sessions.remove(&self.id);
    }
}

/// `GET /sse`.
pub(crate) fn open_stream(
    app: &Arc<App>,
    credential: Credential,
    connection: CancellationToken,
) -> Response<ResponseBody> {
    let config = &app.config;
    let (outbound, rx) = Outbound::channel(config.queue_capacity);
    let outbound = outbound.with_stall_timeout(config.stall_timeout);
    let opened = app.sessions.open(|id| {
        let session = app
            .server
            .session(SessionOptions::new(outbound.clone()).id(id.to_string()));
        SessionEntry {
            session,
            outbound: outbound.clone(),
            credential,
            ended: CancellationToken::new(),
        }
    });
    let (id, entry) = match opened {
        Ok(v) => v,
        Err(OpenError::Full) => {
            tracing::warn!(target: "mcp::sse", cap = config.max_sessions, "session cap reached");
            let mut res = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many open sessions; retry later\n",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return res;
        }
    };
    tracing::info!(target: "mcp::sse", session = %id, "session opened");

    // Stall policy: when a send waits on the full queue past the stall timeout, the session
    // ends and the connection carrying its stream is dropped (a reader that stopped reading
    // would otherwise keep hyper blocked on the socket).
    let stalled = entry.outbound.stalled().clone();
    let ended = entry.ended.clone();
    let watcher_app = app.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = stalled.cancelled() => {
                tracing::warn!(target: "mcp::sse", session = %id, "reader stalled; session closed");
                watcher_app.sessions.remove(&id);
                connection.cancel();
            }
            _ = ended.cancelled() => {}
        }
    });

    let endpoint = format!(
        "{}?sessionId={}",
        config.full_path(&config.messages_path),
        id.simple_hyphenated()
    );
    let end = entry.ended.clone();
    let sse = SseBody::new(
        event_frame("endpoint", endpoint.as_bytes()),
        rx,
        config.keep_alive,
        Box::pin(async move { end.cancelled_owned().await }),
        Box::new(RemoveOnDrop {
            app: app.clone(),
            id,
        }),
    );
    drop(entry);
    let mut res = Response::new(http_body_util::BodyExt::boxed_unsync(sse));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

trait Hyphenated {
    fn simple_hyphenated(&self) -> String;
}
impl Hyphenated for Uuid {
    fn simple_hyphenated(&self) -> String {
        self.hyphenated().to_string()
    }
}

fn session_param(query: Option<&str>) -> Result<&str, &'static str> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "sessionId" {
            if found.is_some() {
                return Err("sessionId given more than once\n");
            }
            found = Some(v);
        }
    }
    match found {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err("missing sessionId query parameter\n"),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false)
}

/// `POST /messages?sessionId=<id>`.
pub(crate) async fn post_message(
    app: &Arc<App>,
    req: Request<HttpBody>,
    credential: Credential,
) -> Response<ResponseBody> {
    let config = &app.config;
    let id = match session_param(req.uri().query()) {
        Ok(id) => id,
        Err(msg) => return plain(StatusCode::BAD_REQUEST, msg),
    };
    if !is_json(req.headers()) {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json\n",
        );
    }
    if let Err(e) = body::precheck(req.headers(), config.max_body_bytes) {
        return plain(e.status(), e.message());
    }
    let entry = match Uuid::try_parse(id)
        .ok()
        .and_then(|id| app.sessions.get(&id, credential.as_deref()))
    {
        Some(e) => e,
        None => return plain(StatusCode::NOT_FOUND, "unknown or ended session\n"),
    };
    let bytes: Bytes = match body::read_bounded(
        req.into_body(),
        config.max_body_bytes,
        config.body_read_timeout,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return plain(e.status(), e.message()),
    };
    let incoming = match jsonrpc::parse(&bytes, &app.server.parse_limits()) {
        Ok(i) => i,
        Err(e) => {
            return json(
                StatusCode::BAD_REQUEST,
                jsonrpc::response_bytes(&e.response()),
            );
        }
    };
    if entry.ended.is_cancelled() {
        return plain(StatusCode::NOT_FOUND, "unknown or ended session\n");
    }
    match incoming {
        Incoming::Single(m) => dispatch(app, &entry, m),
        Incoming::Batch(items) => {
            for item in items {
                match item {
                    Ok(m) => dispatch(app, &entry, m),
                    Err(resp) => {
                        let out = entry.outbound.clone();
                        let bytes = jsonrpc::response_bytes(&resp);
                        app.sessions.handlers.spawn(async move {
                            let _ = out.send(Outgoing::orphan_error(bytes)).await;
                        });
                    }
                }
            }
        }
    }
    let mut res = Response::new(body::empty());
    *res.status_mut() = StatusCode::ACCEPTED;
    res
}

/// Hands one accepted message to the session; request handlers run concurrently and are
/// cancelled when the session ends.
fn dispatch(app: &Arc<App>, entry: &SessionEntry, message: Message) {
    let span = tracing::info_span!(
        target: "mcp::rpc",
        "request",
        session = entry.session.id().unwrap_or(""),
        method = message.method().unwrap_or(""),
        id = ?message.id(),
    );
    let _g = span.enter();
    tracing::debug!(target: "mcp::rpc", "message accepted");
    if let Some(fut) = entry.session.receive(message, &entry.outbound) {
        let ended = entry.ended.clone();
        app.sessions.handlers.spawn(
            async move {
                tokio::select! {
                    _ = fut => {}
                    _ = ended.cancelled() => {
                        tracing::debug!(target: "mcp::rpc", "handler cancelled: session ended");
                    }
                }
            }
            .instrument(span.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_param_rules() {
        assert_eq!(session_param(Some("sessionId=a")), Ok("a"));
        assert_eq!(session_param(Some("x=1&sessionId=a")), Ok("a"));
        assert!(session_param(Some("sessionId=a&sessionId=b")).is_err());
        assert!(session_param(Some("sessionId=")).is_err());
        assert!(session_param(None).is_err());
    }
}
