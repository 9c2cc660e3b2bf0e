//! Cluster mode: several instances behind a plain load balancer, with Redis between them.
//!
//! A session lives in the instance that opened it (its *owner*): the protocol state, the
//! event stream of an HTTP+SSE session, the event store of a Streamable HTTP one. Redis holds
//! who owns which session ([`registry`]) and carries requests that land elsewhere to the owner
//! and their answers back ([`broker`], encoded by [`wire`]). So any instance answers any
//! request:
//!
//! * `POST /messages?sessionId=` is validated where it lands (credential, limits, JSON), then
//!   forwarded; `202` means the owner has the message, and the answer goes out on the owner's
//!   stream. As in one process, a message answered `202` reaches its session before any
//!   message POSTed after that `202` (requests then run concurrently and are answered as they
//!   complete).
//! * Streamable HTTP `POST`, `GET` and `DELETE` with an `Mcp-Session-Id` are forwarded whole;
//!   the response, streamed or not, is relayed back frame by frame.
//! * The session cap counts every instance's sessions; idle expiry runs at the owner, which
//!   sees every request of its sessions.
//! * Server-wide notifications (`list_changed`, resource updates) raised on one instance are
//!   published to the others, which deliver them to their own sessions and
//!   `subscriptions/listen` streams: once per client.
//! * The stateless revision needs no routing, except for what lives in one process: the
//!   instances share the `requestState` key ([`instances`]), so a multi round-trip retry may
//!   land anywhere, and a task's id names the instance running it, so `tasks/get`,
//!   `tasks/update` and `tasks/cancel` are forwarded there (an instance that died leaves its
//!   tasks unknown).
//!
//! Failure: an owner that dies stops refreshing its records, so its ids answer 404 everywhere
//! once [`ClusterOptions::owner_ttl`] has passed (503 until then). Requests that need Redis
//! while it is unreachable get 503; the connection and the subscription reconnect by
//! themselves, and owners re-create their records on the next refresh.

mod broker;
pub(crate) mod caller;
mod instances;
mod owners;
mod registry;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) use broker::Handler;
use broker::{Broker, ForwardError, Target};
use instances::Instances;
use owners::Owners;
pub(crate) use registry::Kind;
use registry::{Record, RegisterError, Registry, credential_hash};
pub(crate) use wire::{Forward, Op};

use crate::error::ServeError;
use crate::response::{Body, text};
use crate::security::Identity;

/// The settings of cluster mode; pass them to [`crate::Builder::cluster_options`] (or just a
/// Redis URL to [`crate::Builder::cluster`]).
///
/// | setting | default |
/// |---|---|
/// | Redis URL | given (`redis://127.0.0.1:6379`, `redis://:password@host:6379/0`, `rediss://...`) |
/// | key prefix | `mcp` |
/// | owner TTL (how soon a dead instance's ids answer 404 everywhere) | 10 s |
/// | forward timeout (503 when the owner does not answer) | 5 s |
/// | Redis connect / response timeout | 1 s / 2 s |
/// | owner cache (records of other instances' sessions kept here) | 65,536 entries |
/// | instance id | a random UUID |
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) owner_ttl: Duration,
    pub(crate) forward_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) owner_cache: usize,
    pub(crate) instance: Option<String>,
}

impl ClusterOptions {
    /// Cluster mode through the Redis server at `url`, with the defaults above.
    pub fn new(url: impl Into<String>) -> Self {
        ClusterOptions {
            url: url.into(),
            prefix: "mcp".into(),
            owner_ttl: Duration::from_secs(10),
            forward_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
            owner_cache: 65_536,
            instance: None,
        }
    }

    /// The prefix of every Redis key and channel (default `mcp`); clusters sharing one Redis
    /// need different prefixes.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long an owner record lives without a refresh (default 10 s; refreshed every third
    /// of it). After an instance dies, its session ids answer 404 everywhere within this time.
    pub fn owner_ttl(mut self, ttl: Duration) -> Self {
        self.owner_ttl = ttl.max(Duration::from_millis(300));
        self
    }

    /// How long a landing instance waits for the owner to take a forwarded request before
    /// answering 503 (default 5 s).
    pub fn forward_timeout(mut self, timeout: Duration) -> Self {
        self.forward_timeout = timeout;
        self
    }

    /// How long connecting to Redis, and each Redis command, may take (defaults 1 s and 2 s).
    pub fn redis_timeouts(mut self, connect: Duration, response: Duration) -> Self {
        self.connect_timeout = connect;
        self.response_timeout = response;
        self
    }

    /// How many owner records of other instances' sessions this instance keeps (default
    /// 65,536, about 250 bytes each), so a request it forwards skips looking the owner up in
    /// Redis. A cached record is dropped as soon as its owner is found gone or unreachable,
    /// and the request is then decided on a fresh lookup: the cache changes no answer. `0`
    /// looks every owner up.
    pub fn owner_cache(mut self, entries: usize) -> Self {
        self.owner_cache = entries;
        self
    }

    /// This instance's id in the cluster (default: a random UUID, new at each start). Ids must
    /// be unique among the running instances.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance = Some(id.into());
        self
    }
}

/// The running cluster side of one instance.
pub(crate) struct Cluster {
    instance: String,
    conn: ConnectionManager,
    registry: Arc<Registry>,
    instances: Arc<Instances>,
    owners: Owners,
    broker: Arc<Broker>,
    ended: mpsc::Sender<String>,
    stop: CancellationToken,
    owner_ttl: Duration,
    /// How long the first beat may take before the instance serves anyway.
    first_beat: Duration,
    /// Set once the first beat was tried.
    beaten: Arc<tokio::sync::watch::Sender<bool>>,
}

/// How many ended sessions may wait for their keys to be deleted; past it their keys simply
/// expire with the owner TTL.
const ENDED_QUEUE: usize = 4096;

fn unavailable(msg: &str) -> Response<Body> {
    let mut r = text(StatusCode::SERVICE_UNAVAILABLE, msg);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

impl Cluster {
    /// Connects (lazily: a Redis that is not up yet is retried) and starts the background
    /// tasks: subscription, record refresh, key deletion.
    pub(crate) fn start(opts: &ClusterOptions) -> Result<Arc<Cluster>, ServeError> {
        let client = redis::Client::open(opts.url.as_str())
            .map_err(|e| ServeError::Cluster(e.to_string()))?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.connect_timeout))
            .set_response_timeout(Some(opts.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), cfg)
            .map_err(|e| ServeError::Cluster(e.to_string()))?;
        let instance = opts
            .instance
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if instance.is_empty() || instance.contains(['\n', ':']) {
            return Err(ServeError::Cluster(
                "an instance id must be non-empty, without ':' or line breaks".into(),
            ));
        }
        let registry = Arc::new(Registry::new(&opts.prefix, &instance, opts.owner_ttl));
        let instances = Arc::new(Instances::new(&opts.prefix, &instance, opts.owner_ttl));
        let broker = Arc::new(Broker::new(
            &instance,
            &opts.prefix,
            conn.clone(),
            opts.forward_timeout,
            opts.owner_ttl,
        ));
        let (ended, ended_rx) = mpsc::channel(ENDED_QUEUE);
        let stop = CancellationToken::new();
        tokio::spawn(
            broker
                .clone()
                .subscribe_forever(client, opts.connect_timeout, stop.clone()),
        );
        tokio::spawn(refresh_forever(
            registry.clone(),
            conn.clone(),
            opts.owner_ttl / 3,
            broker.resubscribed_signal(),
            stop.clone(),
        ));
        tokio::spawn(delete_ended(registry.clone(), conn.clone(), ended_rx));
        tracing::info!(target: "mcp::cluster", %instance, "cluster mode on");
        Ok(Arc::new(Cluster {
            instance,
            conn,
            registry,
            instances,
            owners: Owners::new(opts.owner_cache),
            broker,
            ended,
            stop,
            owner_ttl: opts.owner_ttl,
            first_beat: opts.connect_timeout + opts.response_timeout,
            beaten: Arc::new(tokio::sync::watch::Sender::new(false)),
        }))
    }

    /// Ties `server` to the cluster: its task ids name this instance, it shares the cluster's
    /// `requestState` key, and this instance's liveness is kept up (the first beat at once).
    pub(crate) fn attach(self: &Arc<Self>, server: &mcp_core::Server) {
        server.set_task_id_prefix(format!("{}.", self.instance));
        tokio::spawn(beat_forever(
            self.instances.clone(),
            self.conn.clone(),
            server.clone(),
            self.owner_ttl / 3,
            self.stop.clone(),
            self.beaten.clone(),
        ));
    }

    /// Waits (bounded by the Redis timeouts) until the first beat was tried.
    pub(crate) async fn first_beat(&self) {
        let mut beaten = self.beaten.subscribe();
        let _ = tokio::time::timeout(self.first_beat, beaten.wait_for(|b| *b)).await;
    }

    /// This instance's id.
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Serves requests that other instances forward here.
    pub(crate) fn set_handler(&self, handler: Handler) {
        self.broker.set_handler(handler);
    }

    /// Receives the notifications other instances publish.
    pub(crate) fn set_notify_handler(&self, handler: broker::NotifyHandler) {
        let me = self.instance.clone();
        self.broker
            .set_notify_handler(Arc::new(move |payload: &[u8]| {
                // `<instance>\n<notification>`; this instance delivered its own already.
                let Some(pos) = payload.iter().position(|b| *b == b'\n') else {
                    return;
                };
                if &payload[..pos] != me.as_bytes() {
                    handler(&payload[pos + 1..]);
                }
            }));
    }

    /// Publishes a notification for the other instances (best effort: without Redis, only
    /// this instance's clients get it).
    pub(crate) fn publish_notification(self: &Arc<Self>, notification: Bytes) {
        // Changes made outside any runtime (at setup) have no one to tell yet.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let me = self.clone();
        rt.spawn(async move {
            let mut payload = Vec::with_capacity(me.instance.len() + 1 + notification.len());
            payload.extend_from_slice(me.instance.as_bytes());
            payload.push(b'\n');
            payload.extend_from_slice(&notification);
            if let Err(e) = me.broker.publish_notification(payload.into()).await {
                tracing::warn!(target: "mcp::cluster", error = %e, "publishing a notification failed");
            }
        });
    }

    /// Records a session this instance just opened; the 503 to answer when the cluster-wide
    /// cap is reached or Redis is unreachable.
    pub(crate) async fn register(
        &self,
        id: &str,
        kind: Kind,
        identity: &Identity,
        cap: usize,
    ) -> Result<(), Response<Body>> {
        let mut conn = self.conn.clone();
        match self
            .registry
            .register(&mut conn, id, kind, identity, cap)
            .await
        {
            Ok(()) => Ok(()),
            Err(RegisterError::Full) => {
                tracing::warn!(target: "mcp::cluster", max = cap, "cluster-wide session cap reached");
                Err(crate::response::too_many_sessions())
            }
            Err(RegisterError::Unavailable(e)) => {
                tracing::warn!(target: "mcp::cluster", error = %e, "cannot record a new session");
                Err(unavailable(
                    "session store unreachable: cannot open a session now; try again",
                ))
            }
        }
    }

    /// A session of this instance ended: its keys go (right away when Redis is up, else
    /// with the TTL).
    pub(crate) fn forget(&self, id: &str) {
        if self.registry.forget(id) {
            let _ = self.ended.try_send(id.to_owned());
        }
    }

    /// Sends a request for a session this instance does not hold to its owner. `None`: no
    /// such session for this identity and transport (the caller's 404).
    // Who asks (identity, caller) and what (op, headers, body) are all needed, by value once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn route(
        &self,
        session: &str,
        kind: Kind,
        identity: &Identity,
        caller: &mcp_core::Caller,
        op: Op,
        mut headers: Vec<(String, Bytes)>,
        body: Bytes,
    ) -> Option<Response<Body>> {
        let caller = caller::encode(caller);
        let mut cached = self.owners.get(session);
        loop {
            let from_cache = cached.is_some();
            let record = match cached.take() {
                Some(r) => r,
                None => match self.lookup(session).await {
                    Ok(Some(r)) => r,
                    Ok(None) => return None,
                    Err(resp) => return Some(resp),
                },
            };
            // A session opened with another credential, or on the other transport, is
            // indistinguishable from an unknown one.
            if record.kind != kind || record.credential != credential_hash(identity) {
                return None;
            }
            if record.instance == self.instance {
                // Recorded here but no longer held: it just ended.
                return None;
            }
            let forward = Forward {
                from: self.instance.clone(),
                session: session.to_owned(),
                op,
                // Sent twice at most: once more only after a cached owner was not listening.
                headers: if from_cache {
                    headers.clone()
                } else {
                    std::mem::take(&mut headers)
                },
                caller: caller.clone(),
                body: body.clone(),
            };
            let target = Target::Session {
                registry: self.registry.clone(),
                record,
                session: session.to_owned(),
            };
            return match self.broker.forward(target, forward).await {
                Ok(r) => Some(r),
                Err(ForwardError::Gone) => {
                    self.owners.remove(session);
                    None
                }
                // Nobody got it: decided again on what Redis holds now (the owner may be gone
                // for good, its record expired).
                Err(ForwardError::NotListening) if from_cache => {
                    self.owners.remove(session);
                    continue;
                }
                Err(ForwardError::NotListening) => {
                    self.owners.remove(session);
                    Some(unavailable(
                        "the instance holding this session is not reachable; try again",
                    ))
                }
                Err(ForwardError::Unavailable(msg)) => Some(unavailable(msg)),
            };
        }
    }

    /// The owner record of `session` in Redis (cached when another instance holds it); the
    /// 503 to answer when Redis is unreachable.
    async fn lookup(&self, session: &str) -> Result<Option<Arc<Record>>, Response<Body>> {
        let mut conn = self.conn.clone();
        match self.registry.locate(&mut conn, session).await {
            Ok(Some(r)) => {
                let r = Arc::new(r);
                if r.instance != self.instance {
                    self.owners.insert(session, r.clone());
                }
                Ok(Some(r))
            }
            // Redis just came back and may have restarted empty: the owner may not have
            // re-created the record yet, so "unknown" is not certain for one refresh period.
            Ok(None) if self.broker.recovering(self.owner_ttl / 3) => Err(unavailable(
                "the session store is recovering from a restart; try again",
            )),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::warn!(target: "mcp::cluster", error = %e, "session lookup failed");
                Err(unavailable("session store unreachable; try again"))
            }
        }
    }

    /// The instance running the task `task_id`, when that is another one (ids are
    /// `<instance>.<uuid>`).
    pub(crate) fn task_owner<'a>(&self, task_id: &'a str) -> Option<&'a str> {
        let (instance, rest) = task_id.rsplit_once('.')?;
        let valid = !instance.is_empty()
            && instance.len() <= 128
            && !instance.contains(['\n', ':'])
            && uuid::Uuid::try_parse(rest).is_ok();
        (valid && instance != self.instance).then_some(instance)
    }

    /// Sends a stateless request to `instance` (which runs the task it names). `None`: that
    /// instance is gone, so its tasks are unknown (the caller answers as for any unknown task).
    pub(crate) async fn route_to_instance(
        &self,
        instance: &str,
        caller: &mcp_core::Caller,
        headers: Vec<(String, Bytes)>,
        body: Bytes,
    ) -> Option<Response<Body>> {
        let forward = Forward {
            from: self.instance.clone(),
            session: String::new(),
            op: Op::StatelessPost,
            headers,
            caller: caller::encode(caller),
            body,
        };
        let target = Target::Instance {
            instances: self.instances.clone(),
            instance: instance.to_owned(),
        };
        match self.broker.forward(target, forward).await {
            Ok(r) => Some(r),
            Err(ForwardError::Gone) => None,
            Err(ForwardError::NotListening) => {
                let mut conn = self.conn.clone();
                match self.instances.is_alive(&mut conn, instance).await {
                    Ok(false) => None,
                    Ok(true) => Some(unavailable(
                        "the instance running this task is not reachable; try again",
                    )),
                    Err(_) => Some(unavailable("session store unreachable; try again")),
                }
            }
            Err(ForwardError::Unavailable(msg)) => Some(unavailable(msg)),
        }
    }

    /// True while this instance can be reached by the others.
    pub(crate) fn is_connected(&self) -> bool {
        self.broker.is_subscribed()
    }

    /// Stops the background tasks (at shutdown, after every session was closed).
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        // This instance's tasks end with it: unknown everywhere at once rather than after
        // the owner TTL.
        let mut conn = self.conn.clone();
        let _ =
            tokio::time::timeout(Duration::from_secs(1), self.instances.forget(&mut conn)).await;
        // Give the deleter a moment to remove the keys of the sessions closed at shutdown.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while self.ended.capacity() < ENDED_QUEUE {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
}

async fn refresh_forever(
    registry: Arc<Registry>,
    mut conn: ConnectionManager,
    period: Duration,
    resubscribed: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
) {
    let mut failing = false;
    loop {
        // Every period, and at once when Redis is back after a loss (it may have restarted
        // empty).
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
            _ = resubscribed.notified() => {}
        }
        match registry.refresh(&mut conn).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!(target: "mcp::cluster", "session records refreshed again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(target: "mcp::cluster", error = %e, "refreshing session records failed; retrying");
            }
            Err(_) => {}
        }
    }
}

async fn beat_forever(
    instances: Arc<Instances>,
    mut conn: ConnectionManager,
    server: mcp_core::Server,
    period: Duration,
    stop: CancellationToken,
    beaten: Arc<tokio::sync::watch::Sender<bool>>,
) {
    let mut failing = false;
    loop {
        match instances.beat(&mut conn, &server).await {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(target: "mcp::cluster", error = %e, "renewing the instance's liveness failed; retrying");
            }
            Err(_) => {}
        }
        beaten.send_replace(true);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
    }
}

async fn delete_ended(
    registry: Arc<Registry>,
    mut conn: ConnectionManager,
    mut ended: mpsc::Receiver<String>,
) {
    let mut batch = Vec::new();
    while ended.recv_many(&mut batch, 256).await > 0 {
        if let Err(e) = registry.delete(&mut conn, &batch).await {
            tracing::debug!(target: "mcp::cluster", error = %e, "deleting ended sessions' keys failed; they expire");
        }
        batch.clear();
    }
}
