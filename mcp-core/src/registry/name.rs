//! The name rule for tools and prompts, from `mcp_syntax::name` (the rule the macros check at
//! compile time).

use crate::error::RegistrationError;

/// Checks the name of a `kind` item ("tool", "prompt").
pub(crate) fn check(kind: &'static str, name: &str) -> Result<(), RegistrationError> {
    mcp_syntax::name::check(name).map_err(|e| RegistrationError::InvalidName {
        kind,
        name: name.to_owned(),
        reason: e.to_string(),
    })
}
