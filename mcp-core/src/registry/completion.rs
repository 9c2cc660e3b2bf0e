//! Completion providers for prompt arguments and template variables.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::Context;
use crate::error::McpError;
use crate::protocol::Completion;

/// What a completion provider is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRequest {
    /// The argument or variable being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Values of other arguments already given (`context.arguments`, 2025-06-18 and later).
    pub context: HashMap<String, String>,
}

/// The boxed future a completion provider returns.
pub type CompletionFuture = Pin<Box<dyn Future<Output = Result<Completion, McpError>> + Send>>;

/// A shared completion provider.
pub type CompleteFn = Arc<dyn Fn(Context, CompletionRequest) -> CompletionFuture + Send + Sync>;

/// A completion provider's answer: a [`Completion`], a list of values, or a `Result` of
/// either.
pub trait IntoCompletion {
    /// The completion, or the protocol error to answer with.
    fn into_completion(self) -> Result<Completion, McpError>;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<Completion, McpError> {
        Ok(self)
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<Completion, McpError> {
        Ok(Completion::from_values(self))
    }
}

impl<T: IntoCompletion> IntoCompletion for Result<T, McpError> {
    fn into_completion(self) -> Result<Completion, McpError> {
        self.and_then(IntoCompletion::into_completion)
    }
}

/// Marks completers written as `fn(&str) -> Vec<String>` (the prefix only).
#[derive(Debug)]
pub enum FromPrefix {}

/// Marks completers written as `async fn(Context, CompletionRequest) -> impl IntoCompletion`
/// (the request's context and the other arguments already given).
#[derive(Debug)]
pub enum FromRequest {}

/// Something that completes an argument: a function of the typed prefix, or an async function
/// of the request [`Context`] and the [`CompletionRequest`] (which carries the values of the
/// other arguments). `#[mcp_resource(complete(var = f))]` and `#[mcp_prompt(complete(arg = f))]`
/// accept either.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot complete an argument",
    label = "not a completer",
    note = "a completer is `fn(&str) -> Vec<String>` or `async fn(Context, CompletionRequest) -> T` where T is `Vec<String>`, `Completion` or `Result<_, McpError>` of those"
)]
pub trait Completer<Marker>: Send + Sync + 'static {
    /// The shared provider.
    fn into_complete_fn(self) -> CompleteFn;
}

impl<F> Completer<FromPrefix> for F
where
    F: Fn(&str) -> Vec<String> + Send + Sync + 'static,
{
    fn into_complete_fn(self) -> CompleteFn {
        Arc::new(move |_, req| {
            let values = self(&req.value);
            Box::pin(std::future::ready(Ok(Completion::from_values(values))))
        })
    }
}

impl<F, Fut> Completer<FromRequest> for F
where
    F: Fn(Context, CompletionRequest) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoCompletion,
{
    fn into_complete_fn(self) -> CompleteFn {
        Arc::new(move |ctx, req| {
            let fut = self(ctx, req);
            Box::pin(async move { fut.await.into_completion() })
        })
    }
}
