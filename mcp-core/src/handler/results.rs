//! Return values of handlers and how they become protocol results.

use std::fmt::Display;

use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde_json::Value;

use crate::error::{McpError, ToolError};
use crate::protocol::{
    CallToolResult, Content, GetPromptResult, JsonObject, PromptMessage, ReadResourceResult,
    ResourceContents,
};

/// Structured tool output: sent as `structuredContent` (with a text mirror for older clients),
/// and its schema becomes the tool's `outputSchema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

/// Converts a tool's return value into a `tools/call` result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    label = "unsupported tool return type",
    note = "supported: String, &str, integers, floats, bool, (), Content, Vec<Content>, Json<T>, CallToolResult, and Result<T, E> of those (E: Display becomes an isError result; ToolError::Protocol becomes a JSON-RPC error)"
)]
pub trait IntoToolResult {
    /// The result, or an error to answer with.
    fn into_tool_result(self) -> Result<CallToolResult, ToolError>;

    /// The output schema this return type declares (only `Json<T>` declares one).
    fn output_schema(_generator: &mut SchemaGenerator) -> Option<JsonObject> {
        None
    }
}

fn text(s: impl Into<String>) -> Result<CallToolResult, ToolError> {
    Ok(CallToolResult::success(vec![Content::text(s)]))
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        text(self)
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        text(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(Vec::new()))
    }
}

macro_rules! display_results {
    ($($t:ty),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
                text(self.to_string())
            }
        }
    )*};
}
display_results!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool
);

impl IntoToolResult for Content {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(vec![self]))
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(self))
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(self)
    }
}

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        let value = serde_json::to_value(&self.0)
            .map_err(|e| McpError::internal(format!("tool output does not serialize: {e}")))?;
        if value.is_object() {
            Ok(CallToolResult::structured(value))
        } else {
            // `structuredContent` must be an object; such a `T` has no output schema either,
            // so the value travels as its JSON text only.
            Ok(CallToolResult::success(vec![Content::text(
                value.to_string(),
            )]))
        }
    }

    fn output_schema(generator: &mut SchemaGenerator) -> Option<JsonObject> {
        let mut g = generator.clone();
        let schema = g.root_schema_for::<T>().to_value();
        match schema {
            Value::Object(mut m) if m.get("type").and_then(Value::as_str) == Some("object") => {
                m.remove("$schema");
                Some(m)
            }
            _ => None,
        }
    }
}

impl<T: IntoToolResult, E: Display> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => Err(ToolError::Tool(e.to_string())),
        }
    }

    fn output_schema(generator: &mut SchemaGenerator) -> Option<JsonObject> {
        T::output_schema(generator)
    }
}

impl<T: IntoToolResult> IntoToolResult for Result<T, ToolError> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        self.and_then(IntoToolResult::into_tool_result)
    }

    fn output_schema(generator: &mut SchemaGenerator) -> Option<JsonObject> {
        T::output_schema(generator)
    }
}

/// Binary resource contents with a MIME type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The MIME type.
    pub mime_type: String,
}

/// Converts a resource handler's return value into `resources/read` contents for `uri`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a resource",
    label = "unsupported resource return type",
    note = "supported: String, &str, Blob, ResourceContents, Vec<ResourceContents>, ReadResourceResult, and Result<T, E> of those"
)]
pub trait IntoResourceResult {
    /// The contents; `mime_type` is the declared MIME type, if any.
    fn into_resource_result(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResult, McpError>;
}

impl IntoResourceResult for String {
    fn into_resource_result(
        self,
        uri: &str,
        mime: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(ResourceContents::text(uri, mime.unwrap_or("text/plain"), self).into())
    }
}

impl IntoResourceResult for &str {
    fn into_resource_result(
        self,
        uri: &str,
        mime: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        self.to_owned().into_resource_result(uri, mime)
    }
}

impl IntoResourceResult for Blob {
    fn into_resource_result(
        self,
        uri: &str,
        _: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(ResourceContents::blob(uri, self.mime_type, base64(&self.bytes)).into())
    }
}

impl IntoResourceResult for ResourceContents {
    fn into_resource_result(
        self,
        _: &str,
        _: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(self.into())
    }
}

impl IntoResourceResult for Vec<ResourceContents> {
    fn into_resource_result(
        self,
        _: &str,
        _: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(self.into())
    }
}

impl IntoResourceResult for ReadResourceResult {
    fn into_resource_result(
        self,
        _: &str,
        _: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        Ok(self)
    }
}

impl<T: IntoResourceResult, E: Display> IntoResourceResult for Result<T, E> {
    fn into_resource_result(
        self,
        uri: &str,
        mime: Option<&str>,
    ) -> Result<ReadResourceResult, McpError> {
        match self {
            Ok(v) => v.into_resource_result(uri, mime),
            Err(e) => Err(McpError::internal(format!(
                "reading {} failed: {e}",
                crate::jsonrpc::clip(uri, crate::jsonrpc::ECHO_MAX)
            ))),
        }
    }
}

/// Converts a prompt handler's return value into a `prompts/get` result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a prompt",
    label = "unsupported prompt return type",
    note = "supported: String (one user message), PromptMessage, Vec<PromptMessage>, GetPromptResult, and Result<T, E> of those"
)]
pub trait IntoPromptResult {
    /// The prompt result.
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError>;
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(vec![PromptMessage::user(self)].into())
    }
}

impl IntoPromptResult for &str {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        self.to_owned().into_prompt_result()
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(vec![self].into())
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(self.into())
    }
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(self)
    }
}

impl<T: IntoPromptResult, E: Display> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        match self {
            Ok(v) => v.into_prompt_result(),
            Err(e) => Err(McpError::internal(e.to_string())),
        }
    }
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            TABLE[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            TABLE[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn results_convert() {
        assert_eq!(
            5i64.into_tool_result().unwrap().content,
            vec![Content::text("5")]
        );
        let r: Result<i64, String> = Err("bad".into());
        assert!(matches!(r.into_tool_result(), Err(ToolError::Tool(t)) if t == "bad"));
        let r = Json(serde_json::json!({"a": 1}))
            .into_tool_result()
            .unwrap();
        assert_eq!(r.structured_content.unwrap()["a"], 1);
    }
}
