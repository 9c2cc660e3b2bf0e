//! The quickstart: `add`, `echo`, `uppercase_text`, `server_time`, `greet_user`, `long_task`
//! (progress and logs), a resource, a resource template and a prompt, served over HTTP+SSE and
//! Streamable HTTP (both the 2025 sessions and the stateless 2026-07-28 revision).
//!
//! ```text
//! cargo run --example quickstart                    # http://127.0.0.1:8000/sse
//! cargo run --example quickstart -- 127.0.0.1:9000  # another address
//! ```

use mcp_examples::{progress, quickstart, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    // `#[mcp_tool]` functions in `examples/src/quickstart.rs`; `builder` registers them
    // (`long_task` comes from `examples/src/progress.rs`).
    let server = progress::register(quickstart::builder("quickstart")).build()?;
    // Defaults: loopback Host/Origin checks, 4 MiB body limit, 10,000 sessions, `GET /health`.
    run::serve(SseServer::builder(server).bind_str(run::bind_addr())).await?;
    Ok(())
}
