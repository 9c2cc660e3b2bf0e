//! Tokens to [`Resource`]: one `match` arm per attribute key.

use proc_macro2::TokenStream;
use syn::ItemFn;

use super::model::{Resource, ResourceAttrs, Uri};
use crate::args;
use crate::common::all_keys;
use crate::errors::Errors;
use crate::func::Func;

/// The keys only `#[mcp_resource]` takes (the shared ones are in `common`).
const KEYS: &[&str] = &[
    "uri",
    "mime_type",
    "complete",
    "audience",
    "priority",
    "last_modified",
];

pub(crate) fn parse(attr: TokenStream, item: ItemFn, errors: &mut Errors) -> Resource {
    let mut attrs = ResourceAttrs::default();
    for arg in args::parse(attr, errors) {
        match arg.key() {
            "uri" => {
                attrs.uri = arg.string(errors).map(|lit| Uri {
                    variables: mcp_syntax::uri_template::variables(&lit.value())
                        .map_err(|e| format!("invalid uri template: {e}")),
                    lit,
                });
            }
            "mime_type" => attrs.mime_type = arg.string(errors),
            "complete" => attrs.complete = arg.bindings(errors).unwrap_or_default(),
            "audience" => attrs.audience = arg.strings(errors),
            "priority" => attrs.priority = arg.float(errors),
            "last_modified" => attrs.last_modified = arg.string(errors),
            _ if attrs.common.parse_arg(&arg, errors) => {}
            _ => arg.unknown(&all_keys(KEYS), errors),
        }
    }
    Resource {
        attrs,
        func: Func::parse(item, errors),
    }
}
