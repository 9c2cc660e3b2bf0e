//! Tokens to [`Tool`]: one `match` arm per attribute key.

use proc_macro2::TokenStream;
use syn::ItemFn;

use super::model::{Tool, ToolAttrs};
use crate::args;
use crate::common::all_keys;
use crate::errors::Errors;
use crate::func::Func;

/// The keys only `#[mcp_tool]` takes (the shared ones are in `common`).
const KEYS: &[&str] = &[
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "scopes",
    "task",
    "timeout_ms",
];

/// What `timeout_ms` takes, for its errors.
pub(crate) const TIMEOUT_MS: &str =
    "a positive integer, how long one call may run in milliseconds: timeout_ms = 30000";

pub(crate) fn parse(attr: TokenStream, item: ItemFn, errors: &mut Errors) -> Tool {
    let mut attrs = ToolAttrs::default();
    for arg in args::parse(attr, errors) {
        match arg.key() {
            "read_only" => attrs.read_only = arg.flag(errors),
            "destructive" => attrs.destructive = arg.flag(errors),
            "idempotent" => attrs.idempotent = arg.flag(errors),
            "open_world" => attrs.open_world = arg.flag(errors),
            "scopes" => attrs.scopes = arg.strings(errors),
            "task" => attrs.task = arg.string(errors),
            "timeout_ms" => attrs.timeout_ms = arg.int(TIMEOUT_MS, errors),
            _ if attrs.common.parse_arg(&arg, errors) => {}
            _ => arg.unknown(&all_keys(KEYS), errors),
        }
    }
    Tool {
        attrs,
        func: Func::parse(item, errors),
    }
}
