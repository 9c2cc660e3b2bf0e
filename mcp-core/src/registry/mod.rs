//! Descriptors of what a server offers, built without macros: tools, resources, resource
//! templates, prompts and completion providers.

pub(crate) mod arguments;
pub mod collect;
pub mod completion;
pub(crate) mod header_params;
pub(crate) mod name;
pub mod prompt;
pub mod resource;
pub mod template;
pub mod tool;

pub use completion::{Completer, CompletionRequest, IntoCompletion};
pub use header_params::{HeaderParam, HeaderParamKind};
pub use prompt::Prompt;
pub use resource::{Resource, ResourceTemplate};
pub use template::{TemplateVars, UriTemplate};
pub use tool::{Tool, ToolFuture};
