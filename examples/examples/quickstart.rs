//! The quickstart: `add`, `echo`, `uppercase_text`, `server_time`, a resource, a resource
//! template and a prompt, served over HTTP+SSE.
//!
//! ```text
//! cargo run --example quickstart                    # http://127.0.0.1:8000/sse
//! cargo run --example quickstart -- 127.0.0.1:9000  # another address
//! ```

use mcp_examples::{quickstart, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    // `#[mcp_tool]` functions in `examples/src/quickstart.rs`; `builder` registers them.
    let server = quickstart::builder("quickstart").build()?;
    // Defaults: loopback Host/Origin checks, 4 MiB body limit, 10,000 sessions, `GET /health`.
    run::serve(SseServer::builder(server).bind_str(run::bind_addr())).await?;
    Ok(())
}
