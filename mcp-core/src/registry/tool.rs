//! The macro-free tool descriptor: a name, a schema and an async handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::Context;
use crate::error::ToolError;
use crate::protocol::{CallToolResult, JsonObject, ToolAnnotations};

/// The boxed future a tool handler returns.
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<CallToolResult, ToolError>> + Send>>;

type Handler = dyn Fn(Context, JsonObject) -> ToolFuture + Send + Sync;

/// A tool: metadata plus the handler that runs it.
///
/// ```
/// use mcp_core::{Tool, CallToolResult, Content};
/// use serde_json::json;
///
/// let tool = Tool::new("echo", |_ctx, args| async move {
///     let text = args.get("text").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
///     Ok(CallToolResult::success(vec![Content::text(text)]))
/// })
/// .description("Echo the text back.")
/// .input_schema(json!({
///     "type": "object",
///     "properties": { "text": { "type": "string" } },
///     "required": ["text"]
/// }).as_object().unwrap().clone());
/// assert_eq!(tool.name(), "echo");
/// ```
#[derive(Clone)]
pub struct Tool {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) input_schema: Arc<JsonObject>,
    pub(crate) output_schema: Option<Arc<JsonObject>>,
    pub(crate) annotations: Option<ToolAnnotations>,
    pub(crate) icons: Vec<crate::protocol::JsonObject>,
    pub(crate) meta: Option<JsonObject>,
    pub(crate) origin: String,
    pub(crate) handler: Arc<Handler>,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Tool {
    /// A tool named `name` whose handler receives the request [`Context`] and the raw
    /// arguments object (`{}` when the client sent none). The input schema defaults to
    /// `{"type":"object","properties":{}}`.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Tool
    where
        F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let mut schema = JsonObject::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), JsonObject::new().into());
        Tool {
            name: name.into(),
            title: None,
            description: None,
            input_schema: Arc::new(schema),
            output_schema: None,
            annotations: None,
            icons: Vec::new(),
            meta: None,
            origin: "builder".into(),
            handler: Arc::new(move |ctx, args| Box::pin(handler(ctx, args))),
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the human-readable title (sent from 2025-06-18).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the input JSON Schema (must have `"type": "object"`; checked at registration).
    pub fn input_schema(mut self, schema: JsonObject) -> Self {
        self.input_schema = Arc::new(schema);
        self
    }

    /// Sets the output JSON Schema (sent from 2025-06-18).
    pub fn output_schema(mut self, schema: JsonObject) -> Self {
        self.output_schema = Some(Arc::new(schema));
        self
    }

    /// Sets the behaviour hints (sent from 2025-03-26).
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = Some(annotations);
        self
    }

    /// Adds an icon (`{"src": ..., "mimeType": ..., "sizes": [...]}`; sent from 2025-11-25).
    pub fn icon(mut self, icon: JsonObject) -> Self {
        self.icons.push(icon);
        self
    }

    /// Sets `_meta`.
    pub fn meta(mut self, meta: JsonObject) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Records where the tool was declared (a Rust path), for duplicate-name errors.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Runs the handler directly.
    pub fn call(&self, ctx: Context, args: JsonObject) -> ToolFuture {
        (self.handler)(ctx, args)
    }
}
