//! # mcp-core
//!
//! The transport-agnostic heart of the framework: JSON-RPC 2.0 and MCP protocol types, the
//! registry of tools, resources and prompts, the dispatcher, and the request [`Context`].
//! HTTP lives in `mcp-sse`; the attribute macros in `mcp-macros` expand to this crate's public
//! API only.

#[doc(hidden)]
pub mod __private;
pub mod broadcast;
pub mod cache;
pub mod caller;
mod cancel;
mod changes;
pub mod context;
mod dispatch;
pub mod envelope;
pub mod error;
pub mod handler;
mod json_scan;
mod json_tree;
pub mod jsonrpc;
pub mod lifespan;
mod listen;
pub mod middleware;
mod mrtr;
pub mod outbound;
mod outcome;
mod peer;
pub mod protocol;
pub mod registry;
mod request_meta;
mod request_text;
pub mod server;
pub mod session;
mod shared;
pub mod state;
pub mod stateless;
mod strict;
mod subscriptions;
pub mod tasks;
pub mod testing;
pub mod transport;
pub mod version;
mod wire;

pub use broadcast::{Broadcast, ListChanged};
#[doc(inline)]
pub use caller::{Caller, Identity, RequestHeaders};
#[doc(inline)]
pub use context::Context;
#[doc(inline)]
pub use envelope::Envelope;
#[doc(inline)]
pub use error::{McpError, RegistrationError, ToolError};
#[doc(inline)]
pub use handler::{Blob, IntoPromptResult, IntoResourceResult, IntoToolResult, Json, State};
#[doc(inline)]
pub use lifespan::StartupError;
#[doc(inline)]
pub use outbound::{
    Admission, Job, JobRunner, Outbound, OutboundReceiver, Outgoing, OutgoingKind, ReaderJobs,
    StreamCloseSignal,
};
#[doc(inline)]
pub use protocol::{
    CallToolResult, Completion, Content, GetPromptResult, JsonObject, LoggingLevel, PromptArgument,
    PromptMessage, ReadResourceResult, ResourceContents, Role, ToolAnnotations,
};
#[doc(inline)]
pub use registry::{CompletionRequest, Prompt, Resource, ResourceTemplate, TemplateVars, Tool};
#[doc(inline)]
pub use server::{Server, ServerBuilder};
#[doc(inline)]
pub use session::{RequestFuture, Session, SessionOptions};
#[doc(inline)]
pub use version::ProtocolVersion;

/// A [`Server`] holding every item registered in the binary with the attribute macros, named
/// and versioned after the crate that calls the macro (its `CARGO_PKG_NAME` and
/// `CARGO_PKG_VERSION`), which is what `initialize` reports as `serverInfo`.
///
/// ```
/// let server = mcp_core::from_registered!().unwrap();
/// assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
/// assert_eq!(server.info().version, env!("CARGO_PKG_VERSION"));
/// ```
#[macro_export]
macro_rules! from_registered {
    () => {
        $crate::Server::from_registered_as(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
    };
}
