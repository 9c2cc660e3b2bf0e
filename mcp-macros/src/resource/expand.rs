//! [`Resource`] to tokens: a static resource or a template, and its registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::Resource;
use crate::common::complete_setter;
use crate::registration::{Kind, registration};

pub(crate) fn expand(resource: &Resource) -> TokenStream {
    let krate = resource.attrs.common.krate();
    let func = &resource.func;
    let name = resource.name();
    let vars = resource.variables();
    // Validation guarantees the uri is present.
    let uri = resource.attrs.uri.as_ref().map(|u| &u.lit);

    let mut checks = Vec::new();
    let mut extract = Vec::new();
    for p in &func.params {
        let ty = &p.ty;
        let binding = p.binding();
        let pname = p.ident.to_string();
        if vars.contains(&pname) {
            checks
                .push(quote_spanned!(ty.span()=> #krate::__private::assert_template_var::<#ty>();));
            extract.push(quote!(let #binding: #ty = <#ty as #krate::__private::TemplateVar>::from_vars(&__vars, #pname)?;));
        } else {
            checks.push(quote_spanned!(ty.span()=> #krate::__private::assert_injected::<#ty>();));
            extract.push(
                quote!(let #binding: #ty = <#ty as #krate::__private::Injected>::inject(&__ctx)?;),
            );
        }
    }
    let ret = &func.ret;
    // The one conversion, spanned at the return type (see the tool expansion).
    let convert =
        quote_spanned!(ret.span()=> <#ret as #krate::IntoResourceResult>::into_resource_result);
    let call = func.call(&krate);
    let mime = &resource.attrs.mime_type;
    let mime_opt = match mime {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => quote!(::core::option::Option::None),
    };
    let description = match &resource.attrs.common.description {
        Some(d) => Some(quote!(#d)),
        None => func.doc(),
    };
    let mut setters = Vec::new();
    if let Some(d) = description {
        setters.push(quote!(.description(#d)));
    }
    if let Some(m) = mime {
        setters.push(quote!(.mime_type(#m)));
    }
    if let Some(t) = &resource.attrs.common.title {
        setters.push(quote!(.title(#t)));
    }
    setters.extend(resource.attrs.common.metadata_setters(&krate));
    if resource.attrs.has_annotations() {
        let a = &resource.attrs;
        let audience = a.audience.as_ref().map(|roles| {
            quote!(__ann.audience = ::core::option::Option::Some(::std::vec![#(::std::string::String::from(#roles)),*]);)
        });
        let priority = a
            .priority
            .map(|(p, _)| quote!(__ann.priority = ::core::option::Option::Some(#p);));
        let modified = a.last_modified.as_ref().map(|m| {
            quote!(__ann.last_modified = ::core::option::Option::Some(::std::string::String::from(#m));)
        });
        setters.push(quote! {
            .annotations({
                let mut __ann = #krate::protocol::Annotations::default();
                #audience
                #priority
                #modified
                __ann
            })
        });
    }
    let kind = resource.kind();
    let build = match kind {
        Kind::Template => {
            let completes = resource
                .attrs
                .complete
                .iter()
                .map(|(arg, path)| complete_setter(&krate, arg, path));
            quote! {
                fn __build() -> ::core::result::Result<#krate::ResourceTemplate, #krate::RegistrationError> {
                    #[allow(unreachable_code, clippy::diverging_sub_expression)]
                    if false { #(#checks)* }
                    let __template = #krate::ResourceTemplate::new(#uri, #name, |__ctx, __vars| async move {
                        let __uri = __ctx.resource_uri().unwrap_or(#uri).to_owned();
                        #(#extract)*
                        #convert(#call, &__uri, #mime_opt)
                    })?;
                    ::core::result::Result::Ok(__template #(#setters)* #(#completes)*)
                }
            }
        }
        _ => quote! {
            fn __build() -> #krate::Resource {
                #[allow(unreachable_code, clippy::diverging_sub_expression)]
                if false { #(#checks)* }
                #krate::Resource::new(#uri, #name, |__ctx| async move {
                    #(#extract)*
                    #convert(#call, #uri, #mime_opt)
                })
                #(#setters)*
            }
        },
    };
    registration(&krate, &func.item, kind, build)
}
