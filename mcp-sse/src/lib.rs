//! # mcp-sse
//!
//! HTTP transports for [`mcp_core`] servers, on raw hyper 1.x: the HTTP+SSE transport of
//! protocol revision 2024-11-05 (`GET /sse` + `POST /messages?sessionId=`), which Cursor,
//! Claude Desktop connectors, Claude Code's `--transport sse` and MCP Inspector speak.
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
//! ## Backpressure
//!
//! Each session's outbound queue is bounded ([`Builder::session_queue`], 64 messages). When a
//! client stops reading its stream, senders wait; if the queue is still full after the stall
//! timeout ([`Builder::stall_timeout`], 30 s) the session is closed: its stream ends, its
//! in-flight requests are cancelled and its id answers 404. Memory per client stays bounded and
//! no accepted message is silently dropped while its session lives.
//!
//! ## Test client
//!
//! [`client`] holds a small raw-TCP client for this transport ([`client::SseClient`]: opens
//! `/sse`, reads the endpoint event, POSTs messages, yields received messages; and
//! [`client::raw_request`] for literal request bytes). Tests and load tools use it.
//!
//! ## How Streamable HTTP (`/mcp`, issue 6) plugs in
//!
//! The layers are transport-neutral and stay as they are: `server.rs` (accept loop, hyper
//! timers and limits, graceful shutdown), `security.rs` (`Guard`: Host/Origin, CORS),
//! `service::route_inner` (guard → mount prefix → preflight → health → authentication →
//! transport), `body::read_limited` (same body limit and timeout), `sessions.rs` (same table,
//! same cap, same credential binding via `Identity`) and `sse.rs` (framing, keep-alive).
//! A new `streamable.rs` sibling of `legacy.rs` adds: a `mcp_path` (default `/mcp`) in
//! `Config` and one more branch in `route_inner` after authentication dispatching
//! POST/GET/DELETE; sessions keyed by the `Mcp-Session-Id` header instead of the query string
//! (the id is issued on the `initialize` response; DELETE removes the entry like a closed
//! stream does); POST answers either `application/json` or a per-request SSE body built from
//! `sse.rs` with event ids for resumption; GET opens the standalone stream fed by the
//! session's `Outbound`. The preflight in `service.rs` already allows the `Mcp-Session-Id`,
//! `MCP-Protocol-Version` and `Last-Event-ID` headers it needs.

mod body;
pub mod client;
mod config;
mod error;
mod legacy;
mod security;
mod server;
mod service;
mod sessions;
pub mod sse;
mod streamable;

pub use config::{Builder, Config};
pub use error::ServeError;
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
/// Ctrl-C or SIGTERM, with the default settings.
pub async fn serve_sse(addr: impl Into<String>) -> Result<(), ServeError> {
    let server = mcp_core::Server::from_registered()?;
    SseServer::builder(server)
        .bind_str(addr)
        .with_os_signals(true)
        .serve()
        .await
}
