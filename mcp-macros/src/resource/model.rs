//! What `#[mcp_resource(...)]` and the function say, typed. Codegen reads only this.

use proc_macro2::Span;
use syn::{Ident, LitStr, Path};

use crate::common::CommonAttrs;
use crate::func::Func;
use crate::registration::Kind;

/// The `uri = "..."` argument and what its template declares.
pub(crate) struct Uri {
    pub(crate) lit: LitStr,
    /// The template's variables in order (empty for a static resource), or why it does not
    /// parse.
    pub(crate) variables: Result<Vec<String>, String>,
}

/// The attribute's arguments.
#[derive(Default)]
pub(crate) struct ResourceAttrs {
    /// `name`, `description`, `title`, `crate`.
    pub(crate) common: CommonAttrs,
    /// `uri = "scheme://path"` or a template `"scheme://{var}"`.
    pub(crate) uri: Option<Uri>,
    /// `mime_type = "..."`.
    pub(crate) mime_type: Option<LitStr>,
    /// `complete(var = completer_fn, ...)`.
    pub(crate) complete: Vec<(Ident, Path)>,
    /// `audience = ["user", "assistant"]`: the `audience` annotation.
    pub(crate) audience: Option<Vec<LitStr>>,
    /// `priority = 0.5`: the `priority` annotation, from 0 to 1.
    pub(crate) priority: Option<(f64, Span)>,
    /// `last_modified = "2025-01-12T15:00:58Z"`: the `lastModified` annotation.
    pub(crate) last_modified: Option<LitStr>,
}

impl ResourceAttrs {
    /// True when any annotation is given.
    pub(crate) fn has_annotations(&self) -> bool {
        self.audience.is_some() || self.priority.is_some() || self.last_modified.is_some()
    }
}

/// A resource: its attribute and its function.
pub(crate) struct Resource {
    pub(crate) attrs: ResourceAttrs,
    pub(crate) func: Func,
}

impl Resource {
    /// The resource's name: `name = "..."` or the function's name.
    pub(crate) fn name(&self) -> String {
        match &self.attrs.common.name {
            Some(n) => n.value(),
            None => self.func.item.sig.ident.to_string(),
        }
    }

    /// The template variables (none for a static resource or an invalid template).
    pub(crate) fn variables(&self) -> &[String] {
        match &self.attrs.uri {
            Some(Uri {
                variables: Ok(v), ..
            }) => v,
            _ => &[],
        }
    }

    /// A template when the uri has variables (or does not parse, to keep one error).
    pub(crate) fn kind(&self) -> Kind {
        match &self.attrs.uri {
            Some(Uri {
                variables: Ok(v), ..
            }) if v.is_empty() => Kind::Resource,
            None => Kind::Resource,
            Some(_) => Kind::Template,
        }
    }
}
