//! `#[mcp_tool(task = "...")]`: the tool runs as a task for clients of the tasks extension.

use mcp_core::Server;
use mcp_core::transport::memory::MemoryClient;
use mcp_macros::mcp_tool;
use serde_json::json;

/// Doubles a number, as a task when the client can poll one.
#[mcp_tool(task = "optional")]
async fn double(n: i64) -> String {
    (n * 2).to_string()
}

/// Only runs as a task.
#[mcp_tool(task = "required")]
async fn batch() -> String {
    "done".into()
}

#[tokio::test]
async fn task_attribute_makes_a_task_capable_tool() {
    let server = Server::builder("tasks", "1").build().unwrap();
    let plain = MemoryClient::connect(&server);
    plain.initialize().await.unwrap();
    let r = plain.call_tool("double", json!({ "n": 2 })).await.unwrap();
    assert_eq!(r["content"][0]["text"], "4");
    let e = plain.call_tool("batch", json!({})).await.unwrap_err();
    assert_eq!(
        e.code,
        mcp_core::jsonrpc::code::MISSING_REQUIRED_CLIENT_CAPABILITY
    );

    let tasks = MemoryClient::connect(&server)
        .with_capabilities(json!({ "extensions": { "io.modelcontextprotocol/tasks": {} } }));
    tasks.initialize().await.unwrap();
    let created = tasks.call_tool("double", json!({ "n": 21 })).await.unwrap();
    assert_eq!(created["resultType"], "task");
    let id = created["taskId"].clone();
    for _ in 0..200 {
        let t = tasks
            .request("tasks/get", json!({ "taskId": id }))
            .await
            .unwrap();
        if t["status"] == "completed" {
            assert_eq!(t["result"]["content"][0]["text"], "42");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the task did not complete");
}
