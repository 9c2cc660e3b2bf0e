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

// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use mcp_core::jsonrpc::{Incoming as Body_, Message};
use mcp_core::{
    Outbound, OutboundReceiver, OutgoingKind, ProtocolVersion, SessionOptions, StreamCloseSignal,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::security::Identity;
use crate::service::{Body, Shared, empty, full, rpc_error, text};
use crate::sessions::Entry;
use crate::sse::{KEEP_ALIVE, frame};

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// The stream id of the standalone (GET) stream.
const STANDALONE: u64 = 0;

struct Event {
    stream: u64,
    seq: u64,
    json: Bytes,
    is_response: bool,
}

#[derive(Default)]
struct Store {
    events: VecDeque<Event>,
    seqs: HashMap<u64, u64>,
}

/// The Streamable HTTP state of one session: its event store and stream bookkeeping.
pub(crate) struct StreamState {
    store: Mutex<Store>,
    capacity: usize,
    notify: Notify,
    next_stream: AtomicU64,
    standalone_open: AtomicBool,
    open_streams: AtomicUsize,
    last_active: Mutex<Instant>,
}

impl StreamState {
    fn new(capacity: usize) -> Self {
        StreamState {
            store: Mutex::new(Store::default()),
            capacity: capacity.max(1),
            notify: Notify::new(),
            next_stream: AtomicU64::new(STANDALONE + 1),
            standalone_open: AtomicBool::new(false),
            open_streams: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// True when the session saw no request for `idle` and has no open stream.
    pub(crate) fn is_idle(&self, idle: Duration) -> bool {
        self.open_streams.load(Ordering::Relaxed) == 0
            && self
                .last_active
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .elapsed()
                > idle
    }

    fn push(&self, stream: u64, json: Bytes, is_response: bool) {
        {
            let mut store = self.lock();
            let seq = store.seqs.entry(stream).or_insert(0);
            *seq += 1;
            let seq = *seq;
            if store.events.len() >= self.capacity {
                store.events.pop_front();
            }
            store.events.push_back(Event {
                stream,
                seq,
                json,
                is_response,
            });
        }
        self.notify.notify_waiters();
    }

    /// The next event of `stream` after `cursor`.
    fn next_after(&self, stream: u64, cursor: u64) -> Option<(u64, Bytes, bool)> {
        self.lock()
            .events
            .iter()
            .find(|e| e.stream == stream && e.seq > cursor)
            .map(|e| (e.seq, e.json.clone(), e.is_response))
    }

    fn knows(&self, stream: u64) -> bool {
        stream < self.next_stream.load(Ordering::Relaxed)
    }
}

/// Moves every message of `rx` into the store under `stream`.
fn pump(state: Arc<StreamState>, stream: u64, mut rx: OutboundReceiver) {
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            state.push(stream, msg.json, msg.kind == OutgoingKind::Response);
        }
        // Nothing more can arrive on this stream: forget its counter (its events stay
        // replayable until the bounded store drops them).
        if stream != STANDALONE {
            state.lock().seqs.remove(&stream);
        }
    });
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn accepts(h: &HeaderMap, mime: &str) -> bool {
    header_str(h, header::ACCEPT.as_str()).is_some_and(|a| {
        a.split(',').any(|part| {
            let m = part.split(';').next().unwrap_or("").trim();
            m.eq_ignore_ascii_case(mime) || m == "*/*"
        })
    })
}

fn bad_request(msg: &str) -> Response<Body> {
    rpc_error(
        StatusCode::BAD_REQUEST,
        None,
        &mcp_core::McpError::invalid_request(msg).into_error_object(),
    )
}

/// Checks `MCP-Protocol-Version` when present: it must name a revision we serve.
fn check_version_header(h: &HeaderMap) -> Result<(), Response<Body>> {
    match header_str(h, VERSION_HEADER) {
        None => Ok(()),
        Some(v) => v.parse::<ProtocolVersion>().map(|_| ()).map_err(|_| {
            bad_request(&format!(
                "unsupported MCP-Protocol-Version {v:?}; supported: {}",
                ProtocolVersion::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

/// The live session named by `Mcp-Session-Id`, or the error response.
fn lookup(
    shared: &Shared,
    h: &HeaderMap,
    identity: &Identity,
) -> Result<(String, Entry, Arc<StreamState>), Response<Body>> {
    let Some(id) = header_str(h, SESSION_HEADER) else {
        return Err(bad_request(
            "missing Mcp-Session-Id header: send initialize first",
        ));
    };
    match shared.sessions.get(id, identity) {
        Some(entry) => match entry.stream.clone() {
            Some(state) => Ok((id.to_owned(), entry, state)),
            None => Err(text(StatusCode::NOT_FOUND, "unknown or ended session")),
        },
        None => Err(text(
            StatusCode::NOT_FOUND,
            "unknown or ended session: initialize a new one",
        )),
    }
}

/// Handles a request on the MCP endpoint.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    identity: Identity,
    req: Request<Incoming>,
) -> Response<Body> {
    match *req.method() {
        Method::POST => post(shared, identity, req).await,
        Method::GET => get(shared, identity, req.headers()),
        Method::DELETE => delete(shared, identity, req.headers()),
        _ => {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            r
        }
    }
}

fn is_initialize(incoming: &Body_) -> bool {
    matches!(incoming, Body_::Single(Message::Request(r)) if r.method == "initialize")
}

async fn post(shared: &Arc<Shared>, identity: Identity, req: Request<Incoming>) -> Response<Body> {
    let cfg = &shared.config;
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    if !(accepts(h, "application/json") && accepts(h, "text/event-stream")) {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list both application/json and text/event-stream",
        );
    }
    if let Err(r) = check_version_header(h) {
        return r;
    }
    let incoming = match crate::service::read_rpc_body(shared, h, body).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (session_id, entry, state, created) =
        if header_str(h, SESSION_HEADER).is_none() && is_initialize(&incoming) {
            match open_session(shared, identity) {
                Ok((id, entry, state)) => (id, entry, state, true),
                Err(r) => return r,
            }
        } else {
            match lookup(shared, h, &identity) {
                Ok((id, entry, state)) => (id, entry, state, false),
                Err(r) => return r,
            }
        };
    state.touch();
    let has_request = match &incoming {
        Body_::Single(m) => m.is_request(),
        Body_::Batch(items) => items
            .iter()
            .any(|i| matches!(i, Ok(m) if m.is_request()) || i.is_err()),
    };
    let (reply, mut rx) = Outbound::channel(cfg.queue);
    let close = rx.stream_close_signal();
    let fut = entry.session.receive_incoming(incoming, &reply);
    drop(reply);
    let mut resp = match fut {
        None if !has_request => {
            let mut r = Response::new(empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            r
        }
        None => Response::new(empty()),
        Some(fut) => {
            crate::service::run_or_spawn(shared, fut);
            // A handler that closes its stream before sending anything still gets an SSE
            // stream: primed, then closed, its answer kept for the client's resumption.
            let first = tokio::select! {
                biased;
                m = rx.recv() => m.map(Some),
                _ = close.requested() => Some(None),
            };
            match first {
                Some(None) => {
                    let stream = state.next_stream.fetch_add(1, Ordering::Relaxed);
                    pump(state.clone(), stream, rx);
                    sse_response(shared, &entry, state.clone(), stream, 0, Some(close), true)
                }
                None => {
                    // The request was cancelled before it answered: nothing to send.
                    let mut r = Response::new(empty());
                    *r.status_mut() = StatusCode::ACCEPTED;
                    r
                }
                Some(Some(first)) if first.kind == OutgoingKind::Response => {
                    let mut r = Response::new(full(first.json));
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    r
                }
                Some(Some(first)) => {
                    let stream = state.next_stream.fetch_add(1, Ordering::Relaxed);
                    state.push(stream, first.json, false);
                    pump(state.clone(), stream, rx);
                    sse_response(shared, &entry, state.clone(), stream, 0, Some(close), true)
                }
            }
        }
    };
    if created && let Ok(v) = HeaderValue::from_str(&session_id) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    resp
}

fn open_session(
    shared: &Arc<Shared>,
    identity: Identity,
) -> Result<(String, Entry, Arc<StreamState>), Response<Body>> {
    let cfg = &shared.config;
    let id = uuid::Uuid::new_v4().to_string();
    let (outbound, rx) = Outbound::channel(cfg.queue);
    let session = shared.server.session(
        SessionOptions::new(outbound.clone())
            .id(id.clone())
            .transport("streamable-http"),
    );
    let state = Arc::new(StreamState::new(cfg.event_store));
    let entry = Entry {
        session,
        outbound,
        identity,
        stream: Some(state.clone()),
    };
    if !shared
        .sessions
        .insert(id.clone(), entry.clone(), cfg.max_sessions)
    {
        let mut r = text(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open sessions; try again later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Err(r);
    }
    pump(state.clone(), STANDALONE, rx);
    tracing::info!(target: "mcp::http", session_id = %id, "streamable session opened");
    Ok((id, entry, state))
}

fn get(shared: &Arc<Shared>, identity: Identity, h: &HeaderMap) -> Response<Body> {
    if !accepts(h, "text/event-stream") {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list text/event-stream",
        );
    }
    if let Err(r) = check_version_header(h) {
        return r;
    }
    let (_, entry, state) = match lookup(shared, h, &identity) {
        Ok(x) => x,
        Err(r) => return r,
    };
    state.touch();
    let (stream, cursor) = match header_str(h, "last-event-id") {
        Some(last) => {
            let parsed = last
                .split_once('-')
                .and_then(|(s, n)| Some((s.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
            match parsed {
                Some((s, n)) if state.knows(s) => (s, n),
                _ => return bad_request(&format!("unknown Last-Event-ID {last:?}")),
            }
        }
        None => (
            STANDALONE,
            state.lock().seqs.get(&STANDALONE).copied().unwrap_or(0),
        ),
    };
    if stream == STANDALONE && state.standalone_open.swap(true, Ordering::AcqRel) {
        return text(
            StatusCode::CONFLICT,
            "this session already has an open standalone stream",
        );
    }
    sse_response(shared, &entry, state, stream, cursor, None, false)
}

fn delete(shared: &Arc<Shared>, identity: Identity, h: &HeaderMap) -> Response<Body> {
    match lookup(shared, h, &identity) {
        Ok((id, _, _)) => {
            shared.sessions.remove(&id);
            tracing::info!(target: "mcp::http", session_id = %id, "streamable session deleted");
            Response::new(empty())
        }
        Err(r) => r,
    }
}

struct OpenGuard {
    state: Arc<StreamState>,
    standalone: bool,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.state.open_streams.fetch_sub(1, Ordering::Relaxed);
        if self.standalone {
            self.state.standalone_open.store(false, Ordering::Release);
        }
    }
}

struct Reader {
    state: Arc<StreamState>,
    stream: u64,
    cursor: u64,
    prelude: VecDeque<Bytes>,
    stop: CancellationToken,
    /// For a POST's stream: the handler asked to close it early.
    close: Option<StreamCloseSignal>,
    session: mcp_core::Session,
    keep_alive: Duration,
    retry_ms: u64,
    done: bool,
    _guard: OpenGuard,
}

impl Reader {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(p) = self.prelude.pop_front() {
            return Some(p);
        }
        if self.done {
            return None;
        }
        loop {
            let notified = self.state.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some((seq, json, is_response)) = self.state.next_after(self.stream, self.cursor)
            {
                self.cursor = seq;
                if is_response {
                    self.done = true;
                }
                let id = format!("{}-{seq}", self.stream);
                return Some(frame(Some("message"), Some(&id), &json));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(self.keep_alive) => return Some(Bytes::from_static(KEEP_ALIVE)),
                _ = self.stop.cancelled() => { self.done = true; return None; }
                _ = self.session.closed() => { self.done = true; return None; }
                _ = async { match &self.close { Some(c) => c.requested().await, None => std::future::pending().await } } => {
                    // Closed early by the handler: tell the client when to come back.
                    self.done = true;
                    return Some(Bytes::from(format!("retry: {}\n\n", self.retry_ms)));
                }
            }
        }
    }
}

fn sse_response(
    shared: &Arc<Shared>,
    entry: &Entry,
    state: Arc<StreamState>,
    stream: u64,
    cursor: u64,
    close: Option<StreamCloseSignal>,
    priming: bool,
) -> Response<Body> {
    let cfg = &shared.config;
    state.open_streams.fetch_add(1, Ordering::Relaxed);
    let mut prelude = VecDeque::new();
    let primes = entry
        .session
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V2025_11_25);
    if primes && (priming || stream == STANDALONE) {
        let retry = cfg.retry.as_millis() as u64;
        let id = format!("{stream}-{cursor}");
        prelude.push_back(Bytes::from(format!("id: {id}\nretry: {retry}\ndata: \n\n")));
    }
    let reader = Reader {
        _guard: OpenGuard {
            state: state.clone(),
            standalone: stream == STANDALONE,
        },
        state,
        stream,
        cursor,
        prelude,
        stop: shared.streams_stop.child_token(),
        close,
        session: entry.session.clone(),
        keep_alive: cfg.keep_alive,
        retry_ms: cfg.retry.as_millis() as u64,
        done: false,
    };
    let body = futures_util::stream::unfold(reader, |mut r| async move {
        let b = r.next().await?;
        Some((Ok::<_, std::convert::Infallible>(Frame::data(b)), r))
    })
    .boxed();
    let mut resp = Response::new(BodyExt::boxed_unsync(StreamBody::new(body)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Ends Streamable HTTP sessions that stayed idle past the timeout.
pub(crate) async fn reap_idle(shared: Arc<Shared>) {
    let idle = shared.config.idle_timeout;
    let period = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shared.streams_stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        for id in shared.sessions.idle_streamable(idle) {
            tracing::info!(target: "mcp::http", session_id = %id, "idle session expired");
            shared.sessions.remove(&id);
        }
    }
}
