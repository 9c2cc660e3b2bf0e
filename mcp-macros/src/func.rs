//! The annotated function as a model: its parameters (with their docs and `#[serde]`/`#[mcp]`
//! attributes), return type and asyncness. The user's function is kept as written, minus the
//! parameter attributes only the macros understand.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, FnArg, ItemFn, LitStr, Pat, ReturnType, Type};

use crate::args::{self, Arg};
use crate::docs;
use crate::errors::Errors;

/// How a parameter's default is produced.
pub(crate) enum Default {
    /// `#[serde(default)]`: `Default::default()`.
    Trait,
    /// `#[mcp(default = expr)]`.
    Expr(Box<Expr>),
    /// `#[serde(default = "path")]`.
    Path(syn::ExprPath),
}

/// The keys of `#[mcp(...)]` on a parameter.
const PARAM_KEYS: &[&str] = &["default", "header"];

/// The keys of `#[serde(...)]` on a parameter that the macros forward.
const SERDE_KEYS: &[&str] = &["rename", "default"];

/// What the attributes on one parameter say.
#[derive(Default)]
pub(crate) struct ParamAttrs {
    /// `#[serde(rename = "x")]`.
    pub(crate) rename: Option<LitStr>,
    /// `#[serde(default)]`, `#[serde(default = "path")]` or `#[mcp(default = expr)]`.
    pub(crate) default: Option<Default>,
    /// `#[mcp(header = "Name")]`: the tool argument is mirrored in the `Mcp-Param-Name`
    /// request header (`x-mcp-header`).
    pub(crate) header: Option<LitStr>,
}

impl ParamAttrs {
    /// One arm per `#[mcp(...)]` key.
    fn parse_mcp(&mut self, arg: &Arg, errors: &mut Errors) {
        match arg.key() {
            "default" => {
                self.default = arg.expr(errors).map(|e| Default::Expr(Box::new(e)));
            }
            "header" => self.header = arg.string(errors),
            _ => arg.unknown(PARAM_KEYS, errors),
        }
    }

    /// One arm per supported `#[serde(...)]` key.
    fn parse_serde(&mut self, arg: &Arg, errors: &mut Errors) {
        match arg.key() {
            "rename" => self.rename = arg.string(errors),
            "default" if arg.is_flag() => self.default = Some(Default::Trait),
            "default" => {
                self.default = arg.string(errors).and_then(|s| match s.parse() {
                    Ok(p) => Some(Default::Path(p)),
                    Err(e) => {
                        errors.push_err(e);
                        None
                    }
                });
            }
            other => errors.push(
                arg.key.span(),
                format!(
                    "`#[serde({other})]` is not supported on parameters; supported: {}",
                    SERDE_KEYS.join(", ")
                ),
            ),
        }
    }
}

/// One parameter of the function.
pub(crate) struct Param {
    pub(crate) ident: syn::Ident,
    pub(crate) ty: Type,
    /// The `///` comment.
    pub(crate) description: Option<TokenStream>,
    pub(crate) attrs: ParamAttrs,
}

/// The function.
pub(crate) struct Func {
    /// The function to emit, parameter attributes removed.
    pub(crate) item: ItemFn,
    pub(crate) params: Vec<Param>,
    /// The return type (`()` when none is written).
    pub(crate) ret: Type,
    pub(crate) is_async: bool,
}

impl Param {
    /// The argument name in JSON: the rename, or the identifier without `r#`.
    pub(crate) fn json_name(&self) -> String {
        match &self.attrs.rename {
            Some(r) => r.value(),
            None => syn::ext::IdentExt::unraw(&self.ident).to_string(),
        }
    }

    /// The local the generated adapter binds this parameter to. Never the parameter's own
    /// name: a parameter called like the function would otherwise shadow it at the call.
    pub(crate) fn binding(&self) -> proc_macro2::Ident {
        use syn::ext::IdentExt;
        // Mixed-site hygiene: the local can neither shadow nor be shadowed by the user's names.
        proc_macro2::Ident::new(
            &format!("__mcp_arg{}", self.ident.unraw()),
            proc_macro2::Span::mixed_site(),
        )
    }
}

/// Reads the parameter attributes the macros understand out of `attrs`, leaving the others.
fn take_param_attrs(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> ParamAttrs {
    let mut out = ParamAttrs::default();
    attrs.retain(|attr| {
        let serde = attr.path().is_ident("serde");
        if !serde && !attr.path().is_ident("mcp") {
            return !docs::is_doc(attr);
        }
        match attr.meta.require_list() {
            Ok(list) => {
                for arg in args::parse(list.tokens.clone(), errors) {
                    if serde {
                        out.parse_serde(&arg, errors);
                    } else {
                        out.parse_mcp(&arg, errors);
                    }
                }
            }
            Err(e) => errors.push_err(e),
        }
        false
    });
    out
}

impl Func {
    /// Builds the model of `item`; shapes that have no model (`self`, patterns, `impl Trait`
    /// parameters) are reported and left out.
    pub(crate) fn parse(mut item: ItemFn, errors: &mut Errors) -> Func {
        let is_async = item.sig.asyncness.is_some();
        let ret = match &item.sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        let mut params = Vec::new();
        for input in item.sig.inputs.iter_mut() {
            let pt = match input {
                FnArg::Receiver(r) => {
                    errors.push(
                        r.span(),
                        "MCP handlers are free functions: remove `self` and pass shared data with `State<T>`",
                    );
                    continue;
                }
                FnArg::Typed(pt) => pt,
            };
            let description = docs::description(&pt.attrs);
            let attrs = take_param_attrs(&mut pt.attrs, errors);
            let ident = match &*pt.pat {
                Pat::Ident(p) => p.ident.clone(),
                other => {
                    errors.push(
                        other.span(),
                        "use a plain name for MCP handler parameters (no patterns)",
                    );
                    continue;
                }
            };
            if let Type::ImplTrait(_) = *pt.ty {
                errors.push(
                    pt.ty.span(),
                    "`impl Trait` parameters are not supported: name the type",
                );
                continue;
            }
            params.push(Param {
                ident,
                ty: (*pt.ty).clone(),
                description,
                attrs,
            });
        }
        Func {
            item,
            params,
            ret,
            is_async,
        }
    }

    /// The doc comment, as a description expression.
    pub(crate) fn doc(&self) -> Option<TokenStream> {
        docs::description(&self.item.attrs)
    }

    /// The checks every macro makes on the signature.
    pub(crate) fn validate(&self, errors: &mut Errors) {
        let sig = &self.item.sig;
        if let Some(unsafety) = &sig.unsafety {
            errors.push(
                unsafety.span,
                "MCP handlers cannot be `unsafe fn`: the server calls them with whatever a client \
                 sends; make the function safe and keep the `unsafe` block inside it",
            );
        }
        let generics = &sig.generics;
        if generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)))
            && !generics.params.is_empty()
        {
            errors.push(
                generics.span(),
                "MCP handlers cannot have lifetime parameters: every argument is an owned value \
                 made for one call (`String` for `&str`, `Vec<T>` for `&[T]`)",
            );
        } else if !generics.params.is_empty() {
            errors.push(
                generics.span(),
                "MCP handlers cannot be generic: the schema must be known when the server starts",
            );
        }
        if let Type::ImplTrait(_) = self.ret {
            errors.push(
                self.ret.span(),
                "`impl Trait` return types are not supported: name the type",
            );
        }
    }

    /// The call of the user's function with the extracted parameters, awaited if async.
    pub(crate) fn call(&self, krate: &syn::Path) -> TokenStream {
        let name = &self.item.sig.ident;
        let args = self.params.iter().map(Param::binding);
        if self.is_async {
            // Spanned at the function's name, so a future that is not `Send` is reported
            // there, next to rustc's note on what is held across an `.await`.
            quote::quote_spanned!(name.span()=> #krate::__private::require_send(#name(#(#args),*)).await)
        } else {
            quote!(#name(#(#args),*))
        }
    }
}
