//! Static resources and resource templates, with their read handlers.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::cache::CachePolicy;
use crate::context::Context;
use crate::error::{McpError, RegistrationError};
use crate::protocol::{
    Annotations, Completion, JsonObject, ReadResourceResult, ResourceInfo, ResourceTemplateInfo,
};
use crate::registry::completion::{CompleteFn, CompletionRequest};
use crate::registry::template::{TemplateVars, UriTemplate};

/// The boxed future a resource handler returns.
pub type ResourceFuture =
    Pin<Box<dyn Future<Output = Result<ReadResourceResult, McpError>> + Send>>;

type StaticHandler = dyn Fn(Context) -> ResourceFuture + Send + Sync;
type TemplateHandler = dyn Fn(Context, TemplateVars) -> ResourceFuture + Send + Sync;

/// A static resource: a fixed uri and a handler that reads it.
///
/// ```
/// use mcp_core::{Resource, ResourceContents};
///
/// let about = Resource::new("app://about", "about", |_ctx| async {
///     Ok(ResourceContents::text("app://about", "text/plain", "An example.").into())
/// })
/// .description("What this server is")
/// .mime_type("text/plain");
/// assert_eq!(about.uri(), "app://about");
/// ```
#[derive(Clone)]
pub struct Resource {
    pub(crate) info: ResourceInfo,
    pub(crate) origin: String,
    pub(crate) cache: Option<CachePolicy>,
    handler: Arc<StaticHandler>,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("uri", &self.info.uri)
            .finish_non_exhaustive()
    }
}

impl Resource {
    /// A resource at `uri` called `name`, read by `handler`.
    pub fn new<F, Fut>(uri: impl Into<String>, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
    {
        Resource {
            info: ResourceInfo {
                uri: uri.into(),
                name: name.into(),
                title: None,
                description: None,
                mime_type: None,
                size: None,
                annotations: None,
                icons: Vec::new(),
                meta: None,
            },
            origin: "builder".into(),
            cache: None,
            handler: Arc::new(move |ctx| Box::pin(handler(ctx))),
        }
    }

    /// The uri.
    pub fn uri(&self) -> &str {
        &self.info.uri
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// Sets the MIME type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.info.mime_type = Some(mime_type.into());
        self
    }

    /// Sets the size in bytes.
    pub fn size(mut self, size: u64) -> Self {
        self.info.size = Some(size);
        self
    }

    /// Adds an icon (`{"src": ..., "mimeType": ..., "sizes": [...]}`; sent from 2025-11-25).
    pub fn icon(mut self, icon: JsonObject) -> Self {
        self.info.icons.push(icon);
        self
    }

    /// Sets the annotations (audience, priority, last modification).
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.info.annotations = Some(annotations);
        self
    }

    /// Sets `_meta` (sent from 2025-06-18).
    pub fn meta(mut self, meta: JsonObject) -> Self {
        self.info.meta = Some(meta);
        self
    }

    /// Records where the resource was declared, for duplicate errors.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Sets the caching hints of this resource's `resources/read` results (2026-07-28),
    /// overriding the server's.
    pub fn cache(mut self, policy: CachePolicy) -> Self {
        self.cache = Some(policy);
        self
    }

    /// Reads the resource.
    pub fn read(&self, ctx: Context) -> ResourceFuture {
        (self.handler)(ctx)
    }
}

/// A resource template: uris matching an RFC 6570 `{var}` template, read by one handler.
///
/// ```
/// use mcp_core::{ResourceTemplate, ResourceContents};
///
/// let t = ResourceTemplate::new("users://{id}/profile", "profile", |_ctx, vars| async move {
///     let id = &vars["id"];
///     Ok(ResourceContents::text(format!("users://{id}/profile"), "text/plain", format!("user {id}")).into())
/// })
/// .unwrap();
/// assert_eq!(t.uri_template(), "users://{id}/profile");
/// ```
#[derive(Clone)]
pub struct ResourceTemplate {
    pub(crate) info: ResourceTemplateInfo,
    pub(crate) template: UriTemplate,
    pub(crate) origin: String,
    pub(crate) completions: HashMap<String, CompleteFn>,
    pub(crate) cache: Option<CachePolicy>,
    handler: Arc<TemplateHandler>,
}

impl std::fmt::Debug for ResourceTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTemplate")
            .field("uri_template", &self.info.uri_template)
            .finish_non_exhaustive()
    }
}

impl ResourceTemplate {
    /// A template called `name`; fails when the template does not parse.
    pub fn new<F, Fut>(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: F,
    ) -> Result<Self, RegistrationError>
    where
        F: Fn(Context, TemplateVars) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, McpError>> + Send + 'static,
    {
        let uri_template = uri_template.into();
        let template = UriTemplate::parse(&uri_template)?;
        Ok(ResourceTemplate {
            info: ResourceTemplateInfo {
                uri_template,
                name: name.into(),
                title: None,
                description: None,
                mime_type: None,
                annotations: None,
                icons: Vec::new(),
                meta: None,
            },
            template,
            origin: "builder".into(),
            completions: HashMap::new(),
            cache: None,
            handler: Arc::new(move |ctx, vars| Box::pin(handler(ctx, vars))),
        })
    }

    /// The template text.
    pub fn uri_template(&self) -> &str {
        &self.info.uri_template
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// Sets the MIME type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.info.mime_type = Some(mime_type.into());
        self
    }

    /// Adds an icon (`{"src": ..., "mimeType": ..., "sizes": [...]}`; sent from 2025-11-25).
    pub fn icon(mut self, icon: JsonObject) -> Self {
        self.info.icons.push(icon);
        self
    }

    /// Sets the annotations (audience, priority, last modification).
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.info.annotations = Some(annotations);
        self
    }

    /// Sets `_meta` (sent from 2025-06-18).
    pub fn meta(mut self, meta: JsonObject) -> Self {
        self.info.meta = Some(meta);
        self
    }

    /// Records where the template was declared, for duplicate errors.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Registers a completion provider for the template variable `variable`.
    pub fn complete<F, Fut>(mut self, variable: impl Into<String>, provider: F) -> Self
    where
        F: Fn(Context, CompletionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, McpError>> + Send + 'static,
    {
        self.completions.insert(
            variable.into(),
            Arc::new(move |ctx, req| Box::pin(provider(ctx, req))),
        );
        self
    }

    /// Sets the caching hints of `resources/read` results of uris matching this template
    /// (2026-07-28), overriding the server's.
    pub fn cache(mut self, policy: CachePolicy) -> Self {
        self.cache = Some(policy);
        self
    }

    /// Reads the resource at a uri that matched, with its variables.
    pub fn read(&self, ctx: Context, vars: TemplateVars) -> ResourceFuture {
        (self.handler)(ctx, vars)
    }
}
