//! The trait behind `mcp_core::tool!`: a type that knows how to build one tool.

use crate::error::RegistrationError;
use crate::registry::Tool;

/// Implemented by `#[mcp_tool]` for the hidden, same-named marker type it emits next to the
/// annotated function. The function lives in the value namespace and the marker in the type
/// namespace, so `mcp_core::tool!(path::to::add)` finds the marker through the same path the
/// user calls the function by.
///
/// Building the descriptor generates the JSON Schemas; it happens once, when the server is
/// built, and reports an unusable schema as a [`RegistrationError`] instead of panicking.
pub trait ToolDefinition {
    /// The Rust path of the annotated function, used in duplicate-name errors.
    const ORIGIN: &'static str;

    /// Builds the tool descriptor.
    fn definition() -> Result<Tool, RegistrationError>;
}

/// Builds the [`Tool`] declared by `#[mcp_tool]` on the function at `path`.
///
/// Expands to `Result<Tool, RegistrationError>`, for explicit registration (also needed when
/// auto-collection is switched off with [`ServerBuilder::auto_collect`]).
///
/// `#[mcp_tool]` writes the marker and the [`ToolDefinition`] impl; written by hand they look
/// like this:
///
/// ```
/// use mcp_core::handler::ToolDefinition;
/// use mcp_core::{CallToolResult, Content, RegistrationError, Server, Tool, tool};
///
/// mod math {
///     # use super::*;
///     #[allow(non_camel_case_types)]
///     pub struct ping {}
///     impl ToolDefinition for ping {
///         const ORIGIN: &'static str = "math::ping";
///         fn definition() -> Result<Tool, RegistrationError> {
///             Ok(Tool::new("ping", |_ctx, _args| async {
///                 Ok(CallToolResult::success(vec![Content::text("pong")]))
///             })
///             .origin(Self::ORIGIN))
///         }
///     }
/// }
///
/// # fn main() -> Result<(), RegistrationError> {
/// let server = Server::builder("calc", "1.0")
///     .auto_collect(false)
///     .tool(tool!(math::ping)?)
///     .build()?;
/// # let _ = server;
/// # Ok(())
/// # }
/// ```
///
/// [`ServerBuilder::auto_collect`]: crate::ServerBuilder::auto_collect
#[macro_export]
macro_rules! tool {
    ($($path:ident)::+) => {
        <$($path)::+ as $crate::handler::ToolDefinition>::definition()
    };
    (::$($path:ident)::+) => {
        <::$($path)::+ as $crate::handler::ToolDefinition>::definition()
    };
}
