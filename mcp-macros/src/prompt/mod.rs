//! `#[mcp_prompt]`: parse into a [`model::Prompt`], validate, then generate the descriptor
//! from the model alone.

mod expand;
mod model;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::errors::Errors;
use crate::registration::{Kind, fallback};

/// The expansion: the user's function and its registration, or on errors a fallback
/// registration (the errors are in `errors`).
pub(crate) fn expand(
    attr: TokenStream,
    item: ItemFn,
    errors: &mut Errors,
) -> (ItemFn, TokenStream) {
    let prompt = parse::parse(attr, item, errors);
    validate::validate(&prompt, errors);
    let registration = if errors.is_empty() {
        expand::expand(&prompt)
    } else {
        fallback(
            &prompt.attrs.common.krate(),
            &prompt.func.item,
            Kind::Prompt,
        )
    };
    (prompt.func.item, registration)
}
