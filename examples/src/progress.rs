//! `long_task`: a tool that reports progress and log notifications while it works, and stops
//! as soon as the client cancels it.

use std::time::Duration;

use mcp_core::{Context, ServerBuilder};
use mcp_macros::mcp_tool;

/// Most steps one call may ask for (bounds the notifications a call can produce).
pub const MAX_STEPS: u32 = 1_000;
/// Longest pause between steps one call may ask for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 10_000;

/// What happened to a run of [`long_task`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step ran.
    Completed(u32),
    /// The client cancelled after this many steps.
    Cancelled(u32),
}

/// Runs `steps` steps of `delay` each, reporting progress `1..=steps` of `steps` and log lines
/// "started", "NN%" and "done" through `ctx`. Returns early when the request is cancelled.
pub async fn run_steps(ctx: &Context, steps: u32, delay: Duration) -> Outcome {
    ctx.info(format!(
        "started: {steps} steps of {} ms",
        delay.as_millis()
    ))
    .await;
    for step in 1..=steps {
        tokio::select! {
            () = ctx.cancelled() => return Outcome::Cancelled(step - 1),
            () = tokio::time::sleep(delay) => {}
        }
        let percent = u64::from(step) * 100 / u64::from(steps);
        let message = format!("{percent}%");
        ctx.progress(f64::from(step), Some(f64::from(steps)), Some(&message))
            .await;
        ctx.info(message).await;
    }
    ctx.info("done").await;
    Outcome::Completed(steps)
}

/// Run a slow task that reports progress and log notifications; stops when cancelled.
#[mcp_tool]
pub async fn long_task(
    ctx: Context,
    /// How many steps to run (default 5, at most 1000)
    steps: Option<u32>,
    /// Pause between steps in milliseconds (default 200, at most 10000)
    delay_ms: Option<u64>,
) -> Result<String, String> {
    let steps = steps.unwrap_or(5);
    let delay_ms = delay_ms.unwrap_or(200);
    if steps == 0 || steps > MAX_STEPS {
        return Err(format!(
            "steps must be between 1 and {MAX_STEPS}, got {steps}"
        ));
    }
    if delay_ms > MAX_DELAY_MS {
        return Err(format!(
            "delay_ms must be at most {MAX_DELAY_MS}, got {delay_ms}"
        ));
    }
    Ok(
        match run_steps(&ctx, steps, Duration::from_millis(delay_ms)).await {
            Outcome::Completed(n) => format!("completed {n} steps"),
            Outcome::Cancelled(n) => format!("cancelled after {n} steps"),
        },
    )
}

/// Adds `long_task` to `builder`.
pub fn register(builder: ServerBuilder) -> ServerBuilder {
    builder.item::<long_task>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::Server;
    use mcp_core::transport::memory::MemoryClient;
    use serde_json::json;

    #[tokio::test]
    async fn progress_and_logs_precede_the_result() {
        let server = register(Server::builder("t", "0").auto_collect(false))
            .build()
            .unwrap();
        let client = MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        let r = client
            .request(
                "tools/call",
                json!({"name": "long_task", "arguments": {"steps": 3, "delay_ms": 1},
                       "_meta": {"progressToken": "p1"}}),
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
        assert_eq!(progress, vec![1.0, 2.0, 3.0]);
        let logs: Vec<&str> = notes
            .iter()
            .filter(|n| n["method"] == "notifications/message")
            .filter_map(|n| n["params"]["data"].as_str())
            .collect();
        assert!(logs.first().unwrap().starts_with("started"));
        assert_eq!(logs.last(), Some(&"done"));
        assert!(logs.contains(&"33%"));
    }

    #[tokio::test]
    async fn long_task_as_a_plain_function() {
        use mcp_core::testing::TestContext;
        let test = TestContext::new();
        let done = long_task(test.context(), Some(3), Some(0)).await;
        assert_eq!(done.as_deref(), Ok("completed 3 steps"));
        let progress: Vec<(f64, Option<f64>)> = test
            .progress()
            .iter()
            .map(|p| (p.progress, p.total))
            .collect();
        assert_eq!(
            progress,
            [(1.0, Some(3.0)), (2.0, Some(3.0)), (3.0, Some(3.0))]
        );
        assert_eq!(test.progress()[2].message.as_deref(), Some("100%"));
        let logs = test.logs();
        assert_eq!(logs.last().unwrap().data, "done");
    }

    #[tokio::test]
    async fn long_task_stops_when_the_test_cancels_it() {
        use mcp_core::testing::TestContext;
        let test = TestContext::new();
        test.cancel();
        let done = long_task(test.context(), Some(1000), Some(10_000)).await;
        assert_eq!(done.as_deref(), Ok("cancelled after 0 steps"));
        assert!(test.progress().is_empty());
    }

    #[tokio::test]
    async fn out_of_range_arguments_are_tool_errors() {
        let server = register(Server::builder("t", "0").auto_collect(false))
            .build()
            .unwrap();
        let client = MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        let r = client
            .call_tool("long_task", json!({"steps": 0}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true);
    }

    #[tokio::test]
    async fn cancel_stops_the_task() {
        use mcp_core::jsonrpc::{Message, Notification, Request, RequestId};
        use mcp_core::{Outbound, SessionOptions};
        let server = register(Server::builder("t", "0").auto_collect(false))
            .build()
            .unwrap();
        let (out, _rx) = Outbound::channel(64);
        let session = server.session(SessionOptions::new(out.clone()));
        let request = |id: i64, method: &str, params: serde_json::Value| {
            Message::Request(Request {
                id: RequestId::Int(id),
                method: method.into(),
                params: Some(params),
            })
        };
        let init = json!({"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "t", "version": "0"}});
        if let Some(f) = session.receive(request(1, "initialize", init), &out) {
            f.await;
        }
        let initialized = Message::Notification(Notification {
            method: "notifications/initialized".into(),
            params: None,
        });
        session.handle(initialized, &out).await;
        let call = json!({"name": "long_task", "arguments": {"steps": 1000, "delay_ms": 10000}});
        let running = tokio::spawn(
            session
                .receive(request(2, "tools/call", call), &out)
                .expect("a tools/call runs as a future"),
        );
        let cancel = Message::Notification(Notification {
            method: "notifications/cancelled".into(),
            params: Some(json!({"requestId": 2, "reason": "test"})),
        });
        session.handle(cancel, &out).await;
        // Uncancelled, this call would run for hours; the timeout is only a guard.
        tokio::time::timeout(Duration::from_secs(30), running)
            .await
            .expect("the cancelled call must end promptly")
            .unwrap();
    }
}
