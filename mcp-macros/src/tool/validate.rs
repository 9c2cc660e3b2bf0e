//! The checks on a [`Tool`] model, all reported together before any code is generated.

use syn::spanned::Spanned;

use super::model::Tool;
use super::parse::TIMEOUT_MS;
use crate::errors::Errors;
use crate::names;

pub(crate) fn validate(tool: &Tool, errors: &mut Errors) {
    if let Some(name) = &tool.attrs.common.name {
        names::check(name, errors);
    }
    if let Some(t) = &tool.attrs.task
        && !matches!(t.value().as_str(), "optional" | "required")
    {
        errors.push(
            t.span(),
            "task takes \"optional\" (a task for clients of the tasks extension) or \"required\" (only as a task)",
        );
    }
    if let Some((0, span)) = tool.attrs.timeout_ms {
        errors.push(span, format!("`timeout_ms` takes {TIMEOUT_MS}"));
    }
    tool.attrs.common.validate(errors);
    tool.func.validate(errors);
    for scope in tool.attrs.scopes.iter().flatten() {
        if !mcp_syntax::scope::is_valid(&scope.value()) {
            errors.push(scope.span(), mcp_syntax::scope::RULE);
        }
    }
    for p in &tool.func.params {
        if let Some(h) = &p.attrs.header {
            let v = h.value();
            let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if v.is_empty() || !v.bytes().all(tchar) {
                errors.push(
                    h.span(),
                    "`header` names the `Mcp-Param-<name>` request header: use a non-empty HTTP token \
                     (letters, digits, !#$%&'*+-.^_`|~)",
                );
            }
        }
        if let syn::Type::Reference(r) = &p.ty {
            errors.push(
                r.and_token.span(),
                "tool parameters are owned values deserialized from the call's arguments: \
                 take an owned type (`String` for `&str`, `Vec<T>` for `&[T]`)",
            );
        }
    }
}
