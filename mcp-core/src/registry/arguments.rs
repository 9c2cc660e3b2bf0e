//! What a tool's input schema promises beyond the Rust type (ranges, lengths, patterns,
//! formats, enums, `additionalProperties: false`, ...), enforced before the handler runs.
//!
//! The schema is inspected once, when the tool is built: a schema whose only keywords are
//! structure (`type`, `properties`, `required`, `$ref`, descriptions) or what a Rust number
//! type implies (`format: "int64"`, `minimum: 0` on an unsigned integer) gets no checker, so
//! such tools pay nothing per call. Otherwise the schema is compiled once (draft 2020-12,
//! formats asserted) and every call's arguments are validated against it; the first failure
//! becomes an `isError` result naming the argument and the rule.

use serde_json::Value;

use crate::protocol::JsonObject;

/// A compiled check of a tool's arguments.
pub(crate) struct ArgumentCheck {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ArgumentCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArgumentCheck")
    }
}

/// Keywords that constrain a value beyond its JSON type.
const CONSTRAINTS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "enum",
    "const",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "not",
    "if",
];

impl ArgumentCheck {
    /// The check for `schema`: `Ok(None)` when the schema constrains nothing beyond types,
    /// `Err` when it constrains something but does not compile (a bad `pattern`, say).
    pub(crate) fn for_schema(schema: &JsonObject) -> Result<Option<ArgumentCheck>, String> {
        if !constrains(schema) {
            return Ok(None);
        }
        let schema = Value::Object(schema.clone());
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .map(|validator| Some(ArgumentCheck { validator }))
            .map_err(|e| format!("the input schema does not compile: {}", e.masked()))
    }

    /// Checks `arguments`; the error is the text of the `isError` result.
    pub(crate) fn check(&self, arguments: &Value) -> Result<(), String> {
        let Err(e) = self.validator.validate(arguments) else {
            return Ok(());
        };
        let rule = e.kind().keyword();
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            e.kind()
        {
            let names: Vec<String> = unexpected.iter().map(|u| format!("`{u}`")).collect();
            let at = argument_name(e.instance_path().as_str());
            let place = if at.is_empty() {
                "this tool takes no such argument".to_owned()
            } else {
                format!("`{at}` takes no such field")
            };
            return Err(format!(
                "unknown argument {}: {place} (additionalProperties)",
                names.join(", ")
            ));
        }
        let at = argument_name(e.instance_path().as_str());
        if at.is_empty() {
            Err(format!("invalid arguments: {} ({rule})", e.masked()))
        } else {
            Err(format!(
                "invalid argument `{at}`: {} ({rule})",
                e.masked_with("the value")
            ))
        }
    }
}

/// `/a/0/b` as `a[0].b`.
fn argument_name(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// True when some subschema of `schema` has a constraint keyword that its Rust type does not
/// already imply.
fn constrains(schema: &JsonObject) -> bool {
    let format = schema.get("format").and_then(Value::as_str);
    let range = format.and_then(number_range);
    for (key, value) in schema {
        let implied = match key.as_str() {
            "format" => range.is_some() || matches!(format, Some("float" | "double")),
            "minimum" => range.is_some_and(|(lo, _)| value.as_f64() == Some(lo)),
            "maximum" => range.is_some_and(|(_, hi)| value.as_f64() == Some(hi)),
            _ => false,
        };
        if !implied && CONSTRAINTS.contains(&key.as_str()) {
            return true;
        }
        if matches!(
            key.as_str(),
            "additionalProperties" | "unevaluatedProperties"
        ) && value == &Value::Bool(false)
        {
            return true;
        }
        if subschemas(value).any(constrains) {
            return true;
        }
    }
    false
}

/// The objects inside `value` (nested schemas, including those under `properties`, `$defs`,
/// `items`, `anyOf`, ...).
fn subschemas(value: &Value) -> Box<dyn Iterator<Item = &JsonObject> + '_> {
    match value {
        Value::Object(m) => Box::new(std::iter::once(m)),
        Value::Array(a) => Box::new(a.iter().filter_map(Value::as_object)),
        _ => Box::new(std::iter::empty()),
    }
}

/// The range schemars writes for a Rust integer `format`.
fn number_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN as f64, i8::MAX as f64),
        "int16" => (i16::MIN as f64, i16::MAX as f64),
        "int32" => (i32::MIN as f64, i32::MAX as f64),
        "int64" | "int" => (i64::MIN as f64, i64::MAX as f64),
        "int128" => (i128::MIN as f64, i128::MAX as f64),
        "uint8" => (0.0, u8::MAX as f64),
        "uint16" => (0.0, u16::MAX as f64),
        "uint32" => (0.0, u32::MAX as f64),
        "uint64" | "uint" => (0.0, u64::MAX as f64),
        "uint128" => (0.0, u128::MAX as f64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde_json::json;

    use super::*;
    use crate::handler::{InputSchema, ParamSpec, schema_generator};

    fn schema_of<T: crate::handler::ToolParam>(name: &'static str) -> JsonObject {
        let mut g = schema_generator();
        let mut s = InputSchema::new();
        s.param::<T>(
            &mut g,
            ParamSpec {
                name,
                description: Some("doc"),
                default: None,
                header: None,
            },
        );
        s.finish(&mut g)
    }

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Plain {
        a: u8,
        b: u32,
        c: u64,
        d: i64,
        e: f64,
        f: Vec<String>,
        g: Option<std::collections::BTreeMap<String, i32>>,
        h: usize,
    }

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Limited {
        #[schemars(range(min = 1, max = 10))]
        n: u32,
        #[schemars(length(max = 3))]
        s: String,
    }

    #[test]
    fn rust_types_alone_need_no_check() {
        for s in [
            schema_of::<Plain>("p"),
            schema_of::<u16>("x"),
            schema_of::<i8>("x"),
            schema_of::<Vec<u64>>("x"),
            schema_of::<Option<f32>>("x"),
        ] {
            assert!(ArgumentCheck::for_schema(&s).unwrap().is_none(), "{s:?}");
        }
    }

    #[test]
    fn schemars_constraints_are_checked() {
        let s = schema_of::<Limited>("q");
        let check = ArgumentCheck::for_schema(&s).unwrap().expect("constrained");
        assert!(check.check(&json!({"q": {"n": 5, "s": "abc"}})).is_ok());
        let e = check
            .check(&json!({"q": {"n": 11, "s": "abc"}}))
            .unwrap_err();
        assert!(
            e.starts_with("invalid argument `q.n`:") && e.ends_with("(maximum)"),
            "{e}"
        );
        let e = check
            .check(&json!({"q": {"n": 1, "s": "abcd"}}))
            .unwrap_err();
        assert!(e.contains("`q.s`") && e.ends_with("(maxLength)"), "{e}");
    }

    #[test]
    fn hand_written_constraints_are_checked() {
        let s = json!({
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
                "mode": {"enum": ["fast", "slow"]}
            },
            "additionalProperties": false
        });
        let check = ArgumentCheck::for_schema(s.as_object().unwrap())
            .unwrap()
            .unwrap();
        assert!(
            check
                .check(&json!({"email": "a@b.example", "tags": ["x"], "mode": "fast"}))
                .is_ok()
        );
        let e = check.check(&json!({"email": "nope"})).unwrap_err();
        assert!(e.contains("`email`") && e.ends_with("(format)"), "{e}");
        let e = check.check(&json!({"tags": ["ok", "NO"]})).unwrap_err();
        assert!(e.contains("`tags[1]`") && e.ends_with("(pattern)"), "{e}");
        let e = check.check(&json!({"mode": "medium"})).unwrap_err();
        assert!(e.contains("`mode`") && e.ends_with("(enum)"), "{e}");
        let e = check.check(&json!({"extra": 1})).unwrap_err();
        assert_eq!(
            e,
            "unknown argument `extra`: this tool takes no such argument (additionalProperties)"
        );
    }

    #[test]
    fn a_schema_that_does_not_compile_is_reported() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}});
        assert!(ArgumentCheck::for_schema(s.as_object().unwrap()).is_err());
    }

    #[test]
    fn pointers_become_argument_names() {
        assert_eq!(argument_name("/a/0/b"), "a[0].b");
        assert_eq!(argument_name(""), "");
        assert_eq!(argument_name("/x~1y"), "x/y");
    }
}
