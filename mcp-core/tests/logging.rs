//! What the logs say about a request: its span carries the session, request id, method and
//! tool name; tool arguments never appear, at any level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mcp_core::transport::memory::MemoryClient;
use mcp_core::{CallToolResult, Server, Tool};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn request_spans_name_the_tool_and_never_carry_arguments() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::builder("logs", "1")
        .auto_collect(false)
        .tool(Tool::new("login", |_ctx, _args| async move {
            tracing::info!("checking the password");
            Ok(CallToolResult::default())
        }))
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    client
        .call_tool("login", json!({"password": "hunter2-secret"}))
        .await
        .unwrap();

    let logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("checking the password"))
        .unwrap_or_else(|| panic!("the tool's event was not logged:\n{logs}"));
    assert!(line.contains("method=tools/call"), "{line}");
    assert!(
        line.contains("tool=\"login\"") || line.contains("tool=login"),
        "{line}"
    );
    assert!(
        !logs.contains("hunter2-secret"),
        "arguments leaked:\n{logs}"
    );
}
