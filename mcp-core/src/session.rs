//! A session: one client's protocol state (negotiated revision, client info, log level,
//! subscriptions, in-flight requests), fed by a transport.
//!
//! A transport calls [`Session::receive`] for every incoming message, in arrival order.
//! Notifications and responses are handled at once; a request returns a [`RequestFuture`] that
//! the transport spawns (requests of one session run concurrently) or awaits. Every message
//! about that request (progress, logs, server-to-client requests, the final response) goes to
//! the `reply` [`Outbound`] given with it, in order.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::context::Context;
use crate::error::{McpError, ToolError};
use crate::jsonrpc::{self, Message, Request, RequestId};
use crate::outbound::{Outbound, Outgoing};
use crate::protocol::JsonObject;
use crate::server::{Server, SessionOptions};
use crate::version::ProtocolVersion;

/// The work of answering one request; spawn it or await it.
pub type RequestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One client's protocol session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<SessionInner>,
}

pub(crate) struct SessionInner {
    pub(crate) server: Server,
    pub(crate) id: Option<String>,
    pub(crate) outbound: Outbound,
    pub(crate) version: Mutex<Option<ProtocolVersion>>,
    pub(crate) closed: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(server: Server, options: SessionOptions) -> Session {
        Session {
            inner: Arc::new(SessionInner {
                server,
                id: options.id,
                outbound: options.outbound,
                version: Mutex::new(None),
                closed: tokio_util::sync::CancellationToken::new(),
            }),
        }
    }

    /// The transport's id for this session, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The server this session belongs to.
    pub fn server(&self) -> &Server {
        &self.inner.server
    }

    /// The revision negotiated by `initialize`, once it was answered.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        *self.inner.version.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one incoming message. Returns the work of answering it when it is a request.
    pub fn receive(&self, message: Message, reply: &Outbound) -> Option<RequestFuture> {
        match message {
            Message::Request(req) => Some(self.request(req, reply.clone())),
            Message::Notification(_) | Message::Response(_) => None,
        }
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
    }

    /// True once [`Session::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    fn request(&self, req: Request, reply: Outbound) -> RequestFuture {
        let session = self.clone();
        Box::pin(async move {
            let id = req.id.clone();
            let outcome = session.dispatch(req, &reply).await;
            let json = match outcome {
                Ok(v) => jsonrpc::result_bytes(&id, &v),
                Err(e) => jsonrpc::error_bytes(Some(&id), &e.into_error_object()),
            };
            let _ = reply.send(Outgoing::response(id, json)).await;
        })
    }

    async fn dispatch(&self, req: Request, reply: &Outbound) -> Result<Value, McpError> {
        match req.method.as_str() {
            "initialize" => {
                let requested = req
                    .params
                    .as_ref()
                    .and_then(|p| p.get("protocolVersion"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let v = ProtocolVersion::negotiate(requested);
                *self.inner.version.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
                Ok(json!({
                    "protocolVersion": v,
                    "capabilities": { "tools": { "listChanged": true } },
                    "serverInfo": self.inner.server.info(),
                }))
            }
            "ping" => Ok(json!({})),
            "tools/list" => {
                let tools = self
                    .inner
                    .server
                    .inner
                    .tools
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                let list: Vec<Value> = tools
                    .iter()
                    .map(|t| {
                        json!({
                            "name": t.name,
                            "description": t.description,
                            "inputSchema": &*t.input_schema,
                        })
                    })
                    .collect();
                Ok(json!({ "tools": list }))
            }
            "tools/call" => {
                let params = req.params.unwrap_or(Value::Null);
                let name = params.get("name").and_then(Value::as_str).unwrap_or("");
                let args = params
                    .get("arguments")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let tool = {
                    let tools = self
                        .inner
                        .server
                        .inner
                        .tools
                        .read()
                        .unwrap_or_else(|e| e.into_inner());
                    tools.iter().find(|t| t.name == name).cloned()
                }
                .ok_or_else(|| McpError::invalid_params(format!("unknown tool: {name}")))?;
                let ctx = Context::new(self.clone(), req.id.clone(), reply.clone(), None);
                match tool.call(ctx, args).await {
                    Ok(r) => serde_json::to_value(r).map_err(|e| McpError::internal(e.to_string())),
                    Err(ToolError::Tool(t)) => Ok(serde_json::to_value(
                        crate::protocol::CallToolResult::error(t),
                    )
                    .unwrap_or_default()),
                    Err(ToolError::Protocol(e)) => Err(e),
                }
            }
            other => Err(McpError::method_not_found(other)),
        }
    }
}

#[allow(dead_code)]
fn _assert_send(s: Session, m: Message, o: Outbound) {
    fn is_send<T: Send>(_: T) {}
    is_send(s.receive(m, &o));
    let _: Option<&JsonObject> = None;
    let _: Option<RequestId> = None;
}
