//! A session: one client's protocol state (negotiated revision, client info and capabilities,
//! log level, subscriptions, in-flight requests, pending server-to-client requests), fed by a
//! transport.
//!
//! A transport calls [`Session::receive`] for every incoming message, in arrival order.
//! Notifications and responses are handled at once; a request returns a [`RequestFuture`] that
//! the transport spawns (requests of one session run concurrently) or awaits. Every message
//! about that request (progress, logs, server-to-client requests, the final response) goes to
//! the `reply` [`Outbound`] given with it, in order.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::caller::{Caller, Identity};
use crate::cancel::Cancel;
use crate::changes::{Backlog, Change, Listener, Registration};
use crate::context::{ClientLink, Origin};
use crate::dispatch::{self, Body, Call, Outcome, params_object, str_param};
use crate::envelope::Envelope;
use crate::error::McpError;
use crate::jsonrpc::{self, ErrorObject, Incoming, Message, Notification, Request, RequestId};
use crate::middleware::{BoxFuture, McpRequest, run_request};
use crate::outbound::{Outbound, Outgoing};
use crate::peer::PendingRequests;
use crate::protocol::{Implementation, LoggingLevel};
use crate::shared::Server;
use crate::version::ProtocolVersion;

/// The work of answering one request; spawn it or await it.
pub type RequestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One client's protocol session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

/// A session that does not keep it open.
pub(crate) struct WeakSession(Weak<SessionInner>);

impl WeakSession {
    /// The session, while it is open.
    pub(crate) fn upgrade(&self) -> Option<Session> {
        self.0.upgrade().map(|inner| Session { inner })
    }
}

#[derive(Default)]
struct ProtocolState {
    version: Option<ProtocolVersion>,
    initialized: bool,
    client_info: Option<Arc<Implementation>>,
    client_capabilities: Option<Arc<Value>>,
    log_level: Option<LoggingLevel>,
    subscriptions: HashSet<String>,
}

struct SessionInner {
    server: Server,
    outbound: Outbound,
    origin: Origin,
    identity: Option<Identity>,
    state: Mutex<ProtocolState>,
    in_flight: Mutex<HashMap<RequestId, Cancel>>,
    pending: Arc<PendingRequests>,
    closed: CancellationToken,
    /// Resource updates waiting for room in `outbound`.
    backlog: Arc<Backlog>,
    _listening: Option<Registration>,
}

impl Drop for SessionInner {
    fn drop(&mut self) {
        self.closed.cancel();
        self.server.count_session(false);
    }
}

impl Listener for SessionInner {
    fn message(&self, change: &Change<'_>) -> Option<(Outbound, Outgoing)> {
        let st = lock(&self.state);
        let params = match change {
            Change::List(_) if st.version.is_some() => None,
            Change::ResourceUpdated(uri) if st.subscriptions.contains(*uri) => {
                Some(json!({ "uri": uri }))
            }
            _ => return None,
        };
        drop(st);
        let json = jsonrpc::notification_bytes(change.method(), params.as_ref());
        Some((self.outbound.clone(), Outgoing::notification(json)))
    }

    fn backlog(&self) -> Option<&Arc<Backlog>> {
        Some(&self.backlog)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.origin.session_id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a transport opens a [`Session`].
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The transport's session id, if it has one (exposed through `Context::session_id`).
    pub id: Option<String>,
    /// Where messages not tied to a client request go.
    pub outbound: Outbound,
    /// The transport's name (`"sse"`, `"streamable-http"`, `"stdio"`, `"memory"`).
    pub transport: &'static str,
    /// Who is calling, when the transport authenticated the client for the whole session.
    pub identity: Option<Identity>,
}

impl SessionOptions {
    /// Options with no session id.
    pub fn new(outbound: Outbound) -> Self {
        SessionOptions {
            id: None,
            outbound,
            transport: "custom",
            identity: None,
        }
    }

    /// Sets who is calling (exposed through `Context::identity`).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Sets the transport's name, exposed through `Context::transport`.
    pub fn transport(mut self, name: &'static str) -> Self {
        self.transport = name;
        self
    }

    /// Sets the session id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl Server {
    /// Opens a session for one client connection of a session-based revision.
    pub fn session(&self, options: SessionOptions) -> Session {
        let pending = Arc::new(PendingRequests::new(self.request_timeout()));
        let origin = Origin {
            transport: options.transport,
            session_id: options.id.map(Arc::from),
            client: ClientLink::Requests(pending.clone()),
            state: self.state_map(),
        };
        self.count_session(true);
        let inner = Arc::new_cyclic(|me: &Weak<SessionInner>| {
            let me: Weak<dyn Listener> = me.clone();
            SessionInner {
                server: self.clone(),
                outbound: options.outbound,
                origin,
                identity: options.identity,
                state: Mutex::new(ProtocolState::default()),
                in_flight: Mutex::new(HashMap::new()),
                pending,
                closed: CancellationToken::new(),
                backlog: Arc::new(Backlog::new(self.subscription_limits().max_count)),
                _listening: Some(self.listeners().register(me)),
            }
        });
        Session { inner }
    }
}

impl Session {
    /// A handle that does not keep the session open.
    pub(crate) fn downgrade(&self) -> WeakSession {
        WeakSession(Arc::downgrade(&self.inner))
    }

    /// The transport's id for this session, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.inner.origin.session_id.as_deref()
    }

    /// The name of the transport carrying this session.
    pub fn transport(&self) -> &'static str {
        self.inner.origin.transport
    }

    /// The server this session belongs to.
    pub fn server(&self) -> &Server {
        &self.inner.server
    }

    /// Where messages not tied to a client request go.
    pub fn outbound(&self) -> &Outbound {
        &self.inner.outbound
    }

    /// The revision negotiated by `initialize`, once it was answered.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        lock(&self.inner.state).version
    }

    /// True once `initialize` was answered.
    pub fn is_initialized(&self) -> bool {
        lock(&self.inner.state).version.is_some()
    }

    /// The client's name and version from `initialize`.
    pub fn client_info(&self) -> Option<Implementation> {
        lock(&self.inner.state).client_info.as_deref().cloned()
    }

    /// The client's capabilities from `initialize`.
    pub fn client_capabilities(&self) -> Option<Value> {
        lock(&self.inner.state)
            .client_capabilities
            .as_deref()
            .cloned()
    }

    /// How many resources the client is subscribed to.
    pub fn subscription_count(&self) -> usize {
        lock(&self.inner.state).subscriptions.len()
    }

    /// What the next request of this session knows about its client: the negotiated revision,
    /// the `initialize` data, the log level (default `info`) and the caller's identity.
    pub fn envelope(&self) -> Envelope {
        let st = lock(&self.inner.state);
        Envelope::session(
            st.version.unwrap_or(ProtocolVersion::LATEST_SESSION),
            st.client_info.clone(),
            st.client_capabilities.clone(),
            st.log_level.unwrap_or(LoggingLevel::Info),
        )
        .with_identity(self.inner.identity.clone())
    }

    /// Handles one incoming message. Returns the work of answering it when it is a request.
    ///
    /// Call it in arrival order: state changes (initialization, cancellation, responses to
    /// server-to-client requests) take effect before this returns.
    pub fn receive(&self, message: Message, reply: &Outbound) -> Option<RequestFuture> {
        self.receive_from(message, reply, &Caller::default())
    }

    /// Like [`Session::receive`], for a message sent by `caller`: a request's handlers see
    /// the caller's identity (in place of the session's, when it has one) and exposed
    /// headers through their [`Context`](crate::Context). HTTP transports authenticate every
    /// message, so a refreshed credential's scopes reach the handlers at once.
    pub fn receive_from(
        &self,
        message: Message,
        reply: &Outbound,
        caller: &Caller,
    ) -> Option<RequestFuture> {
        match message {
            Message::Request(req) => {
                let to = reply.clone();
                Some(
                    self.answer(req, reply.clone(), caller.clone(), move |out| async move {
                        if let Some(out) = out {
                            let _ = to.send(out).await;
                        }
                    }),
                )
            }
            Message::Notification(n) => {
                self.notification(n);
                None
            }
            Message::Response(r) => {
                if let Some(id) = &r.id
                    && !self.inner.pending.resolve(id, r.outcome)
                {
                    tracing::debug!(target: "mcp::rpc", %id, "response to an unknown request id ignored");
                }
                None
            }
        }
    }

    /// Whether this session takes a parsed body at all: a batch is refused as a whole
    /// (-32600) unless the session negotiated 2025-03-26, and when it contains `initialize`.
    /// Transports call it before [`Session::receive_incoming`] to answer a refused body the way
    /// they answer one that did not parse; nothing of a refused body runs.
    pub fn check_incoming(&self, incoming: &Incoming) -> Result<(), ErrorObject> {
        let Incoming::Batch(items) = incoming else {
            return Ok(());
        };
        let refuse = |message: &str| Err(McpError::invalid_request(message).into_error_object());
        if !self
            .protocol_version()
            .is_some_and(ProtocolVersion::allows_batches)
        {
            return refuse(
                "JSON-RPC batches are accepted only on sessions that negotiated protocol version 2025-03-26",
            );
        }
        if items
            .iter()
            .any(|i| matches!(i, Ok(m) if m.method() == Some("initialize")))
        {
            return refuse("initialize must not be part of a JSON-RPC batch");
        }
        Ok(())
    }

    /// Handles a parsed body: a single message, or a batch (refused as a whole as
    /// [`Session::check_incoming`] says, the refusal then sent on `reply`). A batch's responses
    /// leave as one JSON array message on `reply`.
    pub fn receive_incoming(&self, incoming: Incoming, reply: &Outbound) -> Option<RequestFuture> {
        self.receive_incoming_from(incoming, reply, &Caller::default())
    }

    /// Like [`Session::receive_incoming`], for a body sent by `caller` (see
    /// [`Session::receive_from`]).
    pub fn receive_incoming_from(
        &self,
        incoming: Incoming,
        reply: &Outbound,
        caller: &Caller,
    ) -> Option<RequestFuture> {
        if let Err(error) = self.check_incoming(&incoming) {
            let out = Outgoing::orphan_error(jsonrpc::error_bytes(None, &error));
            let reply = reply.clone();
            return Some(Box::pin(async move {
                let _ = reply.send(out).await;
            }));
        }
        let items = match incoming {
            Incoming::Single(m) => return self.receive_from(m, reply, caller),
            Incoming::Batch(items) => items,
        };
        let mut answers: Vec<Pin<Box<dyn Future<Output = Option<Outgoing>> + Send>>> = Vec::new();
        for item in items {
            match item {
                Ok(Message::Request(req)) => {
                    answers.push(self.answer(
                        req,
                        reply.clone(),
                        caller.clone(),
                        std::future::ready,
                    ));
                }
                Ok(other) => {
                    let _ = self.receive(other, reply);
                }
                Err(resp) => {
                    let json = jsonrpc::response_bytes(&resp);
                    answers.push(Box::pin(async move { Some(Outgoing::orphan_error(json)) }));
                }
            }
        }
        if answers.is_empty() {
            return None;
        }
        let reply = reply.clone();
        Some(Box::pin(async move {
            let outs = futures_util::future::join_all(answers).await;
            let parts: Vec<Bytes> = outs.into_iter().flatten().map(|o| o.json).collect();
            if parts.is_empty() {
                return;
            }
            let mut buf = BytesMut::new();
            buf.put_u8(b'[');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                buf.put_slice(p);
            }
            buf.put_u8(b']');
            let _ = reply.send(Outgoing::orphan_error(buf.freeze())).await;
        }))
    }

    /// Handles one incoming message and, for a request, runs it to completion.
    pub async fn handle(&self, message: Message, reply: &Outbound) {
        if let Some(fut) = self.receive(message, reply) {
            fut.await;
        }
    }

    /// Ends the session: cancels in-flight requests and fails pending server-to-client requests.
    pub fn close(&self) {
        self.inner.closed.cancel();
        let in_flight: Vec<Cancel> = lock(&self.inner.in_flight).values().cloned().collect();
        for c in in_flight {
            c.cancel();
        }
        self.inner.pending.clear();
    }

    /// True once [`Session::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    /// Resolves when the session is closed.
    pub async fn closed(&self) {
        self.inner.closed.cancelled().await;
    }

    /// Prepares the answer to a request: registers it as in flight (so a later cancellation
    /// finds it) and returns the work producing its response (`None` when the request was
    /// cancelled before it was answered), handed to `finish`. A refused request (its id already
    /// in flight, too many in flight) is answered with its error at once.
    ///
    /// The work is boxed here, where it is made, and `finish` runs inside it: its (large)
    /// state is moved once.
    fn answer<T, F>(
        &self,
        req: Request,
        reply: Outbound,
        caller: Caller,
        finish: impl FnOnce(Option<Outgoing>) -> F + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let cancel = Cancel::default();
        let refused = {
            let mut in_flight = lock(&self.inner.in_flight);
            let held = in_flight.len();
            match in_flight.entry(req.id.clone()) {
                std::collections::hash_map::Entry::Occupied(_) => Some(format!(
                    "request id {} is already in use by a request in flight",
                    req.id
                )),
                std::collections::hash_map::Entry::Vacant(place) => {
                    let max = self.inner.server.max_in_flight();
                    if held >= max {
                        Some(format!(
                            "too many requests in flight on this session (limit {max}): wait for answers before sending more"
                        ))
                    } else {
                        place.insert(cancel.clone());
                        None
                    }
                }
            }
        };
        if let Some(message) = refused {
            let err = McpError::invalid_request(message);
            let json = jsonrpc::error_bytes(Some(&req.id), &err.into_error_object());
            return Box::pin(finish(Some(Outgoing::response(req.id, json))));
        }
        // `close` marks the session closed before it cancels what is in flight.
        if self.is_closed() {
            cancel.cancel();
        }
        // Initialization state changes now, in arrival order.
        let early = self.precheck(&req);
        let session = self.clone();
        Box::pin(async move {
            let id = req.id.clone();
            let span = tracing::debug_span!(
                target: "mcp::rpc",
                "request",
                session_id = session.id(),
                %id,
                method = %jsonrpc::clip(&req.method, jsonrpc::ECHO_MAX),
                tool = tracing::field::Empty,
            );
            let mut work = pin!(
                async {
                    let stack = session.inner.server.middleware();
                    if stack.is_empty() {
                        return match early {
                            Some(r) => r,
                            None => session.run(req, &reply, &cancel, &caller).await,
                        };
                    }
                    let request = McpRequest::new(
                        req,
                        session.envelope().with_caller(&caller),
                        session.transport(),
                        session.inner.origin.session_id.clone(),
                    );
                    let (session, reply, cancel, caller) = (&session, &reply, &cancel, &caller);
                    run_request(
                        stack,
                        request,
                        move |r: McpRequest| -> BoxFuture<'_, Outcome> {
                            match early {
                                Some(out) => Box::pin(std::future::ready(out)),
                                None => Box::pin(session.run(r.request, reply, cancel, caller)),
                            }
                        },
                    )
                    .await
                }
                .instrument(span)
            );
            // Waiting for the cancellation registers a waiter: only done once the work is
            // actually waiting.
            let mut stop = pin!(cancel.cancelled());
            let outcome = std::future::poll_fn(|cx| {
                if cancel.is_cancelled() {
                    return Poll::Ready(None);
                }
                if let Poll::Ready(r) = work.as_mut().poll(cx) {
                    return Poll::Ready(Some(r));
                }
                stop.as_mut().poll(cx).map(|()| None)
            })
            .await;
            {
                // The id may already name a newer request (after a cancellation): only remove
                // this one's entry.
                let mut in_flight = lock(&session.inner.in_flight);
                if let Some(other) = in_flight.remove(&id)
                    && !other.same(&cancel)
                {
                    in_flight.insert(id.clone(), other);
                }
            }
            let out = outcome.map(|outcome| {
                let json = match outcome {
                    Ok(body) => body.response_bytes(&id),
                    Err(e) => jsonrpc::error_bytes(Some(&id), &e.into_error_object()),
                };
                Outgoing::response(id, json)
            });
            finish(out).await
        })
    }

    fn notification(&self, n: Notification) {
        match n.method.as_str() {
            "notifications/initialized" => {
                lock(&self.inner.state).initialized = true;
            }
            "notifications/cancelled" => {
                let id = crate::cancel::cancelled_request(&n);
                if let Some(id) = id
                    && let Some(token) = lock(&self.inner.in_flight).remove(&id)
                {
                    tracing::debug!(target: "mcp::rpc", %id, "request cancelled by the client");
                    token.cancel();
                }
            }
            other => {
                tracing::trace!(target: "mcp::rpc", method = %jsonrpc::clip(other, jsonrpc::ECHO_MAX), "notification ignored");
            }
        }
    }

    /// Checks done in arrival order, before the request runs: initialization and its ordering.
    /// Returns the answer when the request is settled here.
    fn precheck(&self, req: &Request) -> Option<Outcome> {
        match req.method.as_str() {
            "initialize" => Some(self.initialize(req.params.as_ref())),
            "ping" => None,
            _ if !self.is_initialized() => Some(Err(McpError::invalid_request(format!(
                "received {} before initialization: send initialize first",
                jsonrpc::clip(&req.method, jsonrpc::ECHO_MAX)
            )))),
            _ => None,
        }
    }

    fn initialize(&self, params: Option<&Value>) -> Outcome {
        let params = params.and_then(Value::as_object).ok_or_else(|| {
            McpError::invalid_params(
                "initialize needs params with protocolVersion, capabilities and clientInfo",
            )
        })?;
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                McpError::invalid_params("initialize: missing string \"protocolVersion\"")
            })?;
        let version = ProtocolVersion::negotiate(requested);
        let client_info = params
            .get("clientInfo")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .map(Arc::new);
        {
            let mut st = lock(&self.inner.state);
            if st.version.is_some() {
                return Err(McpError::invalid_request(
                    "the session is already initialized; open a new session to initialize again",
                ));
            }
            st.version = Some(version);
            st.client_info = client_info;
            st.client_capabilities = params.get("capabilities").cloned().map(Arc::new);
        }
        Ok(dispatch::initialize_result(&self.inner.server, version))
    }

    /// Runs one request that passed [`Session::precheck`]: the session's own methods here,
    /// everything else through the dispatcher with the session's envelope.
    async fn run(
        &self,
        req: Request,
        reply: &Outbound,
        cancel: &Cancel,
        caller: &Caller,
    ) -> Outcome {
        match req.method.as_str() {
            "ping" => Ok(Body::Value(json!({}))),
            "resources/subscribe" | "resources/unsubscribe" => {
                let p = params_object(req.params)?;
                let uri = str_param(&p, "uri")?;
                let mut st = lock(&self.inner.state);
                if req.method == "resources/subscribe" {
                    let version = st.version.unwrap_or(ProtocolVersion::LATEST_SESSION);
                    let server = &self.inner.server;
                    crate::subscriptions::check(
                        server.subscription_limits(),
                        |uri| server.resolves_resource(uri),
                        &st.subscriptions,
                        uri,
                        version,
                    )?;
                    st.subscriptions.insert(uri.to_owned());
                } else {
                    st.subscriptions.remove(uri);
                    self.inner.backlog.forget(uri);
                }
                Ok(Body::Value(json!({})))
            }
            "logging/setLevel" => {
                let p = params_object(req.params)?;
                let level: LoggingLevel = p
                    .get("level")
                    .cloned()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .ok_or_else(|| {
                        McpError::invalid_params(
                            "logging/setLevel needs \"level\": one of debug, info, notice, warning, error, critical, alert, emergency",
                        )
                    })?;
                lock(&self.inner.state).log_level = Some(level);
                Ok(Body::Value(json!({})))
            }
            _ => {
                let call = Call {
                    server: &self.inner.server,
                    envelope: self.envelope().with_caller(caller),
                    origin: &self.inner.origin,
                    reply,
                    cancel,
                };
                dispatch::dispatch(&call, req).await
            }
        }
    }
}
