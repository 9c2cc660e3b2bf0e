//! The keys every macro accepts: `name`, `description`, `title` and `crate`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{LitStr, Path};

use crate::args::Arg;
use crate::errors::Errors;

/// The keys shared by the three macros, for their unknown-key lists.
pub(crate) const KEYS: &[&str] = &["name", "description", "title", "crate"];

/// The values of the shared keys.
#[derive(Default)]
pub(crate) struct CommonAttrs {
    /// `name = "..."` (default: the function's name).
    pub(crate) name: Option<LitStr>,
    /// `description = "..."` (default: the doc comment).
    pub(crate) description: Option<LitStr>,
    /// `title = "..."`.
    pub(crate) title: Option<LitStr>,
    /// `crate = "path"`: where mcp-core is.
    pub(crate) krate: Option<Path>,
}

impl CommonAttrs {
    /// Reads `arg` when it is a shared key; false when it is not one.
    pub(crate) fn parse_arg(&mut self, arg: &Arg, errors: &mut Errors) -> bool {
        match arg.key() {
            "name" => self.name = arg.string(errors),
            "description" => self.description = arg.string(errors),
            "title" => self.title = arg.string(errors),
            "crate" => self.krate = arg.path_str(errors),
            _ => return false,
        }
        true
    }

    /// The path of mcp-core in generated code.
    pub(crate) fn krate(&self) -> Path {
        self.krate
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::mcp_core))
    }
}

/// The `Option<&'static str>` tokens of an optional description (typed, so `None` needs no
/// inference).
pub(crate) fn opt_str(d: &Option<TokenStream>) -> TokenStream {
    match d {
        Some(t) => quote!(::core::option::Option::<&'static str>::Some(#t)),
        None => quote!(::core::option::Option::<&'static str>::None),
    }
}

/// Every key a macro accepts: the shared ones, then its own.
pub(crate) fn all_keys(own: &[&'static str]) -> Vec<&'static str> {
    KEYS.iter().chain(own).copied().collect()
}
