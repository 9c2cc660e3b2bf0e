//! Where the messages for a request or a session go: the one seam between the dispatcher and a
//! transport.
//!
//! A transport creates an [`Outbound`] with [`Outbound::channel`] and drains the matching
//! [`OutboundReceiver`] onto its wire (an SSE stream, a POST response, stdout, an in-memory
//! client). Every message is serialized once, into [`Bytes`], before it enters the channel.
//!
//! The channel is bounded. [`Outbound::send`] waits while it is full; when the transport set a
//! stall timeout and the receiver has not made room within it, the outbound is marked
//! [stalled](Outbound::stalled) and the send fails. A transport watches for that and ends the
//! session, so a client that stops reading cannot grow server memory.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::RequestId;

/// What kind of JSON-RPC message an [`Outgoing`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutgoingKind {
    /// The final response (result or error) to a client request.
    Response,
    /// A notification (progress, log message, list changed, ...).
    Notification,
    /// A server-to-client request (sampling, elicitation, roots).
    Request,
}

/// One serialized outgoing JSON-RPC message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The message kind, so transports can tell when a request's exchange is complete.
    pub kind: OutgoingKind,
    /// For responses: the id of the client request answered.
    pub id: Option<RequestId>,
    /// The JSON text of the message, without a trailing newline.
    pub json: Bytes,
}

impl Outgoing {
    /// A final response to `id`.
    pub fn response(id: RequestId, json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Response,
            id: Some(id),
            json,
        }
    }

    /// An error response that could not be tied to an id (parse errors).
    pub fn orphan_error(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Response,
            id: None,
            json,
        }
    }

    /// A notification.
    pub fn notification(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Notification,
            id: None,
            json,
        }
    }

    /// A server-to-client request.
    pub fn request(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Request,
            id: None,
            json,
        }
    }
}

/// The outbound channel is closed: the transport's reader (stream, connection) is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client's message stream is closed")]
pub struct Closed;

/// A cloneable handle that delivers [`Outgoing`] messages to one destination.
#[derive(Debug, Clone)]
pub struct Outbound {
    tx: mpsc::Sender<Outgoing>,
    stall_timeout: Option<Duration>,
    stalled: CancellationToken,
    close_stream: CancellationToken,
}

/// The receiving end a transport drains.
#[derive(Debug)]
pub struct OutboundReceiver {
    rx: mpsc::Receiver<Outgoing>,
}

impl Outbound {
    /// A bounded channel holding at most `capacity` messages (at least 1).
    pub fn channel(capacity: usize) -> (Outbound, OutboundReceiver) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Outbound {
                tx,
                stall_timeout: None,
                stalled: CancellationToken::new(),
                close_stream: CancellationToken::new(),
            },
            OutboundReceiver { rx },
        )
    }

    /// Fails sends that wait longer than `timeout` for room, and marks the outbound stalled.
    pub fn with_stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = Some(timeout);
        self
    }

    /// Sends one message, waiting for room in the channel.
    pub async fn send(&self, msg: Outgoing) -> Result<(), Closed> {
        if self.stalled.is_cancelled() {
            return Err(Closed);
        }
        match self.stall_timeout {
            None => self.tx.send(msg).await.map_err(|_| Closed),
            Some(t) => match tokio::time::timeout(t, self.tx.send(msg)).await {
                Ok(r) => r.map_err(|_| Closed),
                Err(_) => {
                    tracing::warn!(
                        target: "mcp::rpc",
                        timeout_ms = t.as_millis() as u64,
                        "client stopped reading its stream; closing it"
                    );
                    self.stalled.cancel();
                    Err(Closed)
                }
            },
        }
    }

    /// Sends without waiting; fails when the channel is full or closed.
    pub fn try_send(&self, msg: Outgoing) -> Result<(), Closed> {
        self.tx.try_send(msg).map_err(|_| Closed)
    }

    /// True once the receiver was dropped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed() || self.stalled.is_cancelled()
    }

    /// Resolves when the receiver is dropped.
    pub async fn closed(&self) {
        tokio::select! {
            _ = self.tx.closed() => {}
            _ = self.stalled.cancelled() => {}
        }
    }

    /// A token cancelled when a send gave up because the client stopped reading.
    pub fn stalled(&self) -> &CancellationToken {
        &self.stalled
    }

    /// Asks the transport to close the HTTP stream carrying these messages without ending the
    /// exchange: later messages are kept for the client to resume (Streamable HTTP polling).
    /// Transports without resumable streams ignore it.
    pub fn request_stream_close(&self) {
        self.close_stream.cancel();
    }

    /// A token cancelled by [`Outbound::request_stream_close`].
    pub fn stream_close_requested(&self) -> &CancellationToken {
        &self.close_stream
    }

    /// True when both handles deliver to the same channel.
    pub fn same_channel(&self, other: &Outbound) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

impl OutboundReceiver {
    /// The next message, or `None` once every [`Outbound`] clone is dropped.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        self.rx.recv().await
    }

    /// The next message if one is ready now.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        self.rx.try_recv().ok()
    }

    /// Polls for the next message (for hand-written streams).
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Outgoing>> {
        self.rx.poll_recv(cx)
    }

    /// Stops accepting messages; queued ones can still be received.
    pub fn close(&mut self) {
        self.rx.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_and_reports_close() {
        let (out, mut rx) = Outbound::channel(4);
        out.send(Outgoing::notification(Bytes::from_static(b"1")))
            .await
            .unwrap();
        out.send(Outgoing::response(1.into(), Bytes::from_static(b"2")))
            .await
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().json, "1");
        assert_eq!(rx.recv().await.unwrap().kind, OutgoingKind::Response);
        drop(rx);
        assert!(out.is_closed());
        assert_eq!(
            out.send(Outgoing::notification(Bytes::new())).await,
            Err(Closed)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_channel_stalls_after_the_timeout() {
        let (out, _rx) = Outbound::channel(1);
        let out = out.with_stall_timeout(Duration::from_secs(5));
        out.send(Outgoing::notification(Bytes::new()))
            .await
            .unwrap();
        let r = out.send(Outgoing::notification(Bytes::new())).await;
        assert_eq!(r, Err(Closed));
        assert!(out.stalled().is_cancelled());
        assert!(out.is_closed());
    }
}
