//! The SSE body of one Streamable HTTP stream: reads the stream's own queue, records what it
//! writes for resumption, and hands the queue back if its connection breaks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use mcp_core::{OutboundReceiver, Outgoing, OutgoingKind, ProtocolVersion, StreamCloseSignal};
use tokio_util::sync::CancellationToken;

use super::state::{STANDALONE, StreamState};
use crate::response::{Body, event_stream};
use crate::sessions::Entry;
use crate::shared::Shared;
use crate::sse::{KEEP_ALIVE, frame};

/// Where a stream starts: a fresh POST stream (possibly with its first message already
/// taken), or an attached queue with the written events to replay first.
pub(crate) struct Start {
    pub(crate) rx: OutboundReceiver,
    pub(crate) first: Option<Outgoing>,
    pub(crate) replay: Vec<(u64, Bytes)>,
    pub(crate) cursor: u64,
    pub(crate) close: Option<StreamCloseSignal>,
    pub(crate) priming: bool,
}

struct Reader {
    state: Arc<StreamState>,
    stream: u64,
    /// `None` once the stream ended cleanly (nothing to resume).
    rx: Option<OutboundReceiver>,
    first: Option<Outgoing>,
    prelude: VecDeque<Bytes>,
    stop: CancellationToken,
    /// For a POST's stream: the handler asked to close it early.
    close: Option<StreamCloseSignal>,
    session: mcp_core::Session,
    keep_alive: Duration,
    retry_ms: u64,
    done: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.state.open_streams.fetch_sub(1, Ordering::Relaxed);
        self.state.detach(self.stream, self.rx.take());
        if self.stream == STANDALONE {
            self.state.standalone_open.store(false, Ordering::Release);
        }
    }
}

impl Reader {
    fn event(&mut self, msg: Outgoing) -> Bytes {
        let seq = self.state.record(self.stream, &msg.json);
        if msg.kind == OutgoingKind::Response {
            self.end();
        }
        let id = format!("{}-{seq}", self.stream);
        frame(Some("message"), Some(&id), &msg.json)
    }

    /// Ends the stream cleanly: its log is dropped with the reader.
    fn end(&mut self) {
        self.done = true;
        self.rx = None;
    }

    async fn next(&mut self) -> Option<Bytes> {
        if let Some(p) = self.prelude.pop_front() {
            return Some(p);
        }
        if let Some(first) = self.first.take() {
            return Some(self.event(first));
        }
        if self.done {
            return None;
        }
        let rx = self.rx.as_mut()?;
        let msg = tokio::select! {
            biased;
            m = rx.recv() => m,
            _ = self.stop.cancelled() => { self.done = true; return None; }
            _ = self.session.closed() => { self.end(); return None; }
            _ = async { match &self.close { Some(c) => c.requested().await, None => std::future::pending().await } } => {
                // Closed early by the handler: tell the client when to come back; the
                // queue stays for its resumption.
                self.done = true;
                return Some(Bytes::from(format!("retry: {}\n\n", self.retry_ms)));
            }
            _ = tokio::time::sleep(self.keep_alive) => return Some(Bytes::from_static(KEEP_ALIVE)),
        };
        match msg {
            Some(m) => Some(self.event(m)),
            None => {
                // Every sender is gone without a response (the request was cancelled) or
                // the session ended: nothing more can come.
                self.end();
                None
            }
        }
    }
}

pub(crate) fn sse_response(
    shared: &Arc<Shared>,
    entry: &Entry,
    state: Arc<StreamState>,
    stream: u64,
    start: Start,
) -> Response<Body> {
    let cfg = &shared.config;
    state.open_streams.fetch_add(1, Ordering::Relaxed);
    let mut prelude = VecDeque::new();
    let primes = entry
        .session
        .protocol_version()
        .is_some_and(ProtocolVersion::has_sse_priming);
    if primes && (start.priming || stream == STANDALONE) {
        let retry = cfg.retry.as_millis() as u64;
        let id = format!("{stream}-{}", start.cursor);
        prelude.push_back(Bytes::from(format!("id: {id}\nretry: {retry}\ndata: \n\n")));
    }
    for (seq, json) in start.replay {
        prelude.push_back(frame(
            Some("message"),
            Some(&format!("{stream}-{seq}")),
            &json,
        ));
    }
    let reader = Reader {
        state,
        stream,
        rx: Some(start.rx),
        first: start.first,
        prelude,
        stop: shared.streams_stop.child_token(),
        close: start.close,
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
    event_stream(BodyExt::boxed_unsync(StreamBody::new(body)))
}
