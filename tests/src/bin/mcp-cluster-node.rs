//! One instance of a cluster for the cluster tests: the quickstart and `long_task` tools, plus
//! two tools that raise server-wide notifications, the resource `test://watched` that clients
//! subscribe to, and `sleep_job`, which runs as a task for clients of the tasks extension,
//! served in cluster mode.
//!
//! Settings come from the environment: `MCP_REDIS_URL` (required), `MCP_CLUSTER_PREFIX`,
//! `MCP_OWNER_TTL_MS`, `MCP_MAX_SESSIONS`, `MCP_BEARER_TOKENS` (comma-separated),
//! `MCP_KEEP_ALIVE_MS`. The first argument is the bind address; the SSE URL is printed on
//! stdout once listening.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mcp_core::tasks::TaskSupport;
use mcp_core::{
    CallToolResult, Content, Context, Resource, ResourceContents, Server, Tool, ToolError,
};
use mcp_examples::{progress, quickstart, run};
use mcp_sse::{ClusterOptions, SseServer};

type ServerCell = Arc<OnceLock<Server>>;

/// The resource the tests subscribe to; `touch_resource` reports it updated.
const WATCHED: &str = "test://watched";

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

fn server_of(ctx: &Context) -> Result<Server, ToolError> {
    ctx.state::<ServerCell>()
        .and_then(|c| c.get().cloned())
        .ok_or_else(|| ToolError::tool("server not ready"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let cell: ServerCell = Arc::default();
    // `add_tool_named`: adds a tool, so every initialized session of the cluster gets
    // `notifications/tools/list_changed`.
    let add_tool = Tool::new("add_tool_named", |ctx: Context, args| async move {
        let server = server_of(&ctx)?;
        let name = args
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("extra")
            .to_owned();
        let tool = Tool::new(name.clone(), |_ctx, _args| async {
            Ok(CallToolResult::success(vec![Content::text("extra")]))
        });
        server
            .add_tool(tool)
            .map_err(|e| ToolError::tool(e.to_string()))?;
        Ok(CallToolResult::success(vec![Content::text(format!(
            "added {name}"
        ))]))
    });
    // `touch_resource`: every session of the cluster subscribed to `uri` is told it changed.
    let touch = Tool::new("touch_resource", |ctx: Context, args| async move {
        let server = server_of(&ctx)?;
        let uri = args
            .get("uri")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        server.notify_resource_updated(&uri).await;
        Ok(CallToolResult::success(vec![Content::text(format!(
            "touched {uri}"
        ))]))
    });
    // `sleep_job`: sleeps `ms` milliseconds (stopped by a cancellation), as a task when it can.
    let sleep_job = Tool::new("sleep_job", |ctx: Context, args| async move {
        let ms = args
            .get("ms")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
            .min(60_000);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => {}
            () = ctx.cancelled() => return Ok(CallToolResult::error("cancelled")),
        }
        Ok(CallToolResult::success(vec![Content::text(format!(
            "slept {ms}"
        ))]))
    })
    .task_support(TaskSupport::Optional);
    let server = progress::register(quickstart::builder("cluster-node"))
        .state(cell.clone())
        .tool(add_tool)
        .tool(touch)
        .tool(sleep_job)
        .resource(
            Resource::new(WATCHED, "watched", |_ctx| async {
                Ok(ResourceContents::text(WATCHED, "text/plain", "watched").into())
            })
            .mime_type("text/plain"),
        )
        .build()?;
    let _ = cell.set(server.clone());
    let url = std::env::var("MCP_REDIS_URL")?;
    let mut opts = ClusterOptions::new(url);
    if let Ok(p) = std::env::var("MCP_CLUSTER_PREFIX") {
        opts = opts.key_prefix(p);
    }
    if let Some(ttl) = env_ms("MCP_OWNER_TTL_MS") {
        opts = opts.owner_ttl(ttl);
    }
    let mut builder = SseServer::builder(server)
        .bind_str(run::bind_addr())
        .cluster_options(opts);
    if let Some(max) = std::env::var("MCP_MAX_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.max_sessions(max);
    }
    if let Ok(tokens) = std::env::var("MCP_BEARER_TOKENS") {
        builder = builder.bearer_tokens(tokens.split(',').map(str::to_owned));
    }
    if let Some(k) = env_ms("MCP_KEEP_ALIVE_MS") {
        builder = builder.keep_alive(k);
    }
    run::serve(builder).await?;
    Ok(())
}
