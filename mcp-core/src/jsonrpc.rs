//! JSON-RPC 2.0 messages: ids, requests, notifications, responses, errors, and a bounded parser.
//!
//! Incoming bytes become a [`Incoming`] through [`parse`], which enforces a size and a nesting
//! depth limit ([`ParseLimits`]) before any allocation proportional to the input happens. A body
//! must be valid UTF-8 throughout (also inside strings of fields nobody reads), and no object in
//! it may name a key twice: a message means one thing to every reader, whichever value it picks.
//! Outgoing messages are serialized once into [`bytes::Bytes`] by the `*_bytes` helpers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::request_meta::{MetaValue, RequestMeta};
pub(crate) use crate::strict::DETAIL_MAX;
pub use crate::strict::{ECHO_MAX, clip};
use crate::strict::{Key, Strict, StrictVisitor, duplicate};

/// The `"jsonrpc"` member every message carries.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: a string or an integer, never null and never fractional.
///
/// Integers are kept exactly as sent, including values beyond 2^53 that a float would round.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A signed integer id.
    Int(i64),
    /// An unsigned integer id larger than `i64::MAX`.
    UInt(u64),
    /// A string id.
    Str(Arc<str>),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Int(n) => write!(f, "{n}"),
            RequestId::UInt(n) => write!(f, "{n}"),
            RequestId::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Int(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::Str(s.into())
    }
}

impl Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Int(n) => s.serialize_i64(*n),
            RequestId::UInt(n) => s.serialize_u64(*n),
            RequestId::Str(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer request id")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                Ok(i64::try_from(v).map_or(RequestId::UInt(v), RequestId::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RequestId, E> {
                Err(E::custom(
                    "request id must be a string or an integer (fractional and out-of-range numbers are not allowed)",
                ))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::Str(v.into()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RequestId, E> {
                Err(E::custom("request id must not be null"))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// Standard JSON-RPC and MCP error codes. [`crate::error`] maps every protocol failure to one.
pub mod code {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i32 = -32700;
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// MCP: resource not found (2024-11-05 .. 2025-11-25 convention).
    pub const RESOURCE_NOT_FOUND: i32 = -32002;
    /// MCP 2026-07-28: the HTTP headers do not match the body, or are missing or malformed.
    pub const HEADER_MISMATCH: i32 = -32020;
    /// MCP 2026-07-28: the request needs a client capability the client did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i32 = -32021;
    /// MCP 2026-07-28: the request's protocol version is not served.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code, see [`code`].
    pub code: i32,
    /// A short description a person can act on.
    pub message: String,
    /// Additional data, such as the offending URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message and no data.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// A request: expects exactly one response with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the response must echo.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters, if any (an object or an array).
    pub params: Option<Value>,
}

/// A notification: no id, never answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

/// A response to a request the receiver sent earlier.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the request answered; `None` only for errors about unreadable requests.
    pub id: Option<RequestId>,
    /// The result or the error.
    pub outcome: Result<Value, ErrorObject>,
}

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (result or error).
    Response(Response),
}

impl Message {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(r) => Some(&r.method),
            Message::Notification(n) => Some(&n.method),
            Message::Response(_) => None,
        }
    }

    /// The id of a request or response.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Message::Request(r) => Some(&r.id),
            Message::Response(r) => r.id.as_ref(),
            Message::Notification(_) => None,
        }
    }

    /// True for a request.
    pub fn is_request(&self) -> bool {
        matches!(self, Message::Request(_))
    }
}

/// What one body of incoming JSON turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A single message.
    Single(Message),
    /// A JSON array: each element parsed on its own; invalid elements carry their error response.
    Batch(Vec<Result<Message, Response>>),
}

/// Limits applied while parsing incoming JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// The largest accepted message in bytes.
    pub max_bytes: usize,
    /// The deepest accepted nesting of arrays and objects, counting the message object itself
    /// as level 1 (so a tool's `arguments` object is level 3). At most [`MAX_DEPTH`]: the JSON
    /// reader refuses anything deeper whatever this says.
    pub max_depth: usize,
    /// The most elements accepted in one batch.
    pub max_batch: usize,
}

/// The deepest nesting the JSON reader accepts at all, and the default of
/// [`ParseLimits::max_depth`]: serde_json's recursion limit of 128 admits 127 levels, the same
/// as every peer built on it.
pub const MAX_DEPTH: usize = 127;

impl Default for ParseLimits {
    /// 4 MiB, depth 127, 100 messages per batch.
    fn default() -> Self {
        ParseLimits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: MAX_DEPTH,
            max_batch: 100,
        }
    }
}

/// Why a body could not be turned into messages; [`ParseError::response`] is the answer to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// The id, when it could be read.
    pub id: Option<RequestId>,
    /// The JSON-RPC error.
    pub error: ErrorObject,
}

impl ParseError {
    /// The error response for this failure (id null when the id could not be read).
    pub fn response(&self) -> Response {
        Response {
            id: self.id.clone(),
            outcome: Err(self.error.clone()),
        }
    }

    /// True when the input was not JSON at all (-32700).
    pub fn is_parse_error(&self) -> bool {
        self.error.code == code::PARSE_ERROR
    }
}

/// Parses one body of JSON into messages, enforcing `limits`.
///
/// Not JSON (or not valid UTF-8, too large or too deep) gives -32700; JSON that is not a
/// JSON-RPC message gives -32600 with the id when it could be read. An object naming a key twice
/// and an empty array are -32600 too.
pub fn parse(input: &[u8], limits: &ParseLimits) -> Result<Incoming, ParseError> {
    let input = checked(input, limits)?;
    let first = input.bytes().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'[') {
        let items: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(input).map_err(not_json)?;
        if items.is_empty() {
            return Err(ParseError {
                id: None,
                error: ErrorObject::new(code::INVALID_REQUEST, "empty batch"),
            });
        }
        if items.len() > limits.max_batch {
            return Err(ParseError {
                id: None,
                error: ErrorObject::new(
                    code::INVALID_REQUEST,
                    format!(
                        "batch of {} messages exceeds the limit of {}",
                        items.len(),
                        limits.max_batch
                    ),
                ),
            });
        }
        let batch = items
            .into_iter()
            .map(|raw| parse_one(raw.get()).map_err(|e| e.response()))
            .collect();
        return Ok(Incoming::Batch(batch));
    }
    parse_one(input).map(Incoming::Single)
}

/// [`parse`] for a transport that serves the body statelessly: a single request comes with
/// its `params._meta` taken out of its params, as a [`RequestMeta`] that keeps it as text (the
/// envelope's fields are read from there, the rest only when asked for). Anything else (a
/// batch, a notification, a `_meta` that is not a plain object) is parsed by [`parse`], with
/// `_meta` left in the params; the errors are [`parse`]'s.
///
/// ```
/// use mcp_core::jsonrpc::{self, Incoming, Message, ParseLimits};
///
/// let body = bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"k":1},"cursor":null}}"#);
/// let (incoming, meta) = jsonrpc::parse_stateless(&body, &ParseLimits::default()).unwrap();
/// let Incoming::Single(Message::Request(r)) = incoming else { unreachable!() };
/// assert_eq!(r.params, Some(serde_json::json!({"cursor": null})));
/// assert_eq!(meta.unwrap().to_object()["k"], 1);
/// // A key given twice inside `_meta` is refused as anywhere else.
/// let twice = bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"k":1,"k":2}}}"#);
/// assert!(jsonrpc::parse_stateless(&twice, &ParseLimits::default()).is_err());
/// ```
pub fn parse_stateless(
    input: &Bytes,
    limits: &ParseLimits,
) -> Result<(Incoming, Option<RequestMeta>), ParseError> {
    let text = checked(input, limits)?;
    if let Some((raw, meta)) = split(text) {
        match (classify(raw), meta) {
            (Ok(m), None) => return Ok((Incoming::Single(m), None)),
            (Ok(m @ Message::Request(_)), Some(mut meta)) => {
                meta.fields.body = Some(input.clone());
                return Ok((Incoming::Single(m), Some(meta)));
            }
            // A notification or response with `_meta`, or an error: read again as a tree.
            _ => {}
        }
    }
    parse(input, limits).map(|i| (i, None))
}

/// A message's members with `params._meta` read apart: by walking the text when the message
/// has the common shape ([`request_text`](crate::request_text)), by serde otherwise; `None`
/// when serde cannot read it so (the caller then reads it as a tree, which says why).
fn split(text: &str) -> Option<(RawMessage, Option<RequestMeta>)> {
    split_by_walking(text).or_else(|| split_by_serde(text))
}

/// [`split`] by walking the text, for a message of the common shape.
fn split_by_walking(text: &str) -> Option<(RawMessage, Option<RequestMeta>)> {
    let f = crate::request_text::read(text)?;
    let raw = RawMessage {
        jsonrpc: f.jsonrpc.map(IsVersion2),
        id: f.id,
        method: f.method,
        params: f.params,
        result: None,
        error: None,
    };
    Some((raw, f.meta))
}

/// [`split`] by serde's visitors.
fn split_by_serde(text: &str) -> Option<(RawMessage, Option<RequestMeta>)> {
    if text.bytes().find(|b| !b.is_ascii_whitespace()) != Some(b'{') {
        return None;
    }
    let raw = serde_json::from_str::<SplitMessage>(text).ok()?;
    let (params, meta) = match raw.params {
        Some(p) => (Some(p.rest), p.meta),
        None => (None, None),
    };
    let raw = RawMessage {
        jsonrpc: raw.jsonrpc,
        id: raw.id,
        method: raw.method,
        params,
        result: raw.result,
        error: raw.error,
    };
    Some((raw, meta))
}

/// The checks every body passes before it is read: its size, UTF-8, its depth.
fn checked<'a>(input: &'a [u8], limits: &ParseLimits) -> Result<&'a str, ParseError> {
    if input.len() > limits.max_bytes {
        return Err(ParseError {
            id: None,
            error: ErrorObject::new(
                code::PARSE_ERROR,
                format!(
                    "message of {} bytes exceeds the limit of {} bytes",
                    input.len(),
                    limits.max_bytes
                ),
            ),
        });
    }
    let input = utf8(input)?;
    if let Some(depth) = exceeds_depth(input, limits.max_depth) {
        return Err(ParseError {
            id: None,
            error: ErrorObject::new(
                code::PARSE_ERROR,
                format!(
                    "JSON nesting deeper than {} levels (at least {depth})",
                    limits.max_depth
                ),
            ),
        });
    }
    Ok(input)
}

/// Parses a single message (no batch), without the size and depth checks of [`parse`].
pub fn parse_message(input: &[u8]) -> Result<Message, ParseError> {
    parse_one(utf8(input)?)
}

/// The input as text: JSON is UTF-8 throughout (RFC 8259), including strings the reader would
/// otherwise skip without looking inside.
fn utf8(input: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(input).map_err(|e| ParseError {
        id: None,
        error: ErrorObject::new(
            code::PARSE_ERROR,
            format!(
                "invalid JSON: not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        ),
    })
}

fn not_json(e: serde_json::Error) -> ParseError {
    ParseError {
        id: None,
        error: ErrorObject::new(
            code::PARSE_ERROR,
            format!("invalid JSON: {}", clip(&e.to_string(), DETAIL_MAX)),
        ),
    }
}

/// Reads `Option<Strict>` as `Option<Value>`.
fn strict<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Option::<Strict>::deserialize(d).map(|o| o.map(|s| s.0))
}

/// The members of one message. Unknown members are skipped; a known member given twice is an
/// error (serde's derive), and so is a duplicate key at any depth inside one ([`Strict`]).
#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    jsonrpc: Option<IsVersion2>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, deserialize_with = "strict")]
    method: Option<Value>,
    #[serde(default, deserialize_with = "strict")]
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "strict")]
    error: Option<Value>,
}

/// [`RawMessage`] with `params._meta` left as text ([`parse_stateless`]).
#[derive(Deserialize)]
struct SplitMessage {
    #[serde(default)]
    jsonrpc: Option<IsVersion2>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default, deserialize_with = "strict")]
    method: Option<Value>,
    #[serde(default)]
    params: Option<SplitParams>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "strict")]
    error: Option<Value>,
}

/// Params read like [`Strict`], except that an object's `_meta` member, when it is an object,
/// is read into a [`RequestMeta`].
struct SplitParams {
    rest: Value,
    meta: Option<RequestMeta>,
}

impl<'de> Deserialize<'de> for SplitParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SplitParams;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("params")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut object = serde_json::Map::new();
                let mut meta = None;
                while let Some(Key(key)) = map.next_key()? {
                    if object.contains_key(&*key) || (key == "_meta" && meta.is_some()) {
                        return Err(duplicate(&key));
                    }
                    if key == "_meta" {
                        match map.next_value()? {
                            MetaValue::Meta(m) => meta = Some(m),
                            MetaValue::Other(v) => {
                                object.insert(key.into_owned(), v);
                            }
                        }
                        continue;
                    }
                    let Strict(v) = map.next_value()?;
                    object.insert(key.into_owned(), v);
                }
                Ok(SplitParams {
                    rest: Value::Object(object),
                    meta,
                })
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Ok(SplitParams {
                    rest: StrictVisitor.visit_seq(seq)?,
                    meta: None,
                })
            }
            // Anything else is not params: the message is read again as a tree, which says so.
        }
        d.deserialize_any(V)
    }
}

/// Whether a `"jsonrpc"` member is `"2.0"`, read without keeping its text. A nested value is
/// still read with [`Strict`], so a duplicate key inside it is refused as anywhere else.
struct IsVersion2(bool);

impl<'de> Deserialize<'de> for IsVersion2 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
                Ok(v == JSONRPC_VERSION)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
                StrictVisitor.visit_seq(seq).map(|_| false)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
                StrictVisitor.visit_map(map).map(|_| false)
            }
        }
        d.deserialize_any(V).map(IsVersion2)
    }
}

/// Distinguishes `"id": null` (Some(Null)) from an absent id (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Strict::deserialize(d).map(|s| Some(s.0))
}

fn parse_one(input: &str) -> Result<Message, ParseError> {
    // Fast path: straight into the message fields, no intermediate tree of the whole body.
    match serde_json::from_str::<RawMessage>(input) {
        Ok(raw) => classify(raw),
        // Slow path, only for bad input: tell "not JSON" (-32700) from "not a message" (-32600).
        Err(_) => {
            let value = match serde_json::from_str::<Strict>(input) {
                Ok(Strict(v)) => v,
                // Well-formed JSON that names a key twice (the only complaint `Strict` raises
                // about the data itself).
                Err(e) if e.is_data() => {
                    return Err(invalid(
                        None,
                        format!(
                            "{}: each key may appear once per object",
                            clip(&e.to_string(), DETAIL_MAX)
                        ),
                    ));
                }
                Err(e) => return Err(not_json(e)),
            };
            from_value(value)
        }
    }
}

fn invalid(id: Option<RequestId>, msg: impl Into<String>) -> ParseError {
    ParseError {
        id,
        error: ErrorObject::new(code::INVALID_REQUEST, msg),
    }
}

/// Classifies an already parsed JSON value as a JSON-RPC message.
pub fn from_value(value: Value) -> Result<Message, ParseError> {
    if !value.is_object() {
        return Err(invalid(None, "a JSON-RPC message must be a JSON object"));
    }
    let raw: RawMessage = serde_json::from_value(value).map_err(|e| {
        invalid(
            None,
            format!(
                "malformed JSON-RPC message: {}",
                clip(&e.to_string(), DETAIL_MAX)
            ),
        )
    })?;
    classify(raw)
}

/// Turns the fields of one JSON object into a message, or says what is wrong with it.
fn classify(raw: RawMessage) -> Result<Message, ParseError> {
    // `"id": null` is allowed only on error responses about unreadable requests.
    let null_id = matches!(raw.id, Some(Value::Null));
    if null_id && (raw.method.is_some() || raw.error.is_none()) {
        return Err(invalid(None, "invalid \"id\": request id must not be null"));
    }
    let id = match raw.id {
        None | Some(Value::Null) => None,
        Some(v) => Some(RequestId::deserialize(v).map_err(|e| {
            invalid(
                None,
                format!("invalid \"id\": {}", clip(&e.to_string(), DETAIL_MAX)),
            )
        })?),
    };
    if !raw.jsonrpc.is_some_and(|v| v.0) {
        return Err(invalid(id, "\"jsonrpc\" must be \"2.0\""));
    }
    if let Some(method) = raw.method {
        let Value::String(method) = method else {
            return Err(invalid(id, "\"method\" must be a string"));
        };
        if raw.result.is_some() || raw.error.is_some() {
            return Err(invalid(
                id,
                "a request must not carry \"result\" or \"error\"",
            ));
        }
        if let Some(p) = &raw.params
            && !(p.is_object() || p.is_array())
        {
            return Err(invalid(id, "\"params\" must be an object or an array"));
        }
        return Ok(match id {
            Some(id) => Message::Request(Request {
                id,
                method,
                params: raw.params,
            }),
            None => Message::Notification(Notification {
                method,
                params: raw.params,
            }),
        });
    }
    match (raw.result, raw.error) {
        (Some(result), None) => match id {
            Some(id) => Ok(Message::Response(Response {
                id: Some(id),
                outcome: Ok(result),
            })),
            None => Err(invalid(None, "a response must carry an \"id\"")),
        },
        (None, Some(error)) => {
            let error: ErrorObject = serde_json::from_value(error).map_err(|e| {
                invalid(
                    id.clone(),
                    format!("malformed \"error\": {}", clip(&e.to_string(), DETAIL_MAX)),
                )
            })?;
            Ok(Message::Response(Response {
                id,
                outcome: Err(error),
            }))
        }
        (Some(_), Some(_)) => Err(invalid(
            id,
            "a response must not carry both \"result\" and \"error\"",
        )),
        (None, None) => Err(invalid(
            id,
            "not a JSON-RPC message: no \"method\", \"result\" or \"error\"",
        )),
    }
}

/// The number of `{` and `[` bytes in `input`, counted in blocks small enough for a byte
/// counter, which the compiler turns into wide vector compares.
fn openings(input: &[u8]) -> usize {
    input
        .chunks(255)
        .map(|block| {
            // `b | 0x20` is 0x7b for `{` (0x7b) and `[` (0x5b) and for no other byte.
            let n = block
                .iter()
                .fold(0u8, |n, &b| n + u8::from(b | 0x20 == b'{'));
            usize::from(n)
        })
        .sum()
}

/// Returns the depth reached when `input` nests deeper than `max`, scanning bytes only.
fn exceeds_depth(input: &str, max: usize) -> Option<usize> {
    // The depth never passes the number of opening brackets, which a plain count (no state per
    // byte) gives: most messages have too few to need the scan.
    if openings(input.as_bytes()) <= max {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for b in input.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[derive(Serialize)]
struct WireRequest<'a, P: Serialize> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct WireNotification<'a, P: Serialize> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct WireResult<'a, R: Serialize> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    result: &'a R,
}

#[derive(Serialize)]
struct WireError<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RequestId>,
    error: &'a ErrorObject,
}

/// The room a message is first written into: most responses fit (a tool result with the
/// stateless revision's `_meta` and `resultType` passes the 128 bytes `to_vec` starts with).
const FIRST_CAPACITY: usize = 256;

fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    let mut out = Vec::with_capacity(FIRST_CAPACITY);
    // Serializing our own wire structs into a Vec cannot fail: every map key is a string.
    if let Err(e) = serde_json::to_writer(&mut out, value) {
        tracing::error!(target: "mcp::rpc", error = %e, "serialization failed");
        out.clear();
        out.extend_from_slice(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"serialization failed"}}"#,
        );
    }
    Bytes::from(out)
}

/// Serializes a request.
pub fn request_bytes<P: Serialize>(id: &RequestId, method: &str, params: Option<&P>) -> Bytes {
    to_bytes(&WireRequest {
        jsonrpc: JSONRPC_VERSION,
        id,
        method,
        params,
    })
}

/// Serializes a notification.
pub fn notification_bytes<P: Serialize>(method: &str, params: Option<&P>) -> Bytes {
    to_bytes(&WireNotification {
        jsonrpc: JSONRPC_VERSION,
        method,
        params,
    })
}

/// Serializes a successful response.
pub fn result_bytes<R: Serialize>(id: &RequestId, result: &R) -> Bytes {
    result_bytes_written(id, |out| serde_json::to_writer(out, result))
}

/// A result response whose result `write` writes (valid JSON, such as serde writes). The
/// envelope around it is written as text: its names never change, so they are not escaped
/// again for every response. The bytes are those serde writes for the same response.
pub(crate) fn result_bytes_written(
    id: &RequestId,
    write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Bytes {
    let mut out = Vec::with_capacity(FIRST_CAPACITY);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    let written = serde_json::to_writer(&mut out, id).and_then(|()| {
        out.extend_from_slice(br#","result":"#);
        write(&mut out)
    });
    if let Err(e) = written {
        tracing::error!(target: "mcp::rpc", error = %e, "serialization failed");
        out.clear();
        out.extend_from_slice(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"serialization failed"}}"#,
        );
        return Bytes::from(out);
    }
    out.push(b'}');
    Bytes::from(out)
}

/// Serializes an error response (`id: null` when `id` is `None`).
pub fn error_bytes(id: Option<&RequestId>, error: &ErrorObject) -> Bytes {
    to_bytes(&WireError {
        jsonrpc: JSONRPC_VERSION,
        id,
        error,
    })
}

/// Serializes any [`Response`].
pub fn response_bytes(response: &Response) -> Bytes {
    match (&response.outcome, &response.id) {
        (Ok(result), Some(id)) => result_bytes(id, result),
        (Ok(_), None) => error_bytes(
            None,
            &ErrorObject::new(code::INTERNAL_ERROR, "response without id"),
        ),
        (Err(e), id) => error_bytes(id.as_ref(), e),
    }
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(r) => WireRequest {
                jsonrpc: JSONRPC_VERSION,
                id: &r.id,
                method: &r.method,
                params: r.params.as_ref(),
            }
            .serialize(s),
            Message::Notification(n) => WireNotification {
                jsonrpc: JSONRPC_VERSION,
                method: &n.method,
                params: n.params.as_ref(),
            }
            .serialize(s),
            Message::Response(Response {
                id: Some(id),
                outcome: Ok(result),
            }) => WireResult {
                jsonrpc: JSONRPC_VERSION,
                id,
                result,
            }
            .serialize(s),
            Message::Response(Response {
                id: None,
                outcome: Ok(_),
            }) => Err(serde::ser::Error::custom("a result response needs an id")),
            Message::Response(Response {
                id,
                outcome: Err(error),
            }) => WireError {
                jsonrpc: JSONRPC_VERSION,
                id: id.as_ref(),
                error,
            }
            .serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_bytes_are_those_serde_writes() {
        let ids = [
            RequestId::Int(i64::MIN),
            RequestId::UInt(u64::MAX),
            RequestId::Str("x\"\\y\u{1}é".into()),
        ];
        let results = [json!({}), json!({"b": [1, "two"], "a": null}), json!("s")];
        for id in &ids {
            for result in &results {
                let expected = serde_json::to_vec(&WireResult {
                    jsonrpc: JSONRPC_VERSION,
                    id,
                    result,
                })
                .unwrap();
                assert_eq!(result_bytes(id, result)[..], expected[..]);
            }
        }
    }

    /// What a split message reads as: the message (or its error) and the `_meta` apart.
    fn outcome(split: Option<(RawMessage, Option<RequestMeta>)>) -> Option<String> {
        split.map(|(raw, meta)| format!("{:?} {:?}", classify(raw), meta.map(|m| m.to_object())))
    }

    proptest::proptest! {
        /// Any text, however broken, reads the same walked as by serde (or is left to serde).
        #[test]
        fn walking_a_changed_message_reads_what_serde_reads(
            at in 0usize..260,
            cut in 0usize..6,
            with in "[ -~\t\u{1}é\\\\\"{}\\[\\]:,]{0,6}",
        ) {
            let base = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}}"#;
            let text = crate::json_scan::changed(base, at, cut, &with);
            proptest::prop_assert_eq!(outcome(split(&text)), outcome(split_by_serde(&text)), "{}", text);
        }
    }

    #[test]
    fn walking_a_message_reads_what_serde_reads() {
        let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}"#;
        let walked = [
            format!(r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"add","arguments":{{"a":1,"b":[true,null,{{"c":"d"}}]}},{meta}}}}}"#),
            format!(r#"  {{ "id" : "x-1" , "params" : {{ {meta} , "cursor" : null }} , "method" : "tools/list" , "jsonrpc" : "2.0" }}  "#),
            format!(r#"{{"jsonrpc":"2.0","id":0,"method":"m","params":{{{meta},"s":"caf\u00e9 \"q\"","n":-1.5e3}}}}"#),
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"m","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v9","io.modelcontextprotocol/logLevel":"loud","progressToken":3,"x":{"y":[1,2]},"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","title":null,"icons":[]}}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/logLevel":"debug","io.modelcontextprotocol/clientCapabilities":"none","io.modelcontextprotocol/clientInfo":{}}}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":"not an object"}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{}}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{}}}"#.to_owned(),
            r#"{"jsonrpc":"1.0","id":1,"method":"m"}"#.to_owned(),
            r#"{"id":1,"method":"m"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":-3,"method":"m"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":[1],"method":"m"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"method":5}"#.to_owned(),
            r#"{"jsonrpc":"2.0","method":"notifications/x","params":{"_meta":{"a":1}}}"#.to_owned(),
        ];
        for text in &walked {
            let w = split_by_walking(text);
            assert!(w.is_some(), "not walked: {text}");
            assert_eq!(outcome(w), outcome(split_by_serde(text)), "{text}");
            assert_eq!(
                outcome(split(text)),
                outcome(split_by_serde(text)),
                "{text}"
            );
        }
        // Shapes left to serde, which gives the same answer or an error.
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"a":2}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"k":1,"k":2}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"io.modelcontextprotocol/clientInfo":{"name":"a","name":"b"}}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{},"_meta":{}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":01,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m"} x"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","extra":{"a":1}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\tb\"}",
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"io.modelcontextprotocol\/protocolVersion":"2026-07-28"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":tru}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":[1,}}"#,
            "[]",
            "{}",
        ] {
            assert_eq!(
                outcome(split(text)),
                outcome(split_by_serde(text)),
                "{text}"
            );
        }
    }

    fn one(s: &str) -> Result<Message, ParseError> {
        match parse(s.as_bytes(), &ParseLimits::default())? {
            Incoming::Single(m) => Ok(m),
            Incoming::Batch(_) => panic!("unexpected batch"),
        }
    }

    #[test]
    fn request_notification_and_responses() {
        let m = one(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert_eq!(
            m,
            Message::Request(Request {
                id: RequestId::Int(1),
                method: "ping".into(),
                params: None
            })
        );
        let m = one(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification(_)));
        let m = one(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(
            m,
            Message::Response(Response { outcome: Ok(_), .. })
        ));
        let m = one(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#).unwrap();
        assert!(matches!(
            m,
            Message::Response(Response {
                id: None,
                outcome: Err(_)
            })
        ));
    }

    #[test]
    fn large_integer_ids_are_exact() {
        let m = one(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#).unwrap();
        assert_eq!(m.id(), Some(&RequestId::UInt(u64::MAX)));
        let bytes = result_bytes(m.id().unwrap(), &json!({}));
        assert_eq!(
            &bytes[..],
            br#"{"jsonrpc":"2.0","id":18446744073709551615,"result":{}}"#
        );
        let m = one(r#"{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}"#).unwrap();
        assert_eq!(m.id(), Some(&RequestId::Int(9_007_199_254_740_993)));
    }

    #[test]
    fn bad_ids_are_invalid_requests() {
        for body in [
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1e40,"method":"ping"}"#,
        ] {
            let e = one(body).unwrap_err();
            assert_eq!(e.error.code, code::INVALID_REQUEST, "{body}");
            assert_eq!(e.id, None);
        }
    }

    #[test]
    fn parse_errors_and_invalid_requests() {
        assert_eq!(one("{not json").unwrap_err().error.code, code::PARSE_ERROR);
        assert_eq!(one("42").unwrap_err().error.code, code::INVALID_REQUEST);
        let e = one(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).unwrap_err();
        assert_eq!(
            (e.error.code, e.id),
            (code::INVALID_REQUEST, Some(RequestId::Int(7)))
        );
        for version in [r#"2.0"#, "null", r#""2""#, "[]", r#"{"v":"2.0"}"#] {
            let e = one(&format!(
                r#"{{"jsonrpc":{version},"id":7,"method":"ping"}}"#
            ))
            .unwrap_err();
            assert_eq!(
                (e.error.code, e.id),
                (code::INVALID_REQUEST, Some(RequestId::Int(7))),
                "{version}"
            );
        }
        assert!(one(r#"{"jsonrpc":"2\u002e0","id":7,"method":"ping"}"#).is_ok());
        let e = one(r#"{"jsonrpc":"2.0","id":7,"method":3}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e = one(r#"{"jsonrpc":"2.0","id":7,"method":"x","params":3}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e = parse(b"[]", &ParseLimits::default()).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
    }

    #[test]
    fn openings_counts_braces_and_brackets_only() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(openings(&all), 2);
        let long = "{[x]}\"[".repeat(300);
        assert_eq!(openings(long.as_bytes()), 900);
        assert_eq!(openings(b""), 0);
    }

    #[test]
    fn depth_and_size_limits() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(deep.as_bytes(), &ParseLimits::default()).unwrap_err();
        assert!(e.is_parse_error());
        // Brackets inside strings do not count.
        let s = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"s":"{}"}}}}"#,
            "[".repeat(1000)
        );
        assert!(parse(s.as_bytes(), &ParseLimits::default()).is_ok());
        let limits = ParseLimits {
            max_bytes: 10,
            ..ParseLimits::default()
        };
        assert!(parse(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#, &limits).is_err());
    }

    #[test]
    fn invalid_utf8_anywhere_is_a_parse_error() {
        let mut body = br#"{"jsonrpc":"2.0","id":1,"method":"ping","x":""#.to_vec();
        body.extend_from_slice(b"\xff\xfe\"}");
        let e = parse(&body, &ParseLimits::default()).unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
        assert!(e.error.message.contains("UTF-8"), "{}", e.error.message);
        assert_eq!(
            parse_message(&body).unwrap_err().error.code,
            code::PARSE_ERROR
        );
        let mut batch = b"[".to_vec();
        batch.extend_from_slice(&body);
        batch.push(b']');
        let e = parse(&batch, &ParseLimits::default()).unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
    }

    #[test]
    fn duplicate_keys_are_invalid_requests_at_every_level() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","\u006dethod":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":{"y":1,"y":2}}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{"a":1,"a":1}}"#,
            r#"{"jsonrpc":{"a":1,"a":2},"id":1,"method":"ping"}"#,
            r#"{"jsonrpc":[{"a":1,"a":2}],"id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"code":2,"message":"m"}}"#,
        ] {
            let e = one(body).unwrap_err();
            assert_eq!(e.error.code, code::INVALID_REQUEST, "{body}: {:?}", e.error);
            assert!(e.error.message.contains("duplicate"), "{}", e.error.message);
        }
        // Inside a batch, the element is refused and its neighbours run.
        let body = r#"[{"jsonrpc":"2.0","id":1,"method":"a","method":"b"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#;
        let Incoming::Batch(items) = parse(body.as_bytes(), &ParseLimits::default()).unwrap()
        else {
            panic!("expected batch")
        };
        assert!(items[0].is_err() && items[1].is_ok());
        // The same key in two different objects is fine.
        assert!(
            one(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":{"id":1},"b":{"id":1}}}"#)
                .is_ok()
        );
    }

    #[test]
    fn nesting_up_to_127_levels_is_accepted() {
        assert_eq!(ParseLimits::default().max_depth, 127);
        // The message is level 1, params 2, arguments 3, then `n` nested arrays.
        let body = |levels: usize| {
            let n = levels - 3;
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{"v":{}{}}}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let m = one(&body(127)).expect("127 levels parse");
        assert!(m.is_request());
        let e = one(&body(128)).unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
        assert!(e.error.message.contains("127"), "{}", e.error.message);
        // Past the reader's own limit, a configured deeper limit still ends in a parse error.
        let limits = ParseLimits {
            max_depth: 1000,
            ..ParseLimits::default()
        };
        let e = parse(body(200).as_bytes(), &limits).unwrap_err();
        assert_eq!(e.error.code, code::PARSE_ERROR);
    }

    #[test]
    fn long_client_text_is_clipped_in_errors() {
        assert_eq!(clip("short", 64), "short");
        let long = "é".repeat(100);
        let c = clip(&long, 65);
        assert!(c.len() < 90 && c.ends_with("(200 bytes)"), "{c}");
        let big = "x".repeat(1 << 20);
        let body =
            format!(r#"{{"jsonrpc":"2.0","id":1,"error":{{"code":"{big}","message":"m"}}}}"#);
        let e = one(&body).unwrap_err();
        assert!(e.error.message.len() < 512, "{}", e.error.message.len());
    }

    #[test]
    fn batches_keep_per_element_errors() {
        let body = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]"#;
        let Incoming::Batch(items) = parse(body.as_bytes(), &ParseLimits::default()).unwrap()
        else {
            panic!("expected batch")
        };
        assert!(items[0].is_ok());
        assert_eq!(
            items[1]
                .as_ref()
                .unwrap_err()
                .outcome
                .as_ref()
                .unwrap_err()
                .code,
            code::INVALID_REQUEST
        );
    }

    #[test]
    fn message_serialization_round_trips() {
        let m = one(r#"{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"a"}}"#)
            .unwrap();
        let bytes = serde_json::to_vec(&m).unwrap();
        assert_eq!(parse_message(&bytes).unwrap(), m);
        let e = error_bytes(None, &ErrorObject::new(code::PARSE_ERROR, "bad"));
        assert_eq!(
            &e[..],
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
        );
    }
}
