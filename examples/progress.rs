//! A long-running tool that streams progress and log notifications while it works, and stops
//! promptly when the client cancels it. `cargo run --example progress [-- ADDR]`.

use std::time::Duration;

use mcp_core::Context;
use mcp_macros::mcp_tool;

/// Run a task in steps, reporting progress after each one.
#[mcp_tool(read_only)]
async fn long_task(
    ctx: Context,
    /// How many steps to run
    #[mcp(default = 10)]
    steps: u32,
    /// Milliseconds each step takes
    #[mcp(default = 100)]
    delay_ms: u64,
) -> Result<String, String> {
    if steps == 0 || steps > 10_000 {
        return Err(format!("steps must be between 1 and 10000, got {steps}"));
    }
    if delay_ms > 60_000 {
        return Err(format!("delay_ms must be at most 60000, got {delay_ms}"));
    }
    ctx.info(format!("started: {steps} steps of {delay_ms} ms"))
        .await;
    ctx.progress(0.0, Some(f64::from(steps)), Some("started"))
        .await;
    for step in 1..=steps {
        // Dropped at the await point if the client cancels: nothing runs after that.
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let percent = u64::from(step) * 100 / u64::from(steps);
        ctx.progress(
            f64::from(step),
            Some(f64::from(steps)),
            Some(&format!("{percent}%")),
        )
        .await;
        ctx.debug(format!("step {step}/{steps} done")).await;
    }
    ctx.info("done").await;
    Ok(format!("completed {steps} steps"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    mcp_examples::init_logging();
    let server = mcp_core::Server::builder("progress", env!("CARGO_PKG_VERSION")).build()?;
    let handle = mcp_sse::SseServer::builder(server)
        .bind_str(mcp_examples::bind_addr())
        .with_os_signals(true)
        .start()
        .await?;
    mcp_examples::announce(handle.local_addr());
    handle.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {

    use mcp_core::transport::memory::MemoryClient;
    use serde_json::json;

    #[tokio::test]
    async fn progress_arrives_before_the_result() {
        let server = mcp_core::Server::builder("t", "1").build().unwrap();
        let client = MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        client
            .request("logging/setLevel", json!({"level": "debug"}))
            .await
            .unwrap();
        let r = client
            .request(
                "tools/call",
                json!({"name": "long_task", "arguments": {"steps": 3, "delay_ms": 1},
                       "_meta": {"progressToken": "t1"}}),
            )
            .await
            .unwrap();
        assert_eq!(r["content"][0]["text"], "completed 3 steps");
        let notes = client.drain_notifications().await;
        let progress: Vec<f64> = notes
            .iter()
            .filter(|n| n["method"] == "notifications/progress")
            .map(|n| n["params"]["progress"].as_f64().unwrap())
            .collect();
        assert_eq!(progress, [0.0, 1.0, 2.0, 3.0]);
        assert!(notes.iter().any(|n| n["params"]["data"] == "done"));
    }
}
