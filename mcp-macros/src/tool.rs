//! `#[mcp_tool]`: the user's function, plus a descriptor registered at startup.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::attrs::Errors;
use crate::func::{Common, Default, opt_str};
use crate::registration;

const KEYS: &[&str] = &[
    "name",
    "description",
    "title",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "icon",
    "crate",
];

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
    } = Common::parse(attr, item, KEYS, true, errors);
    let hints: Vec<TokenStream> = [
        ("read_only", quote!(read_only_hint)),
        ("destructive", quote!(destructive_hint)),
        ("idempotent", quote!(idempotent_hint)),
        ("open_world", quote!(open_world_hint)),
    ]
    .into_iter()
    .filter_map(|(k, field)| {
        args.flag(k, errors)
            .map(|v| quote!(__ann.#field = ::core::option::Option::Some(#v);))
    })
    .collect();

    let mut schema = Vec::new();
    let mut extract = Vec::new();
    let mut checks = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        if let syn::Type::Reference(r) = ty {
            errors.push(
                r.and_token.span,
                "tool parameters are owned values deserialized from the call's arguments: \
                 take an owned type (`String` for `&str`, `Vec<T>` for `&[T]`)",
            );
            continue;
        }
        let binding = p.binding();
        let json = &p.json_name;
        let desc = opt_str(&p.description);
        checks.push(quote_spanned!(ty.span()=> #krate::__private::assert_tool_param::<#ty>();));
        let default_fn = p.default.as_ref().map(|d| match d {
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
            });
        });
        extract.push(match default_fn {
            Some(f) => quote!(let #binding: #ty = #krate::__private::extract_or::<#ty>(&mut __args, #json, #f)?;),
            None => quote!(let #binding: #ty = <#ty as #krate::handler::ToolParam>::extract(&mut __args, #json)?;),
        });
    }
    let ret = &func.ret;
    // The one conversion, spanned at the return type: an unsupported type gives one error
    // there (a separate assertion would repeat it at the attribute).
    let convert = quote_spanned!(ret.span()=> <#ret as #krate::IntoToolResult>::into_tool_result);
    let call = func.call(&krate);
    let desc_call = description.map(|d| quote!(.description(#d)));
    let title_call = title.map(|t| quote!(.title(#t)));
    let icon_call = args.string("icon", errors).map(|src| {
        quote! {
            .icon({
                let mut __icon = #krate::JsonObject::new();
                __icon.insert(::std::string::String::from("src"), ::std::convert::From::from(#src));
                __icon
            })
        }
    });
    let ann = if hints.is_empty() {
        quote!()
    } else {
        quote! {
            let mut __ann = #krate::ToolAnnotations::default();
            #(#hints)*
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
            #desc_call
            #title_call
            #icon_call
            .input_schema(__input);
            if let ::core::option::Option::Some(__o) = __output {
                __tool = __tool.output_schema(__o);
            }
            #ann
            __tool
        }
    };
    let reg = registration(&krate, &func.item, quote!(Tool), build);
    (func.item, reg)
}
