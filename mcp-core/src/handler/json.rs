//! `Json<T>`: structured tool output with a derived output schema.

use serde::Serialize;

use crate::error::{McpError, ToolError};
use crate::handler::IntoToolResult;
use crate::protocol::{CallToolResult, JsonObject};

/// Structured output: the value goes into `structuredContent`, its JSON text into one text
/// block (for clients that predate structured output), and the tool advertises an
/// `outputSchema` derived from `T`.
///
/// MCP requires structured content to be a JSON object, so `T` must describe one (a struct, a
/// map, or an enum whose variants are all objects). Anything else is reported when the server
/// is built, as `RegistrationError::InvalidSchema`.
///
/// ```
/// use mcp_core::handler::{IntoToolResult, Json};
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Sum { total: i64 }
///
/// let result = Json(Sum { total: 5 }).into_tool_result().unwrap();
/// assert_eq!(result.structured_content, Some(serde_json::json!({ "total": 5 })));
/// assert!(<Json<Sum> as IntoToolResult>::output_schema().unwrap().is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize + schemars::JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        let value = serde_json::to_value(&self.0).map_err(|e| {
            ToolError::Protocol(McpError::internal(format!(
                "the tool's structured output could not be serialized: {e}"
            )))
        })?;
        if !value.is_object() {
            return Err(ToolError::Protocol(McpError::internal(
                "the tool's structured output is not a JSON object",
            )));
        }
        Ok(CallToolResult::structured(value))
    }

    fn output_schema() -> Option<Result<JsonObject, String>> {
        Some(output_schema_for::<T>())
    }
}

fn output_schema_for<T: schemars::JsonSchema>() -> Result<JsonObject, String> {
    let mut schema = crate::__private::schema_for::<T>();
    let is_object = |s: &serde_json::Value| s.get("type").and_then(|t| t.as_str()) == Some("object");
    if is_object(&serde_json::Value::Object(schema.clone())) {
        return Ok(schema);
    }
    // An enum of object variants: every branch is an object, so the whole is one.
    let branches = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|v| v.as_array()).cloned());
    if let Some(branches) = branches {
        if !branches.is_empty() && branches.iter().all(is_object) {
            schema.insert("type".into(), "object".into());
            return Ok(schema);
        }
    }
    Err(format!(
        "`Json<{}>` output must describe a JSON object (structuredContent is always an object); \
         wrap the value in a struct",
        std::any::type_name::<T>()
    ))
}
