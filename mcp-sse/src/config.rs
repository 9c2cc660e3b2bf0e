//! Every setting of the HTTP server, with its default.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::security::{Auth, TokenValidator};

/// The settings of an HTTP server; built with [`crate::SseServer::builder`].
///
/// | setting | default |
/// |---|---|
/// | bind address | `127.0.0.1:8000` |
/// | mount prefix | `""` (paths at the root) |
/// | SSE path / messages path / health path | `/sse`, `/messages`, `/health` |
/// | Streamable HTTP endpoint | `/mcp` |
/// | Streamable HTTP idle session timeout | 30 min |
/// | Streamable HTTP replay log per stream | 1 MiB of written events (oldest dropped) |
/// | SSE `retry` hint (priming, early close) | 1 s |
/// | keep-alive comment interval | 15 s |
/// | body limit | 4 MiB (413) |
/// | body read timeout | 30 s (408) |
/// | header read timeout | 30 s (connection closed) |
/// | header size limit | 64 KiB of field names and values (431) |
/// | header count limit | 100 field lines (431) |
/// | discarded after a refused body (lingering close) | up to 4 MiB |
/// | live sessions cap | 10,000 (503) |
/// | per-session outbound queue | 64 messages |
/// | what one session holds (queued + accepted, unanswered) | 256 messages, 8 MiB (then 429) |
/// | stall timeout (client stopped reading) | 30 s, then the session is closed |
/// | allowed hosts / origins | loopback names while bound to loopback; otherwise any host, no browser origin |
/// | CORS origins | none |
/// | auth | none |
/// | request headers exposed to handlers | none |
/// | shutdown grace | 10 s |
/// | cluster mode (feature `cluster`) | off |
#[derive(Clone)]
pub struct Config {
    pub(crate) addr: SocketAddr,
    pub(crate) prefix: String,
    pub(crate) sse_path: String,
    pub(crate) messages_path: String,
    pub(crate) health_path: String,
    pub(crate) mcp_path: String,
    pub(crate) idle_timeout: Duration,
    pub(crate) replay_bytes: usize,
    pub(crate) retry: Duration,
    pub(crate) keep_alive: Duration,
    pub(crate) max_body: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_discard: usize,
    pub(crate) max_sessions: usize,
    pub(crate) queue: usize,
    pub(crate) pending_messages: usize,
    pub(crate) pending_bytes: usize,
    pub(crate) stall_timeout: Duration,
    pub(crate) allowed_hosts: Option<Vec<String>>,
    pub(crate) allowed_origins: Option<Vec<String>>,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) auth: Option<Auth>,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: Option<crate::oauth::OAuth>,
    pub(crate) expose_headers: Vec<String>,
    pub(crate) shutdown_grace: Duration,
    #[cfg(feature = "cluster")]
    pub(crate) cluster: Option<crate::cluster::ClusterOptions>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are never printed.
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("prefix", &self.prefix)
            .field("max_sessions", &self.max_sessions)
            .field("auth", &self.auth.as_ref().map(|_| "<configured>"))
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            prefix: String::new(),
            sse_path: "/sse".into(),
            messages_path: "/messages".into(),
            health_path: "/health".into(),
            mcp_path: "/mcp".into(),
            idle_timeout: Duration::from_secs(30 * 60),
            replay_bytes: 1024 * 1024,
            retry: Duration::from_secs(1),
            keep_alive: Duration::from_secs(15),
            max_body: 4 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            max_discard: 4 * 1024 * 1024,
            max_sessions: 10_000,
            queue: 64,
            pending_messages: 256,
            pending_bytes: 8 * 1024 * 1024,
            stall_timeout: Duration::from_secs(30),
            allowed_hosts: None,
            allowed_origins: None,
            cors_origins: Vec::new(),
            auth: None,
            #[cfg(feature = "oauth")]
            oauth: None,
            expose_headers: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
            #[cfg(feature = "cluster")]
            cluster: None,
        }
    }
}

/// A future that resolves when the server should shut down.
pub(crate) type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Configures and starts an HTTP server for an [`mcp_core::Server`].
#[must_use]
pub struct Builder {
    pub(crate) server: mcp_core::Server,
    pub(crate) config: Config,
    pub(crate) addr_text: Option<String>,
    pub(crate) shutdown: Option<ShutdownSignal>,
    pub(crate) os_signals: bool,
    #[cfg(feature = "oauth")]
    pub(crate) oauth: Option<crate::oauth::OAuthBuilder>,
}

impl Builder {
    pub(crate) fn new(server: mcp_core::Server) -> Self {
        Builder {
            server,
            config: Config::default(),
            addr_text: None,
            shutdown: None,
            os_signals: false,
            #[cfg(feature = "oauth")]
            oauth: None,
        }
    }

    /// The address to listen on (default `127.0.0.1:8000`; port 0 picks a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self.addr_text = None;
        self
    }

    /// The address to listen on, as text (`"127.0.0.1:9000"`, `"localhost:8000"`); an invalid
    /// one is reported by `serve`.
    pub fn bind_str(mut self, addr: impl Into<String>) -> Self {
        self.addr_text = Some(addr.into());
        self
    }

    /// Serves every path under `prefix` (e.g. `"/mcp-server"`); the endpoint event carries it.
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.prefix = prefix.into();
        self
    }

    /// The path of the SSE stream (default `/sse`).
    pub fn sse_path(mut self, path: impl Into<String>) -> Self {
        self.config.sse_path = path.into();
        self
    }

    /// The path clients POST messages to (default `/messages`).
    pub fn messages_path(mut self, path: impl Into<String>) -> Self {
        self.config.messages_path = path.into();
        self
    }

    /// The Streamable HTTP endpoint (default `/mcp`).
    pub fn mcp_path(mut self, path: impl Into<String>) -> Self {
        self.config.mcp_path = path.into();
        self
    }

    /// How long a Streamable HTTP session may stay idle (no request, no open stream) before
    /// it is ended (default 30 min).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How many bytes of already written events each Streamable HTTP stream keeps for
    /// resumption with `Last-Event-ID` (default 1 MiB; the oldest are dropped first). A
    /// stream that ended cleanly keeps nothing; one whose connection broke keeps its log and
    /// its queue until it is resumed or its session ends.
    pub fn replay_bytes(mut self, bytes: usize) -> Self {
        self.config.replay_bytes = bytes;
        self
    }

    /// The `retry` hint sent with priming events and early stream closes (default 1 s).
    pub fn retry_interval(mut self, retry: Duration) -> Self {
        self.config.retry = retry;
        self
    }

    /// The health check path (default `/health`).
    pub fn health_path(mut self, path: impl Into<String>) -> Self {
        self.config.health_path = path.into();
        self
    }

    /// How often an idle stream gets a keep-alive comment (default 15 s).
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.config.keep_alive = interval.max(Duration::from_millis(10));
        self
    }

    /// The largest accepted request body in bytes (default 4 MiB; larger bodies get 413).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body = bytes;
        self
    }

    /// How long reading a request body may take (default 30 s; then 408).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = timeout;
        self
    }

    /// How long a client may take to send request headers (default 30 s; slowloris guard).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_timeout = timeout;
        self
    }

    /// The largest accepted header section: the bytes of every field name and value added up
    /// (default 64 KiB; larger get 431). The request line may add up to 16 KiB more.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.config.max_header_bytes = bytes.max(1024);
        self
    }

    /// The most header field lines a request may carry (default 100; more get 431).
    pub fn max_headers(mut self, count: usize) -> Self {
        self.config.max_headers = count.max(8);
        self
    }

    /// How many bytes of a refused request body (413) are still read and thrown away, so the
    /// client finishes sending and can read the answer instead of a reset (default 4 MiB,
    /// within the body read timeout; then the connection is closed). A request with
    /// `Expect: 100-continue` whose `Content-Length` is over the limit is answered at once,
    /// before the client sends its body.
    pub fn max_discard_bytes(mut self, bytes: usize) -> Self {
        self.config.max_discard = bytes;
        self
    }

    /// The most sessions open at once (default 10,000; past it new streams get 503).
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.config.max_sessions = max;
        self
    }

    /// How many outgoing messages one session may queue (default 64).
    pub fn session_queue(mut self, messages: usize) -> Self {
        self.config.queue = messages.max(1);
        self
    }

    /// What one session may hold in total: its queued outgoing messages plus the messages
    /// accepted from it (HTTP+SSE `POST`s answered `202`) whose answers are not yet queued,
    /// counted in messages and in JSON bytes (default 256 messages, 8 MiB; the queue's bytes
    /// are bounded by the same figure). A `POST` past either bound gets `429` with
    /// `Retry-After: 1` and is not processed; once accepted a message is never dropped while
    /// its session lives. A session holding nothing accepts a message of any size up to the
    /// body limit.
    pub fn max_pending(mut self, messages: usize, bytes: usize) -> Self {
        self.config.pending_messages = messages.max(1);
        self.config.pending_bytes = bytes.max(1);
        self
    }

    /// How long a send may wait on a client that stopped reading before its session is closed
    /// (default 30 s).
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.config.stall_timeout = timeout;
        self
    }

    /// Accepts only these `Host` values (`"example.com"`, `"example.com:8443"`; without a port
    /// any port matches). Replaces the loopback default.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts requests carrying these `Origin` values (`"https://app.example"`; without a
    /// port any port matches). Requests without `Origin` are always accepted. Replaces the
    /// loopback default.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Answers CORS (including preflight `OPTIONS`) for these origins, which are also allowed.
    pub fn cors_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.cors_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Requires `Authorization: Bearer <token>` with one of `tokens` (compared in constant time).
    pub fn bearer_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.auth = Some(Auth::Static(
            tokens.into_iter().map(|t| t.into().into_bytes()).collect(),
        ));
        self
    }

    /// Requires a bearer token that `validator` accepts. It gets the token and returns the
    /// [`Identity`](mcp_core::Identity) the token stands for (or just a subject as a
    /// `String`), or `None` to refuse with 401. Handlers see it through
    /// `Context::identity`, never the token; each session is bound to the identity's
    /// issuer and subject, so a refreshed token of the same subject keeps working.
    ///
    /// ```
    /// use mcp_core::Identity;
    /// # let server = mcp_core::Server::builder("demo", "1.0").build().unwrap();
    /// let builder = mcp_sse::SseServer::builder(server).bearer_validator(|token: String| async move {
    ///     // Look the token up (a database, an introspection endpoint, a JWT check).
    ///     (token == "s3cret").then(|| Identity::new("alice").with_scope("tools:call"))
    /// });
    /// ```
    pub fn bearer_validator<F, Fut, P>(mut self, validator: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<P>> + Send + 'static,
        P: Into<mcp_core::Identity>,
    {
        let validator = Arc::new(validator);
        let v: TokenValidator = Arc::new(move |t| {
            let fut = validator(t);
            Box::pin(async move { fut.await.map(Into::into) })
        });
        self.config.auth = Some(Auth::Validator(v));
        self
    }

    /// Makes the server an OAuth 2.1 resource server (feature `oauth`): it serves its
    /// protected-resource metadata, and every MCP request needs an access token `oauth`
    /// accepts (replacing [`Builder::bearer_tokens`] and [`Builder::bearer_validator`]). The
    /// settings are checked when the server starts (a bad one is [`crate::ServeError::OAuth`]);
    /// without [`crate::oauth::OAuthBuilder::resource`] the resource URL is
    /// `http://<bound address><mount prefix><MCP path>`.
    #[cfg(feature = "oauth")]
    pub fn oauth(mut self, oauth: crate::oauth::OAuthBuilder) -> Self {
        self.config.auth = None;
        self.oauth = Some(oauth);
        self
    }

    /// Exposes these request headers to handlers (`Context::header`), e.g.
    /// `["x-request-id", "user-agent"]`; no header is exposed by default. Names are
    /// case-insensitive. `Authorization` and `Proxy-Authorization` are refused (`serve` and
    /// `start` report [`ServeError::InvalidHeaderName`](crate::ServeError::InvalidHeaderName)),
    /// as is a malformed name.
    pub fn expose_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.expose_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Shuts down when `signal` resolves (in addition to Ctrl-C/SIGTERM when enabled).
    pub fn shutdown_signal(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Also shuts down on Ctrl-C and SIGTERM (on by default for `serve_sse`).
    pub fn with_os_signals(mut self, on: bool) -> Self {
        self.os_signals = on;
        self
    }

    /// How long in-flight requests may run after shutdown starts (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// Cluster mode: this instance shares its sessions with the other instances using the
    /// Redis server at `url` (e.g. `redis://127.0.0.1:6379`), so a load balancer may send any
    /// request to any instance. See [`crate::ClusterOptions`] for the settings.
    #[cfg(feature = "cluster")]
    pub fn cluster(self, url: impl Into<String>) -> Self {
        self.cluster_options(crate::ClusterOptions::new(url))
    }

    /// Cluster mode with explicit [`crate::ClusterOptions`].
    #[cfg(feature = "cluster")]
    pub fn cluster_options(mut self, options: crate::ClusterOptions) -> Self {
        self.config.cluster = Some(options);
        self
    }
}
