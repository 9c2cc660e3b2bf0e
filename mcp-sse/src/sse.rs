//! Server-sent event framing and the streaming body of one SSE session.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use mcp_core::OutboundReceiver;
use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at};

/// Keep-alive comment frame (ignored by every SSE parser).
pub const KEEP_ALIVE_FRAME: &[u8] = b": keep-alive\n\n";

/// One event frame: `event: <name>\ndata: <data>\n\n`. Each line of `data` becomes its own
/// `data:` line, so multi-line payloads survive the framing.
pub fn event_frame(event: &str, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(event.len() + data.len() + 16);
    out.put_slice(b"event: ");
    out.put_slice(event.as_bytes());
    out.put_slice(b"\n");
    for line in data.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.put_slice(b"data: ");
        out.put_slice(line);
        out.put_slice(b"\n");
    }
    out.put_slice(b"\n");
    out.freeze()
}

/// Runs when the stream body is dropped (client gone, stream ended, connection closed).
pub(crate) trait OnDrop: Send {
    fn dropped(&mut self);
}

/// The body of `GET /sse`: the endpoint event, then one `message` event per outgoing message
/// and keep-alive comments; ends when `end` resolves (session closed, stalled, shutdown).
pub(crate) struct SseBody {
    first: Option<Bytes>,
    rx: OutboundReceiver,
    keep_alive: Interval,
    end: Pin<Box<dyn Future<Output = ()> + Send>>,
    done: bool,
    guard: Box<dyn OnDrop>,
}

impl SseBody {
    pub(crate) fn new(
        first: Bytes,
        rx: OutboundReceiver,
        keep_alive: Duration,
        end: Pin<Box<dyn Future<Output = ()> + Send>>,
        guard: Box<dyn OnDrop>,
    ) -> Self {
        let mut ka = interval_at(Instant::now() + keep_alive, keep_alive);
        ka.set_missed_tick_behavior(MissedTickBehavior::Delay);
        SseBody {
            first: Some(first),
            rx,
            keep_alive: ka,
            end,
            done: false,
            guard,
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        self.guard.dropped();
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if this.end.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.rx.close();
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(msg)) => {
                this.keep_alive.reset();
                return Poll::Ready(Some(Ok(Frame::data(event_frame("message", &msg.json)))));
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE_FRAME)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_exact() {
        assert_eq!(
            &event_frame("endpoint", b"/messages?sessionId=x")[..],
            b"event: endpoint\ndata: /messages?sessionId=x\n\n"
        );
        assert_eq!(
            &event_frame("message", b"a\r\nb")[..],
            b"event: message\ndata: a\ndata: b\n\n"
        );
    }
}
