//! Cluster mode: the quickstart and `long_task` tools on one of several instances that share
//! their sessions through Redis, so a load balancer may send any request to any instance (no
//! sticky sessions, both transports).
//!
//! ```text
//! redis-server --port 6379 &
//! cargo run --example cluster -- 127.0.0.1:8001 &
//! cargo run --example cluster -- 127.0.0.1:8002 &
//! cargo run --example cluster -- 127.0.0.1:8003 &
//! MCP_LB_ADDR=127.0.0.1:8000 MCP_NODE_1=127.0.0.1:8001 MCP_NODE_2=127.0.0.1:8002 \
//!     MCP_NODE_3=127.0.0.1:8003 haproxy -f examples/cluster/haproxy.cfg
//! # clients use http://127.0.0.1:8000/sse or http://127.0.0.1:8000/mcp
//! ```
//!
//! `MCP_REDIS_URL` names the Redis server (default `redis://127.0.0.1:6379`). `GET /health`
//! reports this instance's own sessions and its id in the cluster.

use mcp_examples::{progress, quickstart, run};
use mcp_sse::SseServer;

/// Where Redis is unless `MCP_REDIS_URL` says otherwise.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let redis = std::env::var("MCP_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
    let server = progress::register(quickstart::builder("cluster")).build()?;
    // One call turns cluster mode on; everything else is the single-instance setup.
    let builder = SseServer::builder(server)
        .bind_str(run::bind_addr())
        .cluster(redis);
    run::serve(builder).await?;
    Ok(())
}
