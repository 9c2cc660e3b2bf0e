//! `#[mcp_resource(uri = "...")]`: static resources and templates.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::attrs::Errors;
use crate::func::Common;
use crate::registration;

const KEYS: &[&str] = &[
    "uri",
    "name",
    "description",
    "title",
    "mime_type",
    "complete",
    "crate",
];

/// The `{var}` names of a uri template, or an error message.
fn template_vars(uri: &str) -> Result<Vec<String>, String> {
    let mut vars = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("unclosed `{` in uri template")?;
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` is not a simple `{{variable}}`"));
        }
        vars.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(vars)
}

pub(crate) fn expand(
    attr: TokenStream,
    item: ItemFn,
    errors: &mut Errors,
) -> (ItemFn, TokenStream) {
    let Common {
        args,
        krate,
        func,
        name,
        description,
        title,
    } = Common::parse(attr, item, KEYS, false, errors);
    let fn_name = &func.item.sig.ident;
    let Some(uri) = args.string("uri", errors) else {
        errors.push(
            proc_macro2::Span::call_site(),
            "missing `uri`: #[mcp_resource(uri = \"scheme://path\")] or a template like \"scheme://{id}\"",
        );
        return (func.item, TokenStream::new());
    };
    let vars = match template_vars(&uri.value()) {
        Ok(v) => v,
        Err(e) => {
            errors.push(uri.span(), e);
            Vec::new()
        }
    };
    for v in &vars {
        if !func.params.iter().any(|p| &p.ident.to_string() == v) {
            errors.push(
                uri.span(),
                format!("template variable `{{{v}}}` has no parameter named `{v}` in `{fn_name}`"),
            );
        }
    }
    let is_template = uri.value().contains('{');
    let mime = args.string("mime_type", errors);
    let completers = args.completers();
    for (arg, _) in &completers {
        if !vars.contains(&arg.to_string()) {
            errors.push(
                arg.span(),
                format!("`{arg}` is not a variable of the uri template"),
            );
        }
    }
    let mut checks = Vec::new();
    let mut extract = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        let ident = &p.ident;
        let binding = p.binding();
        let pname = ident.to_string();
        if vars.contains(&pname) {
            extract.push(
                quote!(let #binding: #ty = #krate::__private::parse_var::<#ty>(&__vars, #pname)?;),
            );
        } else {
            checks.push(quote_spanned!(ty.span()=> #krate::__private::assert_injected::<#ty>();));
            extract.push(quote!(let #binding: #ty = #krate::__private::inject::<#ty>(&__ctx)?;));
        }
    }
    let ret = &func.ret;
    // The one conversion, spanned at the return type (see tool.rs).
    let convert =
        quote_spanned!(ret.span()=> <#ret as #krate::IntoResourceResult>::into_resource_result);
    let call = func.call(&krate);
    let mime_opt = match &mime {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => quote!(::core::option::Option::None),
    };
    let mut builders = Vec::new();
    if let Some(d) = description {
        builders.push(quote!(.description(#d)));
    }
    if let Some(m) = &mime {
        builders.push(quote!(.mime_type(#m)));
    }
    if let Some(t) = &title {
        builders.push(quote!(.title(#t)));
    }
    let build = if is_template {
        let completes = completers.iter().map(|(arg, path)| {
            let a = arg.to_string();
            quote!(.complete(#a, #krate::__private::completer(#path)))
        });
        quote! {
            fn __build() -> ::core::result::Result<#krate::ResourceTemplate, #krate::RegistrationError> {
                #[allow(unreachable_code, clippy::diverging_sub_expression)]
                if false { #(#checks)* }
                let __template = #krate::ResourceTemplate::new(#uri, #name, |__ctx, __vars| async move {
                    let __uri = __ctx.resource_uri().unwrap_or(#uri).to_owned();
                    #(#extract)*
                    #convert(#call, &__uri, #mime_opt)
                })?;
                ::core::result::Result::Ok(__template #(#builders)* #(#completes)*)
            }
        }
    } else {
        quote! {
            fn __build() -> #krate::Resource {
                #[allow(unreachable_code, clippy::diverging_sub_expression)]
                if false { #(#checks)* }
                #krate::Resource::new(#uri, #name, |__ctx| async move {
                    #(#extract)*
                    #convert(#call, #uri, #mime_opt)
                })
                #(#builders)*
            }
        }
    };
    let kind = if is_template {
        quote!(Template)
    } else {
        quote!(Resource)
    };
    let reg = registration(&krate, &func.item, kind, build);
    (func.item, reg)
}
