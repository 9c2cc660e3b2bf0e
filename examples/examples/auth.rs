//! The quickstart behind a bearer token, with CORS for one browser origin.
//!
//! ```text
//! MCP_AUTH_TOKEN=s3cret MCP_CORS_ORIGIN=http://localhost:6274 cargo run --example auth
//! curl -H 'Authorization: Bearer s3cret' -N http://127.0.0.1:8000/sse
//! ```
//!
//! `MCP_AUTH_TOKEN` is required (the example refuses to start without it). `MCP_CORS_ORIGIN`
//! is optional: a comma-separated list of origins allowed to call from a browser (MCP
//! Inspector's web UI runs on `http://localhost:6274`).

use mcp_examples::{quickstart, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let token = std::env::var("MCP_AUTH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or("set MCP_AUTH_TOKEN to the bearer token clients must send")?;
    let cors: Vec<String> = std::env::var("MCP_CORS_ORIGIN")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let server = quickstart::builder("auth").build()?;
    let mut builder = SseServer::builder(server)
        .bind_str(run::bind_addr())
        // Missing or wrong token: 401 with `WWW-Authenticate: Bearer`; each session is bound
        // to the token that opened it.
        .bearer_tokens([token]);
    if !cors.is_empty() {
        // CORS headers (and preflight answers) for these origins, which the Origin check also admits.
        builder = builder.cors_origins(cors);
    }
    run::serve(builder).await?;
    Ok(())
}
