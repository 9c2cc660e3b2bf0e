//! Routing of client requests to the registry: one function per method.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::cache::CacheableMethod;
use crate::cancel::Cancel;
use crate::changes::ListKind;
use crate::context::{Context, Origin};
use crate::envelope::Envelope;
use crate::error::{McpError, ToolError};
use crate::jsonrpc::{ECHO_MAX, Request, clip};
use crate::mrtr::{Opening, Rounds};
use crate::outbound::Outbound;
use crate::protocol::{CallToolResult, Completion, JsonObject};
use crate::registry::{CompletionRequest, Tool};
use crate::shared::Server;
use crate::tasks::{TASKS_EXTENSION, TaskSupport};
use crate::version::ProtocolVersion;
use crate::wire;

pub(crate) use crate::outcome::{Body, Outcome};

/// One request on its way through the dispatcher, whichever era produced it: the server, what
/// is known about the client ([`Envelope`]), where the request comes from, and where its
/// messages go.
pub(crate) struct Call<'a> {
    pub(crate) server: &'a Server,
    pub(crate) envelope: Envelope,
    pub(crate) origin: &'a Origin,
    pub(crate) reply: &'a Outbound,
    pub(crate) cancel: &'a Cancel,
}

/// How a handler run ended: with its output, or waiting for the client's input (the
/// `InputRequiredResult` to answer with).
enum Ran<T> {
    Done(T),
    Input(Body),
}

impl Call<'_> {
    fn version(&self) -> ProtocolVersion {
        self.envelope.protocol_version()
    }

    /// The scopes the caller was granted; `None` when it was not authenticated (stdio,
    /// in-memory, HTTP without auth), which tool scopes do not restrict.
    fn granted_scopes(&self) -> Option<&[String]> {
        self.envelope.identity().map(|i| i.scopes())
    }

    /// On the stateless revision, the rounds of a request of `method` that may ask the client
    /// for input: its verified `requestState` and its `inputResponses`.
    ///
    /// A first round whose text the transport kept (the params are then exactly what it says;
    /// a middleware, which may change them, is handed the request rebuilt as a tree) has
    /// nothing to verify: its rounds are opened only if its handler needs them.
    fn rounds(&self, method: &'static str, p: &JsonObject) -> Result<Option<Opening>, McpError> {
        if !self.version().has_input_required() {
            return Ok(None);
        }
        let body = self.envelope.request_body();
        if body.is_some() && crate::mrtr::is_fresh(p) {
            return Ok(Some(Opening::Fresh(method)));
        }
        let caller = self.caller_key();
        Rounds::open(self.server.sealer(), method, p, body, caller.as_deref())
            .map(|r| Some(Opening::Open(Arc::new(r))))
    }

    /// Who is calling, as a key (see [`crate::mrtr::caller_key`]).
    fn caller_key(&self) -> Option<String> {
        crate::mrtr::caller_key(self.envelope.identity())
    }

    /// The server's identity as a JSON object, for results completed by hand.
    fn server_info_meta(&self) -> Option<Value> {
        serde_json::from_str::<Value>(self.server.server_info_meta().get()).ok()
    }

    /// Runs a handler, stopping it when it waits for input the client has not given yet;
    /// `rounds` is the handler's context when it has rounds. Callers pass the handler pinned
    /// where it is (`Pin<&mut _>`), so its state is not copied into this future and again
    /// into the rounds'.
    async fn run<T>(
        &self,
        rounds: Option<&Context>,
        handler: impl std::future::Future<Output = T>,
    ) -> Result<Ran<T>, McpError> {
        let Some(ctx) = rounds else {
            return Ok(Ran::Done(handler.await));
        };
        match ctx.rounds_slot().run(handler).await {
            Ok(out) => Ok(Ran::Done(out)),
            Err(waiting) => self.input_required(waiting).map(Ran::Input),
        }
    }

    /// The `InputRequiredResult` of a handler that asked the client for input.
    fn input_required(&self, rounds: &Rounds) -> Result<Body, McpError> {
        let mut m = rounds.input_required(self.server.sealer())?;
        if let Ok(info) = serde_json::from_str::<Value>(self.server.server_info_meta().get()) {
            m.insert("_meta".into(), info);
        }
        Ok(Body::Complete(Value::Object(m)))
    }

    fn context(&self, req: &Request, p: &JsonObject) -> Context {
        self.context_with_meta(req, request_meta(p))
    }

    /// [`Call::context`] with the request's `_meta` already taken out of its params.
    fn context_with_meta(&self, req: &Request, meta: Option<JsonObject>) -> Context {
        Context::new(
            self.envelope.clone(),
            self.origin.clone(),
            req.id.clone(),
            self.reply.clone(),
            meta,
            self.cancel.clone(),
        )
    }
}

pub(crate) fn params_object(params: Option<Value>) -> Result<JsonObject, McpError> {
    match params {
        None | Some(Value::Null) => Ok(JsonObject::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(McpError::invalid_params("params must be an object")),
    }
}

pub(crate) fn str_param<'a>(p: &'a JsonObject, key: &str) -> Result<&'a str, McpError> {
    p.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("missing string parameter {key:?}")))
}

fn request_meta(p: &JsonObject) -> Option<JsonObject> {
    p.get("_meta").and_then(Value::as_object).cloned()
}

/// The capabilities the server declares to a client of revision `version`.
pub(crate) fn server_capabilities(server: &Server, version: ProtocolVersion) -> Value {
    let reg = server.read();
    let mut caps = serde_json::Map::new();
    caps.insert("logging".into(), json!({}));
    caps.insert("tools".into(), json!({ "listChanged": true }));
    if !reg.resources.is_empty() || !reg.templates.is_empty() {
        caps.insert(
            "resources".into(),
            json!({ "subscribe": true, "listChanged": true }),
        );
    }
    if !reg.prompts.is_empty() {
        caps.insert("prompts".into(), json!({ "listChanged": true }));
    }
    if version.has_completions() && (!reg.prompts.is_empty() || !reg.templates.is_empty()) {
        caps.insert("completions".into(), json!({}));
    }
    if version.has_extensions_capability()
        && reg
            .tools
            .values()
            .any(|t| t.task_support != TaskSupport::Forbidden)
    {
        caps.insert("extensions".into(), json!({ TASKS_EXTENSION: {} }));
    }
    Value::Object(caps)
}

/// The server's name, version and (where the revision has titles) title.
pub(crate) fn server_info(server: &Server, version: ProtocolVersion) -> Value {
    let info = server.info();
    let mut server_info = json!({ "name": info.name, "version": info.version });
    if version.has_titles()
        && let Some(t) = &info.title
    {
        server_info["title"] = t.clone().into();
    }
    server_info
}

/// The `initialize` result for a session that negotiated `version`.
pub(crate) fn initialize_result(server: &Server, version: ProtocolVersion) -> Body {
    let mut result = json!({
        "protocolVersion": version,
        "capabilities": server_capabilities(server, version),
        "serverInfo": server_info(server, version),
    });
    if let Some(i) = server.instructions() {
        result["instructions"] = i.into();
    }
    Body::Value(result)
}

/// The `server/discover` result: every revision served (newest first), the capabilities and
/// the instructions.
fn discover(server: &Server, version: ProtocolVersion) -> Body {
    let supported: Vec<&str> = ProtocolVersion::ALL
        .iter()
        .rev()
        .map(|v| v.as_str())
        .collect();
    let mut result = json!({
        "supportedVersions": supported,
        "capabilities": server_capabilities(server, version),
    });
    if let Some(i) = server.instructions() {
        result["instructions"] = i.into();
    }
    Body::Value(result)
}

/// Runs one request whose envelope is known: the methods every revision shares, and those
/// of the stateless revision. Session methods (`initialize`, `ping`, `logging/setLevel`,
/// `resources/subscribe`) are the session's.
pub(crate) async fn dispatch(call: &Call<'_>, req: Request) -> Outcome {
    let v = call.version();
    let cache = match req.method.as_str() {
        "server/discover" => Some(CacheableMethod::Discover),
        _ => None,
    };
    let body = route(call, req).await?;
    if !v.has_result_type() {
        return Ok(body);
    }
    // Lists, reads and tool results are completed where they are built.
    Ok(match body {
        Body::Value(Value::Object(mut m)) => {
            let cache = cache.map(|c| call.server.cache_policy(c));
            wire::complete_result(&mut m, call.server.server_info_meta(), cache);
            Body::Value(Value::Object(m))
        }
        other => other,
    })
}

async fn route(call: &Call<'_>, req: Request) -> Outcome {
    let v = call.version();
    match req.method.as_str() {
        "tools/list" => list(call, ListKind::Tools, req.params),
        "resources/list" => list(call, ListKind::Resources, req.params),
        "resources/templates/list" => list(call, ListKind::Templates, req.params),
        "prompts/list" => list(call, ListKind::Prompts, req.params),
        "tools/call" => call_tool(call, req).await,
        "resources/read" => read_resource(call, req).await,
        "prompts/get" => get_prompt(call, req).await,
        "completion/complete" => complete(call, req).await,
        "server/discover" if v.has_subscriptions_listen() => Ok(discover(call.server, v)),
        "tasks/get" | "tasks/update" | "tasks/cancel" => {
            if !call.envelope.has_extension(TASKS_EXTENSION) {
                return Err(crate::tasks::extension_required());
            }
            let p = params_object(req.params)?;
            let owner = call.caller_key();
            let tasks = call.server.tasks();
            let out = match req.method.as_str() {
                "tasks/get" => tasks.get(&p, owner.as_deref()),
                "tasks/update" => tasks.update(&p, owner.as_deref()),
                _ => tasks.cancel(&p, owner.as_deref()),
            }?;
            Ok(Body::Value(out))
        }
        "subscriptions/listen" if v.has_subscriptions_listen() => {
            let p = params_object(req.params)?;
            crate::listen::listen(call.server, &req.id, &p, call.reply)
                .await
                .map(Body::Value)
        }
        other => Err(McpError::method_not_found(other)),
    }
}

/// True when a caller granted `granted` (`None`: not authenticated) may call `tool`: it has
/// every scope the tool requires.
pub(crate) fn may_call(tool: &Tool, granted: Option<&[String]>) -> bool {
    match granted {
        None => true,
        Some(g) => tool.required_scopes().iter().all(|s| g.contains(s)),
    }
}

/// Serves one page of a list from the cache, building and caching it on a miss. A caller
/// whose scopes hide some tools gets `tools/list` built for it (and not cached): only the
/// tools it may call, paged among themselves.
fn list(call: &Call<'_>, kind: ListKind, params: Option<Value>) -> Outcome {
    let (server, v) = (call.server, call.version());
    let granted = call.granted_scopes();
    let hides = kind == ListKind::Tools
        && granted.is_some()
        && server.read().tools.values().any(|t| !may_call(t, granted));
    let p = params_object(params)?;
    let start = match p.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => decode_cursor(c)
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor {c:?}")))?,
        Some(_) => return Err(McpError::invalid_params("cursor must be a string")),
    };
    let key = (kind, v, start);
    if !hides && let Some(hit) = server.cached_page(&key) {
        return Ok(Body::Raw(hit));
    }
    let page = server.page_size();
    let (field, items, total): (&str, Vec<Value>, usize) = {
        let reg = server.read();
        match kind {
            ListKind::Tools if hides => {
                let visible: Vec<&Arc<Tool>> = reg
                    .tools
                    .values()
                    .filter(|t| may_call(t, granted))
                    .collect();
                page_of("tools", visible.iter(), start, page, |t| wire::tool(t, v))
            }
            ListKind::Tools => page_of("tools", reg.tools.values(), start, page, |t| {
                wire::tool(t, v)
            }),
            ListKind::Resources => page_of("resources", reg.resources.values(), start, page, |r| {
                wire::resource(r, v)
            }),
            ListKind::Templates => page_of(
                "resourceTemplates",
                reg.templates.iter(),
                start,
                page,
                |t| wire::template(t, v),
            ),
            ListKind::Prompts => page_of("prompts", reg.prompts.values(), start, page, |p| {
                wire::prompt(p, v)
            }),
        }
    };
    if start > total {
        return Err(McpError::invalid_params(
            "cursor is past the end of the list",
        ));
    }
    let mut result = serde_json::Map::new();
    result.insert(field.into(), items.into());
    if start + page < total {
        result.insert("nextCursor".into(), encode_cursor(start + page).into());
    }
    if v.has_result_type() {
        let method = match kind {
            ListKind::Tools => CacheableMethod::ToolsList,
            ListKind::Resources => CacheableMethod::ResourcesList,
            ListKind::Templates => CacheableMethod::ResourceTemplatesList,
            ListKind::Prompts => CacheableMethod::PromptsList,
        };
        let cache = server.cache_policy(method);
        wire::complete_result(&mut result, server.server_info_meta(), Some(cache));
    }
    let raw: Arc<RawValue> = serde_json::value::to_raw_value(&result)
        .map_err(|e| McpError::internal(e.to_string()))?
        .into();
    if !hides {
        server.cache_page(key, raw.clone());
    }
    Ok(Body::Raw(raw))
}

/// One page of a list: its field name, the items from `start` (at most `page`), and how many
/// there are in all.
fn page_of<'a, T: 'a>(
    field: &'static str,
    items: impl ExactSizeIterator<Item = &'a T>,
    start: usize,
    page: usize,
    wire: impl Fn(&T) -> Value,
) -> (&'static str, Vec<Value>, usize) {
    let total = items.len();
    (
        field,
        items.skip(start).take(page).map(wire).collect(),
        total,
    )
}

const CURSOR_PREFIX: &str = "mcp-page-";

fn encode_cursor(offset: usize) -> String {
    format!("{CURSOR_PREFIX}{offset:x}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix(CURSOR_PREFIX)?, 16).ok()
}

/// How user code failed to produce its answer.
enum Failure {
    /// It panicked, with this message.
    Panic(String),
    /// It ran past its time and was cancelled (dropped).
    Timeout(std::time::Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(msg) => write!(f, "the handler panicked ({msg})"),
            Failure::Timeout(t) => write!(
                f,
                "the handler did not finish within {} ms and was cancelled",
                t.as_millis()
            ),
        }
    }
}

/// Runs user code for at most `limit`, turning a panic into an error instead of taking the
/// server down. Past the limit the handler's future is dropped, which cancels it.
async fn guarded<T>(
    what: &str,
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = T> + Send,
) -> Result<T, Failure> {
    let run = std::panic::AssertUnwindSafe(fut).catch_unwind();
    match deadline(limit, run).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(target: "mcp::rpc", what, panic = %msg, "handler panicked");
            Err(Failure::Panic(msg))
        }
        Err(_) => {
            tracing::warn!(
                target: "mcp::rpc",
                what,
                timeout_ms = limit.as_millis() as u64,
                "handler ran past its timeout and was cancelled"
            );
            Err(Failure::Timeout(limit))
        }
    }
}

/// `fut`, or `Err(())` once `limit` passed since this was called: like
/// `tokio::time::timeout`, with the timer set up only when `fut` first waits, so that a handler
/// that answers at once costs no timer.
async fn deadline<T>(
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, ()> {
    let until = tokio::time::Instant::now().checked_add(limit);
    let mut fut = std::pin::pin!(fut);
    let mut sleep = std::pin::pin!(None::<tokio::time::Sleep>);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        // A limit past what the clock can hold never passes.
        let Some(until) = until else {
            return Poll::Pending;
        };
        if sleep.is_none() {
            sleep.set(Some(tokio::time::sleep_until(until)));
        }
        match sleep.as_mut().as_pin_mut() {
            Some(s) => s.poll(cx).map(|()| Err(())),
            None => Poll::Pending,
        }
    })
    .await
}

async fn call_tool(call: &Call<'_>, mut req: Request) -> Outcome {
    let v = call.version();
    let p = params_object(req.params.take())?;
    tracing::Span::current().record("tool", &*clip(str_param(&p, "name")?, ECHO_MAX));
    let rounds = call.rounds("tools/call", &p)?;
    // Nothing reads the params after this: what the call needs is moved out of them in one
    // pass (the rounds above were bound to them whole).
    let (mut name, mut args, mut meta) = (None, None, None);
    for (key, value) in p {
        match key.as_str() {
            "name" => name = Some(value),
            "arguments" => args = Some(value),
            "_meta" => meta = Some(value),
            _ => {}
        }
    }
    let args = match args {
        None | Some(Value::Null) => JsonObject::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(McpError::invalid_params(
                "tools/call: \"arguments\" must be an object",
            ));
        }
    };
    let Some(Value::String(name)) = name else {
        return Err(McpError::invalid_params(
            "missing string parameter \"name\"",
        ));
    };
    // The handler's context takes the request's `_meta`.
    let meta = match meta {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let tool = call
        .server
        .read()
        .tools
        .get(&name)
        .cloned()
        .ok_or_else(|| {
            McpError::invalid_params(format!("unknown tool: {}", clip(&name, ECHO_MAX)))
        })?;
    if !may_call(&tool, call.granted_scopes()) {
        // Transports with OAuth refuse this before dispatch (HTTP 403 insufficient_scope).
        return Err(McpError::invalid_params(format!(
            "tool {name:?} requires the scopes {}, which the caller was not granted",
            tool.required_scopes().join(" ")
        )));
    }
    let as_task = match tool.task_support {
        TaskSupport::Forbidden => false,
        TaskSupport::Optional => call.envelope.has_extension(TASKS_EXTENSION),
        TaskSupport::Required if call.envelope.has_extension(TASKS_EXTENSION) => true,
        TaskSupport::Required => return Err(crate::tasks::extension_required()),
    };
    if as_task {
        // Boxed: the rare path, so its state does not widen every call's future.
        return Box::pin(start_task(call, &req, meta, tool, name, args, rounds)).await;
    }
    let limit = tool
        .timeout
        .unwrap_or_else(|| call.server.handler_timeout());
    let (ctx, watch) = with_rounds(call.context_with_meta(&req, meta), rounds);
    let handler = std::pin::pin!(guarded(
        &name,
        limit,
        crate::middleware::run_tool(call.server.middleware(), tool, ctx, args),
    ));
    let ran = match call.run(watch.as_ref(), handler).await? {
        Ran::Done(r) => r,
        Ran::Input(body) => return Ok(body),
    };
    let opened = opened(watch.as_ref());
    let result = tool_outcome(&name, fault_first(opened, ran)?)?;
    if let Some(fault) = opened.and_then(Rounds::fault)
        && result.is_error()
    {
        return Err(fault);
    }
    Ok(Body::Call(wire::CallResult {
        result,
        version: v,
        server_info_meta: v
            .has_result_type()
            .then(|| call.server.server_info_meta().clone()),
    }))
}

/// A tool run's output: tool errors, panics and timeouts become `isError` results; a
/// protocol error stays one.
fn tool_outcome(
    name: &str,
    ran: Result<Result<CallToolResult, ToolError>, Failure>,
) -> Result<CallToolResult, McpError> {
    Ok(match ran {
        Ok(Ok(r)) => r,
        Ok(Err(ToolError::Tool(text))) => CallToolResult::error(text),
        Ok(Err(ToolError::Protocol(e))) => return Err(e),
        Err(Failure::Panic(panic)) => {
            CallToolResult::error(format!("tool {name:?} failed: it panicked ({panic})"))
        }
        Err(Failure::Timeout(t)) => CallToolResult::error(format!(
            "tool {name:?} did not finish within {} ms and was cancelled",
            t.as_millis()
        )),
    })
}

/// `ctx` with the request's rounds, and the handle on it through which the run watches them
/// (when there are rounds).
fn with_rounds(ctx: Context, rounds: Option<Opening>) -> (Context, Option<Context>) {
    match rounds {
        Some(opening) => {
            let ctx = ctx.with_rounds(opening);
            let watch = ctx.clone();
            (ctx, Some(watch))
        }
        None => (ctx, None),
    }
}

/// The rounds the run watched through `watch`, if they were opened.
fn opened(watch: Option<&Context>) -> Option<&Rounds> {
    watch.and_then(|c| c.rounds_slot().opened()).map(|r| &**r)
}

/// A handler run that failed after one of its questions raised a protocol error (a
/// capability the client did not declare, an answer that does not parse) is answered with
/// that error, whatever the handler made of it.
fn fault_first<T, E>(
    rounds: Option<&Rounds>,
    ran: Result<Result<T, E>, Failure>,
) -> Result<Result<Result<T, E>, Failure>, McpError> {
    match (&ran, rounds.and_then(Rounds::fault)) {
        (Ok(Ok(_)), _) | (_, None) => Ok(ran),
        (_, Some(fault)) => Err(fault),
    }
}

/// Starts `tool` as a task: it runs in the background, its context asking the client through
/// `tasks/update` and cancelled by `tasks/cancel`; the call is answered with the task.
///
/// On the stateless revision the questions the handler asks before it first waits on anything
/// else are rounds of the call itself (an `InputRequiredResult`, answered by the client's
/// retry); the task is created at that first other wait, and the handler's later questions go
/// through the task.
async fn start_task(
    call: &Call<'_>,
    req: &Request,
    meta: Option<JsonObject>,
    tool: Arc<crate::registry::Tool>,
    name: String,
    args: JsonObject,
    rounds: Option<Opening>,
) -> Outcome {
    // The request's own route ends with this answer: what the task sends later has nowhere
    // to go, so it goes to a closed channel.
    let (gone, _) = Outbound::channel(1);
    let cancel = Cancel::default();
    let ctx = Context::new(
        call.envelope.clone(),
        call.origin.clone(),
        req.id.clone(),
        gone,
        meta,
        cancel.clone(),
    );
    let v = call.version();
    let info = v
        .has_result_type()
        .then(|| call.server.server_info_meta().clone());
    let limit = tool
        .timeout
        .unwrap_or_else(|| call.server.handler_timeout());
    let owner = call.caller_key();
    let (ctx, task, watch) = match rounds {
        Some(opening) => {
            let (ctx, watch) = with_rounds(ctx, Some(opening));
            (ctx, None, watch)
        }
        None => {
            let task = call.server.tasks().create(owner.clone(), cancel.clone())?;
            (ctx.for_task(task.clone()), Some(task), None)
        }
    };
    let shown = name.clone();
    let stack = call.server.middleware().clone();
    let mut work = Box::pin(async move {
        let run = crate::middleware::run_tool(&stack, tool, ctx, args);
        guarded(&shown, limit, run).await
    });
    let task = match (task, watch) {
        (Some(task), _) => task,
        (None, Some(watch)) => {
            let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
            let asked = opened(Some(&watch)).filter(|r| r.has_asked());
            if let (Poll::Pending, Some(rounds)) = (&first, asked) {
                return call.input_required(rounds);
            }
            let task = match first {
                Poll::Pending => call.server.tasks().create(owner, cancel.clone())?,
                Poll::Ready(out) => {
                    let rounds = opened(Some(&watch));
                    let out = fault_first(rounds, out)?;
                    if let (Some(fault), Ok(Ok(r))) = (rounds.and_then(Rounds::fault), &out)
                        && r.is_error()
                    {
                        return Err(fault);
                    }
                    let task = call.server.tasks().create(owner, cancel.clone())?;
                    task.finish(task_outcome(&name, out, v, info));
                    return Ok(created(call, &task));
                }
            };
            // The handler's later questions go through the task: its rounds open now if
            // they were not yet.
            if let Some(rounds) = watch.rounds() {
                rounds.become_task(task.clone());
            }
            task
        }
        (None, None) => unreachable!("a task is created above when there are no rounds"),
    };
    let running = task.clone();
    tokio::spawn(async move {
        tokio::select! {
            out = work => running.finish(task_outcome(&name, out, v, info)),
            () = cancel.cancelled() => {}
        }
    });
    Ok(created(call, &task))
}

/// What a task's `tasks/get` shows once its handler ended: tool errors, timeouts and panics
/// as in a direct call, except that a panic is the task's failure.
fn task_outcome(
    name: &str,
    out: Result<Result<CallToolResult, ToolError>, Failure>,
    version: ProtocolVersion,
    server_info_meta: Option<Arc<RawValue>>,
) -> Result<Value, McpError> {
    let result = match out {
        Err(Failure::Panic(panic)) => Err(McpError::internal(format!(
            "tool {name:?} failed: it panicked ({panic})"
        ))),
        other => tool_outcome(name, other),
    }?;
    serde_json::to_value(wire::CallResult {
        result,
        version,
        server_info_meta,
    })
    .map_err(|e| McpError::internal(e.to_string()))
}

/// The `CreateTaskResult` for `task`.
fn created(call: &Call<'_>, task: &crate::tasks::Task) -> Body {
    let mut created = task.created();
    if let Some(info) = call.server_info_meta() {
        created.insert("_meta".into(), info);
    }
    Body::Complete(Value::Object(created))
}

async fn read_resource(call: &Call<'_>, mut req: Request) -> Outcome {
    let p = params_object(req.params.take())?;
    let uri = str_param(&p, "uri")?.to_owned();
    let rounds = call.rounds("resources/read", &p)?;
    // The uri first: a context copied after it has rounds would open them.
    let ctx = call.context(&req, &p).with_resource_uri(&uri);
    let (ctx, watch) = with_rounds(ctx, rounds);
    let shown = clip(&uri, ECHO_MAX);
    let (fut, cache) = {
        let reg = call.server.read();
        if let Some(r) = reg.resources.get(&uri) {
            (r.read(ctx), r.cache)
        } else if let Some((t, vars)) = reg
            .templates
            .iter()
            .find_map(|t| t.template.matches(&uri).map(|vars| (t, vars)))
        {
            (t.read(ctx, vars), t.cache)
        } else {
            return Err(McpError::resource_not_found_for(&uri, call.version()));
        }
    };
    let handler = std::pin::pin!(guarded(&shown, call.server.handler_timeout(), fut));
    let ran = match call.run(watch.as_ref(), handler).await? {
        Ran::Done(r) => r,
        Ran::Input(body) => return Ok(body),
    };
    match fault_first(opened(watch.as_ref()), ran)? {
        Ok(Ok(r)) => {
            let value = serde_json::to_value(r).map_err(|e| McpError::internal(e.to_string()))?;
            let Value::Object(mut m) = value else {
                return Err(McpError::internal("a read result serializes to an object"));
            };
            if call.version().has_result_type() {
                let cache = cache
                    .unwrap_or_else(|| call.server.cache_policy(CacheableMethod::ResourcesRead));
                wire::complete_result(&mut m, call.server.server_info_meta(), Some(cache));
                return Ok(Body::Complete(Value::Object(m)));
            }
            Ok(Body::Value(Value::Object(m)))
        }
        Ok(Err(e)) => Err(e),
        Err(failure) => Err(McpError::internal(format!(
            "reading {shown} failed: {failure}"
        ))),
    }
}

async fn get_prompt(call: &Call<'_>, mut req: Request) -> Outcome {
    let v = call.version();
    let p = params_object(req.params.take())?;
    let name = str_param(&p, "name")?.to_owned();
    let prompt = call
        .server
        .read()
        .prompts
        .get(&name)
        .cloned()
        .ok_or_else(|| {
            McpError::invalid_params(format!("unknown prompt: {}", clip(&name, ECHO_MAX)))
        })?;
    let mut args = HashMap::new();
    match p.get("arguments") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, val) in m {
                let s = match val {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                args.insert(k.clone(), s);
            }
        }
        Some(_) => {
            return Err(McpError::invalid_params(
                "prompts/get: \"arguments\" must be an object",
            ));
        }
    }
    if let Some(missing) = prompt
        .arguments
        .iter()
        .find(|a| a.required == Some(true) && !args.contains_key(&a.name))
    {
        return Err(McpError::invalid_params(format!(
            "prompt {name:?} needs the argument {:?}",
            missing.name
        )));
    }
    let rounds = call.rounds("prompts/get", &p)?;
    let (ctx, watch) = with_rounds(call.context(&req, &p), rounds);
    let handler = std::pin::pin!(guarded(
        &name,
        call.server.handler_timeout(),
        prompt.get(ctx, args)
    ));
    let ran = match call.run(watch.as_ref(), handler).await? {
        Ran::Done(r) => r,
        Ran::Input(body) => return Ok(body),
    };
    match fault_first(opened(watch.as_ref()), ran)? {
        Ok(Ok(r)) => Ok(Body::Value(wire::prompt_result(&r, v))),
        Ok(Err(e)) => Err(e),
        Err(failure) => Err(McpError::internal(format!(
            "prompt {name:?} failed: {failure}"
        ))),
    }
}

async fn complete(call: &Call<'_>, mut req: Request) -> Outcome {
    let p = params_object(req.params.take())?;
    let reference = p
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| McpError::invalid_params("completion/complete needs \"ref\""))?;
    let argument = p
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| McpError::invalid_params("completion/complete needs \"argument\""))?;
    let arg_name = str_param(argument, "name")?.to_owned();
    let value = str_param(argument, "value")?.to_owned();
    let context_args = p
        .get("context")
        .and_then(|c| c.get("arguments"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let provider = {
        let reg = call.server.read();
        match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = str_param(reference, "name")?;
                let prompt = reg.prompts.get(name).ok_or_else(|| {
                    McpError::invalid_params(format!("unknown prompt: {}", clip(name, ECHO_MAX)))
                })?;
                prompt.completions.get(&arg_name).cloned()
            }
            Some("ref/resource") => {
                let uri = str_param(reference, "uri")?;
                let t = reg
                    .templates
                    .iter()
                    .find(|t| t.info.uri_template == uri)
                    .ok_or_else(|| {
                        McpError::invalid_params(format!(
                            "unknown resource template: {}",
                            clip(uri, ECHO_MAX)
                        ))
                    })?;
                t.completions.get(&arg_name).cloned()
            }
            _ => {
                return Err(McpError::invalid_params(
                    "ref.type must be \"ref/prompt\" or \"ref/resource\"",
                ));
            }
        }
    };
    let completion = match provider {
        None => Completion::default(),
        Some(f) => {
            let ctx = call.context(&req, &p);
            let request = CompletionRequest {
                argument: arg_name,
                value,
                context: context_args,
            };
            match guarded("completion", call.server.handler_timeout(), f(ctx, request)).await {
                Ok(r) => r?,
                Err(failure) => {
                    return Err(McpError::internal(format!("completion failed: {failure}")));
                }
            }
        }
    };
    let completion = Completion::from_values(completion.values);
    Ok(Body::Value(json!({ "completion": completion })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(250)), Some(250));
        assert_eq!(decode_cursor("250"), None);
        assert_eq!(decode_cursor("mcp-page-zz"), None);
    }
}
