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
