//! Prompts: named message templates with arguments.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::Context;
use crate::error::McpError;
use crate::protocol::{Completion, GetPromptResult, JsonObject, PromptArgument};
use crate::registry::completion::{CompleteFn, CompletionRequest};

/// The boxed future a prompt handler returns.
pub type PromptFuture = Pin<Box<dyn Future<Output = Result<GetPromptResult, McpError>> + Send>>;

type Handler = dyn Fn(Context, HashMap<String, String>) -> PromptFuture + Send + Sync;

/// A prompt: a name, arguments and a handler producing messages.
///
/// ```
/// use mcp_core::{Prompt, PromptArgument, PromptMessage};
///
/// let p = Prompt::new("greet", |_ctx, args| async move {
///     Ok(vec![PromptMessage::user(format!("Say hello to {}", args["name"]))].into())
/// })
/// .description("Greet someone")
/// .argument(PromptArgument::new("name", Some("Who to greet".into()), true));
/// assert_eq!(p.name(), "greet");
/// ```
#[derive(Clone)]
pub struct Prompt {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) arguments: Vec<PromptArgument>,
    pub(crate) icons: Vec<JsonObject>,
    pub(crate) meta: Option<JsonObject>,
    pub(crate) origin: String,
    pub(crate) completions: HashMap<String, CompleteFn>,
    handler: Arc<Handler>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Prompt {
    /// A prompt called `name`; the handler receives the arguments the client gave.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Context, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, McpError>> + Send + 'static,
    {
        Prompt {
            name: name.into(),
            title: None,
            description: None,
            arguments: Vec::new(),
            icons: Vec::new(),
            meta: None,
            origin: "builder".into(),
            completions: HashMap::new(),
            handler: Arc::new(move |ctx, args| Box::pin(handler(ctx, args))),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Declares an argument.
    pub fn argument(mut self, argument: PromptArgument) -> Self {
        self.arguments.push(argument);
        self
    }

    /// Adds an icon (`{"src": ..., "mimeType": ..., "sizes": [...]}`; sent from 2025-11-25).
    pub fn icon(mut self, icon: JsonObject) -> Self {
        self.icons.push(icon);
        self
    }

    /// Sets `_meta` (sent from 2025-06-18).
    pub fn meta(mut self, meta: JsonObject) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Records where the prompt was declared, for duplicate errors.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Registers a completion provider for the argument `argument`.
    pub fn complete<F, Fut>(mut self, argument: impl Into<String>, provider: F) -> Self
    where
        F: Fn(Context, CompletionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, McpError>> + Send + 'static,
    {
        self.completions.insert(
            argument.into(),
            Arc::new(move |ctx, req| Box::pin(provider(ctx, req))),
        );
        self
    }

    /// Renders the prompt with `arguments`.
    pub fn get(&self, ctx: Context, arguments: HashMap<String, String>) -> PromptFuture {
        (self.handler)(ctx, arguments)
    }
}
