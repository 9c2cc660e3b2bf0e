//! The quickstart's tools mounted in an axum application: the application keeps its own
//! routes, listener and graceful shutdown, and serves MCP under `/mcp-api` (`/mcp-api/sse`,
//! `/mcp-api/mcp`, `/mcp-api/health`).
//!
//! ```text
//! cargo run --example axum_mount                    # http://127.0.0.1:8000/mcp-api/sse
//! cargo run --example axum_mount -- 127.0.0.1:9000  # another address
//! curl http://127.0.0.1:8000/                       # the application's own route
//! ```

use axum::Router;
use axum::routing::get;
use mcp_examples::{quickstart, run};
use mcp_sse::SseServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let addr = run::bind_addr();
    let server = quickstart::builder("axum_mount").build()?;
    // The MCP endpoints as a tower service; the prefix is where the application mounts it, so
    // the URLs the service hands to clients (the HTTP+SSE `endpoint` event) carry it.
    let mcp = SseServer::builder(server)
        .mount_prefix("/mcp-api")
        .into_service()
        .await?;
    let app = Router::new()
        .route(
            "/",
            get(|| async { "an axum application that also speaks MCP\n" }),
        )
        .route("/status", get(|| async { "ok\n" }))
        // `nest_service` strips the prefix before calling the service: `nested` says so.
        .nest_service("/mcp-api", mcp.clone().nested());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("http://{local}{}", mcp.sse_path());
    eprintln!(
        "axum app on http://{local}/ with MCP at http://{local}{} (HTTP+SSE) and http://{local}{} (Streamable HTTP)",
        mcp.sse_path(),
        mcp.mcp_path()
    );
    // On Ctrl-C or SIGTERM, end the MCP streams first: axum then drains connections that can
    // finish (an open event stream would otherwise hold its connection forever).
    let shutdown = {
        let mcp = mcp.clone();
        async move {
            signal().await;
            mcp.shutdown().await;
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
