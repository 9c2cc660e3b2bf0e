//! Middleware: code that runs around every request and every tool call, on every transport
//! (HTTP+SSE, Streamable HTTP, stateless requests, stdio, in-memory).
//!
//! A [`Middleware`] has two hooks, both passing the work on unchanged by default:
//!
//! * [`Middleware::request`] wraps each client request (`initialize`, `tools/list`,
//!   `tools/call`, ...), seeing its method, id, params and caller ([`McpRequest`]);
//! * [`Middleware::tool_call`] wraps each tool handler run, seeing the tool, its arguments (as
//!   sent; the schema check runs after the hooks, just before the handler) and its [`Context`]
//!   ([`ToolCall`]). It runs inside the tool's guard: its timeout covers the hooks and a panic
//!   in one is a failed call.
//!
//! A hook calls `next.run(..)` with the value it was given to go on, and may do anything before
//! and after (time it, log it), or return an error instead (reject it). What it was given has no
//! setters, and the answer of [`Next::run`] is opaque, so a middleware cannot change a request
//! or a result by accident; a tool-call hook that wants another result builds one explicitly.
//!
//! Middleware registered first runs outermost: with `.middleware(a).middleware(b)`, `a` sees
//! the request before `b` and the answer after it.
//!
//! ```
//! use mcp_core::middleware::{BoxFuture, Middleware, Next, McpRequest, Answer, ToolCall, NextTool};
//! use mcp_core::{CallToolResult, McpError, ToolError};
//!
//! /// Logs how long every request took.
//! struct Timing;
//!
//! impl Middleware for Timing {
//!     fn request<'a>(
//!         &'a self,
//!         request: McpRequest,
//!         next: Next<'a>,
//!     ) -> BoxFuture<'a, Result<Answer, McpError>> {
//!         Box::pin(async move {
//!             let method = request.method().to_owned();
//!             let started = std::time::Instant::now();
//!             let answer = next.run(request).await;
//!             tracing::info!(%method, elapsed_ms = started.elapsed().as_millis() as u64, ok = answer.is_ok());
//!             answer
//!         })
//!     }
//! }
//!
//! /// Refuses the tool `shutdown` to anyone but `admin`.
//! struct AdminOnly;
//!
//! impl Middleware for AdminOnly {
//!     fn tool_call<'a>(
//!         &'a self,
//!         call: ToolCall,
//!         next: NextTool<'a>,
//!     ) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
//!         let admin = call.context().identity().is_some_and(|i| i.subject() == "admin");
//!         if call.name() == "shutdown" && !admin {
//!             let e = McpError::invalid_params("permission denied: only admin may call \"shutdown\"");
//!             return Box::pin(async move { Err(ToolError::Protocol(e)) });
//!         }
//!         next.run(call)
//!     }
//! }
//!
//! let server = mcp_core::Server::builder("demo", "1.0")
//!     .auto_collect(false)
//!     .middleware(Timing)
//!     .middleware(AdminOnly)
//!     .build()
//!     .unwrap();
//! # let _ = server;
//! ```
//!
//! For a check that needs no `await`, [`before_tool_call`] and [`before_request`] make a
//! middleware of a closure.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{McpError, ToolError};
use crate::jsonrpc::{Request, RequestId};
use crate::outcome::{Body, Outcome};
use crate::protocol::{CallToolResult, JsonObject};
use crate::registry::Tool;
use crate::version::ProtocolVersion;

/// A boxed future borrowing for `'a`, the return type of the middleware hooks.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Code around every request and every tool call. Both hooks pass the work on unchanged unless
/// overridden; see the [module documentation](self).
pub trait Middleware: Send + Sync + 'static {
    /// Runs around one client request. Call `next.run(request)` to go on; return an error
    /// to answer the request with it instead (the client receives that JSON-RPC error).
    fn request<'a>(
        &'a self,
        request: McpRequest,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Answer, McpError>> {
        next.run(request)
    }

    /// Runs around one tool handler. Call `next.run(call)` to run the tool; return
    /// `Err(ToolError::Protocol(..))` to answer with a JSON-RPC error, or `Err(ToolError::Tool(..))`
    /// for a tool error result (`isError: true`) the model reads.
    fn tool_call<'a>(
        &'a self,
        call: ToolCall,
        next: NextTool<'a>,
    ) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
        next.run(call)
    }
}

/// The middleware of one server, outermost first.
pub(crate) type Stack = Arc<[Arc<dyn Middleware>]>;

/// One client request on its way to the dispatcher, read-only.
pub struct McpRequest {
    pub(crate) request: Request,
    envelope: Envelope,
    transport: &'static str,
    session_id: Option<Arc<str>>,
}

impl std::fmt::Debug for McpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpRequest")
            .field("method", &self.request.method)
            .field("id", &self.request.id)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl McpRequest {
    pub(crate) fn new(
        request: Request,
        envelope: Envelope,
        transport: &'static str,
        session_id: Option<Arc<str>>,
    ) -> Self {
        McpRequest {
            request,
            envelope,
            transport,
            session_id,
        }
    }

    /// The method, e.g. `tools/call`.
    pub fn method(&self) -> &str {
        &self.request.method
    }

    /// The request id.
    pub fn id(&self) -> &RequestId {
        &self.request.id
    }

    /// The params, as sent.
    pub fn params(&self) -> Option<&Value> {
        self.request.params.as_ref()
    }

    /// For `tools/call`, the name of the tool called.
    pub fn tool_name(&self) -> Option<&str> {
        (self.request.method == "tools/call")
            .then(|| self.params()?.get("name")?.as_str())
            .flatten()
    }

    /// What is known about the client: revision, capabilities, the caller's identity and the
    /// exposed headers.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Who is calling, when the transport authenticated the request.
    pub fn identity(&self) -> Option<&crate::Identity> {
        self.envelope.identity()
    }

    /// An exposed request header (HTTP transports, see `Builder::expose_headers`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.envelope.headers().get(name)
    }

    /// The protocol revision the request is served under (on a session not yet initialized,
    /// the newest session revision).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.envelope.protocol_version()
    }

    /// The transport's name (`"sse"`, `"streamable-http"`, `"stdio"`, ...).
    pub fn transport(&self) -> &'static str {
        self.transport
    }

    /// The session id, on transports with sessions that have one.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }
}

/// The answer to a request, as the dispatcher produced it. Opaque: a middleware passes it on
/// or answers with an error instead.
pub struct Answer(pub(crate) Body);

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer(..)")
    }
}

/// The rest of the request chain: the middleware registered later, then the dispatcher.
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    end: Box<dyn FnOnce(McpRequest) -> BoxFuture<'a, Outcome> + Send + 'a>,
}

impl<'a> Next<'a> {
    /// Runs the rest of the chain on `request`.
    pub fn run(self, request: McpRequest) -> BoxFuture<'a, Result<Answer, McpError>> {
        match self.rest.split_first() {
            Some((first, rest)) => first.request(
                request,
                Next {
                    rest,
                    end: self.end,
                },
            ),
            None => {
                let work = (self.end)(request);
                Box::pin(async move { work.await.map(Answer) })
            }
        }
    }
}

/// Runs `request` through `stack`, then `end`.
pub(crate) async fn run_request<'a>(
    stack: &'a [Arc<dyn Middleware>],
    request: McpRequest,
    end: impl FnOnce(McpRequest) -> BoxFuture<'a, Outcome> + Send + 'a,
) -> Outcome {
    let next = Next {
        rest: stack,
        end: Box::new(end),
    };
    next.run(request).await.map(|a| a.0)
}

/// One tool handler run, read-only: the tool, its arguments and its context.
pub struct ToolCall {
    tool: Arc<Tool>,
    arguments: JsonObject,
    context: Context,
}

impl std::fmt::Debug for ToolCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Arguments are the caller's data: not shown.
        f.debug_struct("ToolCall")
            .field("name", &self.tool.name)
            .finish_non_exhaustive()
    }
}

impl ToolCall {
    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// The tool as registered (annotations, scopes, meta).
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// The arguments, as the client sent them.
    pub fn arguments(&self) -> &JsonObject {
        &self.arguments
    }

    /// The handler's context: caller identity, headers, progress, logging, state.
    pub fn context(&self) -> &Context {
        &self.context
    }
}

/// The rest of the tool-call chain: the middleware registered later, then the tool.
pub struct NextTool<'a> {
    rest: &'a [Arc<dyn Middleware>],
}

impl<'a> NextTool<'a> {
    /// Runs the rest of the chain on `call`, the tool last.
    pub fn run(self, call: ToolCall) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
        match self.rest.split_first() {
            Some((first, rest)) => first.tool_call(call, NextTool { rest }),
            None => call.tool.call(call.context, call.arguments),
        }
    }
}

/// Runs `tool` with `ctx` and `args` through `stack`.
pub(crate) fn run_tool(
    stack: &Stack,
    tool: Arc<Tool>,
    ctx: Context,
    args: JsonObject,
) -> BoxFuture<'static, Result<CallToolResult, ToolError>> {
    if stack.is_empty() {
        return tool.call(ctx, args);
    }
    let stack = stack.clone();
    Box::pin(async move {
        let call = ToolCall {
            tool,
            arguments: args,
            context: ctx,
        };
        NextTool { rest: &stack }.run(call).await
    })
}

/// A middleware that checks every tool call with `check` before the tool runs; an `Err` is the
/// answer instead.
///
/// ```
/// use mcp_core::middleware::before_tool_call;
/// use mcp_core::{McpError, ToolError};
///
/// let read_only = before_tool_call(|call| {
///     let ok = call.tool().annotation_hints().is_some_and(|a| a.read_only_hint == Some(true));
///     if ok {
///         Ok(())
///     } else {
///         Err(ToolError::Protocol(McpError::invalid_params(format!(
///             "permission denied: {:?} is not read-only", call.name()
///         ))))
///     }
/// });
/// let server = mcp_core::Server::builder("demo", "1.0").middleware(read_only).build();
/// # let _ = server;
/// ```
pub fn before_tool_call<F>(check: F) -> impl Middleware
where
    F: Fn(&ToolCall) -> Result<(), ToolError> + Send + Sync + 'static,
{
    BeforeToolCall(check)
}

struct BeforeToolCall<F>(F);

impl<F> Middleware for BeforeToolCall<F>
where
    F: Fn(&ToolCall) -> Result<(), ToolError> + Send + Sync + 'static,
{
    fn tool_call<'a>(
        &'a self,
        call: ToolCall,
        next: NextTool<'a>,
    ) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
        match (self.0)(&call) {
            Ok(()) => next.run(call),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

/// A middleware that checks every request with `check` before it runs; an `Err` is the answer
/// (a JSON-RPC error) instead.
///
/// ```
/// use mcp_core::middleware::before_request;
/// use mcp_core::McpError;
///
/// let no_prompts = before_request(|req| match req.method() {
///     "prompts/get" => Err(McpError::invalid_request("prompts are disabled here")),
///     _ => Ok(()),
/// });
/// let server = mcp_core::Server::builder("demo", "1.0").middleware(no_prompts).build();
/// # let _ = server;
/// ```
pub fn before_request<F>(check: F) -> impl Middleware
where
    F: Fn(&McpRequest) -> Result<(), McpError> + Send + Sync + 'static,
{
    BeforeRequest(check)
}

struct BeforeRequest<F>(F);

impl<F> Middleware for BeforeRequest<F>
where
    F: Fn(&McpRequest) -> Result<(), McpError> + Send + Sync + 'static,
{
    fn request<'a>(
        &'a self,
        request: McpRequest,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Answer, McpError>> {
        match (self.0)(&request) {
            Ok(()) => next.run(request),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}
