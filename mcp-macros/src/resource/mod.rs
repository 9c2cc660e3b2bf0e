//! `#[mcp_resource(uri = "...")]`: parse into a [`model::Resource`], validate, then generate a
//! static resource or a resource template from the model alone.

mod expand;
mod model;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::errors::Errors;
use crate::registration::fallback;

/// The expansion: the user's function and its registration, or on errors a fallback
/// registration (the errors are in `errors`).
pub(crate) fn expand(
    attr: TokenStream,
    item: ItemFn,
    errors: &mut Errors,
) -> (ItemFn, TokenStream) {
    let resource = parse::parse(attr, item, errors);
    validate::validate(&resource, errors);
    let registration = if errors.is_empty() {
        expand::expand(&resource)
    } else {
        fallback(
            &resource.attrs.common.krate(),
            &resource.func.item,
            resource.kind(),
        )
    };
    (resource.func.item, registration)
}
