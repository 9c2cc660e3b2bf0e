//! The traits the attribute macros target: how a parameter is obtained ([`ToolParam`]) and how
//! a return value becomes a result ([`IntoToolResult`], [`IntoResourceResult`],
//! [`IntoPromptResult`]). Roles are decided by these traits, never by how a type is spelled, so
//! `Context` and `State<T>` work under any alias or path.

mod params;
mod results;

pub use params::{Args, ParamSpec, State, ToolParam};
pub use results::{Blob, IntoPromptResult, IntoResourceResult, IntoToolResult, Json};
