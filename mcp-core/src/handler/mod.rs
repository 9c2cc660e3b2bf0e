//! The traits that turn ordinary Rust functions into MCP handlers.
//!
//! The attribute macros in `mcp-macros` expand to code that goes through these traits, never
//! through the spelling of a type, so a renamed import (`use mcp_core::Context as Ctx`) works
//! exactly like the original name. The traits are public and usable by hand as well:
//!
//! * [`ToolParam`] decides, per parameter type, whether the value comes from the call's JSON
//!   arguments (any `T: DeserializeOwned + JsonSchema`) or is injected ([`Context`],
//!   [`State<T>`]).
//! * [`IntoToolResult`] turns a return value into a `tools/call` result: text for strings,
//!   numbers and booleans, content blocks, [`Json<T>`] for structured output, the full
//!   [`CallToolResult`], and `Result<T, E>` of any of these.
//! * [`ToolDefinition`] is implemented by the macro for each annotated function and builds its
//!   [`Tool`] descriptor once, at startup.
//!
//! [`Context`]: crate::Context
//! [`CallToolResult`]: crate::CallToolResult
//! [`Tool`]: crate::Tool

mod definition;
mod json;
pub(crate) mod param;
mod result;

pub use definition::ToolDefinition;
pub use json::Json;
pub use param::{Injected, State, ToolParam};
pub use result::{IntoToolError, IntoToolResult};
