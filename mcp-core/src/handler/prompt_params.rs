//! Prompt parameters: string arguments or injected values.

use std::collections::HashMap;

use crate::context::Context;
use crate::error::McpError;
use crate::handler::{Injected, State};

/// How a prompt parameter is obtained: a string argument (`String` required, `Option<String>`
/// optional) or an injected value ([`Context`], [`State<T>`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a prompt parameter",
    label = "unsupported prompt parameter type",
    note = "prompt arguments are strings: use `String` (required) or `Option<String>` (optional); `Context` and `State<T>` are injected"
)]
pub trait PromptParam: Sized {
    /// `Some(required)` for arguments, `None` for injected values.
    fn argument() -> Option<bool>;
    /// Produces the value of the parameter `name` from the request's arguments.
    fn extract(
        ctx: &Context,
        args: &mut HashMap<String, String>,
        name: &str,
    ) -> Result<Self, McpError>;
}

impl PromptParam for String {
    fn argument() -> Option<bool> {
        Some(true)
    }
    fn extract(
        _: &Context,
        args: &mut HashMap<String, String>,
        name: &str,
    ) -> Result<Self, McpError> {
        args.remove(name)
            .ok_or_else(|| McpError::invalid_params(format!("missing required argument {name:?}")))
    }
}

impl PromptParam for Option<String> {
    fn argument() -> Option<bool> {
        Some(false)
    }
    fn extract(
        _: &Context,
        args: &mut HashMap<String, String>,
        name: &str,
    ) -> Result<Self, McpError> {
        Ok(args.remove(name))
    }
}

impl PromptParam for Context {
    fn argument() -> Option<bool> {
        None
    }
    fn extract(ctx: &Context, _: &mut HashMap<String, String>, _: &str) -> Result<Self, McpError> {
        Context::inject(ctx)
    }
}

impl<T: Send + Sync + 'static> PromptParam for State<T> {
    fn argument() -> Option<bool> {
        None
    }
    fn extract(ctx: &Context, _: &mut HashMap<String, String>, _: &str) -> Result<Self, McpError> {
        State::inject(ctx)
    }
}
