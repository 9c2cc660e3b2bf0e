//! Moving requests to the instance that owns their session, and their responses back, over
//! Redis pub/sub.
//!
//! Every instance subscribes to its own inbox channel (`P:inbox:<instance>`) and to the shared
//! notification channel (`P:notify`). A landing instance publishes a [`Forward`] to the owner's
//! inbox; `PUBLISH` reports how many subscribers got it, so an owner that is not listening
//! (dead, or cut off from Redis) is known at once. The owner answers on the landing instance's
//! inbox:
//!
//! * a request whose handling finishes at once (an HTTP+SSE message: handed to the session,
//!   in arrival order) is answered with its response straight away, head and body in one
//!   [`Envelope::Whole`] when the body is complete then: the landing instance answers `202`
//!   only after the owner has the message;
//! * one that has to wait (a Streamable HTTP request whose answer is computed) first gets an
//!   [`Envelope::Ack`], then its head and body frames when they exist.
//!
//! A landing instance that hears nothing within the forward timeout answers 503; while it
//! waits for a head or relays a body it checks every half owner-TTL that the session's owner
//! record still exists (for a request addressed to an instance rather than a session: that
//! the instance's liveness key does), so the streams of an instance that died end within that
//! bound.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Body as _, Frame};
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::instances::Instances;
use super::registry::{Record, Registry};
use super::wire::{Envelope, Forward};
use crate::response::Body;

/// Serves a request forwarded to this instance: `None` when it does not hold the session.
pub(crate) type Handler = Arc<
    dyn Fn(Forward) -> Pin<Box<dyn Future<Output = Option<Response<Body>>> + Send>> + Send + Sync,
>;

/// Receives the payload of a cluster-wide notification published by another instance.
pub(crate) type NotifyHandler = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// How many relayed frames may wait for a landing instance's client before the relay is cut
/// (the client is not reading; Streamable HTTP clients resume from the event store).
const RELAY_QUEUE: usize = 256;

/// Why a forwarded request got no answer from the owner.
#[derive(Debug)]
pub(crate) enum ForwardError {
    /// The owner does not hold the session (404).
    Gone,
    /// No one listens on the owner's inbox: it is dead, or cut off from Redis.
    NotListening,
    /// Redis failed or the owner did not answer in time (503).
    Unavailable(&'static str),
}

enum Reply {
    Ack,
    Head {
        status: u16,
        headers: Vec<(String, Bytes)>,
    },
    Whole {
        status: u16,
        headers: Vec<(String, Bytes)>,
        body: Bytes,
    },
    Data(Bytes),
    End,
    Gone,
}

/// Where a forwarded request goes, and how the landing instance checks, while it waits, that
/// the owner still lives.
#[derive(Clone)]
pub(crate) enum Target {
    /// The owner of a session: alive while the session's record names it.
    Session {
        registry: Arc<Registry>,
        record: Arc<Record>,
        session: String,
    },
    /// An instance: alive while its liveness key exists.
    Instance {
        instances: Arc<Instances>,
        instance: String,
    },
}

impl Target {
    fn instance(&self) -> &str {
        match self {
            Target::Session { record, .. } => &record.instance,
            Target::Instance { instance, .. } => instance,
        }
    }

    /// True while the owner lives (false too when Redis is down: a relay cannot go on then).
    async fn lives(&self, conn: &ConnectionManager) -> bool {
        let mut conn = conn.clone();
        match self {
            Target::Session {
                registry,
                record,
                session,
            } => matches!(
                registry.locate(&mut conn, session).await,
                Ok(Some(r)) if r.instance == record.instance
            ),
            Target::Instance {
                instances,
                instance,
            } => matches!(instances.is_alive(&mut conn, instance).await, Ok(true)),
        }
    }
}

struct Pending {
    tx: mpsc::Sender<Reply>,
    owner: String,
}

/// The pub/sub side of the cluster.
pub(crate) struct Broker {
    instance: String,
    prefix: String,
    conn: ConnectionManager,
    forward_timeout: Duration,
    liveness_period: Duration,
    pending: Mutex<HashMap<u64, Pending>>,
    relays: Mutex<HashMap<(String, u64), CancellationToken>>,
    next_tag: AtomicU64,
    handler: OnceLock<Handler>,
    on_notify: OnceLock<NotifyHandler>,
    subscribed: AtomicBool,
    /// When the subscription came back after being lost (Redis restarted or was cut off).
    resubscribed: Mutex<Option<tokio::time::Instant>>,
    /// Woken when the subscription comes back, so the owner re-creates its records at once.
    resubscribe: Arc<tokio::sync::Notify>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Broker {
    pub(crate) fn new(
        instance: &str,
        prefix: &str,
        conn: ConnectionManager,
        forward_timeout: Duration,
        owner_ttl: Duration,
    ) -> Broker {
        Broker {
            instance: instance.to_owned(),
            prefix: prefix.to_owned(),
            conn,
            forward_timeout,
            liveness_period: (owner_ttl / 2).max(Duration::from_millis(50)),
            pending: Mutex::new(HashMap::new()),
            relays: Mutex::new(HashMap::new()),
            next_tag: AtomicU64::new(1),
            handler: OnceLock::new(),
            on_notify: OnceLock::new(),
            subscribed: AtomicBool::new(false),
            resubscribed: Mutex::new(None),
            resubscribe: Arc::default(),
        }
    }

    pub(crate) fn set_handler(&self, handler: Handler) {
        let _ = self.handler.set(handler);
    }

    pub(crate) fn set_notify_handler(&self, handler: NotifyHandler) {
        let _ = self.on_notify.set(handler);
    }

    fn inbox_of(&self, instance: &str) -> String {
        format!("{}:inbox:{instance}", self.prefix)
    }

    pub(crate) fn notify_channel(&self) -> String {
        format!("{}:notify", self.prefix)
    }

    /// Woken each time the subscription comes back after being lost.
    pub(crate) fn resubscribed_signal(&self) -> Arc<tokio::sync::Notify> {
        self.resubscribe.clone()
    }

    /// True within `window` of the subscription coming back after being lost: Redis may have
    /// restarted empty, and the owners may not have re-created their records yet.
    pub(crate) fn recovering(&self, window: Duration) -> bool {
        lock(&self.resubscribed).is_some_and(|at| at.elapsed() < window)
    }

    /// True while this instance's subscription is up (it can be reached by others).
    pub(crate) fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Publishes `payload` on `channel`; the number of subscribers that got it.
    async fn publish(&self, channel: String, payload: Bytes) -> redis::RedisResult<i64> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload.as_ref())
            .query_async(&mut conn)
            .await
    }

    /// Publishes a notification for every other instance.
    pub(crate) async fn publish_notification(&self, payload: Bytes) -> redis::RedisResult<()> {
        self.publish(self.notify_channel(), payload)
            .await
            .map(|_| ())
    }

    /// Forwards a request to `target` and returns the response it sent back.
    pub(crate) async fn forward(
        self: &Arc<Self>,
        target: Target,
        forward: Forward,
    ) -> Result<Response<Body>, ForwardError> {
        // The owner's answer comes back on this instance's own subscription: while that is
        // down (Redis restarting, say) the owner could take the request and its answer be
        // lost, so a 503 here would not mean "not delivered". Nothing is sent then.
        if !self.is_subscribed() {
            return Err(ForwardError::Unavailable(
                "this instance is reconnecting to the session store; try again",
            ));
        }
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let owner = target.instance().to_owned();
        let (tx, mut rx) = mpsc::channel(RELAY_QUEUE);
        lock(&self.pending).insert(
            tag,
            Pending {
                tx,
                owner: owner.clone(),
            },
        );
        let mut guard = PendingGuard {
            broker: self.clone(),
            tag,
            owner: owner.clone(),
            cancel: false,
        };
        let env = Envelope::Forward { tag, forward }.encode();
        let got = self
            .publish(self.inbox_of(&owner), env)
            .await
            .map_err(|e| {
                tracing::warn!(target: "mcp::cluster", error = %e, "publishing a forwarded request failed");
                ForwardError::Unavailable("session store unreachable; try again")
            })?;
        if got == 0 {
            return Err(ForwardError::NotListening);
        }
        let first = tokio::time::timeout(self.forward_timeout, rx.recv())
            .await
            .map_err(|_| {
                ForwardError::Unavailable(
                    "the instance owning this session or task did not answer in time; try again",
                )
            })?;
        let mut reply = first;
        if matches!(reply, Some(Reply::Ack)) {
            // Accepted; the answer is being computed. Wait while the owner lives.
            reply = self.recv_while_owner_lives(&target, &mut rx).await;
        }
        match reply {
            Some(Reply::Head { status, headers }) => {
                guard.cancel = true;
                Ok(self.relayed_response(status, headers, rx, guard, target))
            }
            Some(Reply::Whole {
                status,
                headers,
                body,
            }) => Ok(response(status, headers, crate::response::full(body))),
            Some(Reply::Gone) => Err(ForwardError::Gone),
            None => Err(ForwardError::Unavailable(
                "the instance owning this session or task went away; try again",
            )),
            Some(_) => Err(ForwardError::Unavailable(
                "unexpected answer from the instance owning this session or task",
            )),
        }
    }

    /// The next reply of a forwarded request, or `None` once the owner is gone.
    async fn recv_while_owner_lives(
        &self,
        target: &Target,
        rx: &mut mpsc::Receiver<Reply>,
    ) -> Option<Reply> {
        loop {
            match tokio::time::timeout(self.liveness_period, rx.recv()).await {
                Ok(r) => return r,
                Err(_) => {
                    if !target.lives(&self.conn).await {
                        return None;
                    }
                }
            }
        }
    }

    fn relayed_response(
        self: &Arc<Self>,
        status: u16,
        headers: Vec<(String, Bytes)>,
        rx: mpsc::Receiver<Reply>,
        guard: PendingGuard,
        target: Target,
    ) -> Response<Body> {
        struct Relay {
            rx: mpsc::Receiver<Reply>,
            guard: PendingGuard,
            target: Target,
        }
        let relay = Relay { rx, guard, target };
        let body = futures_util::stream::unfold(relay, |mut r| async move {
            let broker = r.guard.broker.clone();
            let next = broker.recv_while_owner_lives(&r.target, &mut r.rx).await;
            match next {
                Some(Reply::Data(b)) => {
                    Some((Ok::<_, std::convert::Infallible>(Frame::data(b)), r))
                }
                Some(Reply::End) => {
                    r.guard.finished();
                    None
                }
                _ => None,
            }
        });
        let body = BodyExt::boxed_unsync(StreamBody::new(body.boxed()));
        response(status, headers, body)
    }

    /// Handles one message of this instance's subscription.
    fn dispatch(self: &Arc<Self>, channel: &str, payload: &[u8]) {
        if channel.ends_with(":notify") && channel == self.notify_channel() {
            if let Some(h) = self.on_notify.get() {
                h(payload);
            }
            return;
        }
        let Some(env) = Envelope::decode(payload) else {
            tracing::warn!(target: "mcp::cluster", "malformed message on the inbox ignored");
            return;
        };
        let (tag, reply) = match env {
            Envelope::Forward { tag, forward } => return self.serve_forward(tag, forward),
            Envelope::Cancel { tag, from } => {
                if let Some(t) = lock(&self.relays).remove(&(from, tag)) {
                    t.cancel();
                }
                return;
            }
            Envelope::Ack { tag } => (tag, Reply::Ack),
            Envelope::Head {
                tag,
                status,
                headers,
            } => (tag, Reply::Head { status, headers }),
            Envelope::Whole {
                tag,
                status,
                headers,
                body,
            } => (
                tag,
                Reply::Whole {
                    status,
                    headers,
                    body,
                },
            ),
            Envelope::Data { tag, bytes } => (tag, Reply::Data(bytes)),
            Envelope::End { tag } => (tag, Reply::End),
            Envelope::Gone { tag } => (tag, Reply::Gone),
        };
        let mut pending = lock(&self.pending);
        let Some(p) = pending.get(&tag) else {
            return;
        };
        if p.tx.try_send(reply).is_err() {
            // The client is not reading (or left): cut the relay and tell the owner.
            if let Some(p) = pending.remove(&tag) {
                drop(pending);
                self.send_cancel(tag, p.owner);
            }
        }
    }

    fn send_cancel(self: &Arc<Self>, tag: u64, owner: String) {
        let me = self.clone();
        tokio::spawn(async move {
            let env = Envelope::Cancel {
                tag,
                from: me.instance.clone(),
            }
            .encode();
            let _ = me.publish(me.inbox_of(&owner), env).await;
        });
    }

    /// Runs a request forwarded here and relays its response to the landing instance.
    fn serve_forward(self: &Arc<Self>, tag: u64, forward: Forward) {
        let Some(handler) = self.handler.get().cloned() else {
            return;
        };
        let from = forward.from.clone();
        let mut fut = handler(forward);
        // Polled once here, in arrival order: a message handed to its session at once keeps
        // the order in which the cluster delivered it.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let me = self.clone();
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(resp) => {
                tokio::spawn(async move { me.relay(from, tag, resp).await });
            }
            std::task::Poll::Pending => {
                tokio::spawn(async move {
                    let inbox = me.inbox_of(&from);
                    if me.publish(inbox, Envelope::Ack { tag }.encode()).await.ok() == Some(0) {
                        return;
                    }
                    let resp = fut.await;
                    me.relay(from, tag, resp).await;
                });
            }
        }
    }

    async fn relay(self: Arc<Self>, from: String, tag: u64, resp: Option<Response<Body>>) {
        let inbox = self.inbox_of(&from);
        let Some(resp) = resp else {
            let _ = self.publish(inbox, Envelope::Gone { tag }.encode()).await;
            return;
        };
        let (parts, mut body) = resp.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), Bytes::copy_from_slice(v.as_bytes())))
            .collect();
        let status = parts.status.as_u16();
        // A body complete already (a `202`, an error) goes with its head: one message, and
        // the landing instance answers without waiting for more.
        let first = match ready_frame(&mut body) {
            Some(Some(bytes)) if body.is_end_stream() => {
                let whole = Envelope::Whole {
                    tag,
                    status,
                    headers,
                    body: bytes,
                };
                let _ = self.publish(inbox, whole.encode()).await;
                return;
            }
            Some(None) => {
                let whole = Envelope::Whole {
                    tag,
                    status,
                    headers,
                    body: Bytes::new(),
                };
                let _ = self.publish(inbox, whole.encode()).await;
                return;
            }
            Some(Some(bytes)) => Some(bytes),
            None => None,
        };
        let stop = CancellationToken::new();
        lock(&self.relays).insert((from.clone(), tag), stop.clone());
        let head = Envelope::Head {
            tag,
            status,
            headers,
        };
        // A landing instance that stopped listening (gone, or cut off) ends the relay.
        let mut reached =
            matches!(self.publish(inbox.clone(), head.encode()).await, Ok(n) if n > 0);
        if let (true, Some(bytes)) = (reached, first) {
            let env = Envelope::Data { tag, bytes };
            reached = matches!(self.publish(inbox.clone(), env.encode()).await, Ok(n) if n > 0);
        }
        while reached {
            let frame = tokio::select! {
                _ = stop.cancelled() => break,
                f = body.frame() => f,
            };
            let env = match frame {
                Some(Ok(f)) => match f.into_data() {
                    Ok(bytes) => Envelope::Data { tag, bytes },
                    Err(_) => continue,
                },
                Some(Err(e)) => match e {},
                None => Envelope::End { tag },
            };
            let end = matches!(env, Envelope::End { .. });
            reached = matches!(self.publish(inbox.clone(), env.encode()).await, Ok(n) if n > 0);
            if end {
                break;
            }
        }
        lock(&self.relays).remove(&(from, tag));
    }

    /// Keeps this instance subscribed to its inbox and the notification channel, reconnecting
    /// with a capped backoff whenever the subscription breaks.
    pub(crate) async fn subscribe_forever(
        self: Arc<Self>,
        client: redis::Client,
        connect_timeout: Duration,
        stop: CancellationToken,
    ) {
        let inbox = self.inbox_of(&self.instance);
        let notify = self.notify_channel();
        let mut backoff = Duration::from_millis(50);
        let mut lost = false;
        loop {
            let connect = async {
                let mut ps = tokio::time::timeout(connect_timeout, client.get_async_pubsub())
                    .await
                    .map_err(|_| "connect timed out".to_owned())?
                    .map_err(|e| e.to_string())?;
                ps.subscribe(&inbox).await.map_err(|e| e.to_string())?;
                ps.subscribe(&notify).await.map_err(|e| e.to_string())?;
                Ok::<_, String>(ps)
            };
            let connected = tokio::select! {
                _ = stop.cancelled() => return,
                c = connect => c,
            };
            match connected {
                Ok(ps) => {
                    backoff = Duration::from_millis(50);
                    self.subscribed.store(true, Ordering::Release);
                    if lost {
                        *lock(&self.resubscribed) = Some(tokio::time::Instant::now());
                        self.resubscribe.notify_one();
                    }
                    tracing::info!(target: "mcp::cluster", instance = %self.instance, "subscribed to the cluster inbox");
                    let mut messages = ps.into_on_message();
                    loop {
                        let msg = tokio::select! {
                            _ = stop.cancelled() => return,
                            m = messages.next() => m,
                        };
                        match msg {
                            Some(m) => self.dispatch(m.get_channel_name(), m.get_payload_bytes()),
                            None => break,
                        }
                    }
                    self.subscribed.store(false, Ordering::Release);
                    lost = true;
                    // Replies may have been lost while cut off: end every relay in progress
                    // (Streamable HTTP clients resume from the owner's event store).
                    lock(&self.pending).clear();
                    tracing::warn!(target: "mcp::cluster", "cluster subscription lost; reconnecting");
                }
                Err(e) => {
                    tracing::debug!(target: "mcp::cluster", error = %e, "cluster subscription failed; retrying");
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}

/// A response of `status` with `headers` (as relayed) and `body`.
fn response(status: u16, headers: Vec<(String, Bytes)>, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// What `body` yields without waiting: `Some(None)` when it has ended, `Some(Some(data))` for
/// its first data frame (trailers are not relayed), `None` when it is not ready yet.
fn ready_frame(body: &mut Body) -> Option<Option<Bytes>> {
    if body.is_end_stream() {
        return Some(None);
    }
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        match std::pin::Pin::new(&mut *body).poll_frame(&mut cx) {
            std::task::Poll::Ready(None) => return Some(None),
            std::task::Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Some(data));
                }
            }
            std::task::Poll::Ready(Some(Err(e))) => match e {},
            std::task::Poll::Pending => return None,
        }
    }
}

/// Forgets a pending forwarded request when its waiter or relayed body is dropped, and tells
/// the owner to stop relaying when the body was not read to its end.
struct PendingGuard {
    broker: Arc<Broker>,
    tag: u64,
    owner: String,
    cancel: bool,
}

impl PendingGuard {
    /// The body was read to its end: nothing to cancel.
    fn finished(&mut self) {
        self.cancel = false;
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let removed = lock(&self.broker.pending).remove(&self.tag).is_some();
        if self.cancel && removed {
            self.broker
                .send_cancel(self.tag, std::mem::take(&mut self.owner));
        }
    }
}
