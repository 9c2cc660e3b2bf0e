//! Multi round-trip requests: how a handler asks the client for input on the stateless
//! revision, where the server sends no requests of its own.
//!
//! A handler calls `Context::elicit`, `Context::sample` or `Context::list_roots` as on a
//! session. On the stateless revision the first such question of a run that has no answer yet
//! stops the handler: the request is answered with an `InputRequiredResult` listing every
//! question asked in that poll (`inputRequests`) and a `requestState`. The client answers and
//! retries the request with `inputResponses` and the `requestState`; the handler runs again
//! from its start, and each question already answered returns its answer at once. Questions
//! are keyed by their order in the run (`elicitation-1`, `sampling-2`, ...), so a handler must
//! ask them in the same order on every run for the same arguments.
//!
//! The `requestState` carries the answers of earlier rounds and the handler's own state
//! (`Context::set_request_state`). It is authenticated with HMAC-SHA256 under the server's key
//! (configurable, so several instances can share it; random per process by default), bound to
//! the method, the request's parameters (minus `_meta`, `inputResponses` and `requestState`)
//! and the caller's identity, and expires. A state that fails any of these checks is a -32602
//! error naming the reason.
//!
//! A question can also fail: the client did not declare the capability it needs (-32021, with
//! `data.requiredCapabilities`), or its answer does not parse (-32602). When the handler then
//! fails (an error, or a tool's `isError` result), the request is answered with that protocol
//! error, however the handler reported its failure; a handler that copes without the answer
//! keeps its result.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::caller::Identity;
use crate::error::McpError;
use crate::protocol::JsonObject;
use crate::tasks::Task;

/// The params keys that carry the rounds, never part of what a state is bound to.
const ROUND_KEYS: [&str; 3] = ["_meta", "inputResponses", "requestState"];

/// The format version inside a sealed state.
const STATE_FORMAT: u64 = 1;

/// Seals and opens `requestState` values: the key, how long a state lives, how large it may be.
pub(crate) struct Sealer {
    /// Replaceable while the server runs (a deployment's shared key, see
    /// [`Sealer::adopt_key`]) unless it was configured.
    key: std::sync::RwLock<std::sync::Arc<[u8]>>,
    configured: bool,
    ttl: Duration,
    max_bytes: usize,
}

impl Clone for Sealer {
    fn clone(&self) -> Self {
        let key = self.key.read().unwrap_or_else(|e| e.into_inner()).clone();
        Sealer {
            key: std::sync::RwLock::new(key),
            configured: self.configured,
            ttl: self.ttl,
            max_bytes: self.max_bytes,
        }
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("ttl", &self.ttl)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// The shortest key accepted.
pub(crate) const MIN_KEY_BYTES: usize = 32;

impl Sealer {
    /// A sealer with `key` (`None`: 32 random bytes).
    pub(crate) fn new(key: Option<Vec<u8>>, ttl: Duration, max_bytes: usize) -> Self {
        let configured = key.is_some();
        let key = key.unwrap_or_else(|| {
            let mut k = vec![0u8; MIN_KEY_BYTES];
            // The operating system's generator failing leaves no safe key to use.
            getrandom::fill(&mut k).expect("the operating system provides random bytes");
            k
        });
        Sealer {
            key: std::sync::RwLock::new(key.into()),
            configured,
            ttl,
            max_bytes,
        }
    }

    /// True when the key was configured rather than drawn at random.
    pub(crate) fn is_configured(&self) -> bool {
        self.configured
    }

    /// Seals and opens with `key` from now on, unless the key was configured or `key` is
    /// shorter than [`MIN_KEY_BYTES`]; true when `key` is the one in use afterwards.
    pub(crate) fn adopt_key(&self, key: &[u8]) -> bool {
        if key.len() < MIN_KEY_BYTES {
            return false;
        }
        let mut current = self.key.write().unwrap_or_else(|e| e.into_inner());
        if **current == *key {
            return true;
        }
        if self.configured {
            return false;
        }
        *current = key.into();
        true
    }

    fn mac(&self) -> Hmac<Sha256> {
        let key = self.key.read().unwrap_or_else(|e| e.into_inner()).clone();
        // HMAC accepts keys of any length.
        Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
    }

    fn seal(&self, payload: &Value) -> Result<String, McpError> {
        let json = serde_json::to_vec(payload).map_err(|e| McpError::internal(e.to_string()))?;
        let mut mac = self.mac();
        mac.update(&json);
        let tag = mac.finalize().into_bytes();
        let sealed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        );
        if sealed.len() > self.max_bytes {
            return Err(McpError::internal(format!(
                "the request's state grew past {} bytes (the answers of earlier rounds and the handler's state): ask for less",
                self.max_bytes
            )));
        }
        Ok(sealed)
    }

    fn open(&self, sealed: &str) -> Result<JsonObject, McpError> {
        let bad = || {
            McpError::invalid_params(
                "requestState failed verification: send back exactly the requestState of the last InputRequiredResult",
            )
        };
        if sealed.len() > self.max_bytes {
            return Err(bad());
        }
        let (body, tag) = sealed.split_once('.').ok_or_else(bad)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        let mut mac = self.mac();
        mac.update(&body);
        mac.verify_slice(&tag).map_err(|_| bad())?;
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) if m.get("v").and_then(Value::as_u64) == Some(STATE_FORMAT) => {
                Ok(m)
            }
            _ => Err(bad()),
        }
    }
}

/// What a state is bound to: the method, a digest of the salient parameters, the caller.
///
/// The canonical text of the parameters is written when the request arrives (its parameters
/// move into the handler afterwards), unless the request's own text was kept: it is then read
/// from there when a state is sealed, which most requests never do. The digest of it is
/// computed only when a state is verified or sealed.
struct Binding {
    method: &'static str,
    /// The method, a newline, then the canonical text of the params without the round keys:
    /// exactly the bytes the digest covers.
    text: OnceLock<Vec<u8>>,
    /// The whole request as it arrived, when `text` is read from it on first use.
    body: Option<bytes::Bytes>,
    subject: Option<String>,
    digest: OnceLock<String>,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text and the message hold the request's arguments: not shown.
        f.debug_struct("Binding")
            .field("method", &self.method)
            .field("deferred", &self.body.is_some())
            .finish_non_exhaustive()
    }
}

impl Binding {
    fn new(method: &'static str, params: &JsonObject, subject: Option<&str>) -> Self {
        Binding {
            method,
            text: OnceLock::from(binding_text(method, params)),
            body: None,
            subject: subject.map(str::to_owned),
            digest: OnceLock::new(),
        }
    }

    fn method(&self) -> &str {
        self.method
    }

    fn text(&self) -> &[u8] {
        self.text.get_or_init(|| {
            // The body was parsed once already; the params are read again the same way.
            let params = match self.body.as_deref().map(crate::jsonrpc::parse_message) {
                Some(Ok(crate::jsonrpc::Message::Request(r))) => match r.params {
                    Some(Value::Object(p)) => p,
                    _ => JsonObject::new(),
                },
                _ => JsonObject::new(),
            };
            binding_text(self.method, &params)
        })
    }

    fn digest(&self) -> &str {
        self.digest
            .get_or_init(|| hex(&Sha256::digest(self.text())))
    }
}

/// The method, a newline, then the canonical text of `params` without the round keys.
fn binding_text(method: &str, params: &JsonObject) -> Vec<u8> {
    let mut text = Vec::with_capacity(256);
    text.extend_from_slice(method.as_bytes());
    text.push(b'\n');
    canonical_object(
        params
            .iter()
            .filter(|(k, _)| !ROUND_KEYS.contains(&k.as_str())),
        &mut text,
    );
    text
}

/// Lowercase hexadecimal text of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// JSON with object keys sorted at every level: the same value always gives the same text.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => canonical_object(m.iter(), out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_json(scalar, out),
    }
}

/// An object's members in key order, each value canonical.
fn canonical_object<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)> + Clone,
    out: &mut Vec<u8>,
) {
    out.push(b'{');
    // Maps usually iterate in key order already: sort only when they do not.
    if members.clone().is_sorted_by(|a, b| a.0 < b.0) {
        canonical_members(members, out);
    } else {
        let mut sorted: Vec<_> = members.collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        canonical_members(sorted.into_iter(), out);
    }
    out.push(b'}');
}

fn canonical_members<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut Vec<u8>,
) {
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(k, out);
        out.push(b':');
        canonical(v, out);
    }
}

fn write_json<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    // Writing a string, number, bool or null into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The rounds of one request: the answers it arrived with, the questions its handler asks
/// now, and the handler's own state.
#[derive(Debug)]
pub(crate) struct Rounds {
    binding: Binding,
    answers: JsonObject,
    used: Mutex<JsonObject>,
    asked: Mutex<JsonObject>,
    user_state: Mutex<Option<Value>>,
    next: AtomicU32,
    waiting: AtomicBool,
    wake: Notify,
    /// The first protocol error the handler's questions raised (a capability the client did
    /// not declare, an answer that does not parse): what the request is answered with when
    /// the handler then fails, whatever it made of the error.
    fault: Mutex<Option<McpError>>,
    /// The task a task-run tool's call became once its questions were answered: questions
    /// asked after that go through the task.
    task: OnceLock<Arc<Task>>,
}

impl Rounds {
    /// The rounds of a request of `method` with `params`: verifies and opens its
    /// `requestState`, and gathers the answers of earlier rounds and of its `inputResponses`.
    ///
    /// `body` is the request's text, when the transport kept it and the params are exactly what
    /// it says: a request that carries no answers yet then reads what its state is bound to from
    /// there, and only if its handler asks a question.
    pub(crate) fn open(
        sealer: &Sealer,
        method: &'static str,
        params: &JsonObject,
        body: Option<&bytes::Bytes>,
        subject: Option<&str>,
    ) -> Result<Rounds, McpError> {
        if let Some(body) = body
            && is_fresh(params)
        {
            return Ok(Rounds::fresh(method, Some(body.clone()), subject));
        }
        let binding = Binding::new(method, params, subject);
        let mut answers = JsonObject::new();
        let mut user_state = None;
        match params.get("requestState") {
            None | Some(Value::Null) => {}
            Some(Value::String(sealed)) => {
                let state = sealer.open(sealed)?;
                let field = |k: &str| state.get(k).and_then(Value::as_str);
                if field("m") != Some(binding.method())
                    || field("d") != Some(binding.digest())
                    || state.get("s").and_then(Value::as_str) != binding.subject.as_deref()
                {
                    return Err(McpError::invalid_params(
                        "requestState belongs to a different request (method, parameters or caller differ): retry the original request without it",
                    ));
                }
                if state.get("e").and_then(Value::as_u64).unwrap_or(0) <= now_ms() {
                    return Err(McpError::invalid_params(
                        "requestState expired: retry the original request without requestState and inputResponses",
                    ));
                }
                if let Some(Value::Object(r)) = state.get("r") {
                    answers.extend(r.clone());
                }
                user_state = state.get("u").filter(|u| !u.is_null()).cloned();
            }
            Some(_) => return Err(McpError::invalid_params("requestState must be a string")),
        }
        match params.get("inputResponses") {
            None | Some(Value::Null) => {}
            Some(Value::Object(r)) => answers.extend(r.clone()),
            Some(_) => {
                return Err(McpError::invalid_params(
                    "inputResponses must be an object of answers keyed like the inputRequests",
                ));
            }
        }
        Ok(Rounds::with(binding, answers, user_state))
    }

    /// The rounds of a request that carries no answers and no state yet, whose text is `body`
    /// (what its state is bound to is read from there, and only if its handler asks a
    /// question).
    pub(crate) fn fresh(
        method: &'static str,
        body: Option<bytes::Bytes>,
        subject: Option<&str>,
    ) -> Rounds {
        let binding = Binding {
            method,
            text: OnceLock::new(),
            body,
            subject: subject.map(str::to_owned),
            digest: OnceLock::new(),
        };
        Rounds::with(binding, JsonObject::new(), None)
    }

    fn with(binding: Binding, answers: JsonObject, user_state: Option<Value>) -> Rounds {
        Rounds {
            binding,
            answers,
            used: Mutex::default(),
            asked: Mutex::default(),
            user_state: Mutex::new(user_state),
            next: AtomicU32::new(1),
            waiting: AtomicBool::new(false),
            wake: Notify::new(),
            fault: Mutex::default(),
            task: OnceLock::new(),
        }
    }

    /// The key of the next question of this run: its kind and its place in the run.
    pub(crate) fn next_key(&self, kind: &str) -> String {
        format!("{kind}-{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The client's answer to the question `key`, if it gave one.
    pub(crate) fn answer(&self, key: &str) -> Option<Value> {
        let a = self.answers.get(key).cloned()?;
        lock(&self.used).insert(key.to_owned(), a.clone());
        Some(a)
    }

    /// Records a question for the client; the request ends with an `InputRequiredResult`.
    pub(crate) fn ask(&self, key: String, method: &str, params: Value) {
        lock(&self.asked).insert(key, json!({ "method": method, "params": params }));
        self.waiting.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }

    /// Records a protocol error raised by one of the handler's questions (the first one wins).
    pub(crate) fn record_fault(&self, e: &McpError) {
        lock(&self.fault).get_or_insert_with(|| e.clone());
    }

    /// The protocol error to answer with when the handler failed after one of its questions
    /// raised it.
    pub(crate) fn fault(&self) -> Option<McpError> {
        lock(&self.fault).clone()
    }

    /// True once the handler asked a question the client has not answered yet.
    pub(crate) fn has_asked(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    /// Makes `task` the channel of the handler's later questions.
    pub(crate) fn become_task(&self, task: Arc<Task>) {
        let _ = self.task.set(task);
    }

    /// The task this request became, if it did.
    pub(crate) fn task(&self) -> Option<&Arc<Task>> {
        self.task.get()
    }

    /// The handler's state carried across rounds.
    pub(crate) fn user_state(&self) -> Option<Value> {
        lock(&self.user_state).clone()
    }

    /// Replaces the handler's state carried to the next round.
    pub(crate) fn set_user_state(&self, value: Value) {
        *lock(&self.user_state) = Some(value);
    }

    async fn asked(&self) {
        loop {
            let mut notified = pin!(self.wake.notified());
            notified.as_mut().enable();
            if self.waiting.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// The `InputRequiredResult` fields: the questions asked and the sealed state.
    pub(crate) fn input_required(&self, sealer: &Sealer) -> Result<JsonObject, McpError> {
        let payload = json!({
            "v": STATE_FORMAT,
            "m": self.binding.method(),
            "d": self.binding.digest(),
            "s": self.binding.subject,
            "e": now_ms().saturating_add(u64::try_from(sealer.ttl.as_millis()).unwrap_or(u64::MAX)),
            "r": Value::Object(lock(&self.used).clone()),
            "u": self.user_state(),
        });
        let mut m = JsonObject::new();
        m.insert("resultType".into(), "input_required".into());
        m.insert(
            "inputRequests".into(),
            Value::Object(lock(&self.asked).clone()),
        );
        m.insert("requestState".into(), sealer.seal(&payload)?.into());
        Ok(m)
    }
}

/// True when `params` carry neither a `requestState` nor `inputResponses`: the request's
/// first round.
pub(crate) fn is_fresh(params: &JsonObject) -> bool {
    // A scan, not two lookups: the params are few, and most keys differ in length from both.
    params
        .iter()
        .all(|(k, v)| v.is_null() || (k != "requestState" && k != "inputResponses"))
}

/// Who is calling, as a key: issuer and subject (the same subject from another issuer is
/// another caller); `None` when anonymous.
pub(crate) fn caller_key(identity: Option<&Identity>) -> Option<String> {
    identity.map(|i| format!("{}\n{}", i.issuer().unwrap_or(""), i.subject()))
}

/// How a request finds its rounds, if it has any.
#[derive(Debug)]
pub(crate) enum Opening {
    /// Its first round: the rounds are opened when its handler first needs them.
    Fresh(&'static str),
    /// Opened when the request arrived, from the answers and state it carries.
    Open(Arc<Rounds>),
}

/// Where a request's rounds are, inside its context: nowhere (a session, a method that never
/// asks), opened when the request arrived, or opened when its handler first asks the client
/// for input or keeps state. Most requests are a first round whose handler never asks: those
/// never open theirs.
#[derive(Debug, Default)]
pub(crate) enum RoundsSlot {
    /// The request has no rounds.
    #[default]
    None,
    /// Opened when the request arrived.
    Open(Arc<Rounds>),
    /// A first round of a request of `method`, opened on first use.
    Fresh {
        method: &'static str,
        opened: OnceLock<Arc<Rounds>>,
        /// The run waiting for the rounds to open (see [`RoundsSlot::run`]).
        waiting: Mutex<Option<Waker>>,
    },
}

impl RoundsSlot {
    /// The slot of a request that finds its rounds through `opening`.
    pub(crate) fn new(opening: Opening) -> Self {
        match opening {
            Opening::Fresh(method) => RoundsSlot::Fresh {
                method,
                opened: OnceLock::new(),
                waiting: Mutex::default(),
            },
            Opening::Open(rounds) => RoundsSlot::Open(rounds),
        }
    }

    /// True when the request has rounds, opened or not.
    pub(crate) fn is_some(&self) -> bool {
        !matches!(self, RoundsSlot::None)
    }

    /// The rounds, if they are open.
    pub(crate) fn opened(&self) -> Option<&Arc<Rounds>> {
        match self {
            RoundsSlot::None => None,
            RoundsSlot::Open(rounds) => Some(rounds),
            RoundsSlot::Fresh { opened, .. } => opened.get(),
        }
    }

    /// The rounds, opened now with `open` (given the method) if they were not yet.
    pub(crate) fn open_with(
        &self,
        open: impl FnOnce(&'static str) -> Rounds,
    ) -> Option<&Arc<Rounds>> {
        match self {
            RoundsSlot::None => None,
            RoundsSlot::Open(rounds) => Some(rounds),
            RoundsSlot::Fresh {
                method,
                opened,
                waiting,
            } => {
                let mut made = false;
                let rounds = opened.get_or_init(|| {
                    made = true;
                    Arc::new(open(method))
                });
                if made && let Some(run) = lock(waiting).take() {
                    run.wake();
                }
                Some(rounds)
            }
        }
    }

    /// Resolves once the rounds are open.
    async fn opening(&self) -> &Rounds {
        std::future::poll_fn(|cx| {
            if let Some(rounds) = self.opened() {
                return Poll::Ready(&**rounds);
            }
            if let RoundsSlot::Fresh { waiting, .. } = self {
                let mut w = lock(waiting);
                if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *w = Some(cx.waker().clone());
                }
            }
            // Opened between the first look and the waker's registration.
            match self.opened() {
                Some(rounds) => Poll::Ready(&**rounds),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// Resolves once the handler asked a question the client has not answered yet.
    async fn asked(&self) -> &Rounds {
        let rounds = self.opening().await;
        rounds.asked().await;
        rounds
    }

    /// Runs the handler until it finishes (`Ok`) or waits for an answer the client has not
    /// given yet (`Err`: answer with the rounds' [`Rounds::input_required`]).
    pub(crate) async fn run<T>(&self, handler: impl Future<Output = T>) -> Result<T, &Rounds> {
        let mut handler = pin!(handler);
        let mut asked = pin!(self.asked());
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = handler.as_mut().poll(cx) {
                return Poll::Ready(Ok(v));
            }
            asked.as_mut().poll(cx).map(Err)
        })
        .await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_text_sorts_keys_at_every_level_and_leaves_out_the_round_keys() {
        let params = json!({"b": 1, "a": {"y": "é\"", "x": [true, null, 1.5]}, "requestState": "s", "inputResponses": {}});
        let mut text = Vec::new();
        canonical_object(
            params
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| !ROUND_KEYS.contains(&k.as_str())),
            &mut text,
        );
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"a":{"x":[true,null,1.5],"y":"é\""},"b":1}"#
        );
    }
    use crate::jsonrpc::code;

    #[test]
    fn the_digest_covers_the_method_a_newline_and_the_canonical_params() {
        let params = params(json!({"name": "t", "arguments": {"b": 1, "a": 2}, "_meta": {"x": 1}}));
        let b = Binding::new("tools/call", &params, None);
        assert_eq!(b.method(), "tools/call");
        let expected = hex(&Sha256::digest(
            br#"tools/call
{"arguments":{"a":2,"b":1},"name":"t"}"#,
        ));
        assert_eq!(b.digest(), expected);
    }

    #[test]
    fn a_binding_read_from_the_request_text_is_the_one_written_from_its_params() {
        let body = bytes::Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"x":1},"arguments":{"b":1,"a":[2,{"d":1,"c":"\u00e9"}]},"name":"t","inputResponses":null}}"#,
        );
        let p = params(json!({"name": "t", "arguments": {"a": [2, {"c": "é", "d": 1}], "b": 1}}));
        let lazy = Rounds::fresh("tools/call", Some(body.clone()), Some("alice")).binding;
        let eager = Binding::new("tools/call", &p, Some("alice"));
        assert_eq!(lazy.text(), eager.text());
        assert_eq!(lazy.digest(), eager.digest());
        // A state sealed from the text opens on the retry, which carries the params only.
        let s = sealer();
        let r = Rounds::open(&s, "tools/call", &p, Some(&body), Some("alice")).unwrap();
        assert!(
            r.binding.text.get().is_none(),
            "nothing written before a question"
        );
        let key = r.next_key("elicitation");
        r.ask(key, "elicitation/create", json!({}));
        let state = r.input_required(&s).unwrap()["requestState"].clone();
        let mut retry = p.clone();
        retry.insert("requestState".into(), state);
        assert!(Rounds::open(&s, "tools/call", &retry, Some(&body), Some("alice")).is_ok());
        let mut other = retry.clone();
        other.insert("name".into(), "u".into());
        assert!(Rounds::open(&s, "tools/call", &other, None, Some("alice")).is_err());
    }

    fn sealer() -> Sealer {
        Sealer::new(None, Duration::from_secs(60), 64 * 1024)
    }

    fn params(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_adopted_key_opens_states_sealed_under_it_and_a_configured_one_stays() {
        let shared = [1u8; 32];
        let configured = Sealer::new(Some(shared.to_vec()), Duration::from_secs(60), 64 * 1024);
        let other = sealer();
        let sealed = configured.seal(&json!({ "v": STATE_FORMAT })).unwrap();
        assert!(other.open(&sealed).is_err(), "another random key");
        assert!(!other.adopt_key(&[1u8; 8]), "too short");
        assert!(other.adopt_key(&shared));
        assert!(other.open(&sealed).is_ok());
        assert!(configured.adopt_key(&shared), "already in use");
        assert!(!configured.adopt_key(&[2u8; 32]), "a configured key stays");
        assert!(configured.open(&sealed).is_ok());
    }

    /// One round: the handler asks, the state is sealed; returns the state.
    fn round(s: &Sealer, p: &JsonObject, subject: Option<&str>) -> String {
        let r = Rounds::open(s, "tools/call", p, None, subject).unwrap();
        let key = r.next_key("elicitation");
        assert!(r.answer(&key).is_none());
        r.ask(key, "elicitation/create", json!({}));
        r.set_user_state(json!({ "step": 1 }));
        let out = r.input_required(s).unwrap();
        assert_eq!(
            out["inputRequests"]["elicitation-1"]["method"],
            "elicitation/create"
        );
        out["requestState"].as_str().unwrap().to_owned()
    }

    #[test]
    fn a_state_round_trips_with_its_answers_and_user_state() {
        let s = sealer();
        let p = params(json!({ "name": "t", "arguments": { "b": 1, "a": [1, {"y": 2, "x": 1}] } }));
        let state = round(&s, &p, Some("alice"));
        // The retry: same salient params (keys in another order), the answer and the state.
        let retry = params(json!({
            "arguments": { "a": [1, {"x": 1, "y": 2}], "b": 1 }, "name": "t",
            "inputResponses": { "elicitation-1": { "action": "accept", "content": {"n": 1} } },
            "requestState": state,
            "_meta": { "anything": true },
        }));
        let r = Rounds::open(&s, "tools/call", &retry, None, Some("alice")).unwrap();
        assert_eq!(r.user_state(), Some(json!({ "step": 1 })));
        let key = r.next_key("elicitation");
        assert_eq!(r.answer(&key).unwrap()["action"], "accept");
        // A second question: the first answer travels on in the new state.
        let k2 = r.next_key("sampling");
        assert_eq!(k2, "sampling-2");
        r.ask(k2, "sampling/createMessage", json!({}));
        let out = r.input_required(&s).unwrap();
        let third = params(json!({
            "name": "t", "arguments": { "b": 1, "a": [1, {"y": 2, "x": 1}] },
            "inputResponses": { "sampling-2": { "role": "assistant" } },
            "requestState": out["requestState"],
        }));
        let r = Rounds::open(&s, "tools/call", &third, None, Some("alice")).unwrap();
        assert!(r.answer("elicitation-1").is_some());
        assert!(r.answer("sampling-2").is_some());
    }

    #[test]
    fn forged_replayed_and_expired_states_are_refused() {
        let s = sealer();
        let p = params(json!({ "name": "t", "arguments": { "x": 1 } }));
        let state = round(&s, &p, Some("alice"));
        let with = |p: &JsonObject, st: &str| {
            let mut p = p.clone();
            p.insert("requestState".into(), st.into());
            p
        };
        let refused = |p: JsonObject, method: &'static str, subject: Option<&str>| {
            let e = Rounds::open(&s, method, &p, None, subject).unwrap_err();
            assert_eq!(e.code(), code::INVALID_PARAMS);
            e.message().to_owned()
        };
        // Tampered body or tag, garbage, another key.
        let (body, tag) = state.split_once('.').unwrap();
        let mut forged_body = body.to_owned();
        forged_body.replace_range(0..1, if &body[0..1] == "A" { "B" } else { "A" });
        assert!(
            refused(
                with(&p, &format!("{forged_body}.{tag}")),
                "tools/call",
                Some("alice")
            )
            .contains("verification")
        );
        assert!(
            refused(
                with(&p, &format!("{body}.AAAA")),
                "tools/call",
                Some("alice")
            )
            .contains("verification")
        );
        assert!(refused(with(&p, "garbage"), "tools/call", Some("alice")).contains("verification"));
        let other = Sealer::new(Some(vec![7; 32]), Duration::from_secs(60), 64 * 1024);
        assert!(
            Rounds::open(&other, "tools/call", &with(&p, &state), None, Some("alice")).is_err()
        );
        // Replayed on other arguments, another method, another caller.
        let other_args = params(json!({ "name": "t", "arguments": { "x": 2 } }));
        assert!(
            refused(with(&other_args, &state), "tools/call", Some("alice"))
                .contains("different request")
        );
        assert!(
            refused(with(&p, &state), "prompts/get", Some("alice")).contains("different request")
        );
        assert!(refused(with(&p, &state), "tools/call", Some("bob")).contains("different request"));
        assert!(refused(with(&p, &state), "tools/call", None).contains("different request"));
        // Expired.
        let short = Sealer {
            ttl: Duration::ZERO,
            ..s.clone()
        };
        let stale = round(&short, &p, None);
        assert!(refused(with(&p, &stale), "tools/call", None).contains("expired"));
        // A shared key opens states of another instance.
        let a = Sealer::new(Some(vec![9; 32]), Duration::from_secs(60), 64 * 1024);
        let b = Sealer::new(Some(vec![9; 32]), Duration::from_secs(60), 64 * 1024);
        let st = round(&a, &p, None);
        assert!(Rounds::open(&b, "tools/call", &with(&p, &st), None, None).is_ok());
    }

    #[test]
    fn states_are_bounded() {
        let s = Sealer::new(None, Duration::from_secs(60), 256);
        let p = params(json!({ "name": "t" }));
        let r = Rounds::open(&s, "tools/call", &p, None, None).unwrap();
        r.set_user_state(json!("x".repeat(1000)));
        r.ask("elicitation-1".into(), "elicitation/create", json!({}));
        assert_eq!(
            r.input_required(&s).unwrap_err().code(),
            code::INTERNAL_ERROR
        );
        let mut big = p.clone();
        big.insert("requestState".into(), "A".repeat(1000).into());
        assert_eq!(
            Rounds::open(&s, "tools/call", &big, None, None)
                .unwrap_err()
                .code(),
            code::INVALID_PARAMS
        );
    }
}
