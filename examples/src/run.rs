//! What every HTTP example does in `main`: read the bind address, log to stderr, serve.

use mcp_sse::{Builder, ServeError};

/// The default bind address of the examples.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8000";

/// The bind address: the first command-line argument, or [`DEFAULT_ADDR`].
pub fn bind_addr() -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned())
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Stdout stays free for the URL (and,
/// for the stdio example, for protocol messages).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Starts `builder`, prints the SSE URL on stdout (one line, flushed), both URLs on stderr, and
/// serves until Ctrl-C or SIGTERM.
pub async fn serve(builder: Builder) -> Result<(), ServeError> {
    let handle = builder.with_os_signals(true).start().await?;
    println!("{}", handle.sse_url());
    eprintln!(
        "MCP server ready: HTTP+SSE at {}, Streamable HTTP at {} (health: http://{}/health)",
        handle.sse_url(),
        handle.mcp_url(),
        handle.local_addr()
    );
    handle.wait().await;
    Ok(())
}
