//! Typed application state shared by every client: an in-memory key-value store with the
//! tools `set`, `get` and `list`.
//!
//! ```text
//! cargo run --example state -- 127.0.0.1:8002
//! ```

use mcp_core::Server;
use mcp_examples::{kv, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    // One store for the whole process; tools get it with `ctx.state::<KvStore>()`.
    let mut builder =
        Server::builder("state", env!("CARGO_PKG_VERSION")).state(kv::KvStore::default());
    for tool in kv::tools() {
        builder = builder.tool(tool);
    }
    run::serve(SseServer::builder(builder.build()?).bind_str(run::bind_addr())).await?;
    Ok(())
}
