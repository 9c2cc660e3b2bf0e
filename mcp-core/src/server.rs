//! The server: building it, registering items while it serves, starting and stopping it
//! (its lifespan hooks), and opening in-memory sessions on it. Its shared state, which request
//! handling reads, lives in `shared`.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{CachePolicies, CachePolicy, CacheableMethod};
use crate::changes::ListKind;
use crate::error::RegistrationError;
use crate::jsonrpc::ParseLimits;
use crate::lifespan::{Lifespan, StartupError};
use crate::mrtr::{MIN_KEY_BYTES, Sealer};
use crate::protocol::Implementation;
use crate::registry::{Prompt, Resource, ResourceTemplate, Tool};
pub use crate::shared::Server;
use crate::shared::{Config, Settings};
use crate::state::StateMap;
use crate::subscriptions::SubscriptionLimits;
use crate::tasks::Tasks;

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    config: Config,
    state: StateMap,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
    errors: Vec<RegistrationError>,
    auto_collect: bool,
    tool_scopes: Vec<(String, Vec<String>)>,
    state_key: Option<Vec<u8>>,
    state_ttl: Duration,
    state_max_bytes: usize,
    max_tasks: usize,
    task_ttl: Duration,
    task_poll_interval: Duration,
    startup: Vec<crate::lifespan::StartupHook>,
    shutdown: Vec<crate::lifespan::ShutdownHook<Server>>,
    middleware: Vec<Arc<dyn crate::middleware::Middleware>>,
}

impl Server {
    /// Opens an in-memory client session on this server, for tests: the returned
    /// [`MemoryClient`](crate::transport::memory::MemoryClient) speaks to the server as a
    /// client over a real transport would. Must be called inside a tokio runtime.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = mcp_core::Server::builder("demo", "1.0").build().unwrap();
    /// let client = server.connect_in_memory().await;
    /// client.initialize().await.unwrap();
    /// assert_eq!(client.list_tools().await.unwrap()["tools"], serde_json::json!([]));
    /// # });
    /// ```
    pub async fn connect_in_memory(&self) -> crate::transport::memory::MemoryClient {
        crate::transport::memory::MemoryClient::connect(self)
    }

    /// Starts a builder for a server called `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            config: Config {
                info: Implementation {
                    name: name.into(),
                    version: version.into(),
                    title: None,
                },
                instructions: None,
                parse_limits: ParseLimits::default(),
                page_size: 100,
                request_timeout: Duration::from_secs(60),
                max_in_flight: 256,
                subscription_limits: SubscriptionLimits::default(),
                handler_timeout: Duration::from_secs(300),
                cache: CachePolicies::default(),
                max_listen_streams: 1024,
                max_listen_resources: 256,
            },
            state: StateMap::default(),
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            errors: Vec::new(),
            auto_collect: true,
            tool_scopes: Vec::new(),
            state_key: None,
            state_ttl: Duration::from_secs(600),
            state_max_bytes: 256 * 1024,
            max_tasks: 1024,
            task_ttl: Duration::from_secs(900),
            task_poll_interval: Duration::from_millis(500),
            startup: Vec::new(),
            shutdown: Vec::new(),
            middleware: Vec::new(),
        }
    }

    /// A server holding every item registered in the binary with the attribute macros, named
    /// after the executable. Its version is the `CARGO_PKG_VERSION` environment variable at run
    /// time (which `cargo run` sets), else `0.0.0`: a library function cannot see the
    /// application's version, so prefer [`from_registered!`](crate::from_registered!), which
    /// reports the calling crate's name and version, or [`Server::from_registered_as`].
    pub fn from_registered() -> Result<Server, RegistrationError> {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "mcp-server".to_owned());
        let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0".to_owned());
        Server::from_registered_as(name, version)
    }

    /// A server holding every item registered in the binary with the attribute macros, reporting
    /// `name` and `version` in `initialize` (`serverInfo`) and on the health endpoint.
    ///
    /// ```
    /// let server = mcp_core::Server::from_registered_as("weather", "2.1.0").unwrap();
    /// assert_eq!(server.info().name, "weather");
    /// assert_eq!(server.info().version, "2.1.0");
    /// ```
    pub fn from_registered_as(
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Result<Server, RegistrationError> {
        Server::builder(name, version).build()
    }

    /// Runs the start-up hooks, once, in registration order, and adds their values to the typed
    /// state handlers see. The first failing hook stops the rest and its error is returned;
    /// every later call returns the same outcome at once, and the server must not serve.
    /// Transports call this before they accept anything.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// struct Pool(u32);
    /// let server = mcp_core::Server::builder("demo", "1.0")
    ///     .auto_collect(false)
    ///     .on_startup(|| async { Ok::<_, std::io::Error>(Pool(4)) })
    ///     .build()
    ///     .unwrap();
    /// server.start().await.unwrap();
    /// assert_eq!(server.state::<Pool>().unwrap().0, 4);
    /// # });
    /// ```
    pub async fn start(&self) -> Result<(), StartupError> {
        self.lifespan()
            .start(
                || (*self.state_map()).clone(),
                |state| self.replace_state(state),
            )
            .await
    }

    /// Runs the shutdown hooks, in registration order, the first time it is called on a
    /// server whose start-up succeeded (or had no hooks); later calls do nothing. Transports
    /// call it at the end of a graceful shutdown, after in-flight requests finished.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static CLOSED: AtomicUsize = AtomicUsize::new(0);
    /// let server = mcp_core::Server::builder("demo", "1.0")
    ///     .auto_collect(false)
    ///     .on_shutdown(|_server| async { CLOSED.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// server.start().await.unwrap();
    /// server.shutdown().await;
    /// server.shutdown().await;
    /// assert_eq!(CLOSED.load(Ordering::SeqCst), 1);
    /// # });
    /// ```
    pub async fn shutdown(&self) {
        self.lifespan().shutdown(self).await;
    }

    /// Adds a tool while serving; initialized sessions get `notifications/tools/list_changed`.
    pub fn add_tool(&self, tool: Tool) -> Result<(), RegistrationError> {
        validate_tool(&tool)?;
        {
            let mut reg = self.write();
            if let Some(first) = reg.tools.get(&tool.name) {
                return Err(duplicate("tool", &tool.name, &first.origin, &tool.origin));
            }
            reg.tools.insert(tool.name.clone(), Arc::new(tool));
        }
        self.changed(ListKind::Tools);
        Ok(())
    }

    /// The OAuth scopes the tool `name` requires ([`Tool::scopes`]); `None` when no such tool
    /// is registered.
    pub fn tool_scopes(&self, name: &str) -> Option<Vec<String>> {
        self.read().tools.get(name).map(|t| t.scopes.clone())
    }

    /// Removes a tool; true when it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = self.write().tools.remove(name).is_some();
        if removed {
            self.changed(ListKind::Tools);
        }
        removed
    }

    /// The input schema of the tool called `name`, if there is one. Transports read it for the
    /// parameters a tool mirrors into request headers (`x-mcp-header`).
    pub fn tool_input_schema(&self, name: &str) -> Option<Arc<crate::protocol::JsonObject>> {
        self.read().tools.get(name).map(|t| t.input_schema.clone())
    }

    /// The input schema of the tool called `name` when it mirrors parameters into request
    /// headers (a property marked `x-mcp-header`); `None` for any other tool, or none.
    ///
    /// ```
    /// use mcp_core::{Server, Tool, CallToolResult};
    /// use serde_json::json;
    ///
    /// let schema = |v: serde_json::Value| v.as_object().unwrap().clone();
    /// let plain = Tool::new("plain", |_, _| async { Ok(CallToolResult::success(vec![])) });
    /// let routed = Tool::new("routed", |_, _| async { Ok(CallToolResult::success(vec![])) })
    ///     .input_schema(schema(json!({"type": "object", "properties": {
    ///         "region": {"type": "string", "x-mcp-header": "Region"}
    ///     }})));
    /// let server = Server::builder("demo", "1").tool(plain).tool(routed).build().unwrap();
    /// assert!(server.tool_header_schema("plain").is_none());
    /// assert!(server.tool_header_schema("routed").is_some());
    /// ```
    pub fn tool_header_schema(&self, name: &str) -> Option<Arc<crate::protocol::JsonObject>> {
        self.read()
            .tools
            .get(name)
            .filter(|t| !t.header_params.is_empty())
            .map(|t| t.input_schema.clone())
    }

    /// The parameters the tool called `name` mirrors into request headers
    /// ([`Tool::header_params`]); `None` when it mirrors none, or there is no such tool.
    ///
    /// ```
    /// use mcp_core::{Server, Tool, CallToolResult};
    /// use serde_json::json;
    ///
    /// let schema = |v: serde_json::Value| v.as_object().unwrap().clone();
    /// let plain = Tool::new("plain", |_, _| async { Ok(CallToolResult::success(vec![])) });
    /// let routed = Tool::new("routed", |_, _| async { Ok(CallToolResult::success(vec![])) })
    ///     .input_schema(schema(json!({"type": "object", "properties": {
    ///         "region": {"type": "string", "x-mcp-header": "Region"}
    ///     }})));
    /// let server = Server::builder("demo", "1").tool(plain).tool(routed).build().unwrap();
    /// assert!(server.tool_header_params("plain").is_none());
    /// assert_eq!(server.tool_header_params("routed").unwrap()[0].header(), "Mcp-Param-Region");
    /// ```
    pub fn tool_header_params(&self, name: &str) -> Option<Arc<[crate::registry::HeaderParam]>> {
        self.read()
            .tools
            .get(name)
            .filter(|t| !t.header_params.is_empty())
            .map(|t| t.header_params.clone())
    }

    /// Adds a static resource while serving.
    pub fn add_resource(&self, resource: Resource) -> Result<(), RegistrationError> {
        {
            let mut reg = self.write();
            if let Some(first) = reg.resources.get(&resource.info.uri) {
                return Err(duplicate(
                    "resource",
                    &resource.info.uri,
                    &first.origin,
                    &resource.origin,
                ));
            }
            reg.resources
                .insert(resource.info.uri.clone(), Arc::new(resource));
        }
        self.changed(ListKind::Resources);
        Ok(())
    }

    /// Removes a static resource by uri; true when it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.write().resources.remove(uri).is_some();
        if removed {
            self.changed(ListKind::Resources);
        }
        removed
    }

    /// Adds a resource template while serving.
    pub fn add_resource_template(
        &self,
        template: ResourceTemplate,
    ) -> Result<(), RegistrationError> {
        {
            let mut reg = self.write();
            if let Some(first) = reg
                .templates
                .iter()
                .find(|t| t.info.uri_template == template.info.uri_template)
            {
                return Err(duplicate(
                    "resource template",
                    &template.info.uri_template,
                    &first.origin,
                    &template.origin,
                ));
            }
            reg.templates.push(Arc::new(template));
        }
        self.changed(ListKind::Templates);
        Ok(())
    }

    /// Adds a prompt while serving.
    pub fn add_prompt(&self, prompt: Prompt) -> Result<(), RegistrationError> {
        crate::registry::name::check("prompt", &prompt.name)?;
        {
            let mut reg = self.write();
            if let Some(first) = reg.prompts.get(&prompt.name) {
                return Err(duplicate(
                    "prompt",
                    &prompt.name,
                    &first.origin,
                    &prompt.origin,
                ));
            }
            reg.prompts.insert(prompt.name.clone(), Arc::new(prompt));
        }
        self.changed(ListKind::Prompts);
        Ok(())
    }

    /// Removes a prompt; true when it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.write().prompts.remove(name).is_some();
        if removed {
            self.changed(ListKind::Prompts);
        }
        removed
    }
}

fn duplicate(kind: &'static str, name: &str, first: &str, second: &str) -> RegistrationError {
    RegistrationError::Duplicate {
        kind,
        name: name.to_owned(),
        first: first.to_owned(),
        second: second.to_owned(),
    }
}

fn validate_tool(tool: &Tool) -> Result<(), RegistrationError> {
    crate::registry::name::check("tool", &tool.name)?;
    let check = |schema: &crate::protocol::JsonObject, which: &str| {
        if schema.get("type").and_then(|t| t.as_str()) != Some("object") {
            return Err(RegistrationError::InvalidSchema {
                item: tool.name.clone(),
                reason: format!("the {which} schema must have \"type\": \"object\""),
            });
        }
        Ok(())
    };
    check(&tool.input_schema, "input")?;
    if let Some(reason) = crate::registry::header_params::problem(&tool.input_schema) {
        return Err(RegistrationError::InvalidSchema {
            item: tool.name.clone(),
            reason,
        });
    }
    if let Some(reason) = tool.schema_problem() {
        return Err(RegistrationError::InvalidSchema {
            item: tool.name.clone(),
            reason: reason.to_owned(),
        });
    }
    if let Some(out) = &tool.output_schema {
        check(out, "output")?;
    }
    if let Some(bad) = tool.scopes.iter().find(|s| !mcp_syntax::scope::is_valid(s)) {
        return Err(RegistrationError::InvalidScope {
            tool: tool.name.clone(),
            scope: bad.clone(),
        });
    }
    Ok(())
}

impl ServerBuilder {
    /// Sets the name reported in `serverInfo`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.info.name = name.into();
        self
    }

    /// Sets the version reported in `serverInfo`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.config.info.version = version.into();
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.config.info.title = Some(title.into());
        self
    }

    /// Sets the instructions sent in the `initialize` result.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.config.instructions = Some(instructions.into());
        self
    }

    /// Sets the limits applied to incoming JSON (default: 4 MiB, depth 127, 100 per batch).
    pub fn parse_limits(mut self, limits: ParseLimits) -> Self {
        self.config.parse_limits = limits;
        self
    }

    /// Sets how many items one page of a list result holds (default 100).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.config.page_size = page_size.max(1);
        self
    }

    /// Sets how long a server-to-client request waits for its answer (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The most resources one session may subscribe to (default 100); past it
    /// `resources/subscribe` of a new uri is answered with a -32600 error.
    pub fn max_session_subscriptions(mut self, max: usize) -> Self {
        self.config.subscription_limits.max_count = max;
        self
    }

    /// The longest uri, in bytes, a session may subscribe to (default 2048); a longer one is
    /// answered with a -32602 error.
    pub fn max_subscription_uri_bytes(mut self, max: usize) -> Self {
        self.config.subscription_limits.max_uri_bytes = max;
        self
    }

    /// How long a handler (tool, resource, prompt, completion) may run before it is cancelled
    /// (default 300 s); [`Tool::timeout`] sets it for one tool. A tool past its time answers
    /// with a tool error (`isError: true`) saying so; other handlers with a -32603 error.
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.config.handler_timeout = timeout;
        self
    }

    /// The most requests one session may have running at once (default 256); past it a request
    /// is answered at once with a -32600 error asking the client to wait for answers first.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.config.max_in_flight = max.max(1);
        self
    }

    /// Adds typed application state, reachable from handlers through `Context::state`.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Adds a middleware: code around every request and every tool call, on every transport
    /// (see [`crate::middleware`]). The first added runs outermost.
    pub fn middleware(mut self, middleware: impl crate::middleware::Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds a start-up hook: an async function run once by [`Server::start`] (which every
    /// transport calls before it accepts anything), whose value becomes typed state that
    /// handlers take as `State<T>` (or read with `Context::state`). Hooks run in registration
    /// order. When one fails, the server does not start: `serve` returns the error
    /// ([`StartupError`](crate::lifespan::StartupError)) and nothing is served.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// struct Db { url: String }
    /// let server = mcp_core::Server::builder("demo", "1.0")
    ///     .auto_collect(false)
    ///     .on_startup(|| async {
    ///         // Open the pool here; an `Err` stops the server from starting.
    ///         Ok::<_, std::io::Error>(Db { url: "postgres://localhost/app".into() })
    ///     })
    ///     .build()
    ///     .unwrap();
    /// server.start().await.unwrap();
    /// assert_eq!(server.state::<Db>().unwrap().url, "postgres://localhost/app");
    /// # });
    /// ```
    pub fn on_startup<T, E, F, Fut>(mut self, hook: F) -> Self
    where
        T: Send + Sync + 'static,
        E: Into<crate::lifespan::HookError>,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
    {
        self.startup.push(Box::new(move || {
            Box::pin(async move {
                match hook().await {
                    Ok(value) => {
                        let store: Box<dyn FnOnce(&mut StateMap) + Send> =
                            Box::new(move |state: &mut StateMap| state.insert(value));
                        Ok(store)
                    }
                    Err(e) => Err(e.into()),
                }
            })
        }));
        self
    }

    /// Adds a shutdown hook: an async function run once when the server shuts down gracefully
    /// ([`Server::shutdown`], which the transports call after in-flight requests finished),
    /// given the server so it can reach the typed state (`server.state::<Db>()`). Hooks run
    /// in registration order; none runs when start-up failed.
    pub fn on_shutdown<F, Fut>(mut self, hook: F) -> Self
    where
        F: FnOnce(Server) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.shutdown
            .push(Box::new(move |server| Box::pin(hook(server))));
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds a static resource.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resources.push(resource);
        self
    }

    /// Adds a resource template (a template that failed to parse is reported by `build`).
    pub fn resource_template(
        mut self,
        template: Result<ResourceTemplate, RegistrationError>,
    ) -> Self {
        match template {
            Ok(t) => self.templates.push(t),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// Adds one item declared with an attribute macro, by its name:
    /// `builder.auto_collect(false).item::<add>()`.
    pub fn item<T: crate::__private::McpItem>(self) -> Self {
        use crate::registry::collect::Item;
        let origin = std::any::type_name::<T>();
        match T::ITEM {
            Item::Tool(f) => self.tool(f().origin(origin)),
            Item::Resource(f) => self.resource(f().origin(origin)),
            Item::Template(f) => self.resource_template(f().map(|t| t.origin(origin))),
            Item::Prompt(f) => self.prompt(f().origin(origin)),
        }
    }

    /// Sets the caching hints (`ttlMs`, `cacheScope`) of every cacheable result of the
    /// stateless revision. Default: `ttlMs` 0; lists and `server/discover` public,
    /// `resources/read` private.
    pub fn cache_policy(mut self, policy: CachePolicy) -> Self {
        self.config.cache.set_all(policy);
        self
    }

    /// Sets the caching hints of one method's results (a resource's own policy still wins
    /// for `resources/read`).
    pub fn cache_policy_for(mut self, method: CacheableMethod, policy: CachePolicy) -> Self {
        self.config.cache.set(method, policy);
        self
    }

    /// Sets the key authenticating the `requestState` of multi round-trip requests
    /// (HMAC-SHA256; at least 32 bytes). Instances sharing a key accept each other's states, so
    /// a retry may reach any of them. Default: 32 random bytes per process.
    pub fn request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        let key = key.into();
        if key.len() < MIN_KEY_BYTES {
            self.errors.push(RegistrationError::InvalidConfig {
                setting: "request_state_key",
                reason: format!(
                    "the key has {} bytes; use at least {MIN_KEY_BYTES} random bytes",
                    key.len()
                ),
            });
        }
        self.state_key = Some(key);
        self
    }

    /// Sets how many `subscriptions/listen` streams may be open at once (default 1024); past
    /// it a new one is refused with -32600.
    pub fn max_subscriptions(mut self, max: usize) -> Self {
        self.config.max_listen_streams = max;
        self
    }

    /// Sets how many resource uris one `subscriptions/listen` stream may watch (default 256);
    /// past it the request is refused with -32602.
    pub fn max_subscription_resources(mut self, max: usize) -> Self {
        self.config.max_listen_resources = max;
        self
    }

    /// Sets how many tasks (tasks extension) the server holds at once, running or finished
    /// and not yet expired (default 1024); past it a task-creating call is refused with -32600.
    pub fn max_tasks(mut self, max: usize) -> Self {
        self.max_tasks = max;
        self
    }

    /// Sets a task's `ttlMs`: how long it is kept after its last change (default 15 minutes).
    /// A task still running when it expires is cancelled; a finished one is forgotten with its
    /// result.
    pub fn task_ttl(mut self, ttl: Duration) -> Self {
        self.task_ttl = ttl;
        self
    }

    /// Sets the `pollIntervalMs` suggested to clients polling a task (default 500 ms).
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.task_poll_interval = interval;
        self
    }

    /// Sets how long a `requestState` stays valid: the time a client has to answer the
    /// questions of one round and retry (default 10 minutes).
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// Sets the largest `requestState` issued or accepted, in bytes (default 256 KiB); it holds
    /// the answers of earlier rounds and the handler's own state.
    pub fn request_state_max_bytes(mut self, max: usize) -> Self {
        self.state_max_bytes = max;
        self
    }

    /// Whether items declared with the attribute macros join the server (default on).
    pub fn auto_collect(mut self, on: bool) -> Self {
        self.auto_collect = on;
        self
    }

    /// Requires these OAuth scopes for the tool `name` (registered here or by the attribute
    /// macros), replacing what it declared; see [`Tool::scopes`]. Naming no registered tool is
    /// an error of [`ServerBuilder::build`].
    pub fn tool_scopes<I, S>(mut self, name: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tool_scopes
            .push((name.into(), scopes.into_iter().map(Into::into).collect()));
        self
    }

    /// Validates everything registered and builds the server. Reports the first problem:
    /// a duplicate name (naming both origins), an invalid name, schema or scope, a bad template.
    pub fn build(self) -> Result<Server, RegistrationError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let mut tools = self.tools;
        let mut resources = self.resources;
        let mut templates = self.templates;
        let mut prompts = self.prompts;
        if self.auto_collect {
            use crate::registry::collect::{Item, registered};
            for reg in registered() {
                match reg.item {
                    Item::Tool(f) => tools.push(f().origin(reg.origin)),
                    Item::Resource(f) => resources.push(f().origin(reg.origin)),
                    Item::Template(f) => templates.push(f()?.origin(reg.origin)),
                    Item::Prompt(f) => prompts.push(f().origin(reg.origin)),
                }
            }
        }
        for (name, scopes) in self.tool_scopes {
            let Some(tool) = tools.iter_mut().find(|t| t.name == name) else {
                return Err(RegistrationError::InvalidName {
                    kind: "tool",
                    name,
                    reason: "tool_scopes names no registered tool".into(),
                });
            };
            tool.scopes = scopes;
        }
        let server = Server::new(Settings {
            config: self.config,
            state: self.state,
            lifespan: Lifespan::new(self.startup, self.shutdown),
            middleware: self.middleware.into(),
            sealer: Sealer::new(self.state_key, self.state_ttl, self.state_max_bytes),
            tasks: Tasks::new(self.max_tasks, self.task_ttl, self.task_poll_interval),
        });
        for t in tools {
            server.add_tool(t)?;
        }
        for r in resources {
            server.add_resource(r)?;
        }
        for t in templates {
            server.add_resource_template(t)?;
        }
        for p in prompts {
            server.add_prompt(p)?;
        }
        Ok(server)
    }
}
