//! `#[mcp_tool]`: parse the attribute and function into a [`model::Tool`], validate it, then
//! generate the descriptor from the model alone.

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
    let tool = parse::parse(attr, item, errors);
    validate::validate(&tool, errors);
    let registration = if errors.is_empty() {
        expand::expand(&tool)
    } else {
        fallback(&tool.attrs.common.krate(), &tool.func.item, Kind::Tool)
    };
    (tool.func.item, registration)
}
