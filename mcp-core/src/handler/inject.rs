//! Injected parameters: values a handler receives from the server rather than from the client
//! ([`Context`], [`State<T>`]), in any position and under any alias.

use crate::context::Context;
use crate::error::McpError;
use crate::handler::State;

/// A parameter the server provides.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an injected parameter",
    label = "not a template variable, and not injectable",
    note = "resource parameters must be named after a `{{variable}}` of the uri, or be `Context` / `State<T>`"
)]
pub trait Injected: Sized {
    /// Produces the value for one request.
    fn inject(ctx: &Context) -> Result<Self, McpError>;
}

impl Injected for Context {
    fn inject(ctx: &Context) -> Result<Self, McpError> {
        Ok(ctx.clone())
    }
}

impl<T: Send + Sync + 'static> Injected for State<T> {
    fn inject(ctx: &Context) -> Result<Self, McpError> {
        State::from_context(ctx)
    }
}
