//! The HTTP+SSE transport (`GET /sse` + `POST /messages`) over loopback sockets: the exact bytes
//! on the wire, every status code, the host, origin and credential checks, the life of a
//! session, where its requests run, and how connections are served (timeouts, shutdown, HTTP/2).

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod execution;
mod security;
mod sessions;
mod status;
mod wire;
