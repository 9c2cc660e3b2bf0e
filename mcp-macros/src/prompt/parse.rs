//! Tokens to [`Prompt`]: one `match` arm per attribute key.

use proc_macro2::TokenStream;
use syn::ItemFn;

use super::model::{Prompt, PromptAttrs};
use crate::args;
use crate::common::all_keys;
use crate::errors::Errors;
use crate::func::Func;

/// The keys only `#[mcp_prompt]` takes (the shared ones are in `common`).
const KEYS: &[&str] = &["complete"];

pub(crate) fn parse(attr: TokenStream, item: ItemFn, errors: &mut Errors) -> Prompt {
    let mut attrs = PromptAttrs::default();
    for arg in args::parse(attr, errors) {
        match arg.key() {
            "complete" => attrs.complete = arg.bindings(errors).unwrap_or_default(),
            _ if attrs.common.parse_arg(&arg, errors) => {}
            _ => arg.unknown(&all_keys(KEYS), errors),
        }
    }
    Prompt {
        attrs,
        func: Func::parse(item, errors),
    }
}
