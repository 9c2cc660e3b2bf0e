//! JSON-RPC 2.0 messages: ids, requests, notifications, responses, errors, and a bounded parser.
//!
//! Incoming bytes become a [`Incoming`] through [`parse`], which enforces a size and a nesting
//! depth limit ([`ParseLimits`]) before any allocation proportional to the input happens.
//! Outgoing messages are serialized once into [`bytes::Bytes`] by the `*_bytes` helpers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// The deepest accepted nesting of arrays and objects.
    pub max_depth: usize,
    /// The most elements accepted in one batch.
    pub max_batch: usize,
}

impl Default for ParseLimits {
    /// 4 MiB, depth 64, 100 messages per batch.
    fn default() -> Self {
        ParseLimits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
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
/// Not JSON (or too large or too deep) gives -32700; JSON that is not a JSON-RPC message gives
/// -32600 with the id when it could be read. An empty array is -32600 too.
pub fn parse(input: &[u8], limits: &ParseLimits) -> Result<Incoming, ParseError> {
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
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<&serde_json::value::RawValue> =
            serde_json::from_slice(input).map_err(not_json)?;
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
            .map(|raw| parse_one(raw.get().as_bytes()).map_err(|e| e.response()))
            .collect();
        return Ok(Incoming::Batch(batch));
    }
    parse_one(input).map(Incoming::Single)
}

/// Parses a single message (no batch), without the size and depth checks of [`parse`].
pub fn parse_message(input: &[u8]) -> Result<Message, ParseError> {
    parse_one(input)
}

fn not_json(e: serde_json::Error) -> ParseError {
    ParseError {
        id: None,
        error: ErrorObject::new(code::PARSE_ERROR, format!("invalid JSON: {e}")),
    }
}

#[derive(Deserialize)]
struct RawMessage {
    jsonrpc: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    method: Option<Value>,
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    error: Option<Value>,
}

/// Distinguishes `"id": null` (Some(Null)) from an absent id (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn parse_one(input: &[u8]) -> Result<Message, ParseError> {
    // Fast path: straight into the message fields, no intermediate tree of the whole body.
    match serde_json::from_slice::<RawMessage>(input) {
        Ok(raw) => classify(raw),
        // Slow path, only for bad input: tell "not JSON" (-32700) from "not a message" (-32600).
        Err(_) => {
            let value: Value = serde_json::from_slice(input).map_err(not_json)?;
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
    let raw: RawMessage = serde_json::from_value(value)
        .map_err(|e| invalid(None, format!("malformed JSON-RPC message: {e}")))?;
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
        Some(v) => Some(
            RequestId::deserialize(v).map_err(|e| invalid(None, format!("invalid \"id\": {e}")))?,
        ),
    };
    if raw.jsonrpc.as_ref().and_then(Value::as_str) != Some(JSONRPC_VERSION) {
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
            let error: ErrorObject = serde_json::from_value(error)
                .map_err(|e| invalid(id.clone(), format!("malformed \"error\": {e}")))?;
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

/// Returns the depth reached when `input` nests deeper than `max`, scanning bytes only.
fn exceeds_depth(input: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in input {
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

fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    // Serializing our own wire structs into a Vec cannot fail: every map key is a string.
    Bytes::from(serde_json::to_vec(value).unwrap_or_else(|e| {
        tracing::error!(target: "mcp::rpc", error = %e, "serialization failed");
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"serialization failed"}}"#
            .to_vec()
    }))
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
    to_bytes(&WireResult {
        jsonrpc: JSONRPC_VERSION,
        id,
        result,
    })
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
        let e = one(r#"{"jsonrpc":"2.0","id":7,"method":3}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e = one(r#"{"jsonrpc":"2.0","id":7,"method":"x","params":3}"#).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
        let e = parse(b"[]", &ParseLimits::default()).unwrap_err();
        assert_eq!(e.error.code, code::INVALID_REQUEST);
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
