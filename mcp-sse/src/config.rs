//! The transport configuration and its builder.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::Server;

use crate::error::SseError;
use crate::server::{SseHandle, serve};

/// Checks a bearer token; returns true when it is valid. Runs on every authenticated request.
pub type TokenValidator = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A boxed future that resolves when the server should shut down.
pub type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Bearer-token authentication.
#[derive(Clone)]
pub enum Auth {
    /// Any of these tokens is accepted (compared in constant time).
    Tokens(Vec<String>),
    /// A function decides (for real token checks, e.g. against an introspection cache).
    Validator(TokenValidator),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Tokens(t) => write!(f, "Auth::Tokens({} tokens)", t.len()),
            Auth::Validator(_) => f.write_str("Auth::Validator(..)"),
        }
    }
}

/// Every setting of the HTTP transports. Build it with [`SseServer::builder`].
#[derive(Debug, Clone)]
pub struct SseConfig {
    /// Listening address. Default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// Prefix before every path, e.g. `/mcp-app` (no trailing slash). Default empty.
    pub mount_prefix: String,
    /// Path of the SSE stream. Default `/sse`.
    pub sse_path: String,
    /// Path the client POSTs messages to. Default `/messages`.
    pub messages_path: String,
    /// Path of the health check. Default `/health`.
    pub health_path: String,
    /// Interval between SSE keep-alive comments. Default 15 s.
    pub keep_alive: Duration,
    /// Largest accepted request body in bytes (413 beyond it). Default 4 MiB.
    pub max_body_bytes: usize,
    /// Time allowed to receive a whole request body (408 after it). Default 30 s.
    pub body_read_timeout: Duration,
    /// Time allowed to receive request headers; the connection is closed after it (slowloris).
    /// Default 30 s.
    pub header_read_timeout: Duration,
    /// Largest request head (request line + headers) in bytes; 431 beyond it. Default 64 KiB
    /// (hyper's minimum is 8 KiB).
    pub max_header_bytes: usize,
    /// Most live sessions; `GET /sse` answers 503 past it. Default 10,000.
    pub max_sessions: usize,
    /// Messages buffered per session for its stream. Default 64.
    pub queue_capacity: usize,
    /// How long a send may wait on a full queue before the session is closed as stalled.
    /// Default 30 s.
    pub stall_timeout: Duration,
    /// Bearer-token authentication for the MCP endpoints (not `/health`). Default none.
    pub auth: Option<Auth>,
    /// Accepted `Host` values (name or name:port). `None` = loopback names while bound to
    /// loopback, anything otherwise.
    pub allowed_hosts: Option<Vec<String>>,
    /// Accepted `Origin` values (`scheme://host[:port]`). `None` = loopback origins while bound
    /// to loopback, only the CORS origins otherwise. Requests without `Origin` are allowed.
    pub allowed_origins: Option<Vec<String>>,
    /// Whether `Origin: null` (sandboxed pages, file://) is accepted. Default false.
    pub allow_null_origin: bool,
    /// Origins that get CORS headers (and are thereby also allowed). Default none.
    pub cors_origins: Vec<String>,
    /// Upper bound on the whole graceful shutdown. Default 10 s.
    pub shutdown_timeout: Duration,
    /// Most open TCP connections; further accepts wait. Default 20,000.
    pub max_connections: usize,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            mount_prefix: String::new(),
            sse_path: "/sse".into(),
            messages_path: "/messages".into(),
            health_path: "/health".into(),
            keep_alive: Duration::from_secs(15),
            max_body_bytes: 4 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            max_sessions: 10_000,
            queue_capacity: 64,
            stall_timeout: Duration::from_secs(30),
            auth: None,
            allowed_hosts: None,
            allowed_origins: None,
            allow_null_origin: false,
            cors_origins: Vec::new(),
            shutdown_timeout: Duration::from_secs(10),
            max_connections: 20_000,
        }
    }
}

impl SseConfig {
    /// Checks the values that have no sensible meaning when zero or malformed.
    pub fn validate(&self) -> Result<(), SseError> {
        let bad = |m: String| Err(SseError::Config(m));
        if !self.mount_prefix.is_empty()
            && (!self.mount_prefix.starts_with('/') || self.mount_prefix.ends_with('/'))
        {
            return bad(format!(
                "mount prefix {:?} must start with '/' and not end with '/'",
                self.mount_prefix
            ));
        }
        for (name, p) in [
            ("sse path", &self.sse_path),
            ("messages path", &self.messages_path),
            ("health path", &self.health_path),
        ] {
            if !p.starts_with('/') {
                return bad(format!("{name} {p:?} must start with '/'"));
            }
        }
        if self.sse_path == self.messages_path {
            return bad("sse path and messages path must differ".into());
        }
        if self.keep_alive.is_zero() {
            return bad("keep-alive interval must be positive".into());
        }
        if self.max_sessions == 0 || self.queue_capacity == 0 || self.max_connections == 0 {
            return bad("max_sessions, queue_capacity and max_connections must be positive".into());
        }
        if self.max_header_bytes < 8192 {
            return bad("max_header_bytes must be at least 8192 (hyper's minimum)".into());
        }
        if self.header_read_timeout.is_zero() || self.body_read_timeout.is_zero() {
            return bad("read timeouts must be positive".into());
        }
        if let Some(Auth::Tokens(t)) = &self.auth
            && (t.is_empty() || t.iter().any(String::is_empty))
        {
            return bad("bearer token list must be non-empty and hold no empty token".into());
        }
        Ok(())
    }

    /// The full path for `path` under the mount prefix.
    pub fn full_path(&self, path: &str) -> String {
        format!("{}{}", self.mount_prefix, path)
    }
}

/// Entry point for the HTTP transports.
#[derive(Debug)]
pub struct SseServer;

impl SseServer {
    /// A builder serving `server` with the default [`SseConfig`].
    pub fn builder(server: Server) -> SseServerBuilder {
        SseServerBuilder {
            server,
            config: SseConfig::default(),
            shutdown: None,
            os_signals: false,
        }
    }
}

/// Configures and starts the HTTP transports; see [`SseConfig`] for every default.
pub struct SseServerBuilder {
    server: Server,
    config: SseConfig,
    shutdown: Option<ShutdownSignal>,
    os_signals: bool,
}

impl fmt::Debug for SseServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseServerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$m:meta])* $name:ident: $t:ty) => {
        $(#[$m])*
        pub fn $name(mut self, value: $t) -> Self {
            self.config.$name = value;
            self
        }
    };
}

impl SseServerBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: SseConfig) -> Self {
        self.config = config;
        self
    }
    setter!(/// Listening address (port 0 picks a free port; see [`SseHandle::local_addr`]).
        bind: SocketAddr);
    setter!(/// Interval between keep-alive comments.
        keep_alive: Duration);
    setter!(/// Largest accepted request body in bytes.
        max_body_bytes: usize);
    setter!(/// Time allowed to receive a request body.
        body_read_timeout: Duration);
    setter!(/// Time allowed to receive request headers.
        header_read_timeout: Duration);
    setter!(/// Largest request head in bytes (at least 8192).
        max_header_bytes: usize);
    setter!(/// Most live sessions.
        max_sessions: usize);
    setter!(/// Messages buffered per session.
        queue_capacity: usize);
    setter!(/// How long a send may wait on a full queue before the session is closed.
        stall_timeout: Duration);
    setter!(/// Whether `Origin: null` is accepted.
        allow_null_origin: bool);
    setter!(/// Upper bound on graceful shutdown.
        shutdown_timeout: Duration);
    setter!(/// Most open TCP connections.
        max_connections: usize);

    /// Prefix before every path (`/app` serves `/app/sse`, `/app/messages`, ...).
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.mount_prefix = prefix.into();
        self
    }
    /// Path of the SSE stream.
    pub fn sse_path(mut self, path: impl Into<String>) -> Self {
        self.config.sse_path = path.into();
        self
    }
    /// Path messages are POSTed to.
    pub fn messages_path(mut self, path: impl Into<String>) -> Self {
        self.config.messages_path = path.into();
        self
    }
    /// Path of the health check.
    pub fn health_path(mut self, path: impl Into<String>) -> Self {
        self.config.health_path = path.into();
        self
    }
    /// Requires one of these bearer tokens on the MCP endpoints.
    pub fn bearer_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.auth = Some(Auth::Tokens(tokens.into_iter().map(Into::into).collect()));
        self
    }
    /// Requires a bearer token that `validator` accepts.
    pub fn bearer_validator(
        mut self,
        validator: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.auth = Some(Auth::Validator(Arc::new(validator)));
        self
    }
    /// Accepts these `Host` header values (`name` or `name:port`).
    pub fn allowed_hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.config.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }
    /// Accepts these `Origin` values (`scheme://host[:port]`).
    pub fn allowed_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, o: I) -> Self {
        self.config.allowed_origins = Some(o.into_iter().map(Into::into).collect());
        self
    }
    /// Sends CORS headers (and answers preflights) for these origins.
    pub fn cors_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, o: I) -> Self {
        self.config.cors_origins = o.into_iter().map(Into::into).collect();
        self
    }
    /// Shuts down gracefully when `signal` resolves.
    pub fn shutdown_signal(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }
    /// Also shuts down gracefully on Ctrl-C and (on Unix) SIGTERM.
    pub fn with_os_signals(mut self) -> Self {
        self.os_signals = true;
        self
    }

    /// The configuration as built so far.
    pub fn current_config(&self) -> &SseConfig {
        &self.config
    }

    /// Validates the configuration, binds and starts serving in the background.
    pub async fn serve(self) -> Result<SseHandle, SseError> {
        self.config.validate()?;
        serve(self.server, self.config, self.shutdown, self.os_signals).await
    }
}
