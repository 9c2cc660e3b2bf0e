//! `long_task`: progress and log notifications while a tool runs, and prompt cancellation.
//! The quickstart's tools are served too, so one client can try everything.
//!
//! ```text
//! cargo run --example progress -- 127.0.0.1:8001
//! ```

use mcp_examples::{progress, quickstart, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let server = progress::register(quickstart::builder("progress")).build()?;
    run::serve(SseServer::builder(server).bind_str(run::bind_addr())).await?;
    Ok(())
}
