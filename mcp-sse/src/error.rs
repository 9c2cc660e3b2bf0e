//! Errors of the HTTP transports and the plain-text HTTP error responses they send.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::body::ResponseBody;

/// Why a transport could not be configured or started.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    /// The listening socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A configured value is invalid (the message says which and why).
    #[error("invalid transport configuration: {0}")]
    Config(String),
    /// The MCP server itself could not be built.
    #[error(transparent)]
    Registration(#[from] mcp_core::RegistrationError),
}

/// A short plain-text error response with `status`.
pub(crate) fn plain(status: StatusCode, message: &'static str) -> Response<ResponseBody> {
    let mut res = Response::new(crate::body::full(Bytes::from_static(message.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// A JSON response with `status` and a pre-serialized body.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response<ResponseBody> {
    let mut res = Response::new(crate::body::full(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
