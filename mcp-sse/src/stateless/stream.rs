//! The SSE response body of one stateless request: the messages its work produces (progress,
//! logs, then the response), or, for `subscriptions/listen`, the notifications of the
//! subscription until its closing result.
//!
//! Keep-alive comments flow while idle. The body ends with the response. Dropping it (the
//! client closed the stream) drops the receiver of the request's messages, which cancels the
//! request.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use mcp_core::{OutboundReceiver, OutgoingKind};
use tokio::time::{Interval, MissedTickBehavior};

use crate::sse::{KEEP_ALIVE, frame};

/// The streaming body; see the module documentation.
pub(crate) struct RequestStream {
    first: Option<Bytes>,
    rx: OutboundReceiver,
    keep_alive: Interval,
    done: bool,
}

impl RequestStream {
    /// A stream starting with the already framed `first` event.
    pub(crate) fn new(first: Bytes, rx: OutboundReceiver, keep_alive: Duration) -> Self {
        let mut interval =
            tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        RequestStream {
            first: Some(first),
            rx,
            keep_alive: interval,
            done: false,
        }
    }
}

impl Body for RequestStream {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(msg)) => {
                this.keep_alive.reset();
                if msg.kind == OutgoingKind::Response {
                    this.done = true;
                }
                return Poll::Ready(Some(Ok(Frame::data(frame(
                    Some("message"),
                    None,
                    &msg.json,
                )))));
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE)))));
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
