//! Typed application state shared by every client: an in-memory key-value store with the
//! tools `set`, `get` and `list`.
//!
//! ```text
//! cargo run --example state -- 127.0.0.1:8002
//! ```

use mcp_examples::{kv, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    // One `KvStore` for the whole process; tools receive it as a `State<KvStore>` parameter.
    let server = kv::builder("state").build()?;
    run::serve(SseServer::builder(server).bind_str(run::bind_addr())).await?;
    Ok(())
}
