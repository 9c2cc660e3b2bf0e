//! Turning typed argument structs into tool input schemas, and raw arguments back into them.

use mcp_core::{JsonObject, ToolError};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// The JSON Schema object of `T`, ready for [`mcp_core::Tool::input_schema`].
///
/// Doc comments on the fields become `description`s; `Option` fields are not `required`.
pub fn schema_of<T: JsonSchema>() -> JsonObject {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut object = match schema.to_value() {
        serde_json::Value::Object(o) => o,
        // A struct always yields an object schema; anything else becomes an empty object schema.
        _ => JsonObject::new(),
    };
    object.remove("title");
    // The struct's own doc comment describes the Rust type, not the tool.
    object.remove("description");
    object.insert("type".into(), "object".into());
    object
        .entry("properties")
        .or_insert_with(|| JsonObject::new().into());
    object
}

/// Deserializes a tool's raw arguments into `T`; a mismatch is a tool error that says what was
/// wrong (so the model can correct its call).
pub fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(args.into())
        .map_err(|e| ToolError::tool(format!("invalid arguments: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Sample {
        /// The first one.
        a: i64,
        b: Option<String>,
    }

    #[test]
    fn schema_lists_required_fields_and_descriptions() {
        let s = schema_of::<Sample>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["required"], serde_json::json!(["a"]));
        assert_eq!(s["properties"]["a"]["description"], "The first one.");
        assert!(!s.contains_key("$schema"));
        assert!(!s.contains_key("title"));
    }

    #[test]
    fn parse_reports_the_bad_field() {
        let raw = serde_json::json!({"a": "x"}).as_object().unwrap().clone();
        match parse::<Sample>(raw) {
            Err(ToolError::Tool(msg)) => assert!(msg.contains("invalid type"), "{msg}"),
            _ => panic!("expected a tool error"),
        }
    }
}
