//! HTTP transports for [`mcp_core`] servers on raw hyper 1.x: the legacy HTTP+SSE transport of
//! protocol revision 2024-11-05 (`GET /sse` + `POST /messages`).
//!
//! ```no_run
//! # async fn run() -> Result<(), mcp_sse::SseError> {
//! use mcp_core::Server;
//! let server = Server::builder("demo", "1.0").build()?;
//! let handle = mcp_sse::SseServer::builder(server)
//!     .bind(([127, 0, 0, 1], 8000).into())
//!     .with_os_signals()
//!     .serve()
//!     .await?;
//! println!("serving at {}", handle.sse_url());
//! handle.wait().await;
//! # Ok(()) }
//! ```
//!
//! # Layers (shared by every transport on the port)
//!
//! Every request passes, in order: Host and Origin checks (403, before anything else),
//! routing under the mount prefix, CORS preflight, bearer authentication (401 with
//! `WWW-Authenticate: Bearer`), then the transport handler. Bodies are read through
//! [`body`](crate::body)'s bounded reader (413 on a declared or counted excess, 408 on a slow
//! body). Header read timeout and head size limit are set on hyper with a `TokioTimer`.
//!
//! # Sessions and backpressure
//!
//! Each `GET /sse` opens one [`mcp_core::Session`] with a UUID v4 id, bound to the bearer
//! token that opened it, and one bounded [`mcp_core::Outbound`] queue
//! ([`SseConfig::queue_capacity`], default 64) drained into the stream. When a send waits on a
//! full queue longer than [`SseConfig::stall_timeout`] (default 30 s), the session is closed:
//! its id answers 404, its in-flight handlers are cancelled and its connection is dropped.
//! Accepted (202) messages are never dropped while the session lives. Closing the stream ends
//! the session the same way. Past [`SseConfig::max_sessions`], `GET /sse` answers 503.
//!
//! # Plugging in Streamable HTTP (`/mcp`)
//!
//! A second transport is a sibling of `legacy.rs`: add its path to [`SseConfig`], one branch
//! in `server::route_inner` after authentication, and reuse [`SessionTable`] (same cap, same
//! credential binding, `SessionEntry::end` for DELETE), `body::read_bounded` (same limit),
//! `sse::SseBody`/`sse::event_frame` for `text/event-stream` responses, and the `App` state.
//! The security [`Policy`](crate::security) and graceful shutdown apply unchanged.

pub mod body;
pub mod client;
mod config;
mod error;
mod health;
mod legacy;
pub mod security;
mod server;
pub mod sessions;
pub mod sse;

pub use body::ResponseBody;
pub use config::{Auth, ShutdownSignal, SseConfig, SseServer, SseServerBuilder, TokenValidator};
pub use error::SseError;
pub use server::{SseHandle, serve_sse};
pub use sessions::SessionTable;
