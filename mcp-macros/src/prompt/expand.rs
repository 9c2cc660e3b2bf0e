//! [`Prompt`] to tokens: the descriptor's constructor and its registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::Prompt;
use crate::common::{complete_setter, opt_str};
use crate::registration::{Kind, registration};

pub(crate) fn expand(prompt: &Prompt) -> TokenStream {
    let krate = prompt.attrs.common.krate();
    let func = &prompt.func;
    let name = prompt.name();

    let mut checks = Vec::new();
    let mut arguments = Vec::new();
    let mut extract = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        let binding = p.binding();
        let json = p.json_name();
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
    let description = match &prompt.attrs.common.description {
        Some(d) => Some(quote!(#d)),
        None => func.doc(),
    };
    let mut setters = Vec::new();
    if let Some(d) = description {
        setters.push(quote!(.description(#d)));
    }
    if let Some(t) = &prompt.attrs.common.title {
        setters.push(quote!(.title(#t)));
    }
    setters.extend(prompt.attrs.common.metadata_setters(&krate));
    for (arg, path) in &prompt.attrs.complete {
        setters.push(complete_setter(&krate, arg, path));
    }
    let build = quote! {
        fn __build() -> #krate::Prompt {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if false { #(#checks)* }
            let mut __prompt = #krate::Prompt::new(#name, |__ctx, mut __args| async move {
                let _ = &mut __args;
                #(#extract)*
                #krate::IntoPromptResult::into_prompt_result(#call)
            })
            #(#setters)*;
            #(#arguments)*
            __prompt
        }
    };
    registration(&krate, &func.item, Kind::Prompt, build)
}
