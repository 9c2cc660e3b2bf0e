//! The stateless revision (2026-07-28): one request at a time, the client's state carried by
//! the request's own `_meta`, no session. A transport hands each such request to
//! [`Server::serve_stateless`]; every message about it (progress, logs, the final response)
//! goes to the `reply` [`Outbound`] given with it, and the response is the last.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use serde_json::Value;
use tracing::Instrument;

use crate::caller::{Caller, Identity, RequestHeaders};
use crate::cancel::Cancel;
use crate::context::{ClientLink, Origin};
use crate::dispatch::{self, Call};
use crate::envelope::{Envelope, RequestMeta};
use crate::error::McpError;
use crate::jsonrpc::{self, Request, RequestId};
use crate::middleware::{BoxFuture, McpRequest, run_request};
use crate::outbound::{Outbound, Outgoing};
use crate::session::RequestFuture;
use crate::shared::Server;

/// The methods a client may call on the stateless revision. Anything else (including the
/// session methods `initialize`, `ping`, `logging/setLevel`, `resources/subscribe` and
/// `resources/unsubscribe`) is answered with -32601.
pub const STATELESS_METHODS: &[&str] = &[
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
];

/// How a transport hands one stateless request over.
#[derive(Debug, Clone)]
pub struct StatelessOptions {
    /// The transport's name (`"streamable-http"`, `"stdio"`, ...), exposed through
    /// `Context::transport`.
    pub transport: &'static str,
    /// Who is calling, when the transport authenticated the request, and the request headers
    /// handlers may read (`Context::header`).
    pub caller: Caller,
    /// The request's `params._meta`, when the transport took it out of the params as text
    /// ([`jsonrpc::parse_stateless`]); `None` reads it from the params.
    pub meta: Option<RequestMeta>,
}

impl StatelessOptions {
    /// Options for a transport called `transport`, with no identity.
    pub fn new(transport: &'static str) -> Self {
        StatelessOptions {
            transport,
            caller: Caller::new(),
            meta: None,
        }
    }

    /// Sets the request's `params._meta` taken out of its params as text
    /// ([`jsonrpc::parse_stateless`]); the request's params then have no `_meta`.
    pub fn meta(mut self, meta: Option<RequestMeta>) -> Self {
        self.meta = meta;
        self
    }

    /// Sets who is calling.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.caller = std::mem::take(&mut self.caller).with_identity(identity);
        self
    }

    /// Sets the request headers handlers may read.
    pub fn headers(mut self, headers: RequestHeaders) -> Self {
        self.caller = std::mem::take(&mut self.caller).with_headers(headers);
        self
    }

    /// Sets both from what the transport learned about the sender (shared, not copied).
    pub fn caller(mut self, caller: &Caller) -> Self {
        self.caller = caller.clone();
        self
    }
}

/// A stateless request refused before it ran: its `_meta` is malformed (-32602), names a
/// revision not served (-32022), or its method does not exist on the revision (-32601). On
/// HTTP the first two are `400 Bad Request`, the last `404 Not Found`.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The id of the refused request.
    pub id: RequestId,
    /// Why it was refused.
    pub error: McpError,
}

impl Rejection {
    /// The JSON-RPC error response to send.
    pub fn outgoing(&self) -> Outgoing {
        let json = jsonrpc::error_bytes(Some(&self.id), &self.error.to_error_object());
        Outgoing::error(self.id.clone(), json, self.error.code())
    }
}

impl Server {
    /// Serves one request of the stateless revision: validates its `_meta` and method at once
    /// (a [`Rejection`] when they fail), then returns the work of answering it. The work sends
    /// the request's notifications and, last, its response to `reply`; spawn it or await it.
    /// Dropping it, or closing `reply`'s receiver, cancels the request.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use mcp_core::{Outbound, Server};
    /// use mcp_core::stateless::StatelessOptions;
    ///
    /// let server = Server::builder("demo", "1.0").build().unwrap();
    /// let request = serde_json::json!({
    ///     "jsonrpc": "2.0", "id": 1, "method": "tools/list",
    ///     "params": { "_meta": {
    ///         "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    ///         "io.modelcontextprotocol/clientCapabilities": {}
    ///     } }
    /// });
    /// let mcp_core::jsonrpc::Message::Request(request) = mcp_core::jsonrpc::from_value(request).unwrap()
    /// else { unreachable!() };
    /// let (reply, mut rx) = Outbound::channel(16);
    /// let work = server
    ///     .serve_stateless(request, StatelessOptions::new("custom"), reply)
    ///     .unwrap();
    /// work.await;
    /// let response: serde_json::Value = serde_json::from_slice(&rx.recv().await.unwrap().json).unwrap();
    /// assert_eq!(response["result"]["tools"], serde_json::json!([]));
    /// # });
    /// ```
    pub fn serve_stateless(
        &self,
        request: Request,
        options: StatelessOptions,
        reply: Outbound,
    ) -> Result<RequestFuture, Rejection> {
        self.serve_stateless_with(request, options, reply, Cancel::default())
    }

    /// [`Server::serve_stateless`] with a cancellation the transport controls (stdio's
    /// `notifications/cancelled`).
    pub(crate) fn serve_stateless_with(
        &self,
        request: Request,
        options: StatelessOptions,
        reply: Outbound,
        cancel: Cancel,
    ) -> Result<RequestFuture, Rejection> {
        let envelope = match prepare(&request, options.meta) {
            Ok(e) => e.with_caller(&options.caller),
            Err(error) => {
                return Err(Rejection {
                    id: request.id,
                    error,
                });
            }
        };
        let server = self.clone();
        let origin = Origin {
            transport: options.transport,
            session_id: None,
            client: ClientLink::None,
            state: self.state_map(),
        };
        Ok(Box::pin(async move {
            let stack = server.middleware();
            let (envelope, request) = if stack.is_empty() {
                (envelope, request)
            } else {
                whole(envelope, request)
            };
            let id = request.id.clone();
            let span = tracing::debug_span!(
                target: "mcp::rpc",
                "request",
                %id,
                method = %request.method,
                protocol_version = envelope.protocol_version().as_str(),
                tool = tracing::field::Empty,
            );
            let call = Call {
                server: &server,
                envelope,
                origin: &origin,
                reply: &reply,
                cancel: &cancel,
            };
            let mut work = pin!(
                async {
                    if stack.is_empty() {
                        return dispatch::dispatch(&call, request).await;
                    }
                    let request =
                        McpRequest::new(request, call.envelope.clone(), origin.transport, None);
                    let call = &call;
                    run_request(stack, request, move |r: McpRequest| -> BoxFuture<'_, _> {
                        Box::pin(dispatch::dispatch(call, r.request))
                    })
                    .await
                }
                .instrument(span)
            );
            let mut stop = pin!(async {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = reply.closed() => {}
                }
            });
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
            let Some(outcome) = outcome else {
                cancel.cancel();
                return;
            };
            let answer = match outcome {
                Ok(body) => Outgoing::response(id.clone(), body.response_bytes(&id)),
                Err(e) => {
                    let code = e.code();
                    let json = jsonrpc::error_bytes(Some(&id), &e.into_error_object());
                    Outgoing::error(id, json, code)
                }
            };
            let _ = reply.send(answer).await;
        }))
    }
}

/// The request as middleware sees it: whole, its `_meta` back in its params when the transport
/// read it apart, and the envelope no longer holding it (middleware may change the params, so
/// nothing is read from the request's text any more).
fn whole(envelope: Envelope, mut request: Request) -> (Envelope, Request) {
    if let Some(meta) = envelope.meta_tree()
        && let Some(Value::Object(p)) = &mut request.params
    {
        p.insert("_meta".into(), Value::Object(meta));
        return (envelope.without_request_meta(), request);
    }
    (envelope, request)
}

/// The envelope of a stateless request, after checking that its method exists: read from
/// `meta` when the transport kept it as text, from the params otherwise.
fn prepare(request: &Request, meta: Option<RequestMeta>) -> Result<Envelope, McpError> {
    let envelope = match meta {
        Some(meta) => Envelope::from_request_meta(meta)?,
        None => Envelope::from_meta(
            request
                .params
                .as_ref()
                .and_then(|p| p.get("_meta"))
                .and_then(Value::as_object),
        )?,
    };
    if !STATELESS_METHODS.contains(&request.method.as_str()) {
        return Err(McpError::method_not_found(&request.method));
    }
    Ok(envelope)
}
