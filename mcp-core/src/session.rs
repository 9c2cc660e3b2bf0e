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
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::future::Either;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::cancel::Cancel;
use crate::error::McpError;
use crate::jsonrpc::{self, ErrorObject, Incoming, Message, Notification, Request, RequestId};
use crate::outbound::{Outbound, Outgoing};
use crate::protocol::{Implementation, LoggingLevel};
use crate::server::{Server, SessionOptions};
use crate::version::ProtocolVersion;

/// The work of answering one request; spawn it or await it.
pub type RequestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One client's protocol session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<SessionInner>,
}

#[derive(Default)]
pub(crate) struct ProtocolState {
    pub(crate) version: Option<ProtocolVersion>,
    pub(crate) initialized: bool,
    pub(crate) client_info: Option<Implementation>,
    pub(crate) client_capabilities: Option<Value>,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) subscriptions: HashSet<String>,
}

type Pending = oneshot::Sender<Result<Value, ErrorObject>>;

pub(crate) struct SessionInner {
    pub(crate) server: Server,
    pub(crate) serial: u64,
    pub(crate) id: Option<String>,
    pub(crate) transport: &'static str,
    pub(crate) outbound: Outbound,
    pub(crate) state: Mutex<ProtocolState>,
    pub(crate) in_flight: Mutex<HashMap<RequestId, Cancel>>,
    pub(crate) pending: Mutex<HashMap<RequestId, Pending>>,
    pub(crate) next_request_id: AtomicI64,
    pub(crate) closed: CancellationToken,
}

impl Drop for SessionInner {
    fn drop(&mut self) {
        self.closed.cancel();
        self.server.forget_session(self.serial);
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    pub(crate) fn new(server: Server, options: SessionOptions, serial: u64) -> Session {
        Session {
            inner: Arc::new(SessionInner {
                server,
                serial,
                id: options.id,
                transport: options.transport,
                outbound: options.outbound,
                state: Mutex::new(ProtocolState::default()),
                in_flight: Mutex::new(HashMap::new()),
                pending: Mutex::new(HashMap::new()),
                next_request_id: AtomicI64::new(1),
                closed: CancellationToken::new(),
            }),
        }
    }

    /// The transport's id for this session, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The name of the transport carrying this session.
    pub fn transport(&self) -> &'static str {
        self.inner.transport
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
        lock(&self.inner.state).client_info.clone()
    }

    /// The client's capabilities from `initialize`.
    pub fn client_capabilities(&self) -> Option<Value> {
        lock(&self.inner.state).client_capabilities.clone()
    }

    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.inner.state).subscriptions.contains(uri)
    }

    pub(crate) fn log_level(&self) -> LoggingLevel {
        lock(&self.inner.state)
            .log_level
            .unwrap_or(LoggingLevel::Info)
    }

    /// Handles one incoming message. Returns the work of answering it when it is a request.
    ///
    /// Call it in arrival order: state changes (initialization, cancellation, responses to
    /// server-to-client requests) take effect before this returns.
    pub fn receive(&self, message: Message, reply: &Outbound) -> Option<RequestFuture> {
        match message {
            Message::Request(req) => {
                let answer = self.answer(req, reply.clone())?;
                let reply = reply.clone();
                Some(Box::pin(async move {
                    if let Some(out) = answer.await {
                        let _ = reply.send(out).await;
                    }
                }))
            }
            Message::Notification(n) => {
                self.notification(n);
                None
            }
            Message::Response(r) => {
                if let Some(id) = &r.id {
                    if let Some(tx) = lock(&self.inner.pending).remove(id) {
                        let _ = tx.send(r.outcome);
                    } else {
                        tracing::debug!(target: "mcp::rpc", %id, "response to an unknown request id ignored");
                    }
                }
                None
            }
        }
    }

    /// Handles a parsed body: a single message, or a batch (accepted only on a session that
    /// negotiated 2025-03-26, never containing `initialize`). A batch's responses leave as one
    /// JSON array message on `reply`.
    pub fn receive_incoming(&self, incoming: Incoming, reply: &Outbound) -> Option<RequestFuture> {
        let items = match incoming {
            Incoming::Single(m) => return self.receive(m, reply),
            Incoming::Batch(items) => items,
        };
        let refuse = |message: &str| -> Option<RequestFuture> {
            let out = Outgoing::orphan_error(jsonrpc::error_bytes(
                None,
                &McpError::invalid_request(message).into_error_object(),
            ));
            let reply = reply.clone();
            Some(Box::pin(async move {
                let _ = reply.send(out).await;
            }))
        };
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
        let mut answers: Vec<Pin<Box<dyn Future<Output = Option<Outgoing>> + Send>>> = Vec::new();
        for item in items {
            match item {
                Ok(Message::Request(req)) => {
                    if let Some(a) = self.answer(req, reply.clone()) {
                        answers.push(Box::pin(a));
                    }
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
        lock(&self.inner.pending).clear();
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
    /// finds it) and returns the future producing its response, or `None` if there is nothing
    /// to answer (the id is already in flight).
    fn answer(
        &self,
        req: Request,
        reply: Outbound,
    ) -> Option<impl Future<Output = Option<Outgoing>> + Send + 'static> {
        let refuse = |id: RequestId, message: String| {
            let err = McpError::invalid_request(message);
            let json = jsonrpc::error_bytes(Some(&id), &err.into_error_object());
            Some(Either::Left(std::future::ready(Some(Outgoing::response(
                id, json,
            )))))
        };
        let cancel = Cancel::default();
        {
            let mut in_flight = lock(&self.inner.in_flight);
            if in_flight.contains_key(&req.id) {
                let message = format!(
                    "request id {} is already in use by a request in flight",
                    req.id
                );
                return refuse(req.id, message);
            }
            let max = self.inner.server.inner.max_in_flight;
            if in_flight.len() >= max {
                let message = format!(
                    "too many requests in flight on this session (limit {max}): wait for answers before sending more"
                );
                return refuse(req.id, message);
            }
            in_flight.insert(req.id.clone(), cancel.clone());
        }
        // `close` marks the session closed before it cancels what is in flight.
        if self.is_closed() {
            cancel.cancel();
        }
        // Initialization state changes now, in arrival order.
        let early = crate::dispatch::precheck(self, &req);
        let session = self.clone();
        Some(Either::Right(async move {
            let id = req.id.clone();
            let span = tracing::debug_span!(
                target: "mcp::rpc",
                "request",
                session_id = session.id(),
                %id,
                method = %req.method,
                tool = tracing::field::Empty,
            );
            let mut work = pin!(
                async {
                    match early {
                        Some(r) => r,
                        None => crate::dispatch::dispatch(&session, req, &reply, &cancel).await,
                    }
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
                if in_flight.get(&id).is_some_and(|c| c.same(&cancel)) {
                    in_flight.remove(&id);
                }
            }
            let outcome = outcome?;
            let json = match outcome {
                Ok(raw) => jsonrpc::result_bytes(&id, &raw),
                Err(e) => jsonrpc::error_bytes(Some(&id), &e.into_error_object()),
            };
            Some(Outgoing::response(id, json))
        }))
    }

    fn notification(&self, n: Notification) {
        match n.method.as_str() {
            "notifications/initialized" => {
                lock(&self.inner.state).initialized = true;
            }
            "notifications/cancelled" => {
                let id = n
                    .params
                    .as_ref()
                    .and_then(|p| p.get("requestId"))
                    .cloned()
                    .and_then(|v| serde_json::from_value::<RequestId>(v).ok());
                if let Some(id) = id
                    && let Some(token) = lock(&self.inner.in_flight).remove(&id)
                {
                    tracing::debug!(target: "mcp::rpc", %id, "request cancelled by the client");
                    token.cancel();
                }
            }
            other => {
                tracing::trace!(target: "mcp::rpc", method = other, "notification ignored");
            }
        }
    }

    /// Sends a server-to-client request on `reply` and waits for the answer.
    pub(crate) async fn request_client(
        &self,
        method: &str,
        params: Value,
        reply: &Outbound,
    ) -> Result<Value, McpError> {
        let n = self.inner.next_request_id.fetch_add(1, Ordering::Relaxed);
        let id = RequestId::Str(format!("srv-{n}").into());
        let (tx, rx) = oneshot::channel();
        lock(&self.inner.pending).insert(id.clone(), tx);
        let json = jsonrpc::request_bytes(&id, method, Some(&params));
        if reply.send(Outgoing::request(json)).await.is_err() {
            lock(&self.inner.pending).remove(&id);
            return Err(McpError::internal("the client's stream is closed"));
        }
        let timeout = self.inner.server.inner.request_timeout;
        let result = tokio::select! {
            r = rx => r.map_err(|_| McpError::internal("the session ended before the client answered")),
            _ = tokio::time::sleep(timeout) => Err(McpError::internal(format!(
                "the client did not answer {method} within {} ms", timeout.as_millis()
            ))),
        };
        lock(&self.inner.pending).remove(&id);
        result?.map_err(McpError::from)
    }
}
