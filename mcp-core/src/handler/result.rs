//! Return values of tool functions.

use std::fmt::Display;

use crate::error::ToolError;
use crate::protocol::{CallToolResult, Content, JsonObject};

/// Turns what a tool function returns into a `tools/call` result.
///
/// | returned value | result |
/// |---|---|
/// | `String`, `&str`, `Cow<str>`, integers, floats, `bool`, `char` | one text block |
/// | `()` | no content |
/// | [`Content`], `Vec<Content>` | those blocks |
/// | [`Json<T>`](crate::handler::Json) | `structuredContent` + text mirror + `outputSchema` |
/// | [`CallToolResult`] | as is |
/// | `Result<T, E>` | `Ok` as `T`; `Err` as `isError: true` with the error's text, or, for `E` = [`ToolError`], as that error says (a `ToolError::Protocol` is a JSON-RPC error) |
///
/// ```
/// use mcp_core::handler::IntoToolResult;
/// use mcp_core::Content;
///
/// let ok = 5_i64.into_tool_result().unwrap();
/// assert_eq!(ok.content, vec![Content::text("5")]);
///
/// let failed: Result<i64, String> = Err("division by zero".into());
/// let result = failed.into_tool_result().unwrap();
/// assert!(result.is_error());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an MCP tool",
    label = "unsupported tool return type",
    note = "supported: `String`, `&'static str`, integers, floats, `bool`, `char`, `()`, `Content`, `Vec<Content>`, `Json<T>` (T: Serialize + JsonSchema), `CallToolResult`",
    note = "and `Result<T, E>` of those, where `E` implements `Display` (a tool error) or is `mcp_core::ToolError`"
)]
pub trait IntoToolResult {
    /// Converts the value; `Err` becomes a JSON-RPC error response.
    fn into_tool_result(self) -> Result<CallToolResult, ToolError>;

    /// The output schema this type produces, if any (`Json<T>`); `Err` explains why the type
    /// cannot describe structured output. Called once, when the tool is built.
    fn output_schema() -> Option<Result<JsonObject, String>> {
        None
    }
}

macro_rules! text_result {
    ($($t:ty),* $(,)?) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
                Ok(CallToolResult::success(vec![Content::text(self.to_string())]))
            }
        }
    )*};
}

text_result!(
    String,
    &str,
    std::borrow::Cow<'_, str>,
    bool,
    char,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
);

impl IntoToolResult for () {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(Vec::new()))
    }
}

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

impl<T: IntoToolResult, E: IntoToolError> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        match self {
            Ok(value) => value.into_tool_result(),
            Err(error) => match error.into_tool_error() {
                ToolError::Tool(text) => Ok(CallToolResult::error(text)),
                protocol @ ToolError::Protocol(_) => Err(protocol),
            },
        }
    }

    fn output_schema() -> Option<Result<JsonObject, String>> {
        T::output_schema()
    }
}

/// The error half of a `Result` returned by a tool.
///
/// Any `E: Display` becomes a tool error (`isError: true`) with its text, so the model can
/// correct itself. [`ToolError`] is the distinct type that can also answer with a protocol
/// error: return `Err(ToolError::Protocol(McpError::invalid_params(..)))`, or `Err(e.into())`
/// from an [`McpError`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error type of an MCP tool",
    note = "use a type that implements `Display` (answered as a tool error) or `mcp_core::ToolError`"
)]
pub trait IntoToolError {
    /// Converts the error.
    fn into_tool_error(self) -> ToolError;
}

impl<E: Display> IntoToolError for E {
    fn into_tool_error(self) -> ToolError {
        ToolError::Tool(self.to_string())
    }
}

impl IntoToolError for ToolError {
    fn into_tool_error(self) -> ToolError {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::McpError;

    #[test]
    fn scalars_become_text() {
        assert_eq!(
            true.into_tool_result().unwrap().content,
            vec![Content::text("true")]
        );
        assert_eq!(
            1.5_f64.into_tool_result().unwrap().content,
            vec![Content::text("1.5")]
        );
        assert!(().into_tool_result().unwrap().content.is_empty());
    }

    #[test]
    fn display_errors_are_tool_errors_and_tool_error_protocol_is_not() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
        let out = r.into_tool_result().unwrap();
        assert!(out.is_error());
        assert_eq!(out.content, vec![Content::text("disk full")]);

        let r: Result<(), ToolError> = Err(McpError::invalid_params("bad").into());
        match r.into_tool_result() {
            Err(ToolError::Protocol(e)) => assert_eq!(e.code(), -32602),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }
}
