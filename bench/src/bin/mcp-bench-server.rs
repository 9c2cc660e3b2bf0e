//! The framework's side of the load benchmark: one trivial tool (`add`) served over HTTP+SSE
//! (`/sse`) and Streamable HTTP (`/mcp`) with the default settings, on a current-thread runtime
//! like the ceiling. `mcp-bench-server 127.0.0.1:0` prints its address. Built with the
//! `cluster` feature and given `MCP_REDIS_URL`, it runs in cluster mode (see `cluster.sh`).

use mcp_macros::mcp_tool;

/// Add two integers.
#[mcp_tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let server = mcp_core::Server::builder("bench", "0")
        .auto_collect(false)
        .item::<add>()
        .build()?;
    #[allow(unused_mut)]
    let mut builder = mcp_sse::SseServer::builder(server)
        .bind_str(addr)
        .max_sessions(200_000)
        .with_os_signals(true);
    #[cfg(feature = "cluster")]
    if let Ok(url) = std::env::var("MCP_REDIS_URL") {
        builder = builder.cluster(url);
    }
    let handle = builder.start().await?;
    println!("{}", handle.sse_url());
    handle.wait().await;
    Ok(())
}
