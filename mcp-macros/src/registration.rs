//! The registration every macro emits beside the user's function: a struct named like the
//! function (type namespace only) implementing `McpItem`, and an `inventory` submission.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{ItemFn, Path};

/// Which `Item` variant an expansion registers.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Tool,
    Resource,
    Template,
    Prompt,
}

impl Kind {
    fn variant(self) -> proc_macro2::Ident {
        let name = match self {
            Kind::Tool => "Tool",
            Kind::Resource => "Resource",
            Kind::Template => "Template",
            Kind::Prompt => "Prompt",
        };
        proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
    }
}

/// The `struct name {}` that names the item in the type namespace.
fn holder_struct(func: &ItemFn) -> TokenStream {
    let vis = &func.vis;
    let name = &func.sig.ident;
    let doc = format!("The MCP descriptor of [`{name}()`](fn@{name}), for `ServerBuilder::item`.");
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}
    }
}

/// The registration of an item whose constructor is the associated function `__build`
/// defined by `build`.
pub(crate) fn registration(
    krate: &Path,
    func: &ItemFn,
    kind: Kind,
    build: TokenStream,
) -> TokenStream {
    let name = &func.sig.ident;
    let origin = name.to_string();
    let holder = format_ident!("__McpBuild_{}", name);
    let variant = kind.variant();
    let item_struct = holder_struct(func);
    quote! {
        #item_struct

        #[automatically_derived]
        const _: () = {
            #[allow(non_camel_case_types)]
            struct #holder;
            impl #holder {
                #build
            }
            impl #krate::__private::McpItem for #name {
                const ITEM: #krate::__private::Item = #krate::__private::Item::#variant(#holder::__build);
            }
            #krate::__private::inventory::submit! {
                #krate::__private::Registration {
                    item: #krate::__private::Item::#variant(#holder::__build),
                    origin: ::core::concat!(::core::module_path!(), "::", #origin),
                }
            }
        };
    }
}

/// What is emitted after a macro error: the same `struct name {}` and `McpItem` impl as a
/// real registration, with a constructor that is never run (the crate does not compile), so
/// `ServerBuilder::item::<name>()` elsewhere adds no second error. Nothing is submitted.
pub(crate) fn fallback(krate: &Path, func: &ItemFn, kind: Kind) -> TokenStream {
    if func.sig.receiver().is_some() {
        // A method: no item can sit beside it, and `item::<name>()` cannot name it.
        return TokenStream::new();
    }
    let name = &func.sig.ident;
    let variant = kind.variant();
    let item_struct = holder_struct(func);
    quote! {
        #item_struct

        #[automatically_derived]
        const _: () = {
            impl #krate::__private::McpItem for #name {
                const ITEM: #krate::__private::Item =
                    #krate::__private::Item::#variant(|| ::core::unreachable!());
            }
        };
    }
}
