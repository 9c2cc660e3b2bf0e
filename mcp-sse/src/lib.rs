//! # mcp-sse
//!
//! HTTP transports for [`mcp_core`] servers, on raw hyper 1.x:
//!
//! * **Streamable HTTP** (revisions 2025-03-26 to 2025-11-25) on one endpoint, `/mcp`: `POST`
//!   carries messages and is answered with JSON or an SSE stream, `GET` opens the session's
//!   standalone stream or resumes one with `Last-Event-ID`, `DELETE` ends the session.
//! * **HTTP+SSE** of revision 2024-11-05: `GET /sse` opens a session's event stream, whose first
//!   event names the URL (`/messages?sessionId=`) to `POST` messages to. Cursor, Claude Desktop
//!   connectors, Claude Code's `--transport sse` and MCP Inspector speak it.
//!
//! Both are served by the same server at once, over HTTP/1.1 and HTTP/2 (prior knowledge).
//!
//! ```no_run
//! # async fn run() -> Result<(), mcp_sse::ServeError> {
//! // Serves every tool, resource and prompt registered in the binary on 127.0.0.1:8000.
//! mcp_sse::serve_sse("127.0.0.1:8000").await
//! # }
//! ```
//!
//! Everything is configurable through [`SseServer::builder`]; the defaults are listed on
//! [`Config`]. Security defaults: loopback Host/Origin validation (403), optional bearer auth
//! (401) with sessions bound to the credential that opened them, CORS only for configured
//! origins, a 4 MiB body limit (413), a header read timeout, and a cap on live sessions (503).
//!
//! ## Mounting in an application
//!
//! [`Builder::into_service`] gives the same endpoints, checks and limits as an [`McpService`]:
//! a `tower_service::Service<http::Request<B>>` for any `http_body::Body` request body, to
//! route to from an application's own hyper or axum server under [`Builder::mount_prefix`]
//! (the application keeps its listener, TLS and graceful shutdown; it calls
//! [`McpService::shutdown`] when it stops, so event streams end).
//!
//! ## Start-up and shutdown hooks
//!
//! [`Builder::start`], [`Builder::serve`] and [`Builder::into_service`] run the server's
//! start-up hooks ([`mcp_core::ServerBuilder::on_startup`]) before serving anything and fail
//! with [`ServeError::Startup`] when one fails; the shutdown hooks run once at the end of a
//! graceful shutdown.
//!
//! ## OAuth (feature `oauth`)
//!
//! [`Builder::oauth`] makes the server an OAuth 2.1 resource server ([`oauth`]): it serves its
//! protected-resource metadata (RFC 9728), answers missing, invalid and under-scoped tokens with
//! `WWW-Authenticate: Bearer` challenges that point at it (401, 403), checks JWT access tokens
//! against the issuer's keys or opaque ones by introspection, and hands the token's claims to
//! handlers as the caller's [`mcp_core::Identity`].
//!
//! ## Backpressure
//!
//! Each session's outbound queue is bounded ([`Builder::session_queue`], 64 messages). When a
//! client stops reading its stream, senders wait; if the queue is still full after the stall
//! timeout ([`Builder::stall_timeout`], 30 s) the session is closed: its stream ends, its
//! in-flight requests are cancelled and its id answers 404. Memory per client stays bounded and
//! no accepted message is silently dropped while its session lives.
//!
//! ## Layout
//!
//! A request goes `server` (accept loop, HTTP/1 or HTTP/2, timers, graceful shutdown), or
//! `mount` (the [`McpService`] an application calls), →
//! `service` (Host/Origin guard, mount prefix, CORS preflight, health, authentication) → the
//! transport: `legacy` for HTTP+SSE, `streamable` (split into `post`, `get`, `delete`, the
//! per-session `state`, the `stream` body and `idle` expiry) for Streamable HTTP. Both open
//! sessions through `open` (id, bounded queue, cap) into the `sessions` table, whose entries
//! say which transport they belong to. Below them sit the leaves: `response` (bodies and error
//! answers), `body` (reading a request body within its limits), `conn` (per-connection
//! control), `sse` (event framing) and `security`. With the `oauth` feature, `oauth` sits
//! between them: `service` authenticates through it and `body` asks it whether the caller's
//! scopes allow the tools a POST calls; it uses only the leaves.
//!
//! ## Test client
//!
//! [`client`] holds a small raw-TCP client for the HTTP+SSE transport
//! ([`client::SseClient`]: opens `/sse`, reads the endpoint event, POSTs messages, yields
//! received messages; and [`client::raw_request`] for literal request bytes). Tests and load
//! tools use it.

mod body;
pub mod client;
#[cfg(feature = "cluster")]
mod cluster;
mod config;
mod conn;
mod error;
mod event_conn;
mod fields;
mod legacy;
mod mount;
#[cfg(feature = "oauth")]
pub mod oauth;
mod open;
#[cfg(feature = "cluster")]
mod remote;
mod response;
mod rewind;
mod security;
mod server;
mod service;
mod sessions;
mod shared;
pub mod sse;
mod stateless;
mod streamable;

#[cfg(feature = "cluster")]
pub use cluster::ClusterOptions;
pub use config::{Builder, Config};
pub use error::ServeError;
pub use mount::{McpService, ResponseBody};
pub use server::ServerHandle;

/// Entry points for serving an [`mcp_core::Server`] over HTTP.
#[derive(Debug)]
pub struct SseServer;

impl SseServer {
    /// A builder serving `server` with the defaults of [`Config`].
    pub fn builder(server: mcp_core::Server) -> Builder {
        Builder::new(server)
    }
}

/// Serves every item registered in the binary at `addr` (e.g. `"127.0.0.1:8000"`) until
/// Ctrl-C or SIGTERM, with the default settings. The server is named after the executable (see
/// [`mcp_core::Server::from_registered`]); [`serve_sse!`] reports the calling crate's name and
/// version instead.
pub async fn serve_sse(addr: impl Into<String>) -> Result<(), ServeError> {
    serve_registered(mcp_core::Server::from_registered()?, addr.into()).await
}

/// [`serve_sse`] for a server that reports `name` and `version` in `initialize` and on the
/// health endpoint.
pub async fn serve_sse_as(
    addr: impl Into<String>,
    name: impl Into<String>,
    version: impl Into<String>,
) -> Result<(), ServeError> {
    let server = mcp_core::Server::from_registered_as(name, version)?;
    serve_registered(server, addr.into()).await
}

async fn serve_registered(server: mcp_core::Server, addr: String) -> Result<(), ServeError> {
    SseServer::builder(server)
        .bind_str(addr)
        .with_os_signals(true)
        .serve()
        .await
}

/// [`serve_sse`] reporting the calling crate's name and version (its `CARGO_PKG_NAME` and
/// `CARGO_PKG_VERSION`): `mcp_sse::serve_sse!("127.0.0.1:8000").await`.
///
/// ```no_run
/// # async fn run() -> Result<(), mcp_sse::ServeError> {
/// mcp_sse::serve_sse!("127.0.0.1:8000").await
/// # }
/// ```
#[macro_export]
macro_rules! serve_sse {
    ($addr:expr $(,)?) => {
        $crate::serve_sse_as($addr, env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
    };
}
