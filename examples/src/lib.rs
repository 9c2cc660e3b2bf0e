//! Shared helpers for the example servers.

use std::net::SocketAddr;

/// The bind address from the first command-line argument, or `127.0.0.1:8000`.
pub fn bind_addr() -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned())
}

/// Logs to stderr (stdout stays free for the stdio transport), honouring `RUST_LOG`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Prints where to connect once the server listens.
pub fn announce(addr: SocketAddr) {
    println!("MCP server listening: http://{addr}/sse  (health: http://{addr}/health)");
}
