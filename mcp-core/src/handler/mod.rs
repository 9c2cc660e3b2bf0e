//! The traits the attribute macros target: how a parameter is obtained ([`ToolParam`],
//! [`PromptParam`], [`TemplateVar`], [`Injected`]) and how a return value becomes a result
//! ([`IntoToolResult`], [`IntoResourceResult`], [`IntoPromptResult`]). Roles are decided by
//! these traits, never by how a type is spelled, so `Context` and `State<T>` work under any
//! alias or path. The same traits serve handlers written without the macros.

mod inject;
mod params;
mod prompt_params;
mod results;
mod schema;
mod template_var;

pub use inject::Injected;
pub use params::{Args, ParamSpec, State, ToolParam};
pub use prompt_params::PromptParam;
pub use results::{Blob, IntoPromptResult, IntoResourceResult, IntoToolResult, Json};
pub use schema::{InputSchema, schema_generator};
pub use template_var::TemplateVar;
