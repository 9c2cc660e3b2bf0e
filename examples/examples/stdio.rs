//! The quickstart's tools over stdio, for clients that launch the server as a command:
//!
//! ```json
//! { "mcpServers": { "quickstart": {
//!     "command": "cargo", "args": ["run", "-q", "--example", "stdio"] } } }
//! ```
//!
//! Stdout carries only MCP messages; logs go to stderr.

use mcp_examples::{quickstart, run};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let server = quickstart::builder("stdio").build()?;
    mcp_core::transport::stdio::serve_stdio(server).await?;
    Ok(())
}
