//! An in-memory client connected to a [`Server`], for tests: it speaks to the server exactly as
//! a client over a real transport would (initialize, list, call, receive notifications, answer
//! server-to-client requests), with no sockets.
//!
//! ```
//! use mcp_core::{Server, Tool, CallToolResult, Content};
//! use mcp_core::transport::memory::MemoryClient;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder("demo", "1.0")
//!     .tool(Tool::new("hello", |_ctx, _args| async {
//!         Ok(CallToolResult::success(vec![Content::text("hi")]))
//!     }).description("Say hi"))
//!     .build()
//!     .unwrap();
//! let client = MemoryClient::connect(&server);
//! client.initialize().await.unwrap();
//! let result = client.call_tool("hello", serde_json::json!({})).await.unwrap();
//! assert_eq!(result["content"][0]["text"], "hi");
//! # });
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::jsonrpc::{self, ErrorObject, Message, RequestId, Response};
use crate::outbound::{Outbound, OutboundReceiver};
use crate::session::Session;
use crate::session::SessionOptions;
use crate::shared::Server;

type Responder = Arc<dyn Fn(&str, Option<Value>) -> Result<Value, ErrorObject> + Send + Sync>;
type PendingMap = Arc<Mutex<HashMap<RequestId, oneshot::Sender<Result<Value, ErrorObject>>>>>;

/// How many notifications the client buffers before it drops the oldest.
const NOTIFICATION_BUFFER: usize = 4096;
/// How many raw messages the client records for inspection.
const RECORD_LIMIT: usize = 10_000;

/// An in-memory MCP client bound to one server session.
pub struct MemoryClient {
    session: Session,
    outbound: Outbound,
    next_id: AtomicI64,
    pending: PendingMap,
    notifications: tokio::sync::Mutex<mpsc::Receiver<Value>>,
    responder: Arc<Mutex<Option<Responder>>>,
    recorded: Arc<Mutex<Vec<Value>>>,
    capabilities: Mutex<Value>,
}

impl std::fmt::Debug for MemoryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryClient").finish_non_exhaustive()
    }
}

impl MemoryClient {
    /// Opens a session on `server`. Must be called inside a tokio runtime.
    pub fn connect(server: &Server) -> MemoryClient {
        Self::open(server, None)
    }

    /// Opens a session on `server` authenticated as `identity`, as an HTTP transport does for a
    /// bearer token: handlers and middleware see it through `identity()`. Must be called
    /// inside a tokio runtime.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use mcp_core::transport::memory::MemoryClient;
    /// let server = mcp_core::Server::builder("demo", "1.0").auto_collect(false).build().unwrap();
    /// let client = MemoryClient::connect_as(&server, mcp_core::Identity::new("alice"));
    /// client.initialize().await.unwrap();
    /// # });
    /// ```
    pub fn connect_as(server: &Server, identity: crate::Identity) -> MemoryClient {
        Self::open(server, Some(identity))
    }

    fn open(server: &Server, identity: Option<crate::Identity>) -> MemoryClient {
        let (outbound, rx) = Outbound::channel(1024);
        let mut options = SessionOptions::new(outbound.clone())
            .id("in-memory")
            .transport("memory");
        if let Some(identity) = identity {
            options = options.identity(identity);
        }
        let session = server.session(options);
        let pending: PendingMap = Arc::default();
        let responder: Arc<Mutex<Option<Responder>>> = Arc::default();
        let recorded: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (ntx, nrx) = mpsc::channel(NOTIFICATION_BUFFER);
        tokio::spawn(route(
            rx,
            session.clone(),
            outbound.clone(),
            pending.clone(),
            ntx,
            responder.clone(),
            recorded.clone(),
        ));
        MemoryClient {
            session,
            outbound,
            next_id: AtomicI64::new(1),
            pending,
            notifications: tokio::sync::Mutex::new(nrx),
            responder,
            recorded,
            capabilities: Mutex::new(json!({})),
        }
    }

    /// The server-side session (for inspecting its state in tests).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sets the capabilities sent by [`MemoryClient::initialize`] (default `{}`).
    pub fn with_capabilities(self, capabilities: Value) -> Self {
        *self.capabilities.lock().unwrap_or_else(|e| e.into_inner()) = capabilities;
        self
    }

    /// Answers server-to-client requests (sampling, elicitation, roots) with `f`. Without a
    /// responder they are answered with a -32601 error.
    pub fn on_request<F>(&self, f: F)
    where
        F: Fn(&str, Option<Value>) -> Result<Value, ErrorObject> + Send + Sync + 'static,
    {
        *self.responder.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(f));
    }

    /// Initializes at the latest revision and sends `notifications/initialized`.
    pub async fn initialize(&self) -> Result<Value, ErrorObject> {
        self.initialize_with(crate::ProtocolVersion::LATEST.as_str())
            .await
    }

    /// Initializes asking for `protocol_version` and sends `notifications/initialized`.
    pub async fn initialize_with(&self, protocol_version: &str) -> Result<Value, ErrorObject> {
        let caps = self
            .capabilities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let result = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": protocol_version,
                    "capabilities": caps,
                    "clientInfo": { "name": "mcp-core-memory-client", "version": env!("CARGO_PKG_VERSION") }
                }),
            )
            .await?;
        self.notify("notifications/initialized", None).await;
        Ok(result)
    }

    /// Sends a request and waits for its result or error.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        let id = RequestId::Int(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.request_with_id(id, method, params).await
    }

    /// Sends a request with a chosen id and waits for its result or error.
    pub async fn request_with_id(
        &self,
        id: RequestId,
        method: &str,
        params: Value,
    ) -> Result<Value, ErrorObject> {
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let params = (!params.is_null()).then_some(params);
        let msg = Message::Request(jsonrpc::Request {
            id,
            method: method.to_owned(),
            params,
        });
        self.session.handle(msg, &self.outbound).await;
        rx.await.unwrap_or_else(|_| {
            Err(ErrorObject::new(
                jsonrpc::code::INTERNAL_ERROR,
                "no response: the request was cancelled or the session closed",
            ))
        })
    }

    /// Sends a request without waiting; returns its id (to cancel it, for example).
    pub fn start_request(
        &self,
        method: &str,
        params: Value,
    ) -> (RequestId, oneshot::Receiver<Result<Value, ErrorObject>>) {
        let id = RequestId::Int(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let msg = Message::Request(jsonrpc::Request {
            id: id.clone(),
            method: method.to_owned(),
            params: (!params.is_null()).then_some(params),
        });
        if let Some(fut) = self.session.receive(msg, &self.outbound) {
            tokio::spawn(fut);
        }
        (id, rx)
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, params: Option<Value>) {
        let msg = Message::Notification(jsonrpc::Notification {
            method: method.to_owned(),
            params,
        });
        self.session.handle(msg, &self.outbound).await;
    }

    /// Sends raw bytes as a transport would (parse, then dispatch); parse errors are answered
    /// like any other message and can be read from [`MemoryClient::recorded`].
    pub async fn send_raw(&self, body: &[u8]) {
        match jsonrpc::parse(body, &self.session.server().parse_limits()) {
            Ok(incoming) => {
                if let Some(fut) = self.session.receive_incoming(incoming, &self.outbound) {
                    fut.await;
                }
            }
            Err(e) => {
                let _ = self
                    .outbound
                    .send(crate::Outgoing::orphan_error(jsonrpc::response_bytes(
                        &e.response(),
                    )))
                    .await;
            }
        }
    }

    /// `tools/list`.
    pub async fn list_tools(&self) -> Result<Value, ErrorObject> {
        self.request("tools/list", json!({})).await
    }

    /// `tools/call`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<Value, ErrorObject> {
        self.request(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<Value, ErrorObject> {
        self.request("resources/read", json!({ "uri": uri })).await
    }

    /// `prompts/get`.
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<Value, ErrorObject> {
        self.request(
            "prompts/get",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }

    /// The next notification from the server (waits for one).
    pub async fn next_notification(&self) -> Option<Value> {
        self.notifications.lock().await.recv().await
    }

    /// Notifications already received, without waiting.
    pub async fn drain_notifications(&self) -> Vec<Value> {
        let mut rx = self.notifications.lock().await;
        let mut out = Vec::new();
        while let Ok(n) = rx.try_recv() {
            out.push(n);
        }
        out
    }

    /// Every message the server sent so far (up to the last 10,000), as JSON values.
    pub fn recorded(&self) -> Vec<Value> {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Closes the session.
    pub fn close(&self) {
        self.session.close();
    }
}

impl Drop for MemoryClient {
    fn drop(&mut self) {
        self.session.close();
    }
}

async fn route(
    mut rx: OutboundReceiver,
    session: Session,
    outbound: Outbound,
    pending: PendingMap,
    notifications: mpsc::Sender<Value>,
    responder: Arc<Mutex<Option<Responder>>>,
    recorded: Arc<Mutex<Vec<Value>>>,
) {
    let weak_session = session.downgrade();
    drop(session);
    drop(outbound);
    while let Some(out) = rx.recv().await {
        let Ok(value) = serde_json::from_slice::<Value>(&out.json) else {
            continue;
        };
        {
            let mut rec = recorded.lock().unwrap_or_else(|e| e.into_inner());
            if rec.len() >= RECORD_LIMIT {
                rec.remove(0);
            }
            rec.push(value.clone());
        }
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            let Ok(msg) = jsonrpc::from_value(item.clone()) else {
                continue;
            };
            match msg {
                Message::Response(Response {
                    id: Some(id),
                    outcome,
                }) => {
                    if let Some(tx) = pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&id)
                    {
                        let _ = tx.send(outcome);
                    }
                }
                Message::Response(_) => {}
                Message::Notification(_) => {
                    let _ = notifications.try_send(item);
                }
                Message::Request(req) => {
                    let Some(session) = weak_session.upgrade() else {
                        return;
                    };
                    let f = responder.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let outcome = match f {
                        Some(f) => f(&req.method, req.params),
                        None => Err(ErrorObject::new(
                            jsonrpc::code::METHOD_NOT_FOUND,
                            format!("the in-memory client has no handler for {}", req.method),
                        )),
                    };
                    let reply = Message::Response(Response {
                        id: Some(req.id),
                        outcome,
                    });
                    let out = session.outbound().clone();
                    session.handle(reply, &out).await;
                }
            }
        }
    }
}
