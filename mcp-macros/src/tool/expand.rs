//! [`Tool`] to tokens: the descriptor's constructor and its registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::Tool;
use crate::common::opt_str;
use crate::func::Default;
use crate::registration::{Kind, registration};

pub(crate) fn expand(tool: &Tool) -> TokenStream {
    let krate = tool.attrs.common.krate();
    let func = &tool.func;
    let name = tool.name();

    let mut schema = Vec::new();
    let mut extract = Vec::new();
    let mut checks = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        let binding = p.binding();
        let json = p.json_name();
        let desc = opt_str(&p.description);
        let header = match &p.attrs.header {
            Some(h) => quote!(::core::option::Option::Some(#h)),
            None => quote!(::core::option::Option::None),
        };
        checks.push(quote_spanned!(ty.span()=> #krate::__private::assert_tool_param::<#ty>();));
        let default_fn = p.attrs.default.as_ref().map(|d| match d {
            Default::Trait => quote!(|| <#ty as ::core::default::Default>::default()),
            Default::Expr(e) => quote!(|| -> #ty { #e }),
            Default::Path(path) => quote!(|| -> #ty { #path() }),
        });
        let default_json = match &default_fn {
            Some(f) => quote!(#krate::__private::default_json((#f)())),
            None => quote!(::core::option::Option::None),
        };
        schema.push(quote! {
            __schema.param::<#ty>(&mut __gen, #krate::handler::ParamSpec {
                name: #json,
                description: #desc,
                default: #default_json,
                header: #header,
            });
        });
        extract.push(match default_fn {
            Some(f) => quote!(let #binding: #ty = __args.extract_or::<#ty>(#json, #f)?;),
            None => quote!(let #binding: #ty = __args.extract::<#ty>(#json)?;),
        });
    }
    let ret = &func.ret;
    // The one conversion, spanned at the return type: an unsupported type gives one error
    // there (a separate assertion would repeat it at the attribute).
    let convert = quote_spanned!(ret.span()=> <#ret as #krate::IntoToolResult>::into_tool_result);
    let call = func.call(&krate);

    let description = match &tool.attrs.common.description {
        Some(d) => Some(quote!(#d)),
        None => func.doc(),
    };
    let mut setters = Vec::new();
    if let Some(d) = description {
        setters.push(quote!(.description(#d)));
    }
    if let Some(t) = &tool.attrs.common.title {
        setters.push(quote!(.title(#t)));
    }
    setters.extend(tool.attrs.common.metadata_setters(&krate));
    if let Some(scopes) = &tool.attrs.scopes {
        setters.push(quote!(.scopes([#(#scopes),*])));
    }
    if let Some(t) = &tool.attrs.task {
        let support = if t.value() == "required" {
            format_ident!("Required")
        } else {
            format_ident!("Optional")
        };
        setters.push(quote!(.task_support(#krate::tasks::TaskSupport::#support)));
    }
    if let Some((ms, _)) = tool.attrs.timeout_ms {
        setters.push(quote!(.timeout(::core::time::Duration::from_millis(#ms))));
    }
    let hints = tool.hints();
    let annotations = if hints.is_empty() {
        quote!()
    } else {
        let sets = hints.iter().map(|(field, v)| {
            let field = format_ident!("{field}");
            quote!(__ann.#field = ::core::option::Option::Some(#v);)
        });
        quote! {
            let mut __ann = #krate::ToolAnnotations::default();
            #(#sets)*
            __tool = __tool.annotations(__ann);
        }
    };
    let build = quote! {
        fn __build() -> #krate::Tool {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if false { #(#checks)* }
            let mut __gen = #krate::__private::generator();
            let mut __schema = #krate::__private::InputSchema::new();
            #(#schema)*
            let __input = __schema.finish(&mut __gen);
            let __output = <#ret as #krate::IntoToolResult>::output_schema(&mut #krate::__private::generator());
            let mut __tool = #krate::Tool::new(#name, |__ctx, __raw| async move {
                let mut __args = #krate::handler::Args::new(__ctx, __raw);
                let _ = &mut __args;
                #(#extract)*
                #convert(#call)
            })
            #(#setters)*
            .input_schema(__input);
            if let ::core::option::Option::Some(__o) = __output {
                __tool = __tool.output_schema(__o);
            }
            #annotations
            __tool
        }
    };
    registration(&krate, &func.item, Kind::Tool, build)
}
