//! The annotated function: its parameters (with their docs, renames and defaults), return
//! type and asyncness. The user's function is re-emitted as written, minus the parameter
//! attributes only the macros understand.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, Pat, ReturnType, Type};

use crate::attrs::Errors;
use crate::docs;

/// How a parameter's default is produced.
pub(crate) enum Default {
    /// `#[serde(default)]`: `Default::default()`.
    Trait,
    /// `#[mcp(default = expr)]`.
    Expr(Box<Expr>),
    /// `#[serde(default = "path")]`.
    Path(syn::ExprPath),
}

pub(crate) struct Param {
    pub(crate) ident: syn::Ident,
    pub(crate) ty: Type,
    pub(crate) json_name: String,
    pub(crate) description: Option<TokenStream>,
    pub(crate) default: Option<Default>,
}

pub(crate) struct Func {
    /// The function to emit, parameter attributes removed.
    pub(crate) item: ItemFn,
    pub(crate) params: Vec<Param>,
    pub(crate) ret: Type,
    pub(crate) is_async: bool,
}

impl Param {
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

impl Func {
    pub(crate) fn analyze(mut item: ItemFn, errors: &mut Errors) -> Func {
        let sig = &item.sig;
        if !sig.generics.params.is_empty() {
            errors.push(
                sig.generics.span(),
                "MCP handlers cannot be generic: the schema must be known when the server starts",
            );
        }
        let is_async = sig.asyncness.is_some();
        let ret = match &sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => {
                if let Type::ImplTrait(_) = **ty {
                    errors.push(
                        ty.span(),
                        "`impl Trait` return types are not supported: name the type",
                    );
                }
                (**ty).clone()
            }
        };
        let mut params = Vec::new();
        for input in item.sig.inputs.iter_mut() {
            match input {
                FnArg::Receiver(r) => {
                    errors.push(
                        r.span(),
                        "MCP handlers are free functions: remove `self` and pass shared data with `State<T>`",
                    );
                }
                FnArg::Typed(pt) => {
                    let description = docs::description(&pt.attrs);
                    let mut json_name = None;
                    let mut default = None;
                    let mut keep = Vec::new();
                    for attr in pt.attrs.drain(..) {
                        if docs::is_doc(&attr) {
                            continue;
                        }
                        if attr.path().is_ident("serde") {
                            let r = attr.parse_nested_meta(|m| {
                                if m.path.is_ident("rename") {
                                    let s: syn::LitStr = m.value()?.parse()?;
                                    json_name = Some(s.value());
                                } else if m.path.is_ident("default") {
                                    if m.input.peek(syn::Token![=]) {
                                        let s: syn::LitStr = m.value()?.parse()?;
                                        default = Some(Default::Path(s.parse()?));
                                    } else {
                                        default = Some(Default::Trait);
                                    }
                                } else {
                                    return Err(m.error(
                                        "only `rename` and `default` are supported on parameters",
                                    ));
                                }
                                Ok(())
                            });
                            if let Err(e) = r {
                                errors.push_err(e);
                            }
                            continue;
                        }
                        if attr.path().is_ident("mcp") {
                            let r = attr.parse_nested_meta(|m| {
                                if m.path.is_ident("default") {
                                    let e: Expr = m.value()?.parse()?;
                                    default = Some(Default::Expr(Box::new(e)));
                                    Ok(())
                                } else {
                                    Err(m.error("unknown key: `#[mcp(...)]` on a parameter takes `default = <expr>`"))
                                }
                            });
                            if let Err(e) = r {
                                errors.push_err(e);
                            }
                            continue;
                        }
                        keep.push(attr);
                    }
                    pt.attrs = keep;
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
                    let name = ident.to_string();
                    let json_name = json_name
                        .unwrap_or_else(|| name.strip_prefix("r#").unwrap_or(&name).to_owned());
                    params.push(Param {
                        ident,
                        ty: (*pt.ty).clone(),
                        json_name,
                        description,
                        default,
                    });
                }
            }
        }
        Func {
            item,
            params,
            ret,
            is_async,
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

/// The `Option<&'static str>` tokens of an optional description.
pub(crate) fn opt_str(d: &Option<TokenStream>) -> TokenStream {
    match d {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    }
}

/// What every macro reads first: its checked arguments, the crate path, the analysed
/// function, and the item's name (default: the function's), description (default: the doc
/// comment) and title.
pub(crate) struct Common {
    pub(crate) args: crate::attrs::Args,
    pub(crate) krate: syn::Path,
    pub(crate) func: Func,
    pub(crate) name: String,
    pub(crate) description: Option<TokenStream>,
    pub(crate) title: Option<syn::LitStr>,
}

impl Common {
    /// Parses `attr` against `keys`; `client_name` applies the tool/prompt name rule to an
    /// explicit `name`.
    pub(crate) fn parse(
        attr: TokenStream,
        item: ItemFn,
        keys: &[&str],
        client_name: bool,
        errors: &mut Errors,
    ) -> Common {
        let args = crate::attrs::Args::parse(attr, errors);
        args.check(keys, errors);
        let krate = args.crate_path(errors);
        let func = Func::analyze(item, errors);
        let name = args
            .string("name", errors)
            .map(|s| {
                if client_name {
                    crate::attrs::check_name(&s, errors);
                }
                s.value()
            })
            .unwrap_or_else(|| func.item.sig.ident.to_string());
        let description = match args.string("description", errors) {
            Some(s) => Some(quote!(#s)),
            None => docs::description(&func.item.attrs),
        };
        let title = args.string("title", errors);
        Common {
            args,
            krate,
            func,
            name,
            description,
            title,
        }
    }
}
