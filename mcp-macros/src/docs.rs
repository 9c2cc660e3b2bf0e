//! Doc comments to descriptions: one leading space stripped per line, blank lines and
//! indentation kept, `#[doc = include_str!(..)]` passed through with `concat!`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The description expression from `#[doc]` attributes, or `None` when there are none.
pub(crate) fn description(attrs: &[Attribute]) -> Option<TokenStream> {
    let mut parts: Vec<TokenStream> = Vec::new();
    let mut literal_only = String::new();
    let mut all_literal = true;
    let mut first = true;
    for attr in attrs {
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        if !first {
            parts.push(quote!("\n"));
            literal_only.push('\n');
        }
        first = false;
        match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                let v = s.value();
                let line = v.strip_prefix(' ').unwrap_or(&v).to_owned();
                literal_only.push_str(&line);
                parts.push(quote!(#line));
            }
            other => {
                all_literal = false;
                parts.push(quote!(#other));
            }
        }
    }
    if first {
        return None;
    }
    if all_literal {
        let text = literal_only.trim_matches('\n').to_owned();
        return (!text.trim().is_empty()).then(|| quote!(#text));
    }
    Some(quote!(concat!(#(#parts),*)))
}

/// True for attributes that are doc comments.
pub(crate) fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}
