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

/// True when a property reached from the root through `properties` only is marked
/// `x-mcp-header` (the only places [`problem`] lets an annotation be).
pub(crate) fn any(schema: &crate::protocol::JsonObject) -> bool {
    schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|props| {
            props
                .values()
                .filter_map(serde_json::Value::as_object)
                .any(|sub| sub.contains_key("x-mcp-header") || any(sub))
        })
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
    fn any_finds_annotations_through_properties_only() {
        let any = |v: serde_json::Value| super::any(v.as_object().unwrap());
        assert!(!any(
            json!({"type": "object", "properties": {"a": {"type": "string"}}})
        ));
        assert!(!any(json!({"type": "object"})));
        assert!(any(
            json!({"type": "object", "properties": {"a": {"type": "string", "x-mcp-header": "A"}}})
        ));
        assert!(any(
            json!({"type": "object", "properties": {"o": {"type": "object", "properties": {"f": {"type": "boolean", "x-mcp-header": "F"}}}}})
        ));
        assert!(!any(
            json!({"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string", "x-mcp-header": "I"}}}})
        ));
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
