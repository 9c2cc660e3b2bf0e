//! The keys every macro accepts: `name`, `description`, `title` and `crate`.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{LitStr, Path};

use crate::args::Arg;
use crate::errors::Errors;

/// The keys shared by the three macros, for their unknown-key lists.
pub(crate) const KEYS: &[&str] = &["name", "description", "title", "icon", "meta", "crate"];

/// The values of the shared keys.
#[derive(Default)]
pub(crate) struct CommonAttrs {
    /// `name = "..."` (default: the function's name).
    pub(crate) name: Option<LitStr>,
    /// `description = "..."` (default: the doc comment).
    pub(crate) description: Option<LitStr>,
    /// `title = "..."`.
    pub(crate) title: Option<LitStr>,
    /// `icon = "https://..."`: an icon's `src`.
    pub(crate) icon: Option<LitStr>,
    /// `meta = r#"{"key": "value"}"#`: `_meta`, a JSON object checked at compile time.
    pub(crate) meta: Option<LitStr>,
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
            "icon" => self.icon = arg.string(errors),
            "meta" => self.meta = arg.string(errors),
            "crate" => self.krate = arg.path_str(errors),
            _ => return false,
        }
        true
    }

    /// Checks the shared values that have rules of their own.
    pub(crate) fn validate(&self, errors: &mut Errors) {
        if let Some(meta) = &self.meta
            && let Err(e) =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&meta.value())
        {
            errors.push(
                meta.span(),
                format!(
                    "`meta` takes a JSON object, as in meta = r#\"{{\"key\": \"value\"}}\"#: {e}"
                ),
            );
        }
    }

    /// The builder calls for `icon` and `meta`, on any descriptor that has `.icon()` and
    /// `.meta()`.
    pub(crate) fn metadata_setters(&self, krate: &Path) -> Vec<TokenStream> {
        let mut out = Vec::new();
        if let Some(src) = &self.icon {
            out.push(quote! {
                .icon({
                    let mut __icon = #krate::JsonObject::new();
                    __icon.insert(::std::string::String::from("src"), ::std::convert::From::from(#src));
                    __icon
                })
            });
        }
        if let Some(meta) = &self.meta {
            out.push(quote!(.meta(#krate::__private::json_object(#meta))));
        }
        out
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

/// `.complete("arg", <krate>::__private::completer(path))`, every token spanned at `path`: the
/// completer bound is then checked at one place, so a function that is not a completer gets
/// one error there (not a second one at the attribute).
pub(crate) fn complete_setter(krate: &Path, arg: &syn::Ident, path: &Path) -> TokenStream {
    let span = path.span();
    let name = syn::LitStr::new(&arg.to_string(), span);
    let callee = respan(quote!(#krate::__private::completer), span);
    quote_spanned!(span=> .complete(#name, #callee(#path)))
}

/// `tokens` with every token, groups included, at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(g) = &tree {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tree = TokenTree::Group(group);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
