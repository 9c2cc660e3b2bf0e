//! Descriptors of what a server offers, built without macros: tools, resources, resource
//! templates, prompts and completion providers.

pub mod tool;

pub use tool::{Tool, ToolFuture};
