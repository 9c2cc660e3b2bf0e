//! The server: what is registered, and the factory for sessions.

use std::sync::Arc;

use crate::error::RegistrationError;
use crate::jsonrpc::ParseLimits;
use crate::outbound::Outbound;
use crate::protocol::Implementation;
use crate::registry::Tool;
use crate::session::Session;
use crate::state::StateMap;

/// A configured MCP server. Cheap to clone; every clone shares one registry.
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<ServerInner>,
}

pub(crate) struct ServerInner {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) parse_limits: ParseLimits,
    pub(crate) page_size: usize,
    pub(crate) state: StateMap,
    pub(crate) tools: std::sync::RwLock<Vec<Tool>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.inner.info.name)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    parse_limits: ParseLimits,
    page_size: usize,
    state: StateMap,
    tools: Vec<Tool>,
    auto_collect: bool,
}

impl Server {
    /// Starts a builder for a server called `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: Implementation {
                name: name.into(),
                version: version.into(),
                title: None,
            },
            instructions: None,
            parse_limits: ParseLimits::default(),
            page_size: 100,
            state: StateMap::default(),
            tools: Vec::new(),
            auto_collect: true,
        }
    }

    /// The server's name, version and title.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The limits transports apply when parsing incoming JSON.
    pub fn parse_limits(&self) -> ParseLimits {
        self.inner.parse_limits
    }

    /// Opens a session for one client connection. `outbound` receives every message that is
    /// not tied to a request the client sent (list changes, resource updates, ...).
    pub fn session(&self, options: SessionOptions) -> Session {
        Session::new(self.clone(), options)
    }
}

/// How a transport opens a [`Session`].
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The transport's session id, if it has one (exposed through `Context::session_id`).
    pub id: Option<String>,
    /// Where messages not tied to a client request go.
    pub outbound: Outbound,
}

impl SessionOptions {
    /// Options with no session id.
    pub fn new(outbound: Outbound) -> Self {
        SessionOptions { id: None, outbound }
    }

    /// Sets the session id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl ServerBuilder {
    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets the instructions sent in the `initialize` result.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the limits applied to incoming JSON.
    pub fn parse_limits(mut self, limits: ParseLimits) -> Self {
        self.parse_limits = limits;
        self
    }

    /// Sets how many items one page of a list result holds (default 100).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Adds typed application state, reachable from handlers through `Context::state`.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Whether items annotated with `#[mcp_tool]` (and the other attribute macros) anywhere in
    /// the binary are added automatically when the server is built. On by default; switch it
    /// off to register only what is passed explicitly (e.g. `.tool(mcp_core::tool!(add)?)`).
    pub fn auto_collect(mut self, enabled: bool) -> Self {
        self.auto_collect = enabled;
        self
    }

    /// Validates everything registered and builds the server.
    pub fn build(mut self) -> Result<Server, RegistrationError> {
        if self.auto_collect {
            crate::registry::collect::add_collected_tools(&mut self.tools)?;
        }
        let mut names = std::collections::HashMap::<&str, &str>::new();
        for t in &self.tools {
            if let Some(first) = names.insert(&t.name, &t.origin) {
                return Err(RegistrationError::Duplicate {
                    kind: "tool",
                    name: t.name.clone(),
                    first: first.to_owned(),
                    second: t.origin.clone(),
                });
            }
        }
        Ok(Server {
            inner: Arc::new(ServerInner {
                info: self.info,
                instructions: self.instructions,
                parse_limits: self.parse_limits,
                page_size: self.page_size,
                state: self.state,
                tools: std::sync::RwLock::new(self.tools),
            }),
        })
    }
}
