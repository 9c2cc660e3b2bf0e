//! The framework's side of the load benchmark: one trivial tool (`add`) served over HTTP+SSE
//! (`/sse`) and Streamable HTTP (`/mcp`) with the default settings, on a current-thread runtime
//! like the ceiling. `mcp-bench-server 127.0.0.1:0` prints its address.

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
    let handle = mcp_sse::SseServer::builder(server)
        .bind_str(addr)
        .max_sessions(20_000)
        .with_os_signals(true)
        .start()
        .await?;
    println!("{}", handle.sse_url());
    handle.wait().await;
    Ok(())
}
