//! Unit-testing handlers that take a [`Context`]: [`TestContext`] builds a context that records
//! the progress, log messages and server-to-client requests the handler sends, answers those
//! requests (elicitation, sampling, roots) the way the test says, can be cancelled, and carries
//! typed state and a caller identity.
//!
//! ```
//! use mcp_core::Context;
//! use mcp_core::testing::TestContext;
//!
//! async fn count(ctx: Context, n: u32) -> u32 {
//!     for i in 1..=n {
//!         ctx.progress(f64::from(i), Some(f64::from(n)), None).await;
//!     }
//!     ctx.info("counted").await;
//!     n
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let test = TestContext::new();
//! assert_eq!(count(test.context(), 3).await, 3);
//! let steps: Vec<f64> = test.progress().iter().map(|p| p.progress).collect();
//! assert_eq!(steps, [1.0, 2.0, 3.0]);
//! assert_eq!(test.logs()[0].data, "counted");
//! # });
//! ```
//!
//! A context must be built inside a tokio runtime (a `#[tokio::test]`): a task answers the
//! handler's requests while it waits for them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::caller::{Caller, Identity, RequestHeaders};
use crate::cancel::Cancel;
use crate::context::{ClientLink, Context, Origin};
use crate::envelope::Envelope;
use crate::error::McpError;
use crate::jsonrpc::RequestId;
use crate::outbound::{Outbound, OutboundReceiver, Outgoing, OutgoingKind};
use crate::peer::PendingRequests;
use crate::protocol::{Implementation, JsonObject, LoggingLevel};
use crate::state::StateMap;
use crate::version::ProtocolVersion;

/// How many messages a test context queues before the handler waits for the recorder.
const QUEUE: usize = 1024;

/// One `notifications/progress` the handler sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The progress so far.
    pub progress: f64,
    /// The total, when the handler gave one.
    pub total: Option<f64>,
    /// The message, when the handler gave one.
    pub message: Option<String>,
}

/// One log message (`notifications/message`) the handler sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    /// Its level.
    pub level: LoggingLevel,
    /// Its data.
    pub data: Value,
}

/// One request the handler sent to the client (`elicitation/create`, `sampling/createMessage`,
/// `roots/list`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRequest {
    /// The method.
    pub method: String,
    /// The params.
    pub params: Value,
}

type Responder = Arc<dyn Fn(&str, &Value) -> Result<Value, McpError> + Send + Sync>;

#[derive(Default)]
struct Record {
    progress: Vec<Progress>,
    logs: Vec<LogMessage>,
    requests: Vec<ClientRequest>,
    notifications: Vec<Value>,
}

/// What the recorder task and the test share.
struct Recorder {
    rx: Mutex<OutboundReceiver>,
    record: Mutex<Record>,
    pending: Arc<PendingRequests>,
    responder: Option<Responder>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Recorder {
    /// Records one message the handler sent and answers it when it is a request.
    fn take(&self, msg: Outgoing) {
        let Ok(v) = serde_json::from_slice::<Value>(&msg.json) else {
            return;
        };
        let params = v.get("params").cloned().unwrap_or(Value::Null);
        let method = v.get("method").and_then(Value::as_str).unwrap_or("");
        match msg.kind {
            OutgoingKind::Request => {
                let id = v
                    .get("id")
                    .cloned()
                    .and_then(|id| serde_json::from_value::<RequestId>(id).ok());
                lock(&self.record).requests.push(ClientRequest {
                    method: method.to_owned(),
                    params: params.clone(),
                });
                let answer = match &self.responder {
                    Some(f) => f(method, &params).map_err(McpError::into_error_object),
                    None => Err(McpError::internal(format!(
                        "the test did not say how to answer {method}: use TestContext::builder().respond(..)"
                    ))
                    .into_error_object()),
                };
                if let Some(id) = id {
                    self.pending.resolve(&id, answer);
                }
            }
            OutgoingKind::Notification => {
                let mut rec = lock(&self.record);
                match method {
                    "notifications/progress" => rec.progress.push(Progress {
                        progress: params["progress"].as_f64().unwrap_or(f64::NAN),
                        total: params.get("total").and_then(Value::as_f64),
                        message: params
                            .get("message")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    }),
                    "notifications/message" => {
                        if let Ok(level) = serde_json::from_value(params["level"].clone()) {
                            rec.logs.push(LogMessage {
                                level,
                                data: params.get("data").cloned().unwrap_or(Value::Null),
                            });
                        }
                    }
                    _ => {}
                }
                rec.notifications.push(v);
            }
            _ => {}
        }
    }

    /// Records what was sent and not yet seen by the task.
    fn drain(&self) {
        loop {
            let msg = lock(&self.rx).try_recv();
            match msg {
                Some(m) => self.take(m),
                None => return,
            }
        }
    }
}

/// A [`Context`] for tests, and what the handler did with it. See the [module docs](self).
pub struct TestContext {
    context: Context,
    cancel: Cancel,
    recorder: Arc<Recorder>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestContext").finish_non_exhaustive()
    }
}

impl Drop for TestContext {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Default for TestContext {
    fn default() -> Self {
        TestContext::new()
    }
}

impl TestContext {
    /// A context with the defaults of [`TestContextBuilder`]. Must be called inside a tokio
    /// runtime.
    pub fn new() -> Self {
        TestContext::builder().build()
    }

    /// Starts configuring a test context.
    pub fn builder() -> TestContextBuilder {
        TestContextBuilder {
            version: ProtocolVersion::LATEST_SESSION,
            capabilities: json!({ "elicitation": {}, "sampling": {}, "roots": {} }),
            client_info: Implementation {
                name: "test-client".into(),
                version: "0".into(),
                title: None,
            },
            log_level: LoggingLevel::Debug,
            progress_token: Some(json!("test-progress")),
            state: StateMap::default(),
            caller: Caller::new(),
            headers: RequestHeaders::new(),
            responder: None,
            request_timeout: Duration::from_secs(10),
            transport: "test",
        }
    }

    /// The context to hand to the handler (clones share everything).
    pub fn context(&self) -> Context {
        self.context.clone()
    }

    /// Cancels the request, as a client's `notifications/cancelled` would: `ctx.is_cancelled()`
    /// turns true and `ctx.cancelled()` resolves.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Every progress notification sent so far, in order.
    pub fn progress(&self) -> Vec<Progress> {
        self.recorder.drain();
        lock(&self.recorder.record).progress.clone()
    }

    /// Every log message sent so far (at or above the configured level), in order.
    pub fn logs(&self) -> Vec<LogMessage> {
        self.recorder.drain();
        lock(&self.recorder.record).logs.clone()
    }

    /// Every request sent to the client so far, in order.
    pub fn requests(&self) -> Vec<ClientRequest> {
        self.recorder.drain();
        lock(&self.recorder.record).requests.clone()
    }

    /// Every notification sent so far (progress and logs included), as JSON-RPC messages.
    pub fn notifications(&self) -> Vec<Value> {
        self.recorder.drain();
        lock(&self.recorder.record).notifications.clone()
    }
}

/// Configures a [`TestContext`]. Defaults: protocol revision 2025-11-25, a client declaring
/// `elicitation`, `sampling` and `roots`, log level `debug` (every message recorded), a
/// progress token (so progress is recorded), no state, no identity, no headers, and client
/// requests answered with an error until [`TestContextBuilder::respond`] says otherwise.
#[must_use]
pub struct TestContextBuilder {
    version: ProtocolVersion,
    capabilities: Value,
    client_info: Implementation,
    log_level: LoggingLevel,
    progress_token: Option<Value>,
    state: StateMap,
    caller: Caller,
    headers: RequestHeaders,
    responder: Option<Responder>,
    request_timeout: Duration,
    transport: &'static str,
}

impl std::fmt::Debug for TestContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestContextBuilder")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl TestContextBuilder {
    /// The negotiated revision the handler sees (a session-based one: 2024-11-05 to
    /// 2025-11-25).
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// The client's declared capabilities (replaces the default).
    pub fn client_capabilities(mut self, capabilities: Value) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The lowest log level recorded (as the client's `logging/setLevel` would set it).
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = level;
        self
    }

    /// Whether the request carries a progress token (default yes); without one,
    /// `ctx.progress` sends nothing.
    pub fn progress_token(mut self, on: bool) -> Self {
        self.progress_token = on.then(|| json!("test-progress"));
        self
    }

    /// Adds typed state, read by the handler with `ctx.state::<T>()` (or a `State<T>`
    /// parameter of a macro tool's adapter).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Who is calling (`ctx.identity()`).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.caller = self.caller.with_identity(identity);
        self
    }

    /// Adds an exposed request header (`ctx.header(name)`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Answers the handler's requests to the client: `f(method, params)` returns the result
    /// (e.g. `{"action": "accept", "content": {...}}` for `elicitation/create`) or an error.
    pub fn respond<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &Value) -> Result<Value, McpError> + Send + Sync + 'static,
    {
        self.responder = Some(Arc::new(f));
        self
    }

    /// Builds the context and starts the task that records and answers what it sends. Must be
    /// called inside a tokio runtime.
    pub fn build(self) -> TestContext {
        let (reply, rx) = Outbound::channel(QUEUE);
        let pending = Arc::new(PendingRequests::new(self.request_timeout));
        let recorder = Arc::new(Recorder {
            rx: Mutex::new(rx),
            record: Mutex::new(Record::default()),
            pending: pending.clone(),
            responder: self.responder,
        });
        let caller = self.caller.with_headers(self.headers);
        let envelope = Envelope::session(
            self.version,
            Some(Arc::new(self.client_info)),
            Some(Arc::new(self.capabilities)),
            self.log_level,
        )
        .with_caller(&caller);
        let origin = Origin {
            transport: self.transport,
            session_id: None,
            client: ClientLink::Requests(pending),
            state: Arc::new(self.state),
        };
        let meta = self.progress_token.map(|t| {
            let mut m = JsonObject::new();
            m.insert("progressToken".into(), t);
            m
        });
        let cancel = Cancel::default();
        let context = Context::new(
            envelope,
            origin,
            RequestId::Int(1),
            reply,
            meta,
            cancel.clone(),
        );
        let task = {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                loop {
                    let msg = std::future::poll_fn(|cx| lock(&recorder.rx).poll_recv(cx)).await;
                    match msg {
                        Some(m) => recorder.take(m),
                        None => return,
                    }
                }
            })
        };
        TestContext {
            context,
            cancel,
            recorder,
            task,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Elicitation;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Name {
        name: String,
    }

    #[tokio::test]
    async fn elicitation_is_answered_and_recorded() {
        let t = TestContext::builder()
            .respond(|method, _| {
                assert_eq!(method, "elicitation/create");
                Ok(json!({ "action": "accept", "content": { "name": "Ada" } }))
            })
            .build();
        let got = t.context().elicit::<Name>("who?").await.unwrap();
        assert!(matches!(got, Elicitation::Accept(Name { name }) if name == "Ada"));
        let reqs = t.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].params["message"], "who?");
    }

    #[tokio::test]
    async fn unanswered_requests_fail_at_once() {
        let t = TestContext::new();
        let err = t.context().list_roots().await.unwrap_err();
        assert!(err.to_string().contains("respond"), "{err}");
    }

    #[tokio::test]
    async fn cancel_state_identity_headers() {
        let t = TestContext::builder()
            .state(7u32)
            .identity(Identity::new("alice").with_scope("admin"))
            .header("X-Request-Id", "r1")
            .log_level(LoggingLevel::Warning)
            .progress_token(false)
            .build();
        let ctx = t.context();
        assert_eq!(ctx.state::<u32>().as_deref(), Some(&7));
        assert!(ctx.identity().unwrap().has_scope("admin"));
        assert_eq!(ctx.header("x-request-id"), Some("r1"));
        ctx.info("dropped").await;
        ctx.warning("kept").await;
        ctx.progress(1.0, None, None).await;
        assert_eq!(t.logs().len(), 1);
        assert!(t.progress().is_empty());
        assert!(!ctx.is_cancelled());
        t.cancel();
        assert!(ctx.is_cancelled());
        ctx.cancelled().await;
    }
}
