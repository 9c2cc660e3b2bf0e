//! The checks on a [`Prompt`] model, all reported together before any code is generated.

use super::model::Prompt;
use crate::errors::Errors;
use crate::names;

pub(crate) fn validate(prompt: &Prompt, errors: &mut Errors) {
    if let Some(name) = &prompt.attrs.common.name {
        names::check(name, errors);
    }
    prompt.attrs.common.validate(errors);
    prompt.func.validate(errors);
    for p in &prompt.func.params {
        if let Some(h) = &p.attrs.header {
            errors.push(
                h.span(),
                "`header` mirrors a tool argument into a request header; prompt arguments have none",
            );
        }
    }
    let fn_name = &prompt.func.item.sig.ident;
    for (arg, _) in &prompt.attrs.complete {
        if !prompt.func.params.iter().any(|p| *arg == p.json_name()) {
            errors.push(
                arg.span(),
                format!("`{arg}` is not a parameter of `{fn_name}`"),
            );
        }
    }
}
