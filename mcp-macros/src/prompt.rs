//! `#[mcp_prompt]`: prompts whose arguments are the function's string parameters.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::attrs::Errors;
use crate::func::{Common, opt_str};
use crate::registration;

const KEYS: &[&str] = &["name", "description", "title", "complete", "crate"];

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
    let fn_name = &func.item.sig.ident;
    let completers = args.completers();
    for (arg, _) in &completers {
        if !func.params.iter().any(|p| *arg == p.json_name) {
            errors.push(
                arg.span(),
                format!("`{arg}` is not a parameter of `{fn_name}`"),
            );
        }
    }
    let mut checks = Vec::new();
    let mut arguments = Vec::new();
    let mut extract = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        let binding = p.binding();
        let json = &p.json_name;
        let desc = opt_str(&p.description);
        checks.push(quote_spanned!(ty.span()=> #krate::__private::assert_prompt_param::<#ty>();));
        arguments.push(quote! {
            if let ::core::option::Option::Some(__req) = <#ty as #krate::__private::PromptParam>::argument() {
                __prompt = __prompt.argument(#krate::PromptArgument::new(
                    #json,
                    #desc.map(::std::string::String::from),
                    __req,
                ));
            }
        });
        extract.push(quote!(let #binding: #ty = <#ty as #krate::__private::PromptParam>::extract(&__ctx, &mut __args, #json)?;));
    }
    let ret = &func.ret;
    checks.push(quote_spanned!(ret.span()=> #krate::__private::assert_prompt_result::<#ret>();));
    let call = func.call(&krate);
    let desc_call = description.map(|d| quote!(.description(#d)));
    let title_call = title.map(|t| quote!(.title(#t)));
    let completes = completers.iter().map(|(arg, path)| {
        let a = arg.to_string();
        quote!(.complete(#a, #krate::__private::completer(#path)))
    });
    let build = quote! {
        fn __build() -> #krate::Prompt {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if false { #(#checks)* }
            let mut __prompt = #krate::Prompt::new(#name, |__ctx, mut __args| async move {
                let _ = &mut __args;
                #(#extract)*
                #krate::IntoPromptResult::into_prompt_result(#call)
            })
            #desc_call
            #title_call
            #(#completes)*;
            #(#arguments)*
            __prompt
        }
    };
    let reg = registration(&krate, &func.item, quote!(Prompt), build);
    (func.item, reg)
}
