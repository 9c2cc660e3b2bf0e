//! What `#[mcp_prompt(...)]` and the function say, typed. Codegen reads only this.

use syn::{Ident, Path};

use crate::common::CommonAttrs;
use crate::func::Func;

/// The attribute's arguments.
#[derive(Default)]
pub(crate) struct PromptAttrs {
    /// `name`, `description`, `title`, `crate`.
    pub(crate) common: CommonAttrs,
    /// `complete(arg = completer_fn, ...)`.
    pub(crate) complete: Vec<(Ident, Path)>,
}

/// A prompt: its attribute and its function.
pub(crate) struct Prompt {
    pub(crate) attrs: PromptAttrs,
    pub(crate) func: Func,
}

impl Prompt {
    /// The prompt's name: `name = "..."` or the function's name.
    pub(crate) fn name(&self) -> String {
        match &self.attrs.common.name {
            Some(n) => n.value(),
            None => self.func.item.sig.ident.to_string(),
        }
    }
}
