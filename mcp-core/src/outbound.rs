//! Where the messages for a request or a session go: the one seam between the dispatcher and a
//! transport.
//!
//! A transport creates an [`Outbound`] with [`Outbound::channel`] and drains the matching
//! [`OutboundReceiver`] onto its wire (an SSE stream, a POST response, stdout, an in-memory
//! client). Every message is serialized once, into [`Bytes`], before it enters the channel.
//!
//! The channel is bounded. [`Outbound::send`] waits while it is full; when the transport set a
//! stall timeout and the receiver has not made room within it, the outbound is marked
//! [stalled](Outbound::is_stalled), the send fails, and the hook given to
//! [`Outbound::on_stall`] runs: a transport uses it to end the session, so a client that stops
//! reading cannot grow server memory.
//!
//! The queue is bounded in messages and, optionally ([`Outbound::bounded`]), in bytes;
//! a message larger than the byte bound still enters an empty queue, so nothing is refused for
//! its size alone.
//!
//! A transport that accepts work on behalf of the channel's reader (an HTTP+SSE `POST`
//! answered `202`, whose answer will travel on the stream) can bound what the channel holds in
//! total, queued plus accepted and not yet answered: [`Outbound::bounded`] sets the
//! bound, [`Outbound::admit`] takes a place in it (or refuses), and the [`Admission`] gives the
//! place back when dropped.
//!
//! The channel is one small allocation holding a queue that allocates only once a message is
//! sent, so an idle session costs a few hundred bytes here. Cloning an [`Outbound`] is one
//! reference-count increment.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;

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
    /// For an error response made by [`Outgoing::error`]: its JSON-RPC error code, so a
    /// transport can pick an HTTP status without reading the JSON again.
    pub error_code: Option<i32>,
}

impl Outgoing {
    /// A final response to `id`.
    pub fn response(id: RequestId, json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Response,
            id: Some(id),
            json,
            error_code: None,
        }
    }

    /// A final error response to `id`, with its JSON-RPC error `code`.
    pub fn error(id: RequestId, json: Bytes, code: i32) -> Self {
        Outgoing {
            kind: OutgoingKind::Response,
            id: Some(id),
            json,
            error_code: Some(code),
        }
    }

    /// An error response that could not be tied to an id (parse errors).
    pub fn orphan_error(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Response,
            id: None,
            json,
            error_code: None,
        }
    }

    /// A notification.
    pub fn notification(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Notification,
            id: None,
            json,
            error_code: None,
        }
    }

    /// A server-to-client request.
    pub fn request(json: Bytes) -> Self {
        Outgoing {
            kind: OutgoingKind::Request,
            id: None,
            json,
            error_code: None,
        }
    }
}

/// The outbound channel is closed: the transport's reader (stream, connection) is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client's message stream is closed")]
pub struct Closed;

/// Something a transport runs when a send gave up on a client that stopped reading.
type StallHook = Box<dyn FnOnce() + Send + Sync>;

struct State {
    queue: VecDeque<Outgoing>,
    /// The JSON bytes of the queued messages.
    queued_bytes: usize,
    /// Accepted work not yet answered ([`Outbound::admit`]): places and bytes.
    admitted: usize,
    admitted_bytes: usize,
    /// The receiver's waker, while it waits for a message.
    rx_waker: Option<Waker>,
    /// Senders waiting for room.
    waiting: usize,
    /// The receiver was dropped or closed.
    rx_gone: bool,
    /// [`Outbound::close`] was called: queued messages drain, new ones are refused.
    closed: bool,
    stalled: bool,
    /// No reader wants the messages yet: sends succeed and drop them.
    discarding: bool,
    stream_close_requested: bool,
    stall_timeout: Option<Duration>,
    on_stall: Option<StallHook>,
}

struct Chan {
    state: Mutex<State>,
    capacity: usize,
    /// The most JSON bytes queued at once (a message enters an empty queue whatever its size).
    byte_capacity: usize,
    /// The bound of [`Outbound::admit`]: queued plus admitted, in messages and bytes.
    pending_limit: (usize, usize),
    /// Live [`Outbound`] handles; the receiver sees the end once it reaches zero.
    senders: AtomicUsize,
    /// Wakes senders waiting for room.
    room: Notify,
    /// Wakes whoever waits for the receiver to go, a stall, or a stream-close request.
    events: Notify,
}

impl Chan {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `msg` if there is room. `Err(msg)` when full (counted as a waiting sender when
    /// `wait`, in the same critical section, so the receiver's next pop wakes it); `Ok(Err(Closed))`
    /// when closed.
    fn try_push(&self, msg: Outgoing, wait: bool) -> Result<Result<(), Closed>, Outgoing> {
        let waker = {
            let mut s = self.lock();
            if s.rx_gone || s.closed || s.stalled {
                return Ok(Err(Closed));
            }
            if s.discarding {
                return Ok(Ok(()));
            }
            let len = msg.json.len();
            let full = s.queue.len() >= self.capacity
                || (!s.queue.is_empty() && s.queued_bytes + len > self.byte_capacity);
            if full {
                s.waiting += usize::from(wait);
                return Err(msg);
            }
            s.queued_bytes += len;
            s.queue.push_back(msg);
            s.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(Ok(()))
    }

    /// Marks the channel stalled and runs the transport's hook.
    fn stall(&self) {
        let hook = {
            let mut s = self.lock();
            s.stalled = true;
            // Nothing queued can be delivered any more: give its memory back now.
            s.queue = VecDeque::new();
            s.queued_bytes = 0;
            s.on_stall.take()
        };
        tracing::warn!(
            target: "mcp::rpc",
            "client stopped reading its stream; closing it"
        );
        self.events.notify_waiters();
        self.room.notify_waiters();
        if let Some(f) = hook {
            f();
        }
    }

    /// Takes the next queued message, and whether a sender waits for room.
    fn pop(s: &mut State) -> Option<(Outgoing, bool)> {
        let msg = s.queue.pop_front()?;
        s.queued_bytes -= msg.json.len();
        if s.queue.is_empty() {
            // A burst may have grown the queue: do not keep its room while idle.
            if s.queue.capacity() > 8 {
                s.queue = VecDeque::new();
            }
        }
        Some((msg, s.waiting > 0))
    }

    /// Waits until `done` holds for the state.
    async fn wait_for(&self, done: impl Fn(&State) -> bool) {
        loop {
            let mut notified = pin!(self.events.notified());
            notified.as_mut().enable();
            if done(&self.lock()) {
                return;
            }
            notified.await;
        }
    }
}

/// A cloneable handle that delivers [`Outgoing`] messages to one destination.
pub struct Outbound {
    chan: Arc<Chan>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("capacity", &self.chan.capacity)
            .finish_non_exhaustive()
    }
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Outbound {
            chan: self.chan.clone(),
        }
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: the receiver sees the end once the queue is drained.
            let waker = self.chan.lock().rx_waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// The receiving end a transport drains.
pub struct OutboundReceiver {
    chan: Arc<Chan>,
}

impl std::fmt::Debug for OutboundReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundReceiver").finish_non_exhaustive()
    }
}

impl Outbound {
    /// A bounded channel holding at most `capacity` messages (at least 1).
    pub fn channel(capacity: usize) -> (Outbound, OutboundReceiver) {
        Self::make(capacity, usize::MAX, (usize::MAX, usize::MAX))
    }

    fn make(
        capacity: usize,
        byte_capacity: usize,
        pending_limit: (usize, usize),
    ) -> (Outbound, OutboundReceiver) {
        let chan = Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                admitted: 0,
                admitted_bytes: 0,
                rx_waker: None,
                waiting: 0,
                rx_gone: false,
                closed: false,
                stalled: false,
                discarding: false,
                stream_close_requested: false,
                stall_timeout: None,
                on_stall: None,
            }),
            capacity: capacity.max(1),
            byte_capacity,
            pending_limit,
            senders: AtomicUsize::new(1),
            room: Notify::new(),
            events: Notify::new(),
        });
        (Outbound { chan: chan.clone() }, OutboundReceiver { chan })
    }

    /// A channel like [`Outbound::channel`] that also holds at most `bytes` of queued JSON
    /// (a message enters an empty queue whatever its size) and admits work up to
    /// `pending_messages` / `pending_bytes` in total, queued plus admitted (see
    /// [`Outbound::admit`]).
    pub fn bounded(
        capacity: usize,
        bytes: usize,
        pending_messages: usize,
        pending_bytes: usize,
    ) -> (Outbound, OutboundReceiver) {
        Self::make(
            capacity,
            bytes.max(1),
            (pending_messages.max(1), pending_bytes.max(1)),
        )
    }

    /// Fails sends that wait longer than `timeout` for room, and marks the outbound stalled.
    pub fn with_stall_timeout(self, timeout: Duration) -> Self {
        self.chan.lock().stall_timeout = Some(timeout);
        self
    }

    /// Runs `hook` once, when a send gives up because the client stopped reading (see
    /// [`Outbound::with_stall_timeout`]). A transport ends the session there: nothing else
    /// notices, since the stalled stream's body is no longer polled.
    pub fn on_stall(&self, hook: impl FnOnce() + Send + Sync + 'static) {
        self.chan.lock().on_stall = Some(Box::new(hook));
    }

    /// Takes a place for work accepted on behalf of the reader (a request whose answer will
    /// travel on this channel), holding `bytes` until the [`Admission`] is dropped. `None`
    /// when the channel already holds its pending bound in messages or bytes (queued plus
    /// admitted; an empty channel admits anything), or is closed: the transport refuses the
    /// work instead of holding it.
    pub fn admit(&self, bytes: usize) -> Option<Admission> {
        let (max_messages, max_bytes) = self.chan.pending_limit;
        let mut s = self.chan.lock();
        if s.rx_gone || s.closed || s.stalled {
            return None;
        }
        let messages = s.queue.len() + s.admitted;
        let held = s.queued_bytes + s.admitted_bytes;
        if messages > 0 && (messages + 1 > max_messages || held + bytes > max_bytes) {
            return None;
        }
        s.admitted += 1;
        s.admitted_bytes += bytes;
        Some(Admission {
            chan: self.chan.clone(),
            bytes,
        })
    }

    /// What the channel holds now: queued plus admitted messages, and their bytes.
    pub fn pending(&self) -> (usize, usize) {
        let s = self.chan.lock();
        (
            s.queue.len() + s.admitted,
            s.queued_bytes + s.admitted_bytes,
        )
    }

    /// Sends one message, waiting for room in the channel.
    pub async fn send(&self, msg: Outgoing) -> Result<(), Closed> {
        let msg = match self.chan.try_push(msg, false) {
            Ok(r) => return r,
            Err(msg) => msg,
        };
        let timeout = self.chan.lock().stall_timeout;
        let wait = self.send_slow(msg);
        match timeout {
            None => wait.await,
            Some(t) => match tokio::time::timeout(t, wait).await {
                Ok(r) => r,
                Err(_) => {
                    self.chan.stall();
                    Err(Closed)
                }
            },
        }
    }

    async fn send_slow(&self, mut msg: Outgoing) -> Result<(), Closed> {
        struct Waiting<'a>(&'a Chan);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.lock().waiting -= 1;
            }
        }
        loop {
            let mut notified = pin!(self.chan.room.notified());
            notified.as_mut().enable();
            msg = match self.chan.try_push(msg, true) {
                Ok(r) => return r,
                Err(msg) => msg,
            };
            let _waiting = Waiting(&self.chan);
            notified.await;
        }
    }

    /// Sends without waiting; fails when the channel is full or closed.
    pub fn try_send(&self, msg: Outgoing) -> Result<(), Closed> {
        self.chan.try_push(msg, false).unwrap_or(Err(Closed))
    }

    /// True once the receiver is gone, the channel was closed, or it stalled.
    pub fn is_closed(&self) -> bool {
        let s = self.chan.lock();
        s.rx_gone || s.closed || s.stalled
    }

    /// Resolves once [`Outbound::is_closed`] holds.
    pub async fn closed(&self) {
        self.chan
            .wait_for(|s| s.rx_gone || s.closed || s.stalled)
            .await;
    }

    /// Closes the channel from the sending side: messages already queued are still received,
    /// then the receiver sees the end; later sends fail. Transports use it to end a stream
    /// (server shutdown).
    pub fn close(&self) {
        let waker = {
            let mut s = self.chan.lock();
            s.closed = true;
            s.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        self.chan.events.notify_waiters();
        self.chan.room.notify_waiters();
    }

    /// True once a send gave up because the client stopped reading.
    pub fn is_stalled(&self) -> bool {
        self.chan.lock().stalled
    }

    /// Resolves once a send gave up because the client stopped reading.
    pub async fn stalled(&self) {
        self.chan.wait_for(|s| s.stalled).await;
    }

    /// Asks the transport to close the HTTP stream carrying these messages without ending the
    /// exchange: later messages are kept for the client to resume (Streamable HTTP polling).
    /// Transports without resumable streams ignore it.
    pub fn request_stream_close(&self) {
        self.chan.lock().stream_close_requested = true;
        self.chan.events.notify_waiters();
    }

    /// True when both handles deliver to the same channel.
    pub fn same_channel(&self, other: &Outbound) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl OutboundReceiver {
    /// The next message, or `None` once every [`Outbound`] clone is dropped or the channel
    /// was closed, and the queue is drained.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next message if one is ready now.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        let msg = Chan::pop(&mut self.chan.lock())?;
        if msg.1 {
            self.chan.room.notify_one();
        }
        Some(msg.0)
    }

    /// Polls for the next message (for hand-written streams).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        let (msg, wake_sender) = {
            let mut s = self.chan.lock();
            match Chan::pop(&mut s) {
                Some(m) => m,
                None => {
                    if s.closed || s.stalled || self.chan.senders.load(Ordering::Acquire) == 0 {
                        return Poll::Ready(None);
                    }
                    match &s.rx_waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => s.rx_waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        if wake_sender {
            self.chan.room.notify_one();
        }
        Poll::Ready(Some(msg))
    }

    /// Observes [`Outbound::request_stream_close`] on this channel, without keeping it open.
    pub fn stream_close_signal(&self) -> StreamCloseSignal {
        StreamCloseSignal {
            chan: self.chan.clone(),
        }
    }

    /// While `on`, sends succeed and their messages are dropped (what is queued is dropped
    /// too): for a destination that may exist but has no reader yet, such as a Streamable HTTP
    /// session's standalone stream before the client opened it.
    pub fn set_discarding(&mut self, on: bool) {
        let mut s = self.chan.lock();
        s.discarding = on;
        if on {
            s.queue = VecDeque::new();
            s.queued_bytes = 0;
        }
        drop(s);
        if on {
            self.chan.room.notify_waiters();
        }
    }

    /// True once a send gave up on this channel because its reader stopped reading.
    pub fn is_stalled(&self) -> bool {
        self.chan.lock().stalled
    }

    /// Stops accepting messages; queued ones can still be received.
    pub fn close(&mut self) {
        self.chan.lock().closed = true;
        self.chan.events.notify_waiters();
        self.chan.room.notify_waiters();
    }
}

/// A place taken with [`Outbound::admit`]; dropping it gives the place back.
pub struct Admission {
    chan: Arc<Chan>,
    bytes: usize,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut s = self.chan.lock();
        s.admitted -= 1;
        s.admitted_bytes -= self.bytes;
    }
}

/// Tells a transport that the handler asked to close the stream carrying its messages
/// ([`Outbound::request_stream_close`]). It does not count as a sender.
#[derive(Clone)]
pub struct StreamCloseSignal {
    chan: Arc<Chan>,
}

impl std::fmt::Debug for StreamCloseSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamCloseSignal")
            .field("requested", &self.is_requested())
            .finish()
    }
}

impl StreamCloseSignal {
    /// True once the close was requested.
    pub fn is_requested(&self) -> bool {
        self.chan.lock().stream_close_requested
    }

    /// Resolves once the close was requested.
    pub async fn requested(&self) {
        self.chan.wait_for(|s| s.stream_close_requested).await;
    }
}

impl Drop for OutboundReceiver {
    fn drop(&mut self) {
        {
            let mut s = self.chan.lock();
            s.rx_gone = true;
            // Queued messages can never be delivered now; free them.
            s.queue = VecDeque::new();
            s.queued_bytes = 0;
            s.on_stall = None;
        }
        self.chan.events.notify_waiters();
        self.chan.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(s: &'static str) -> Outgoing {
        Outgoing::notification(Bytes::from_static(s.as_bytes()))
    }

    #[tokio::test]
    async fn delivers_in_order_and_reports_close() {
        let (out, mut rx) = Outbound::channel(4);
        out.send(note("1")).await.unwrap();
        out.send(Outgoing::response(1.into(), Bytes::from_static(b"2")))
            .await
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().json, "1");
        assert_eq!(rx.recv().await.unwrap().kind, OutgoingKind::Response);
        drop(rx);
        assert!(out.is_closed());
        out.closed().await;
        assert_eq!(out.send(note("3")).await, Err(Closed));
    }

    #[tokio::test]
    async fn the_receiver_ends_when_the_last_sender_goes() {
        let (out, mut rx) = Outbound::channel(4);
        let other = out.clone();
        out.send(note("1")).await.unwrap();
        drop(out);
        let waiter = tokio::spawn(async move { (rx.recv().await, rx.recv().await) });
        tokio::task::yield_now().await;
        drop(other);
        let (first, second) = waiter.await.unwrap();
        assert_eq!(first.unwrap().json, "1");
        assert_eq!(second, None);
    }

    #[tokio::test]
    async fn close_drains_then_ends() {
        let (out, mut rx) = Outbound::channel(4);
        out.send(note("1")).await.unwrap();
        out.close();
        assert_eq!(out.send(note("2")).await, Err(Closed));
        assert_eq!(rx.recv().await.unwrap().json, "1");
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_full_channel_waits_for_room() {
        let (out, mut rx) = Outbound::channel(1);
        out.send(note("1")).await.unwrap();
        assert_eq!(out.try_send(note("x")), Err(Closed));
        let senders: Vec<_> = ["2", "3", "4"]
            .into_iter()
            .map(|n| {
                let out = out.clone();
                tokio::spawn(async move { out.send(note(n)).await })
            })
            .collect();
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(rx.recv().await.unwrap().json);
        }
        for s in senders {
            s.await.unwrap().unwrap();
        }
        got.sort();
        assert_eq!(got, ["1", "2", "3", "4"]);
    }

    #[tokio::test]
    async fn a_cancelled_waiting_send_does_not_lose_the_wakeup() {
        let (out, mut rx) = Outbound::channel(1);
        out.send(note("1")).await.unwrap();
        let cancelled = {
            let out = out.clone();
            tokio::spawn(async move { out.send(note("lost")).await })
        };
        let kept = {
            let out = out.clone();
            tokio::spawn(async move { out.send(note("2")).await })
        };
        tokio::task::yield_now().await;
        cancelled.abort();
        assert_eq!(rx.recv().await.unwrap().json, "1");
        kept.await.unwrap().unwrap();
        assert_eq!(rx.recv().await.unwrap().json, "2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_senders_on_a_small_queue_lose_nothing_and_keep_order() {
        const SENDERS: usize = 8;
        const EACH: usize = 2_000;
        let (out, mut rx) = Outbound::channel(3);
        let tasks: Vec<_> = (0..SENDERS)
            .map(|s| {
                let out = out.clone();
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let json = Bytes::from(format!("{s} {i}"));
                        out.send(Outgoing::notification(json)).await.unwrap();
                    }
                })
            })
            .collect();
        drop(out);
        let mut next = [0usize; SENDERS];
        let mut total = 0;
        while let Some(m) = rx.recv().await {
            let text = std::str::from_utf8(&m.json).unwrap();
            let (s, i) = text.split_once(' ').unwrap();
            let (s, i): (usize, usize) = (s.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[s], "sender {s} out of order");
            next[s] += 1;
            total += 1;
            if total % 97 == 0 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(total, SENDERS * EACH);
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_channel_stalls_after_the_timeout_and_runs_the_hook() {
        let (out, _rx) = Outbound::channel(1);
        let out = out.with_stall_timeout(Duration::from_secs(5));
        let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = fired.clone();
        out.on_stall(move || f.store(true, Ordering::SeqCst));
        out.send(note("1")).await.unwrap();
        let r = out.send(note("2")).await;
        assert_eq!(r, Err(Closed));
        assert!(out.is_stalled());
        assert!(out.is_closed());
        assert!(fired.load(Ordering::SeqCst));
        out.stalled().await;
    }

    #[tokio::test]
    async fn admission_counts_queued_and_admitted_in_messages_and_bytes() {
        let (out, mut rx) = Outbound::bounded(8, 10, 3, 10);
        let a = out.admit(4).unwrap();
        let b = out.admit(4).unwrap();
        assert!(out.admit(4).is_none(), "bytes: 8 + 4 > 10");
        let c = out.admit(2).unwrap();
        assert!(out.admit(0).is_none(), "messages: 3 of 3");
        drop((a, b, c));
        assert_eq!(out.pending(), (0, 0));
        // Queued messages count too; an empty channel admits anything.
        out.send(note("123456")).await.unwrap();
        assert!(out.admit(5).is_none());
        assert!(
            out.try_send(note("12345")).is_err(),
            "queue bytes: 6 + 5 > 10"
        );
        rx.recv().await.unwrap();
        let big = out.admit(100).unwrap();
        assert_eq!(out.pending(), (1, 100));
        drop(big);
        out.send(Outgoing::notification(Bytes::from(vec![b'x'; 100])))
            .await
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().json.len(), 100);
    }

    #[tokio::test]
    async fn stream_close_requests_are_observable() {
        let (out, rx) = Outbound::channel(1);
        let signal = rx.stream_close_signal();
        let waiter = {
            let signal = signal.clone();
            tokio::spawn(async move { signal.requested().await })
        };
        tokio::task::yield_now().await;
        assert!(!signal.is_requested());
        out.request_stream_close();
        waiter.await.unwrap();
        assert!(signal.is_requested());
    }
}
