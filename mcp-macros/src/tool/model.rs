//! What `#[mcp_tool(...)]` and the function say, typed. Codegen reads only this.

use proc_macro2::Span;
use syn::LitStr;

use crate::common::CommonAttrs;
use crate::func::Func;

/// The attribute's arguments.
#[derive(Default)]
pub(crate) struct ToolAttrs {
    /// `name`, `description`, `title`, `crate`.
    pub(crate) common: CommonAttrs,
    /// `read_only`: the `readOnlyHint` annotation.
    pub(crate) read_only: Option<bool>,
    /// `destructive`: the `destructiveHint` annotation.
    pub(crate) destructive: Option<bool>,
    /// `idempotent`: the `idempotentHint` annotation.
    pub(crate) idempotent: Option<bool>,
    /// `open_world`: the `openWorldHint` annotation.
    pub(crate) open_world: Option<bool>,
    /// `scopes = ["files:read"]`: OAuth scopes a caller needs.
    pub(crate) scopes: Option<Vec<LitStr>>,
    /// `task = "optional" | "required"`: runs as a task for clients of the tasks extension.
    pub(crate) task: Option<LitStr>,
    /// `timeout_ms = 30000`: how long one call may run before it is cancelled (`Tool::timeout`),
    /// with the literal's span.
    pub(crate) timeout_ms: Option<(u64, Span)>,
}

/// A tool: its attribute and its function.
pub(crate) struct Tool {
    pub(crate) attrs: ToolAttrs,
    pub(crate) func: Func,
}

impl Tool {
    /// The tool's name: `name = "..."` or the function's name.
    pub(crate) fn name(&self) -> String {
        match &self.attrs.common.name {
            Some(n) => n.value(),
            None => self.func.item.sig.ident.to_string(),
        }
    }

    /// The behaviour hints that were given, as `(ToolAnnotations field, value)`.
    pub(crate) fn hints(&self) -> Vec<(&'static str, bool)> {
        let a = &self.attrs;
        [
            ("read_only_hint", a.read_only),
            ("destructive_hint", a.destructive),
            ("idempotent_hint", a.idempotent),
            ("open_world_hint", a.open_world),
        ]
        .into_iter()
        .filter_map(|(field, flag)| flag.map(|v| (field, v)))
        .collect()
    }
}
