//! Resource template variables as typed parameters.

use std::str::FromStr;

use crate::error::McpError;
use crate::registry::TemplateVars;

/// Parses the template variable `name` into `T` with `FromStr`; a value that does not parse
/// is an invalid-params error naming the variable.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a uri template variable",
    label = "this parameter is bound to a `{{variable}}` of the uri",
    note = "template variables are parsed with `FromStr` (whose error must implement `Display`): use `String`, a number, or a type implementing `FromStr`"
)]
pub trait TemplateVar: Sized {
    /// The value of `name` in `vars`.
    fn from_vars(vars: &TemplateVars, name: &str) -> Result<Self, McpError>;
}

#[diagnostic::do_not_recommend]
impl<T: FromStr> TemplateVar for T
where
    T::Err: std::fmt::Display,
{
    fn from_vars(vars: &TemplateVars, name: &str) -> Result<Self, McpError> {
        let raw = vars.get(name).map(String::as_str).unwrap_or("");
        raw.parse().map_err(|e| {
            McpError::invalid_params(format!(
                "invalid value {:?} for {{{name}}}: {e}",
                crate::jsonrpc::clip(raw, crate::jsonrpc::ECHO_MAX)
            ))
        })
    }
}
