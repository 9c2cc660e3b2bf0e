//! MCP protocol types for the server side, split by capability.
//!
//! Types serialize every field they hold; [`crate::version::ProtocolVersion`] decides, in the
//! dispatcher, which fields a negotiated revision may see.

pub mod client;
pub mod completion;
pub mod content;
pub mod logging;
pub mod prompts;
pub mod resources;
pub mod tools;

pub use client::{
    ElicitAction, ElicitResult, Elicitation, Root, SamplingMessage, SamplingRequest, SamplingResult,
};
pub use completion::Completion;
pub use content::{Annotations, Content, ResourceContents};
pub use logging::LoggingLevel;
pub use prompts::{GetPromptResult, PromptArgument, PromptMessage, Role};
pub use resources::{ReadResourceResult, ResourceInfo, ResourceTemplateInfo};
pub use tools::{CallToolResult, ToolAnnotations};

/// A JSON object, as used for schemas, arguments and `_meta`.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// The name and version of an MCP implementation (`serverInfo`, `clientInfo`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Human-readable title (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
