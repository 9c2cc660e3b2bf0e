//! The checks on a [`Resource`] model, all reported together before any code is generated.

use super::model::{Resource, Uri};
use crate::errors::Errors;

pub(crate) fn validate(resource: &Resource, errors: &mut Errors) {
    resource.attrs.common.validate(errors);
    resource.func.validate(errors);
    for p in &resource.func.params {
        if let Some(h) = &p.attrs.header {
            errors.push(
                h.span(),
                "`header` mirrors a tool argument into a request header; resource arguments have none",
            );
        }
    }
    for role in resource.attrs.audience.iter().flatten() {
        if !matches!(role.value().as_str(), "user" | "assistant") {
            errors.push(role.span(), "an audience is \"user\" or \"assistant\"");
        }
    }
    if let Some((p, span)) = resource.attrs.priority
        && !(0.0..=1.0).contains(&p)
    {
        errors.push(span, "`priority` is from 0 (least important) to 1 (most)");
    }
    let fn_name = &resource.func.item.sig.ident;
    let Some(Uri { lit, variables }) = &resource.attrs.uri else {
        errors.push(
            proc_macro2::Span::call_site(),
            "missing `uri`: #[mcp_resource(uri = \"scheme://path\")] or a template like \"scheme://{id}\"",
        );
        return;
    };
    let vars = match variables {
        Ok(v) => v,
        Err(e) => {
            errors.push(lit.span(), e);
            return;
        }
    };
    for v in vars {
        if !resource
            .func
            .params
            .iter()
            .any(|p| &p.ident.to_string() == v)
        {
            errors.push(
                lit.span(),
                format!("template variable `{{{v}}}` has no parameter named `{v}` in `{fn_name}`"),
            );
        }
    }
    for (arg, _) in &resource.attrs.complete {
        if !vars.contains(&arg.to_string()) {
            errors.push(
                arg.span(),
                format!("`{arg}` is not a variable of the uri template"),
            );
        }
    }
}
