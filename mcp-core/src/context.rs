//! The request context handed to handlers: progress, logging, cancellation, request metadata,
//! client information, typed state and server-to-client requests.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::caller::{Identity, RequestHeaders};
use crate::cancel::Cancel;
use crate::envelope::Envelope;
use crate::error::McpError;
use crate::jsonrpc::{self, RequestId};
use crate::mrtr::{Opening, Rounds, RoundsSlot};
use crate::outbound::{Outbound, Outgoing};
use crate::peer::PendingRequests;
use crate::protocol::{
    ElicitAction, ElicitResult, Elicitation, Implementation, JsonObject, LoggingLevel, Root,
    SamplingRequest, SamplingResult,
};
use crate::state::StateMap;
use crate::tasks::Task;
use crate::version::ProtocolVersion;

/// Everything a handler may need about the request it is answering. Cheap to clone.
///
/// Messages sent through the context (progress, logs, server-to-client requests) travel on the
/// same route as the request's response and leave before it, in the order they were sent.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

/// How a handler's questions reach the client.
#[derive(Clone)]
pub(crate) enum ClientLink {
    /// As server-to-client requests on the request's route (session-based revisions).
    Requests(Arc<PendingRequests>),
    /// Not at all (no route back to the client).
    None,
}

/// Where a request comes from: what a transport and a session (or a stateless request) tell
/// the dispatcher about it, beside the envelope.
#[derive(Clone)]
pub(crate) struct Origin {
    /// The transport's name.
    pub(crate) transport: &'static str,
    /// The transport's session id, if any.
    pub(crate) session_id: Option<Arc<str>>,
    /// How questions reach the client.
    pub(crate) client: ClientLink,
    /// Typed application state.
    pub(crate) state: Arc<StateMap>,
}

struct ContextInner {
    envelope: Envelope,
    origin: Origin,
    /// On the stateless revision, for the methods that may ask the client for input.
    rounds: RoundsSlot,
    /// The handler's state on a session (it runs once there), shared with the contexts
    /// derived from this one; allocated when first set or shared.
    local_state: std::sync::OnceLock<LocalState>,
    /// The key of this context's questions in an `InputRequiredResult` (see `Context::input_key`).
    input_key: Option<Arc<str>>,
    /// The task this handler runs as (tasks extension): questions go through `tasks/update`.
    task: Option<Arc<Task>>,
    request_id: RequestId,
    reply: Outbound,
    meta: Option<JsonObject>,
    /// The `_meta` put back together from the envelope, when `meta` is `None` (see
    /// `Context::meta`).
    meta_tree: std::sync::OnceLock<Option<JsonObject>>,
    cancel: Cancel,
    resource_uri: Option<String>,
}

/// A handler's own state on a session (see `Context::request_state`).
type LocalState = Arc<std::sync::Mutex<Option<Value>>>;

impl ContextInner {
    /// The handler's state cell, allocated on first use.
    fn local_state(&self) -> &LocalState {
        self.local_state.get_or_init(LocalState::default)
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(
        envelope: Envelope,
        origin: Origin,
        request_id: RequestId,
        reply: Outbound,
        meta: Option<JsonObject>,
        cancel: Cancel,
    ) -> Self {
        Context {
            inner: Arc::new(ContextInner {
                envelope,
                origin,
                rounds: RoundsSlot::None,
                local_state: std::sync::OnceLock::new(),
                input_key: None,
                task: None,
                request_id,
                reply,
                meta,
                meta_tree: std::sync::OnceLock::new(),
                cancel,
                resource_uri: None,
            }),
        }
    }

    /// The context of a handler running as `task`: cancelled with it, asking through it.
    pub(crate) fn for_task(self, task: Arc<Task>) -> Self {
        let mut c = self.with_resource_uri_opt(None);
        if let Some(inner) = Arc::get_mut(&mut c.inner) {
            inner.cancel = task.cancel_token().clone();
            inner.rounds = RoundsSlot::None;
            inner.task = Some(task);
        }
        c
    }

    /// The context of a request that asks the client through multi round-trip requests.
    pub(crate) fn with_rounds(mut self, opening: Opening) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.rounds = RoundsSlot::new(opening);
        }
        self
    }

    /// Where this request's rounds are (see [`RoundsSlot`]).
    pub(crate) fn rounds_slot(&self) -> &RoundsSlot {
        &self.inner.rounds
    }

    /// This request's rounds, opened now if they were not yet; `None` when it has none.
    pub(crate) fn rounds(&self) -> Option<&Arc<Rounds>> {
        let envelope = &self.inner.envelope;
        self.inner.rounds.open_with(|method| {
            let caller = crate::mrtr::caller_key(envelope.identity());
            Rounds::fresh(method, envelope.request_body().cloned(), caller.as_deref())
        })
    }

    /// A context whose next question to the client (`elicit`, `sample`, `list_roots`) is
    /// keyed `key` in the stateless revision's `inputRequests`, instead of by its order
    /// (`elicitation-1`, ...). Keys must be unique within the request. On a session it changes
    /// nothing.
    ///
    /// ```
    /// # async fn tool(ctx: mcp_core::Context) -> Result<(), mcp_core::McpError> {
    /// #[derive(schemars::JsonSchema, serde::Deserialize)]
    /// struct Login { name: String }
    /// let login = ctx.input_key("user_name").elicit::<Login>("Your GitHub login?").await?;
    /// # let _ = login; Ok(()) }
    /// ```
    pub fn input_key(&self, key: &str) -> Context {
        let mut c = self.clone().with_resource_uri_opt(None);
        if let Some(inner) = Arc::get_mut(&mut c.inner) {
            inner.input_key = Some(Arc::from(key));
        }
        c
    }

    pub(crate) fn with_resource_uri(self, uri: &str) -> Self {
        self.with_resource_uri_opt(Some(uri))
    }

    /// A copy of this context (a fresh allocation), with `uri` as the resource read when given.
    fn with_resource_uri_opt(self, uri: Option<&str>) -> Self {
        let inner = &self.inner;
        Context {
            inner: Arc::new(ContextInner {
                envelope: inner.envelope.clone(),
                origin: inner.origin.clone(),
                // The copy shares the rounds: they are opened first.
                rounds: match self.rounds() {
                    Some(rounds) => RoundsSlot::Open(rounds.clone()),
                    None => RoundsSlot::None,
                },
                local_state: inner.local_state().clone().into(),
                input_key: inner.input_key.clone(),
                task: inner.task.clone(),
                request_id: inner.request_id.clone(),
                reply: inner.reply.clone(),
                meta: inner.meta.clone(),
                meta_tree: inner.meta_tree.clone(),
                cancel: inner.cancel.clone(),
                resource_uri: uri
                    .map(str::to_owned)
                    .or_else(|| inner.resource_uri.clone()),
            }),
        }
    }

    /// For `resources/read`: the uri being read.
    pub fn resource_uri(&self) -> Option<&str> {
        self.inner.resource_uri.as_deref()
    }

    /// The id of the request being answered.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The request's `_meta`, if it had one. A stateless request's `_meta` read apart from its
    /// params by its transport is put back together on the first call.
    pub fn meta(&self) -> Option<&JsonObject> {
        self.inner.meta.as_ref().or_else(|| {
            self.inner
                .meta_tree
                .get_or_init(|| self.inner.envelope.meta_tree())
                .as_ref()
        })
    }

    /// The progress token the client attached (`_meta.progressToken`), if any.
    pub fn progress_token(&self) -> Option<&Value> {
        if self.inner.meta.is_none()
            && let Some(token) = self.inner.envelope.split_progress_token()
        {
            return token;
        }
        self.meta().and_then(|m| m.get("progressToken"))
    }

    /// The transport's session id, if it has one (never on the stateless revision).
    pub fn session_id(&self) -> Option<&str> {
        self.inner.origin.session_id.as_deref()
    }

    /// The name of the transport carrying the request (`"sse"`, `"stdio"`, ...).
    pub fn transport(&self) -> &'static str {
        self.inner.origin.transport
    }

    /// What is known about the client behind this request.
    pub fn envelope(&self) -> &Envelope {
        &self.inner.envelope
    }

    /// The protocol revision this request is answered in.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.envelope.protocol_version()
    }

    /// The client's name and version.
    pub fn client_info(&self) -> Option<Implementation> {
        self.inner.envelope.client_info().cloned()
    }

    /// The client's declared capabilities.
    pub fn client_capabilities(&self) -> Option<Value> {
        self.inner.envelope.client_capabilities().cloned()
    }

    /// Who is calling: the principal the transport's authentication established (over HTTP,
    /// what the bearer validator returned for the request's token: subject, issuer, scopes,
    /// claims). `None` when the transport authenticates no one (stdio, HTTP without auth or
    /// with static `bearer_tokens`). Never holds the token itself.
    pub fn identity(&self) -> Option<&Identity> {
        self.inner.envelope.identity()
    }

    /// The request headers the server owner chose to expose (over HTTP, the names given to
    /// `mcp_sse::Builder::expose_headers`); empty elsewhere. Never holds the credential.
    pub fn headers(&self) -> &RequestHeaders {
        self.inner.envelope.headers()
    }

    /// The first value of the exposed request header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name)
    }

    /// Asks the transport to close the stream carrying this request's messages now; the client
    /// reconnects and receives the rest (Streamable HTTP with resumable streams). Elsewhere it
    /// does nothing.
    pub fn close_sse_stream(&self) {
        self.inner.reply.request_stream_close();
    }

    /// Shared application state of type `T`, if the server was built with one.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.inner.origin.state.get::<T>()
    }

    /// True once the client cancelled the request or the session ended.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Resolves when the client cancels the request or the session ends. The handler's future
    /// is dropped at that point anyway; use this to stop work spawned elsewhere.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await;
    }

    /// Reports progress when the client asked for it (sent a progress token); otherwise does
    /// nothing. `message` is sent to clients of 2025-03-26 and later.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.progress_token() else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(t) = total {
            params["total"] = t.into();
        }
        if let Some(m) = message
            && self.protocol_version().has_progress_message()
        {
            params["message"] = m.into();
        }
        self.notify("notifications/progress", &params).await;
    }

    /// Sends a log message at `level` when the client's level lets it through: the session's
    /// level (default `info`), or on the stateless revision the request's
    /// `_meta["io.modelcontextprotocol/logLevel"]` (no level, no messages).
    pub async fn log(&self, level: LoggingLevel, data: impl Serialize) {
        if self
            .inner
            .envelope
            .log_level()
            .is_none_or(|threshold| level < threshold)
        {
            return;
        }
        let params = json!({ "level": level, "data": data });
        self.notify("notifications/message", &params).await;
    }

    /// Logs at debug level.
    pub async fn debug(&self, data: impl Serialize) {
        self.log(LoggingLevel::Debug, data).await;
    }

    /// Logs at info level.
    pub async fn info(&self, data: impl Serialize) {
        self.log(LoggingLevel::Info, data).await;
    }

    /// Logs at warning level.
    pub async fn warning(&self, data: impl Serialize) {
        self.log(LoggingLevel::Warning, data).await;
    }

    /// Logs at error level.
    pub async fn error(&self, data: impl Serialize) {
        self.log(LoggingLevel::Error, data).await;
    }

    async fn notify(&self, method: &str, params: &Value) {
        let json = jsonrpc::notification_bytes(method, Some(params));
        let _ = self.inner.reply.send(Outgoing::notification(json)).await;
    }

    fn require_capability(&self, capability: &str, method: &str) -> Result<(), McpError> {
        if self.inner.envelope.has_client_capability(capability) {
            Ok(())
        } else if self.protocol_version().has_input_required() {
            let mut required = serde_json::Map::new();
            required.insert(capability.to_owned(), json!({}));
            Err(self.fault(McpError::missing_client_capability(required)))
        } else {
            Err(McpError::invalid_request(format!(
                "cannot send {method}: the client did not declare the {capability:?} capability"
            )))
        }
    }

    /// A client answer that does not parse: the client's input on the stateless revision
    /// (-32602), a failed exchange on a session (-32603).
    fn malformed(&self, what: &str, e: serde_json::Error) -> McpError {
        let message = format!("malformed {what} from the client: {e}");
        if self.inner.rounds.is_some() {
            self.fault(McpError::invalid_params(message))
        } else {
            McpError::internal(message)
        }
    }

    /// On the stateless revision, remembers `e` as the answer to the request should the
    /// handler fail after it: the client's omission or bad input is a protocol error however
    /// the handler reports its failure (a tool's `Err` becomes an `isError` result otherwise).
    fn fault(&self, e: McpError) -> McpError {
        if let Some(r) = self.rounds() {
            r.record_fault(&e);
        }
        e
    }

    /// Asks the client's model for a completion (`sampling/createMessage`); the same as
    /// [`Context::create_message`].
    pub async fn sample(&self, request: SamplingRequest) -> Result<SamplingResult, McpError> {
        self.create_message(request).await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    pub async fn create_message(
        &self,
        request: SamplingRequest,
    ) -> Result<SamplingResult, McpError> {
        self.require_capability("sampling", "sampling/createMessage")?;
        let params =
            serde_json::to_value(&request).map_err(|e| McpError::internal(e.to_string()))?;
        let v = self
            .client_request("sampling/createMessage", params)
            .await?;
        serde_json::from_value(v).map_err(|e| self.malformed("sampling result", e))
    }

    /// Asks the user for values matching `T` (form-mode elicitation; the schema is generated
    /// from `T` and should be a flat object of primitive properties).
    pub async fn elicit<T>(&self, message: impl Into<String>) -> Result<Elicitation<T>, McpError>
    where
        T: schemars::JsonSchema + DeserializeOwned,
    {
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
        let mut schema = schema.to_value();
        if let Some(m) = schema.as_object_mut() {
            m.remove("$schema");
            m.remove("title");
        }
        let schema = match schema {
            Value::Object(m) => m,
            _ => return Err(McpError::internal("elicitation schema must be an object")),
        };
        let result = self.elicit_schema(message, schema).await?;
        Ok(match result.action {
            ElicitAction::Accept => {
                let content = Value::Object(result.content.unwrap_or_default());
                Elicitation::Accept(serde_json::from_value(content).map_err(|e| {
                    McpError::invalid_params(format!(
                        "the client's elicitation answer does not match the schema: {e}"
                    ))
                })?)
            }
            ElicitAction::Decline => Elicitation::Decline,
            ElicitAction::Cancel => Elicitation::Cancel,
        })
    }

    /// Asks the user for values matching `schema` (`elicitation/create`, form mode).
    pub async fn elicit_schema(
        &self,
        message: impl Into<String>,
        schema: JsonObject,
    ) -> Result<ElicitResult, McpError> {
        if !self.protocol_version().has_elicitation() {
            return Err(McpError::invalid_request(
                "cannot send elicitation/create: the negotiated protocol version predates elicitation",
            ));
        }
        self.require_capability("elicitation", "elicitation/create")?;
        let mut params = json!({ "message": message.into(), "requestedSchema": schema });
        if self.protocol_version().has_elicitation_mode() {
            params["mode"] = "form".into();
        }
        let v = self.client_request("elicitation/create", params).await?;
        serde_json::from_value(v).map_err(|e| self.malformed("elicitation result", e))
    }

    /// Asks the client for its roots (`roots/list`).
    pub async fn list_roots(&self) -> Result<Vec<Root>, McpError> {
        self.require_capability("roots", "roots/list")?;
        let v = self.client_request("roots/list", json!({})).await?;
        #[derive(serde::Deserialize)]
        struct Roots {
            roots: Vec<Root>,
        }
        serde_json::from_value::<Roots>(v)
            .map(|r| r.roots)
            .map_err(|e| self.malformed("roots/list result", e))
    }

    /// The handler's own state, as saved by [`Context::set_request_state`] in an earlier round
    /// of this request.
    ///
    /// On the stateless revision a handler that asks the client for input (`elicit`, `sample`,
    /// `list_roots`) runs again from its start on every retry of the request; each question
    /// it already has an answer to returns that answer at once. Work done before a question is
    /// therefore repeated: keep it idempotent, or save its outcome here. The state travels
    /// through the client inside the `requestState` (authenticated, bound to this request and
    /// caller, expiring), so keep it small and never put secrets in it: the client cannot
    /// change it but can read it. Long-lived state belongs in your own store, keyed by an id
    /// you save here. On a session the handler runs once; this returns what the run saved.
    ///
    /// ```
    /// # async fn tool(ctx: mcp_core::Context) -> Result<(), mcp_core::McpError> {
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Draft { order_id: u64 }
    /// let draft = match ctx.request_state::<Draft>() {
    ///     Some(d) => d,
    ///     None => {
    ///         let d = Draft { order_id: 42 }; // e.g. reserve an order once
    ///         ctx.set_request_state(&d)?;
    ///         d
    ///     }
    /// };
    /// # let _ = draft; Ok(()) }
    /// ```
    pub fn request_state<T: DeserializeOwned>(&self) -> Option<T> {
        let v = match &self.inner.rounds {
            // Rounds not open yet hold no state.
            rounds if rounds.is_some() => rounds.opened().and_then(|r| r.user_state()),
            _ => self
                .inner
                .local_state
                .get()
                .and_then(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone()),
        };
        v.and_then(|v| serde_json::from_value(v).ok())
    }

    /// Saves the handler's own state for the next round of this request (see
    /// [`Context::request_state`]).
    pub fn set_request_state<T: Serialize>(&self, state: &T) -> Result<(), McpError> {
        let v = serde_json::to_value(state).map_err(|e| McpError::internal(e.to_string()))?;
        match self.rounds() {
            Some(r) => r.set_user_state(v),
            None => {
                *self
                    .inner
                    .local_state()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(v);
            }
        }
        Ok(())
    }

    /// Sends any server-to-client request and waits for the answer: on a session, on this
    /// request's route (bounded by the server's request timeout); on the stateless revision,
    /// as an input request of an `InputRequiredResult`, answered by the client's retry.
    pub async fn client_request(&self, method: &str, params: Value) -> Result<Value, McpError> {
        if self.inner.rounds.is_some() || self.inner.task.is_some() {
            let kind = match method {
                "elicitation/create" => "elicitation",
                "sampling/createMessage" => "sampling",
                "roots/list" => "roots",
                other => {
                    return Err(McpError::invalid_request(format!(
                        "cannot ask the client for {other}: only elicitation/create, sampling/createMessage and roots/list are input requests"
                    )));
                }
            };
            let task = self
                .inner
                .task
                .as_ref()
                .or_else(|| self.inner.rounds.opened().and_then(|r| r.task()));
            if let Some(task) = task {
                return task
                    .ask(kind, self.inner.input_key.as_deref(), method, params)
                    .await;
            }
        }
        if let Some(rounds) = self.rounds() {
            let kind = method_kind(method);
            let key = match &self.inner.input_key {
                Some(k) => {
                    rounds.next_key(kind);
                    k.to_string()
                }
                None => rounds.next_key(kind),
            };
            if let Some(answer) = rounds.answer(&key) {
                return Ok(answer);
            }
            rounds.ask(key, method, params);
            // The request is answered with an InputRequiredResult; this run ends here.
            return std::future::pending().await;
        }
        match &self.inner.origin.client {
            ClientLink::Requests(pending) => {
                pending.request(method, params, &self.inner.reply).await
            }
            ClientLink::None => Err(McpError::invalid_request(format!(
                "cannot send {method}: there is no route back to the client for this request"
            ))),
        }
    }
}

/// The key prefix of an input request (its method is one of the three, checked before).
fn method_kind(method: &str) -> &'static str {
    match method {
        "elicitation/create" => "elicitation",
        "sampling/createMessage" => "sampling",
        _ => "roots",
    }
}
