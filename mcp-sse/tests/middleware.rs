//! Server middleware on the HTTP transports: the same hooks run for HTTP+SSE, Streamable HTTP
//! and stateless 2026-07-28 requests, see the authenticated caller, and a refusal reaches the
//! client as the middleware's JSON-RPC error.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mcp_core::middleware::before_tool_call;
use mcp_core::{CallToolResult, Content, Identity, McpError, Server, Tool, ToolError};
use mcp_sse::SseServer;
use mcp_sse::client::{SseClient, raw_request};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<String>>>;

/// Records `<transport> <tool> <subject>` for every tool call, and refuses `delete_all` to
/// anyone but `admin`.
fn server(log: &Log) -> Server {
    let log = log.clone();
    Server::builder("mw", "1.0")
        .auto_collect(false)
        .tool(Tool::new("echo", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text("echoed")]))
        }))
        .tool(Tool::new("delete_all", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text("deleted")]))
        }))
        .middleware(before_tool_call(move |call| {
            let ctx = call.context();
            let who = ctx.identity().map(|i| i.subject().to_owned());
            log.lock().unwrap().push(format!(
                "{} {} {}",
                ctx.transport(),
                call.name(),
                who.as_deref().unwrap_or("-")
            ));
            if call.name() == "delete_all" && who.as_deref() != Some("admin") {
                return Err(ToolError::Protocol(McpError::invalid_params(format!(
                    "permission denied: {} may not call \"delete_all\"",
                    who.as_deref().unwrap_or("anonymous")
                ))));
            }
            Ok(())
        }))
        .build()
        .unwrap()
}

async fn start(log: &Log) -> mcp_sse::ServerHandle {
    SseServer::builder(server(log))
        .bind("127.0.0.1:0".parse().unwrap())
        .bearer_validator(|token: String| async move {
            match token.as_str() {
                "admin-token" => Some(Identity::new("admin")),
                "bob-token" => Some(Identity::new("bob")),
                _ => None,
            }
        })
        .start()
        .await
        .unwrap()
}

async fn post(addr: SocketAddr, token: &str, headers: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let r = raw_request(addr, req.as_bytes()).await.unwrap();
    let text = String::from_utf8_lossy(&r.body).into_owned();
    // JSON, or one SSE `data:` line holding the response.
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .find(|m| m.get("id").is_some())
            .unwrap_or(Value::Null)
    });
    let sid = r.header("mcp-session-id").map(str::to_owned);
    let mut json = json;
    if let Some(sid) = sid {
        json["sessionId"] = sid.into();
    }
    (r.status, json)
}

fn call(id: i64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
}

#[tokio::test]
async fn the_same_middleware_runs_on_sse_streamable_and_stateless_requests() {
    let log = Log::default();
    let h = start(&log).await;
    let addr = h.local_addr();

    // HTTP+SSE, as bob: echo passes, delete_all is refused with the middleware's error.
    let mut c = SseClient::connect(addr, "/sse", &[("Authorization", "Bearer bob-token")])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let r = c
        .request(2, "tools/call", json!({"name": "echo", "arguments": {}}))
        .await
        .unwrap();
    assert_eq!(r["result"]["content"][0]["text"], "echoed");
    let r = c
        .request(
            3,
            "tools/call",
            json!({"name": "delete_all", "arguments": {}}),
        )
        .await
        .unwrap();
    assert_eq!(r["error"]["code"], -32602);
    assert_eq!(
        r["error"]["message"],
        "permission denied: bob may not call \"delete_all\""
    );

    // Streamable HTTP, as admin.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    let (status, r) = post(addr, "admin-token", "", &init).await;
    assert_eq!(status, 200);
    let sid = r["sessionId"].as_str().unwrap().to_owned();
    let headers = format!("Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-06-18\r\n");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(addr, "admin-token", &headers, &note).await;
    let (_, r) = post(addr, "admin-token", &headers, &call(2, "delete_all")).await;
    assert_eq!(r["result"]["content"][0]["text"], "deleted", "{r}");

    // A stateless 2026-07-28 request, as bob.
    let mut req = call(5, "delete_all");
    req["params"]["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    });
    let headers =
        "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: delete_all\r\n";
    let (_, r) = post(addr, "bob-token", headers, &req).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bob may not")
    );

    let seen = log.lock().unwrap().clone();
    let transports: Vec<&str> = seen.iter().map(|s| s.split(' ').next().unwrap()).collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(&seen[..2], ["sse echo bob", "sse delete_all bob"]);
    assert!(seen[2].ends_with("delete_all admin"), "{seen:?}");
    assert!(seen[3].ends_with("delete_all bob"), "{seen:?}");
    assert_ne!(transports[2], "sse");
    h.shutdown().await;
}
