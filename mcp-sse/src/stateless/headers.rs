//! The request headers of the stateless revision: `MCP-Protocol-Version`, `Mcp-Method`,
//! `Mcp-Name`, and the `Mcp-Param-{Name}` headers that mirror tool arguments whose schema marks
//! them with `x-mcp-header`. Each must agree with the body, so that an intermediary routing on
//! a header and the server acting on the body never see two different requests.
//!
//! Values are compared after trimming the optional whitespace around them (RFC 9110 §5.5) and,
//! for `Mcp-Name` and `Mcp-Param-*`, after decoding the `=?base64?…?=` form. A value holding
//! anything but visible ASCII, space and tab, or a malformed Base64 form, is refused like a
//! mismatch.

use std::borrow::Cow;

use base64::Engine;
use http::header::{AsHeaderName, HeaderName};
use http::{HeaderMap, HeaderValue};
use mcp_core::registry::{HeaderParam, HeaderParamKind};
use serde_json::Value;

/// `MCP-Protocol-Version`.
pub(crate) const VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// `Mcp-Method`.
const METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// `Mcp-Name`.
const NAME: HeaderName = HeaderName::from_static("mcp-name");

const B64_PREFIX: &str = "=?base64?";
const B64_SUFFIX: &str = "?=";

/// A header that is missing, malformed or disagrees with the body: answered as `HeaderMismatch`
/// (-32020) with HTTP 400. The text says which header and why; it never repeats a tool
/// argument's value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mismatch(pub(crate) String);

/// How often a header appears in a request.
#[derive(Clone, Copy)]
enum Found<'a> {
    Absent,
    Once(&'a HeaderValue),
    Repeated,
}

impl<'a> Found<'a> {
    fn add(&mut self, v: &'a HeaderValue) {
        *self = match self {
            Found::Absent => Found::Once(v),
            _ => Found::Repeated,
        };
    }
}

/// The request's `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`, found in one pass over
/// its headers: a lookup by name hashes the name, three of them cost more than the pass.
pub(crate) struct Standard<'a> {
    version: Found<'a>,
    method: Found<'a>,
    name: Found<'a>,
}

impl<'a> Standard<'a> {
    /// Finds the three headers in `h`, every value of each.
    pub(crate) fn find(h: &'a HeaderMap) -> Self {
        let mut s = Standard {
            version: Found::Absent,
            method: Found::Absent,
            name: Found::Absent,
        };
        for (name, value) in h {
            if *name == VERSION {
                s.version.add(value);
            } else if *name == METHOD {
                s.method.add(value);
            } else if *name == NAME {
                s.name.add(value);
            }
        }
        s
    }
}

/// The single value of header `name`, trimmed; `None` when absent.
fn value<N: AsHeaderName + std::fmt::Display + Copy>(
    h: &HeaderMap,
    name: N,
) -> Result<Option<&str>, Mismatch> {
    let mut all = h.get_all(name).iter();
    let found = match (all.next(), all.next()) {
        (None, _) => Found::Absent,
        (Some(v), None) => Found::Once(v),
        (Some(_), Some(_)) => Found::Repeated,
    };
    text(name, found)
}

/// The text of a header found once, trimmed; `None` when absent. Repeated, or holding
/// anything but visible ASCII, space and tab, it is refused.
fn text(name: impl std::fmt::Display, found: Found<'_>) -> Result<Option<&str>, Mismatch> {
    let v = match found {
        Found::Absent => return Ok(None),
        Found::Once(v) => v,
        Found::Repeated => {
            return Err(Mismatch(format!("the {name} header must appear once")));
        }
    };
    // `to_str` takes exactly visible ASCII, space and tab, so the only ASCII whitespace
    // `trim_ascii` can meet is the space and tab around the value.
    let Ok(s) = v.to_str() else {
        return Err(Mismatch(format!(
            "the {name} header holds characters outside visible ASCII; send non-ASCII values as =?base64?…?="
        )));
    };
    Ok(Some(s.trim_ascii()))
}

/// Decodes the `=?base64?…?=` form (standard alphabet, canonical padding, UTF-8 inside); any
/// other value is taken literally.
pub(crate) fn decode<'a>(name: &str, v: &'a str) -> Result<Cow<'a, str>, Mismatch> {
    let Some(inner) = v
        .strip_prefix(B64_PREFIX)
        .and_then(|r| r.strip_suffix(B64_SUFFIX))
    else {
        return Ok(Cow::Borrowed(v));
    };
    let bad = || {
        Mismatch(format!(
            "the {name} header is not valid =?base64?…?= (standard Base64 with padding, UTF-8 inside)"
        ))
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map(Cow::Owned).map_err(|_| bad())
}

/// The body field `Mcp-Name` mirrors for `method`, if it has one.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// Checks `MCP-Protocol-Version` against `_meta`'s protocol version. Runs before the version
/// itself is judged, so a client is told about the disagreement rather than about one of the
/// two values. A request without a version in `_meta` passes here and is refused by the
/// `_meta` validation.
pub(crate) fn check_version(h: &Standard<'_>, meta_version: Option<&str>) -> Result<(), Mismatch> {
    let header = text(&VERSION, h.version)?;
    match (header, meta_version) {
        (_, None) => Ok(()),
        (None, Some(_)) => Err(Mismatch(
            "missing MCP-Protocol-Version header: it must repeat params._meta[\"io.modelcontextprotocol/protocolVersion\"]".into(),
        )),
        (Some(h), Some(m)) if h == m => Ok(()),
        (Some(h), Some(m)) => Err(Mismatch(format!(
            "MCP-Protocol-Version header {:?} does not match params._meta protocol version {:?}",
            clip(h),
            clip(m)
        ))),
    }
}

/// Checks `Mcp-Method` (every request) and `Mcp-Name` (requests naming a tool, prompt,
/// resource or task) against the body. Gives the body's name (`params.name`, `uri` or
/// `taskId`, as the method has), when it is a string.
pub(crate) fn check_standard<'p>(
    h: &Standard<'_>,
    method: &str,
    params: Option<&'p Value>,
) -> Result<Option<&'p str>, Mismatch> {
    match text(&METHOD, h.method)? {
        None => {
            return Err(Mismatch(format!(
                "missing Mcp-Method header: it must repeat the body's method {:?}",
                clip(method)
            )));
        }
        Some(v) if v == method => {}
        Some(v) => {
            return Err(Mismatch(format!(
                "Mcp-Method header {:?} does not match the body's method {:?}",
                clip(v),
                clip(method)
            )));
        }
    }
    let Some(field) = name_field(method) else {
        return Ok(None);
    };
    // A body without the field is the dispatcher's to refuse (invalid params).
    let Some(body) = params.and_then(|p| p.get(field)).and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(v) = text(&NAME, h.name)? else {
        return Err(Mismatch(format!(
            "missing Mcp-Name header: {method} requests repeat params.{field} there"
        )));
    };
    if decode("Mcp-Name", v)? != body {
        return Err(Mismatch(format!(
            "Mcp-Name header {:?} does not match params.{field} {:?}",
            clip(v),
            clip(body)
        )));
    }
    Ok(Some(body))
}

/// True when the header text `h` carries the same value as the argument `v`.
fn same(kind: HeaderParamKind, v: &Value, h: &str) -> bool {
    match v {
        Value::String(s) => s == h,
        Value::Bool(b) => h == if *b { "true" } else { "false" },
        // Integers compare numerically, so `42.0` and `42` agree.
        Value::Number(n) => match (n.as_i64(), h.parse::<i64>()) {
            (Some(a), Ok(b)) => a == b,
            _ => match (n.as_f64(), h.parse::<f64>()) {
                (Some(a), Ok(b)) => {
                    a == b && (kind != HeaderParamKind::Integer || b.fract() == 0.0)
                }
                _ => false,
            },
        },
        _ => false,
    }
}

/// Checks the `Mcp-Param-*` headers of a `tools/call` against its `arguments`: a present,
/// non-null argument needs its header with the same value; an absent or null one must not
/// have it.
pub(crate) fn check_params(
    h: &HeaderMap,
    params: &[HeaderParam],
    arguments: Option<&Value>,
) -> Result<(), Mismatch> {
    for p in params {
        let mut body = arguments;
        for key in p.path() {
            body = body.and_then(|b| b.get(key));
        }
        let body = body.filter(|v| !v.is_null());
        let header = value(h, p.header())?;
        match (body, header) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(Mismatch(format!(
                    "{} header sent but argument {:?} is absent",
                    p.header(),
                    p.path().join(".")
                )));
            }
            (Some(_), None) => {
                return Err(Mismatch(format!(
                    "missing {} header: this tool mirrors argument {:?} there",
                    p.header(),
                    p.path().join(".")
                )));
            }
            (Some(v), Some(hv)) => {
                if !same(p.kind(), v, &decode(p.header(), hv)?) {
                    return Err(Mismatch(format!(
                        "{} header does not match argument {:?}",
                        p.header(),
                        p.path().join(".")
                    )));
                }
            }
        }
    }
    Ok(())
}

/// At most 64 characters of a client-supplied value, for error messages.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn check_standard(h: &HeaderMap, method: &str, params: Option<&Value>) -> Result<(), Mismatch> {
        super::check_standard(&Standard::find(h), method, params).map(|_| ())
    }

    fn check_version(h: &HeaderMap, meta: Option<&str>) -> Result<(), Mismatch> {
        super::check_version(&Standard::find(h), meta)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn decodes_the_base64_form_and_takes_anything_else_literally() {
        assert_eq!(decode("x", "=?base64?SGVsbG8=?=").unwrap(), "Hello");
        assert_eq!(
            decode("x", "=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
            "Hello, 世界"
        );
        assert_eq!(
            decode("x", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=").unwrap(),
            "=?base64?literal?="
        );
        assert_eq!(decode("x", "SGVsbG8=").unwrap(), "SGVsbG8=");
        assert_eq!(
            decode("x", "=?base64?SGVsbG8=").unwrap(),
            "=?base64?SGVsbG8="
        );
        assert_eq!(decode("x", "=?base64??=").unwrap(), "");
        // Bad padding, bad alphabet, bytes that are not UTF-8.
        assert!(decode("x", "=?base64?SGVsbG8?=").is_err());
        assert!(decode("x", "=?base64?SGVs!!!bG8=?=").is_err());
        assert!(decode("x", "=?base64?/w==?=").is_err());
    }

    #[test]
    fn method_header_is_required_case_sensitive_and_trimmed() {
        assert!(check_standard(&headers(&[]), "tools/list", None).is_err());
        assert!(
            check_standard(
                &headers(&[("mcp-method", "prompts/list")]),
                "tools/list",
                None
            )
            .is_err()
        );
        assert!(
            check_standard(
                &headers(&[("mcp-method", "TOOLS/LIST")]),
                "tools/list",
                None
            )
            .is_err()
        );
        assert!(
            check_standard(
                &headers(&[("mcp-method", " tools/list\t")]),
                "tools/list",
                None
            )
            .is_ok()
        );
        // Twice is refused, even with equal values.
        let twice = headers(&[("mcp-method", "tools/list"), ("mcp-method", "tools/list")]);
        assert!(check_standard(&twice, "tools/list", None).is_err());
    }

    #[test]
    fn name_header_mirrors_name_uri_or_task_id() {
        let call = json!({"name": "echo", "arguments": {}});
        let ok = headers(&[("mcp-method", "tools/call"), ("mcp-name", "  echo  ")]);
        assert!(check_standard(&ok, "tools/call", Some(&call)).is_ok());
        let wrong = headers(&[("mcp-method", "tools/call"), ("mcp-name", "other")]);
        assert!(check_standard(&wrong, "tools/call", Some(&call)).is_err());
        let missing = headers(&[("mcp-method", "tools/call")]);
        assert!(check_standard(&missing, "tools/call", Some(&call)).is_err());
        let twice = headers(&[
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
            ("mcp-name", "echo"),
        ]);
        assert!(check_standard(&twice, "tools/call", Some(&call)).is_err());
        let read = json!({"uri": "file:///é"});
        let encoded = headers(&[
            ("mcp-method", "resources/read"),
            ("mcp-name", "=?base64?ZmlsZTovLy/DqQ==?="),
        ]);
        assert!(check_standard(&encoded, "resources/read", Some(&read)).is_ok());
        let task = json!({"taskId": "t-1"});
        let t = headers(&[("mcp-method", "tasks/get"), ("mcp-name", "t-2")]);
        assert!(check_standard(&t, "tasks/get", Some(&task)).is_err());
        // Methods without a name ignore the header.
        let list = headers(&[("mcp-method", "tools/list"), ("mcp-name", "whatever")]);
        assert!(check_standard(&list, "tools/list", None).is_ok());
    }

    #[test]
    fn version_header_must_repeat_meta() {
        let h = headers(&[("mcp-protocol-version", "2026-07-28")]);
        assert!(check_version(&h, Some("2026-07-28")).is_ok());
        assert!(check_version(&h, Some("v999.0.0")).is_err());
        assert!(check_version(&h, None).is_ok());
        assert!(check_version(&headers(&[]), Some("2026-07-28")).is_err());
        let tabbed = headers(&[("mcp-protocol-version", "\t2026-07-28 ")]);
        assert!(check_version(&tabbed, Some("2026-07-28")).is_ok());
        let mut high = HeaderMap::new();
        high.insert(
            "mcp-protocol-version",
            HeaderValue::from_bytes("2026-07-28é".as_bytes()).unwrap(),
        );
        assert!(check_version(&high, Some("2026-07-28é")).is_err());
        let twice = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-protocol-version", "2026-07-28"),
        ]);
        assert!(check_version(&twice, Some("2026-07-28")).is_err());
        // Found among other headers, whatever their order.
        let among = headers(&[
            ("accept", "application/json"),
            ("mcp-method", "tools/list"),
            ("mcp-protocol-version", " 2026-07-28 "),
            ("mcp-name", "x"),
        ]);
        assert!(check_version(&among, Some("2026-07-28")).is_ok());
    }

    #[test]
    fn param_headers_follow_the_arguments() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "N"},
            "flag": {"type": "boolean", "x-mcp-header": "Flag"},
        }});
        let tool = mcp_core::Tool::new("t", |_, _| async {
            Ok(mcp_core::CallToolResult::success(vec![]))
        })
        .input_schema(schema.as_object().unwrap().clone());
        let params = tool.header_params();
        let args = json!({"region": "us-west1", "n": 42, "flag": true});
        let all = headers(&[
            ("mcp-param-region", "us-west1"),
            ("mcp-param-n", "42.0"),
            ("mcp-param-flag", "true"),
        ]);
        assert!(check_params(&all, params, Some(&args)).is_ok());
        let wrong = headers(&[
            ("mcp-param-region", "eu"),
            ("mcp-param-n", "42"),
            ("mcp-param-flag", "true"),
        ]);
        assert!(check_params(&wrong, params, Some(&args)).is_err());
        let fractional = headers(&[
            ("mcp-param-region", "us-west1"),
            ("mcp-param-n", "42.5"),
            ("mcp-param-flag", "true"),
        ]);
        assert!(check_params(&fractional, params, Some(&args)).is_err());
        let missing = headers(&[("mcp-param-n", "42"), ("mcp-param-flag", "true")]);
        assert!(check_params(&missing, params, Some(&args)).is_err());
        // Absent and null arguments need no header, and must not have one.
        let none = json!({"region": null});
        assert!(check_params(&headers(&[]), params, Some(&none)).is_ok());
        assert!(check_params(&headers(&[("mcp-param-n", "1")]), params, Some(&none)).is_err());
        // Encoded values are decoded first; bytes beyond ASCII are refused (control
        // characters never get this far: the HTTP parser refuses them).
        let text = json!({"region": " padded "});
        let enc = headers(&[("mcp-param-region", "=?base64?IHBhZGRlZCA=?=")]);
        assert!(check_params(&enc, params, Some(&text)).is_ok());
        let line = json!({"region": "line1\nline2"});
        let enc = headers(&[("mcp-param-region", "=?base64?bGluZTEKbGluZTI=?=")]);
        assert!(check_params(&enc, params, Some(&line)).is_ok());
        assert!(HeaderValue::from_bytes(b"a\x01b").is_err());
        let mut high = HeaderMap::new();
        high.insert(
            "mcp-param-region",
            HeaderValue::from_bytes("é".as_bytes()).unwrap(),
        );
        assert!(check_params(&high, params, Some(&json!({"region": "é"}))).is_err());
    }
}
