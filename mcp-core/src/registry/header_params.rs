//! The rules for tool parameters mirrored into HTTP request headers (`x-mcp-header` in a
//! property of the input schema, sent as `Mcp-Param-{name}`), checked when a tool is
//! registered so that no client has to drop the tool for a bad annotation.
//!
//! An annotation must be a non-empty HTTP token (RFC 9110 `tchar`s), unique among the tool's
//! annotations ignoring case, on a property of type `string`, `integer` or `boolean` (`null`
//! may be allowed beside it), and on a property reached from the schema root through
//! `properties` only: never under `items`, `$defs`, composition or conditional keywords.

/// Why a schema's `x-mcp-header` annotations are invalid, or `None` when they are valid.
pub(crate) fn problem(schema: &crate::protocol::JsonObject) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    walk_object(schema, true, "", &mut seen).err()
}

/// The JSON type of a parameter mirrored into a header, which says how its header text is
/// compared with the argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HeaderParamKind {
    /// `"type": "string"`: compared as text. (Not named `String`: a public item of that
    /// name would make the compiler spell `std::string::String` out in users' errors.)
    Text,
    /// `"type": "integer"`: compared as a number that has no fraction.
    Integer,
    /// `"type": "boolean"`: `true` or `false`.
    Boolean,
    /// Any other `type` (such as `["integer", "null"]`): numbers compare as numbers, anything
    /// else as text.
    Other,
}

/// One tool parameter mirrored into a request header: a property of the input schema marked
/// `x-mcp-header`, reached from the root through `properties` only. A tool's list
/// ([`Tool::header_params`](crate::Tool::header_params)) is read from its schema once, when
/// the schema is set; the annotations are validated when the tool is registered.
///
/// ```
/// use mcp_core::{CallToolResult, Tool};
/// use mcp_core::registry::HeaderParamKind;
/// use serde_json::json;
///
/// let tool = Tool::new("route", |_, _| async { Ok(CallToolResult::success(vec![])) })
///     .input_schema(json!({"type": "object", "properties": {
///         "opts": {"type": "object", "properties": {
///             "region": {"type": "string", "x-mcp-header": "Region"}
///         }}
///     }}).as_object().unwrap().clone());
/// let p = &tool.header_params()[0];
/// assert_eq!(p.path(), ["opts", "region"]);
/// assert_eq!(p.header(), "Mcp-Param-Region");
/// assert_eq!(p.kind(), HeaderParamKind::Text);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderParam {
    path: Vec<String>,
    header: String,
    kind: HeaderParamKind,
}

impl HeaderParam {
    /// Where the argument sits in the `arguments` object: the property names from the root.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The full header name, `Mcp-Param-{x-mcp-header}`.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The parameter's JSON type, for comparing header and argument.
    pub fn kind(&self) -> HeaderParamKind {
        self.kind
    }
}

/// Every parameter of `schema` marked `x-mcp-header`, reached through chains of `properties`
/// only (the only places [`problem`] lets an annotation be).
pub(crate) fn collect(schema: &crate::protocol::JsonObject) -> Vec<HeaderParam> {
    fn walk<'a>(
        schema: &'a crate::protocol::JsonObject,
        path: &mut Vec<&'a str>,
        out: &mut Vec<HeaderParam>,
    ) {
        let Some(props) = schema
            .get("properties")
            .and_then(serde_json::Value::as_object)
        else {
            return;
        };
        for (key, sub) in props {
            let Some(sub) = sub.as_object() else { continue };
            path.push(key);
            if let Some(name) = sub.get("x-mcp-header").and_then(serde_json::Value::as_str) {
                let kind = match sub.get("type").and_then(serde_json::Value::as_str) {
                    Some("string") => HeaderParamKind::Text,
                    Some("integer") => HeaderParamKind::Integer,
                    Some("boolean") => HeaderParamKind::Boolean,
                    _ => HeaderParamKind::Other,
                };
                out.push(HeaderParam {
                    path: path.iter().map(|k| (*k).to_owned()).collect(),
                    header: format!("Mcp-Param-{name}"),
                    kind,
                });
            }
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(schema, &mut Vec::new(), &mut out);
    out
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The JSON types an annotated property may have.
fn primitive(types: &serde_json::Value) -> bool {
    let ok = |t: &str| matches!(t, "string" | "integer" | "boolean");
    match types {
        serde_json::Value::String(t) => ok(t),
        serde_json::Value::Array(ts) => {
            let names: Vec<&str> = ts.iter().filter_map(|t| t.as_str()).collect();
            names.len() == ts.len()
                && names.iter().filter(|t| **t != "null").count() == 1
                && names.iter().all(|t| *t == "null" || ok(t))
        }
        _ => false,
    }
}

/// Walks a schema object. `reachable`: it is the root or reached through `properties` only.
fn walk_object(
    schema: &crate::protocol::JsonObject,
    reachable: bool,
    path: &str,
    seen: &mut Vec<String>,
) -> Result<(), String> {
    if let Some(h) = schema.get("x-mcp-header") {
        let at = if path.is_empty() {
            "the schema root"
        } else {
            path
        };
        if !reachable || path.is_empty() {
            return Err(format!(
                "x-mcp-header at {at}: only properties reached through \"properties\" from the root can be mirrored into headers"
            ));
        }
        let Some(name) = h.as_str() else {
            return Err(format!("x-mcp-header at {at} must be a string"));
        };
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(format!(
                "x-mcp-header {name:?} at {at} must be a non-empty HTTP token (letters, digits, !#$%&'*+-.^_`|~)"
            ));
        }
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "x-mcp-header {name:?} at {at} is used twice (names are compared ignoring case)"
            ));
        }
        if !schema.get("type").is_some_and(primitive) {
            return Err(format!(
                "x-mcp-header {name:?} at {at} must be on a string, integer or boolean property"
            ));
        }
        seen.push(name.to_owned());
    }
    for (key, value) in schema {
        if key == "properties"
            && let Some(props) = value.as_object()
        {
            for (prop, sub) in props {
                if let Some(sub) = sub.as_object() {
                    walk_object(sub, reachable, &format!("{path}/{prop}"), seen)?;
                }
            }
        } else {
            walk_value(value, &format!("{path}/{key}"), seen)?;
        }
    }
    Ok(())
}

/// Any other part of a schema: annotations found here are unreachable.
fn walk_value(value: &serde_json::Value, path: &str, seen: &mut Vec<String>) -> Result<(), String> {
    match value {
        serde_json::Value::Object(m) => walk_object(m, false, path, seen),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| walk_value(v, &format!("{path}/{i}"), seen)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value) -> Option<String> {
        problem(v.as_object().unwrap())
    }

    #[test]
    fn collects_annotations_through_properties_only() {
        let found = |v: serde_json::Value| collect(v.as_object().unwrap());
        assert!(
            found(json!({"type": "object", "properties": {"a": {"type": "string"}}})).is_empty()
        );
        assert!(found(json!({"type": "object"})).is_empty());
        let all = found(json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": ["integer", "null"], "x-mcp-header": "N"},
            "opts": {"type": "object", "properties": {"f": {"type": "boolean", "x-mcp-header": "F"}}},
            "list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}},
        }}));
        let mut got: Vec<_> = all
            .iter()
            .map(|p| (p.path().join("."), p.header().to_owned(), p.kind()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("n".into(), "Mcp-Param-N".into(), HeaderParamKind::Other),
                (
                    "opts.f".into(),
                    "Mcp-Param-F".into(),
                    HeaderParamKind::Boolean
                ),
                (
                    "region".into(),
                    "Mcp-Param-Region".into(),
                    HeaderParamKind::Text
                ),
            ]
        );
    }

    #[test]
    fn valid_annotations_pass() {
        assert_eq!(
            check(json!({"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "n": {"type": ["integer", "null"], "x-mcp-header": "N"},
                "opts": {"type": "object", "properties": {"f": {"type": "boolean", "x-mcp-header": "Flag"}}},
            }})),
            None
        );
    }

    #[test]
    fn invalid_annotations_are_named() {
        let cases = [
            (
                json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": ""}}}),
                "non-empty",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "A B"}}}),
                "token",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "A\r\n"}}}),
                "token",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
                "string, integer or boolean",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "object", "x-mcp-header": "A"}}}),
                "string, integer or boolean",
            ),
            (
                json!({"type": "object", "properties": {
                "a": {"type": "string", "x-mcp-header": "Id"},
                "b": {"type": "string", "x-mcp-header": "ID"}}}),
                "twice",
            ),
            (
                json!({"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string", "x-mcp-header": "I"}}}}),
                "reached",
            ),
            (
                json!({"type": "object", "$defs": {"d": {"type": "string", "x-mcp-header": "D"}}}),
                "reached",
            ),
            (
                json!({"type": "object", "anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
                "reached",
            ),
            (json!({"type": "object", "x-mcp-header": "Root"}), "reached"),
        ];
        for (schema, want) in cases {
            let got = check(schema.clone()).unwrap_or_else(|| panic!("accepted {schema}"));
            assert!(got.contains(want), "{schema}: {got}");
        }
    }
}
