//! The macro-free tool descriptor: a name, a schema and an async handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::error::ToolError;
use crate::handler::{IntoToolResult, schema_generator};
use crate::protocol::{CallToolResult, JsonObject, ToolAnnotations};
use crate::registry::arguments::ArgumentCheck;

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
    /// The parameters the input schema marks `x-mcp-header`, read once from the schema.
    pub(crate) header_params: Arc<[crate::registry::HeaderParam]>,
    pub(crate) output_schema: Option<Arc<JsonObject>>,
    pub(crate) annotations: Option<ToolAnnotations>,
    pub(crate) icons: Vec<crate::protocol::JsonObject>,
    pub(crate) meta: Option<JsonObject>,
    pub(crate) scopes: Vec<String>,
    pub(crate) origin: String,
    pub(crate) task_support: crate::tasks::TaskSupport,
    pub(crate) timeout: Option<Duration>,
    /// What the input schema promises beyond types, checked before the handler runs (`None`
    /// when it promises nothing more); `Err` when the schema does not compile.
    pub(crate) arguments: Result<Option<Arc<ArgumentCheck>>, String>,
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
            header_params: Arc::new([]),
            output_schema: None,
            annotations: None,
            icons: Vec::new(),
            meta: None,
            scopes: Vec::new(),
            origin: "builder".into(),
            task_support: crate::tasks::TaskSupport::Forbidden,
            timeout: None,
            arguments: Ok(None),
            handler: Arc::new(move |ctx, args| Box::pin(handler(ctx, args))),
        }
    }

    /// A tool whose arguments are one `Deserialize + JsonSchema` type `A`: the input schema is
    /// derived from `A` (it must describe an object, checked at registration), the output
    /// schema from `R` (as for `#[mcp_tool]`, only `Json<T>` declares one), and arguments that
    /// do not deserialize are an `isError` result naming the problem. This is what the
    /// attribute macro produces, without the macro.
    ///
    /// ```
    /// use mcp_core::{Json, Tool};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Add {
    ///     /// The first addend
    ///     a: i64,
    ///     /// The second addend
    ///     b: i64,
    /// }
    ///
    /// let tool = Tool::typed("add", |_ctx, Add { a, b }: Add| async move { a + b })
    ///     .description("Add two numbers");
    /// assert_eq!(tool.name(), "add");
    /// ```
    pub fn typed<A, F, Fut, R>(name: impl Into<String>, handler: F) -> Tool
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult + 'static,
    {
        let mut generator = schema_generator();
        let mut input = match generator.clone().root_schema_for::<A>().to_value() {
            Value::Object(m) => m,
            other => {
                // Not an object: registration reports it, as for any tool.
                let mut m = JsonObject::new();
                m.insert("not".into(), other);
                m
            }
        };
        input.remove("$schema");
        let output = R::output_schema(&mut generator);
        let handler = Arc::new(handler);
        let mut tool = Tool::new(name, move |ctx, args| {
            let handler = handler.clone();
            async move {
                let args = A::deserialize(Value::Object(args))
                    .map_err(|e| ToolError::tool(format!("invalid arguments: {e}")))?;
                handler(ctx, args).await.into_tool_result()
            }
        })
        .input_schema(input);
        if let Some(output) = output {
            tool = tool.output_schema(output);
        }
        tool
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameters its input schema mirrors into request headers (`x-mcp-header`), which
    /// an HTTP transport checks against the arguments of each call of the stateless revision.
    pub fn header_params(&self) -> &[crate::registry::HeaderParam] {
        &self.header_params
    }

    /// The behaviour hints it declares (read-only, destructive, ...), if any.
    pub fn annotation_hints(&self) -> Option<&ToolAnnotations> {
        self.annotations.as_ref()
    }

    /// The `_meta` it declares, if any.
    pub fn meta_fields(&self) -> Option<&JsonObject> {
        self.meta.as_ref()
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
    ///
    /// What the schema says beyond JSON types (ranges, lengths, patterns, formats, enums,
    /// `additionalProperties: false`, ...) is enforced before the handler runs: arguments that
    /// break it get an `isError` result naming the argument and the rule. A schema without
    /// such constraints costs nothing per call.
    pub fn input_schema(mut self, schema: JsonObject) -> Self {
        self.arguments = ArgumentCheck::for_schema(&schema).map(|c| c.map(Arc::new));
        self.header_params = crate::registry::header_params::collect(&schema).into();
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

    /// Requires these OAuth scopes of callers (all of them), on top of the server's own. A
    /// caller whose access token lacks one does not see the tool in `tools/list`, and calling
    /// it is refused (over HTTP with 403 `insufficient_scope` naming the scopes). Callers that
    /// were not authenticated with scopes (stdio, in-memory, HTTP without OAuth) are not
    /// restricted.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The OAuth scopes a caller needs (see [`Tool::scopes`]).
    pub fn required_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Records where the tool was declared (a Rust path), for duplicate-name errors.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Sets whether the tool runs as a task for clients that declared the tasks extension
    /// (`io.modelcontextprotocol/tasks`; default [`TaskSupport::Forbidden`]).
    ///
    /// [`TaskSupport::Forbidden`]: crate::tasks::TaskSupport::Forbidden
    pub fn task_support(mut self, support: crate::tasks::TaskSupport) -> Self {
        self.task_support = support;
        self
    }

    /// Sets how long one call may run before it is cancelled, in place of the server's
    /// [`handler_timeout`](crate::ServerBuilder::handler_timeout). The client then gets a tool
    /// error result (`isError: true`) saying the tool did not finish in time.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use mcp_core::{Tool, CallToolResult};
    /// let tool = Tool::new("slow", |_ctx, _args| async { Ok(CallToolResult::default()) })
    ///     .timeout(Duration::from_secs(30));
    /// assert_eq!(tool.timeout_value(), Some(Duration::from_secs(30)));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The tool's own timeout, if it has one.
    pub fn timeout_value(&self) -> Option<Duration> {
        self.timeout
    }

    /// Runs the handler, after checking the arguments against what the input schema promises.
    pub fn call(&self, ctx: Context, args: JsonObject) -> ToolFuture {
        let Ok(Some(check)) = &self.arguments else {
            return (self.handler)(ctx, args);
        };
        let args = Value::Object(args);
        if let Err(message) = check.check(&args) {
            return Box::pin(std::future::ready(Err(ToolError::tool(message))));
        }
        let args = match args {
            Value::Object(args) => args,
            _ => JsonObject::new(),
        };
        (self.handler)(ctx, args)
    }

    /// Why the input schema cannot be enforced, if it cannot (checked at registration).
    pub(crate) fn schema_problem(&self) -> Option<&str> {
        self.arguments.as_ref().err().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::handler::Json;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Area {
        /// Width in metres
        width: f64,
        height: Option<f64>,
    }

    #[derive(serde::Serialize, schemars::JsonSchema)]
    struct Out {
        area: f64,
    }

    #[tokio::test]
    async fn typed_tools_derive_their_schemas_and_check_arguments() {
        let tool = Tool::typed("area", |_ctx, a: Area| async move {
            Json(Out {
                area: a.width * a.height.unwrap_or(a.width),
            })
        });
        assert_eq!(tool.input_schema["type"], "object");
        assert_eq!(tool.input_schema["required"], json!(["width"]));
        assert_eq!(
            tool.input_schema["properties"]["width"]["description"],
            "Width in metres"
        );
        assert!(tool.input_schema.get("$schema").is_none());
        assert_eq!(
            tool.output_schema.as_ref().unwrap()["properties"]["area"]["type"],
            "number"
        );

        let server = crate::Server::builder("t", "1")
            .auto_collect(false)
            .tool(tool)
            .build()
            .unwrap();
        let client = server.connect_in_memory().await;
        client.initialize().await.unwrap();
        let out = client
            .call_tool("area", json!({"width": 2.0, "height": 3.0}))
            .await
            .unwrap();
        assert_eq!(out["structuredContent"], json!({"area": 6.0}));
        let bad = client
            .call_tool("area", json!({"width": "wide"}))
            .await
            .unwrap();
        assert_eq!(bad["isError"], true);
        let text = bad["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("invalid arguments"), "{text}");
    }

    #[test]
    fn a_typed_tool_over_a_non_object_fails_registration() {
        let tool = Tool::typed("n", |_ctx, n: i64| async move { n });
        let err = crate::Server::builder("t", "1")
            .auto_collect(false)
            .tool(tool)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("\"type\": \"object\""), "{err}");
    }
}
