//! The name rule for tools and prompts (`mcp_syntax::name`, the rule the registry applies at
//! run time), checked on an explicit `name = "..."` so a bad name is a compile error on the
//! literal rather than a startup error.

use syn::LitStr;

use crate::errors::Errors;

/// Checks `lit` against the rule.
pub(crate) fn check(lit: &LitStr, errors: &mut Errors) {
    if let Err(e) = mcp_syntax::name::check(&lit.value()) {
        errors.push(lit.span(), e);
    }
}
