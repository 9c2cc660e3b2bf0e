//! The tasks extension (`io.modelcontextprotocol/tasks`): a task-capable tool called by a
//! client that declared the extension runs in the background. The call is answered at once
//! with the task (`resultType: "task"`); the client polls it with `tasks/get`, answers its
//! questions with `tasks/update` and stops it with `tasks/cancel`.
//!
//! On the stateless revision a task-run tool may first gather its input on the call itself:
//! the questions it asks before it first has to wait on anything else are rounds of the call
//! (an `InputRequiredResult`, answered by the client's retry, as for any tool). The task is
//! created when the tool first waits on something other than an answer it already has, and
//! the questions it asks from then on go through the task (`tasks/get` shows them as
//! `input_required`, `tasks/update` answers them). A tool that should ask through the task
//! from the start does some of its work (or yields) before its first question.
//!
//! Tasks are bounded per server in number ([`ServerBuilder::max_tasks`]) and lifetime
//! ([`ServerBuilder::task_ttl`]): a task, running or finished, is forgotten once `ttlMs` passed
//! since its last change (a running one is cancelled first). A task is visible only to the
//! caller that started it (same identity, or both anonymous).
//!
//! [`ServerBuilder::max_tasks`]: crate::ServerBuilder::max_tasks
//! [`ServerBuilder::task_ttl`]: crate::ServerBuilder::task_ttl

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::cancel::Cancel;
use crate::error::McpError;
use crate::jsonrpc::ErrorObject;
use crate::protocol::JsonObject;

/// The extension's identifier, in `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Whether a tool runs as a task when the client declared the tasks extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSupport {
    /// Never: the call is answered directly (the default).
    #[default]
    Forbidden,
    /// As a task for clients that declared the extension, directly for the others.
    Optional,
    /// Only as a task: clients that did not declare the extension get -32021.
    Required,
}

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Working,
    InputRequired,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Working => "working",
            Status::InputRequired => "input_required",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
}

struct State {
    status: Status,
    updated: SystemTime,
    updated_at: Instant,
    result: Option<Value>,
    error: Option<ErrorObject>,
    /// Questions waiting for `tasks/update`, by key.
    asked: JsonObject,
    waiting: HashMap<String, oneshot::Sender<Value>>,
}

/// One task.
pub(crate) struct Task {
    id: String,
    owner: Option<String>,
    created: SystemTime,
    ttl: Duration,
    poll_interval: Duration,
    cancel: Cancel,
    next_key: std::sync::atomic::AtomicU32,
    state: Mutex<State>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Task {
    fn touch(st: &mut State) {
        st.updated = SystemTime::now();
        st.updated_at = Instant::now();
    }

    /// The cancellation the task's handler observes.
    pub(crate) fn cancel_token(&self) -> &Cancel {
        &self.cancel
    }

    /// Records the handler's outcome, unless the task already ended (cancelled).
    pub(crate) fn finish(&self, outcome: Result<Value, McpError>) {
        let mut st = lock(&self.state);
        if st.status.is_terminal() {
            return;
        }
        match outcome {
            Ok(v) => {
                st.status = Status::Completed;
                st.result = Some(v);
            }
            Err(e) => {
                st.status = Status::Failed;
                st.error = Some(e.into_error_object());
            }
        }
        st.asked.clear();
        st.waiting.clear();
        Self::touch(&mut st);
    }

    fn cancel(&self) {
        {
            let mut st = lock(&self.state);
            if st.status.is_terminal() {
                return;
            }
            st.status = Status::Cancelled;
            st.asked.clear();
            st.waiting.clear();
            Self::touch(&mut st);
        }
        self.cancel.cancel();
    }

    /// Asks the client through the task: the task is `input_required` until `tasks/update`
    /// answers `key`.
    pub(crate) async fn ask(
        &self,
        kind: &str,
        key: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, McpError> {
        let n = self
            .next_key
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = key.map_or_else(|| format!("{kind}-{n}"), str::to_owned);
        let (tx, rx) = oneshot::channel();
        {
            let mut st = lock(&self.state);
            if st.status.is_terminal() {
                return Err(McpError::internal("the task has ended"));
            }
            st.asked
                .insert(key.clone(), json!({ "method": method, "params": params }));
            st.waiting.insert(key, tx);
            st.status = Status::InputRequired;
            Self::touch(&mut st);
        }
        rx.await
            .map_err(|_| McpError::internal("the task ended before the client answered"))
    }

    /// Hands the client's answers to the questions waiting for them; unknown keys are ignored.
    fn update(&self, responses: &JsonObject) {
        let mut st = lock(&self.state);
        for (key, answer) in responses {
            if let Some(tx) = st.waiting.remove(key) {
                st.asked.remove(key);
                let _ = tx.send(answer.clone());
            }
        }
        if st.status == Status::InputRequired && st.waiting.is_empty() {
            st.status = Status::Working;
        }
        Self::touch(&mut st);
    }

    /// The task's fields (`taskId`, `status`, timestamps, `ttlMs`, `pollIntervalMs`).
    fn info(&self, st: &State) -> JsonObject {
        let mut m = JsonObject::new();
        m.insert("taskId".into(), self.id.clone().into());
        m.insert("status".into(), st.status.as_str().into());
        m.insert("createdAt".into(), iso8601(self.created).into());
        m.insert("lastUpdatedAt".into(), iso8601(st.updated).into());
        m.insert("ttlMs".into(), millis(self.ttl).into());
        m.insert("pollIntervalMs".into(), millis(self.poll_interval).into());
        m
    }

    /// The answer to the call that created the task (`CreateTaskResult`).
    pub(crate) fn created(&self) -> JsonObject {
        let st = lock(&self.state);
        let mut m = self.info(&st);
        m.insert("resultType".into(), "task".into());
        m
    }

    /// The `tasks/get` result: the task, and its result, error or questions.
    fn detailed(&self) -> JsonObject {
        let st = lock(&self.state);
        let mut m = self.info(&st);
        match st.status {
            Status::Completed => {
                if let Some(r) = &st.result {
                    m.insert("result".into(), r.clone());
                }
            }
            Status::Failed => {
                if let Some(e) = &st.error {
                    m.insert(
                        "error".into(),
                        serde_json::to_value(e).unwrap_or(Value::Null),
                    );
                }
            }
            Status::InputRequired => {
                m.insert("inputRequests".into(), Value::Object(st.asked.clone()));
            }
            Status::Working | Status::Cancelled => {}
        }
        m
    }

    fn expired(&self, now: Instant) -> bool {
        now.duration_since(lock(&self.state).updated_at) >= self.ttl
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// `2026-07-28T10:30:00.123Z`.
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The tasks of one server.
pub(crate) struct Tasks {
    map: Mutex<HashMap<String, Arc<Task>>>,
    /// What every task id starts with (see `Server::set_task_id_prefix`).
    prefix: std::sync::OnceLock<String>,
    max: usize,
    ttl: Duration,
    poll_interval: Duration,
}

impl Tasks {
    pub(crate) fn new(max: usize, ttl: Duration, poll_interval: Duration) -> Self {
        Tasks {
            map: Mutex::default(),
            prefix: std::sync::OnceLock::new(),
            max,
            ttl,
            poll_interval,
        }
    }

    /// Forgets expired tasks (cancelling those still running).
    fn sweep(&self) {
        let now = Instant::now();
        let expired: Vec<Arc<Task>> = {
            let mut map = lock(&self.map);
            let gone: Vec<String> = map
                .iter()
                .filter(|(_, t)| t.expired(now))
                .map(|(k, _)| k.clone())
                .collect();
            gone.iter().filter_map(|k| map.remove(k)).collect()
        };
        for t in expired {
            t.cancel();
        }
    }

    /// Starts every task id created from now on with `prefix`; false when one was set already.
    pub(crate) fn set_prefix(&self, prefix: String) -> bool {
        self.prefix.set(prefix).is_ok()
    }

    /// A new task for `owner`, cancelled through `cancel`, or -32600 when the server holds as
    /// many as it may.
    pub(crate) fn create(
        &self,
        owner: Option<String>,
        cancel: Cancel,
    ) -> Result<Arc<Task>, McpError> {
        self.sweep();
        let mut map = lock(&self.map);
        if map.len() >= self.max {
            return Err(McpError::invalid_request(format!(
                "too many tasks on this server (limit {}): wait for some to end or expire",
                self.max
            )));
        }
        let now = SystemTime::now();
        let task = Arc::new(Task {
            id: format!(
                "{}{}",
                self.prefix.get().map_or("", String::as_str),
                uuid::Uuid::new_v4()
            ),
            owner,
            created: now,
            ttl: self.ttl,
            poll_interval: self.poll_interval,
            cancel,
            next_key: std::sync::atomic::AtomicU32::new(1),
            state: Mutex::new(State {
                status: Status::Working,
                updated: now,
                updated_at: Instant::now(),
                result: None,
                error: None,
                asked: JsonObject::new(),
                waiting: HashMap::new(),
            }),
        });
        map.insert(task.id.clone(), task.clone());
        Ok(task)
    }

    fn find(&self, params: &JsonObject, owner: Option<&str>) -> Result<Arc<Task>, McpError> {
        self.sweep();
        let id = params
            .get("taskId")
            .and_then(Value::as_str)
            .ok_or_else(|| McpError::invalid_params("missing string parameter \"taskId\""))?;
        lock(&self.map)
            .get(id)
            .filter(|t| t.owner.as_deref() == owner)
            .cloned()
            .ok_or_else(|| McpError::invalid_params(format!("unknown task {id:?}")))
    }

    /// `tasks/get`.
    pub(crate) fn get(&self, params: &JsonObject, owner: Option<&str>) -> Result<Value, McpError> {
        Ok(Value::Object(self.find(params, owner)?.detailed()))
    }

    /// `tasks/update`: an empty acknowledgment.
    pub(crate) fn update(
        &self,
        params: &JsonObject,
        owner: Option<&str>,
    ) -> Result<Value, McpError> {
        let task = self.find(params, owner)?;
        let responses = match params.get("inputResponses") {
            Some(Value::Object(r)) => r,
            _ => {
                return Err(McpError::invalid_params(
                    "tasks/update needs \"inputResponses\": an object of answers keyed like the task's inputRequests",
                ));
            }
        };
        task.update(responses);
        Ok(json!({}))
    }

    /// `tasks/cancel`: an empty acknowledgment, also for a task that already ended.
    pub(crate) fn cancel(
        &self,
        params: &JsonObject,
        owner: Option<&str>,
    ) -> Result<Value, McpError> {
        self.find(params, owner)?.cancel();
        Ok(json!({}))
    }
}

/// The error for a client that did not declare the tasks extension.
pub(crate) fn extension_required() -> McpError {
    let mut required = serde_json::Map::new();
    required.insert("extensions".into(), json!({ TASKS_EXTENSION: {} }));
    McpError::missing_client_capability(required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_785_234_600_123);
        assert_eq!(iso8601(t), "2026-07-28T10:30:00.123Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&iso8601(leap)[..10], "2000-02-29");
    }

    #[tokio::test]
    async fn tasks_are_bounded_scoped_and_expire() {
        let tasks = Tasks::new(2, Duration::from_millis(50), Duration::from_millis(10));
        let a = tasks
            .create(Some("alice".into()), Cancel::default())
            .unwrap();
        let _b = tasks.create(None, Cancel::default()).unwrap();
        assert!(
            tasks.create(None, Cancel::default()).is_err(),
            "bounded in number"
        );
        let p = json!({ "taskId": a.id }).as_object().unwrap().clone();
        assert!(tasks.get(&p, Some("alice")).is_ok());
        assert!(
            tasks.get(&p, None).is_err(),
            "another caller does not see it"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(tasks.get(&p, Some("alice")).is_err(), "expired");
        assert!(
            a.cancel_token().is_cancelled(),
            "a running task is cancelled on expiry"
        );
        assert!(
            tasks.create(None, Cancel::default()).is_ok(),
            "expired tasks free their place"
        );
    }

    #[test]
    fn task_ids_start_with_the_prefix_set_once() {
        let tasks = Tasks::new(4, Duration::from_secs(60), Duration::from_millis(10));
        assert!(tasks.set_prefix("node-a.".into()));
        assert!(!tasks.set_prefix("node-b.".into()));
        let t = tasks.create(None, Cancel::default()).unwrap();
        let (prefix, rest) = t.id.rsplit_once('.').unwrap();
        assert_eq!(prefix, "node-a");
        assert!(uuid::Uuid::parse_str(rest).is_ok(), "{}", t.id);
    }
}
