//! Errors of configuring and starting the HTTP server.

use std::net::SocketAddr;

/// Why the server could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The bind address could not be parsed.
    #[error("invalid bind address {0:?}: expected host:port such as 127.0.0.1:8000")]
    InvalidAddress(String),
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The mount prefix or a path is malformed.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// An allowed origin or host entry is malformed.
    #[error("invalid allowed {kind} {value:?}: {reason}")]
    InvalidAllowList {
        /// "origin" or "host".
        kind: &'static str,
        /// The entry.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The OAuth resource-server settings are invalid.
    #[cfg(feature = "oauth")]
    #[error("OAuth settings: {0}")]
    OAuth(#[from] crate::oauth::OAuthError),
    /// A header listed in `Builder::expose_headers` is malformed or carries credentials.
    #[error("cannot expose header {name:?} to handlers: {reason}")]
    InvalidHeaderName {
        /// The name as given.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Building the MCP server from the registered items failed.
    #[error("registration failed: {0}")]
    Registration(#[from] mcp_core::RegistrationError),
    /// The cluster settings are invalid (a malformed Redis URL, a bad instance id).
    #[error("invalid cluster settings: {0}")]
    Cluster(String),
    /// A start-up hook of the server failed; nothing was served.
    #[error("the server did not start: {0}")]
    Startup(#[from] mcp_core::StartupError),
    /// An I/O error while serving.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
