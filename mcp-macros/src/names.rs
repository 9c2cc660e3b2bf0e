//! The rule for tool and prompt names, checked on an explicit `name = "..."` so a bad name is a
//! compile error on the literal rather than a startup error.

use syn::LitStr;

use crate::errors::Errors;

/// Checks `lit` against the registration rule (1 to 128 characters of `[A-Za-z0-9_.-]`).
pub(crate) fn check(lit: &LitStr, errors: &mut Errors) {
    let name = lit.value();
    let problem = if name.is_empty() {
        Some("a name cannot be empty".to_owned())
    } else if name.len() > 128 {
        Some(format!(
            "a name has at most 128 characters; this one has {}",
            name.len()
        ))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .map(|c| format!("{c:?} is not allowed in a name; use A-Z, a-z, 0-9, '_', '.' or '-'"))
    };
    if let Some(problem) = problem {
        errors.push(lit.span(), problem);
    }
}
