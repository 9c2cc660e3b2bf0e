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
//! The task that writes the channel's messages to the wire can also run the work producing
//! them: once it [attached](ReaderJobs::attach) a [`JobRunner`], [`Outbound::run_on_reader`]
//! hands it that work instead of the transport spawning a task for it. The reader runs each job
//! in its own poll loop and writes the answer in the same turn, so a request costs no task and
//! no wake-up between the task computing its answer and the one writing it.
//!
//! The channel is one small allocation holding a queue that allocates only once a message is
//! sent, so an idle session costs a few hundred bytes here. Cloning an [`Outbound`] is one
//! reference-count increment.

use std::collections::VecDeque;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
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

/// Work whose messages travel on a channel (a request producing its answer), for the
/// channel's reader to run ([`Outbound::run_on_reader`]).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

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
    /// A reader runs jobs ([`ReaderJobs::attach`]): the jobs handed to it and not yet taken.
    runs_jobs: bool,
    jobs: VecDeque<Job>,
    /// The job runner's waker, while it waits for a job.
    job_waker: Option<Waker>,
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
                runs_jobs: false,
                jobs: VecDeque::new(),
                job_waker: None,
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

    /// Hands `job` to the task that reads this channel, when one runs jobs (it attached a
    /// [`JobRunner`]); otherwise gives it back, for the caller to spawn. A job handed over
    /// runs to its end even if the reader goes first: the runner hands what it holds to a
    /// task of its own when dropped.
    pub fn run_on_reader(&self, job: Job) -> Result<(), Job> {
        let waker = {
            let mut s = self.chan.lock();
            if !s.runs_jobs {
                return Err(job);
            }
            s.jobs.push_back(job);
            s.job_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
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

    /// The way for the task that writes this channel's messages to run the work producing
    /// them too ([`ReaderJobs::attach`]). It does not count as a sender.
    pub fn reader_jobs(&self) -> ReaderJobs {
        ReaderJobs {
            chan: self.chan.clone(),
        }
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

/// What lets the task writing a channel's messages run the jobs handed to the channel
/// ([`OutboundReceiver::reader_jobs`]). Until it is attached, [`Outbound::run_on_reader`]
/// gives every job back.
#[derive(Clone)]
pub struct ReaderJobs {
    chan: Arc<Chan>,
}

impl std::fmt::Debug for ReaderJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderJobs").finish_non_exhaustive()
    }
}

impl ReaderJobs {
    /// From now on, jobs handed to the channel go to the returned runner, which the caller
    /// polls ([`JobRunner::poll_jobs`]) in the task that writes the channel's messages, as
    /// long as that task lives, whatever it waits for (a write included).
    pub fn attach(self) -> JobRunner {
        self.chan.lock().runs_jobs = true;
        JobRunner {
            chan: self.chan,
            running: None,
        }
    }
}

/// Runs the jobs handed to a channel ([`Outbound::run_on_reader`]) inside its reader's task.
/// A new job is polled once at once (most finish there, costing nothing more); one that waits
/// joins a set polled as it is woken. Dropped, it stops taking jobs and hands those it holds
/// to a task of their own, so none is lost.
pub struct JobRunner {
    chan: Arc<Chan>,
    /// The jobs that waited; allocated only while there are some (boxed: a runner waiting
    /// for its first job is two words).
    running: Option<Box<FuturesUnordered<Job>>>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("waiting", &self.running.as_ref().map_or(0, |r| r.len()))
            .finish_non_exhaustive()
    }
}

impl JobRunner {
    /// Runs what can run now: the new jobs, then the waiting ones that were woken. Registers
    /// `cx` to be woken for the next job or wake-up; it never completes.
    ///
    /// The reader polls its [`OutboundReceiver`] after this, in the same turn: the messages
    /// these jobs send then do not wake it again (it is running), since it takes them anyway.
    pub fn poll_jobs(&mut self, cx: &mut Context<'_>) {
        loop {
            let mut job = {
                let mut s = self.chan.lock();
                match s.jobs.pop_front() {
                    Some(job) => {
                        // The receiver registers its waker again when it finds nothing.
                        s.rx_waker = None;
                        job
                    }
                    None => {
                        match &s.job_waker {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            _ => s.job_waker = Some(cx.waker().clone()),
                        }
                        break;
                    }
                }
            };
            // A job that waits is polled again in the set, which registers its own waker.
            if job.as_mut().poll(cx).is_pending() {
                self.running.get_or_insert_with(Default::default).push(job);
            }
        }
        if let Some(running) = &mut self.running {
            self.chan.lock().rx_waker = None;
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
            if running.is_empty() {
                self.running = None;
            }
        }
    }
}

impl Drop for JobRunner {
    fn drop(&mut self) {
        let queued = {
            let mut s = self.chan.lock();
            s.runs_jobs = false;
            s.job_waker = None;
            std::mem::take(&mut s.jobs)
        };
        let mut rest = self.running.take().map(|r| *r).unwrap_or_default();
        rest.extend(queued);
        if rest.is_empty() {
            return;
        }
        // Outside a runtime (it is shutting down) nothing can run them any more.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { while rest.next().await.is_some() {} });
        }
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

    /// A job sending `text`, once `go` fires when given one.
    fn job(
        out: &Outbound,
        text: &'static str,
        go: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> Job {
        let out = out.clone();
        Box::pin(async move {
            if let Some(go) = go {
                let _ = go.await;
            }
            out.send(note(text)).await.unwrap();
        })
    }

    /// One turn of the reader: runs what can run now.
    async fn turn(runner: &mut JobRunner) {
        std::future::poll_fn(|cx| {
            runner.poll_jobs(cx);
            Poll::Ready(())
        })
        .await
    }

    #[tokio::test]
    async fn jobs_run_on_the_attached_reader_and_their_messages_come_in_the_same_turn() {
        let (out, mut rx) = Outbound::channel(4);
        assert!(
            out.run_on_reader(job(&out, "x", None)).is_err(),
            "no runner yet: the job comes back"
        );
        let mut runner = rx.reader_jobs().attach();
        assert!(out.run_on_reader(job(&out, "1", None)).is_ok());
        let (go, wait) = tokio::sync::oneshot::channel();
        assert!(out.run_on_reader(job(&out, "2", Some(wait))).is_ok());
        turn(&mut runner).await;
        assert_eq!(rx.try_recv().unwrap().json, "1");
        assert!(rx.try_recv().is_none(), "the second job waits");
        go.send(()).unwrap();
        turn(&mut runner).await;
        assert_eq!(rx.try_recv().unwrap().json, "2");
        assert!(runner.running.is_none(), "nothing waits: the set is freed");
    }

    #[tokio::test]
    async fn a_runner_dropped_hands_its_jobs_to_a_task_and_takes_no_more() {
        let (out, mut rx) = Outbound::channel(4);
        let mut runner = rx.reader_jobs().attach();
        let (go, wait) = tokio::sync::oneshot::channel();
        out.run_on_reader(job(&out, "waiting", Some(wait)))
            .ok()
            .unwrap();
        turn(&mut runner).await;
        assert!(out.run_on_reader(job(&out, "queued", None)).is_ok());
        drop(runner);
        assert!(out.run_on_reader(job(&out, "late", None)).is_err());
        go.send(()).unwrap();
        let mut got = vec![rx.recv().await.unwrap().json, rx.recv().await.unwrap().json];
        got.sort();
        assert_eq!(got, ["queued", "waiting"]);
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
