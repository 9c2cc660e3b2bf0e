//! The SSE body of one Streamable HTTP stream: reads its events from the session's store.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use mcp_core::{ProtocolVersion, StreamCloseSignal};
use tokio_util::sync::CancellationToken;

use super::state::{STANDALONE, StreamState};
use crate::response::{Body, event_stream};
use crate::sessions::Entry;
use crate::shared::Shared;
use crate::sse::{KEEP_ALIVE, frame};

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

pub(crate) fn sse_response(
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
        .is_some_and(ProtocolVersion::has_sse_priming);
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
    event_stream(BodyExt::boxed_unsync(StreamBody::new(body)))
}
