//! Descriptors of what a server offers, built without macros: tools, resources, resource
//! templates, prompts and completion providers.

pub(crate) mod collect;
pub mod tool;

pub use tool::{Tool, ToolFuture};
