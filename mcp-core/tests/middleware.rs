//! Middleware around requests and tool calls: registration order, rejection as the client sees
//! it, nothing rewritten on the way, and the same hooks on every transport of this crate
//! (in-memory session, stdio session, stateless 2026-07-28 requests over stdio).

use std::sync::{Arc, Mutex};

use mcp_core::middleware::{
    Answer, BoxFuture, McpRequest, Middleware, Next, NextTool, ToolCall, before_tool_call,
};
use mcp_core::transport::memory::MemoryClient;
use mcp_core::transport::stdio::serve_io;
use mcp_core::{CallToolResult, Content, Identity, McpError, Server, Tool, ToolError};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

type Log = Arc<Mutex<Vec<String>>>;

/// Records `<name> >method`, `<name> <method` around requests and `<name> >tool`,
/// `<name> <tool` around tool calls, with the transport.
struct Recorder {
    name: &'static str,
    log: Log,
}

impl Recorder {
    fn push(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
}

impl Middleware for Recorder {
    fn request<'a>(
        &'a self,
        request: McpRequest,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Answer, McpError>> {
        Box::pin(async move {
            let what = format!("{} {}", request.method(), request.transport());
            self.push(format!("{} >{what}", self.name));
            let out = next.run(request).await;
            self.push(format!("{} <{what}", self.name));
            out
        })
    }

    fn tool_call<'a>(
        &'a self,
        call: ToolCall,
        next: NextTool<'a>,
    ) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
        Box::pin(async move {
            let name = call.name().to_owned();
            self.push(format!("{} >tool {name}", self.name));
            let out = next.run(call).await;
            self.push(format!("{} <tool {name}", self.name));
            out
        })
    }
}

fn echo() -> Tool {
    Tool::new("echo", |ctx, args| async move {
        let who = ctx.identity().map(|i| i.subject().to_owned());
        Ok(CallToolResult::success(vec![Content::text(
            json!({"args": args, "who": who}).to_string(),
        )]))
    })
}

fn recorded(log: &Log) -> Server {
    Server::builder("mw", "1.0")
        .auto_collect(false)
        .tool(echo())
        .tool(Tool::new("delete_all", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text("deleted")]))
        }))
        .middleware(Recorder {
            name: "outer",
            log: log.clone(),
        })
        .middleware(Recorder {
            name: "inner",
            log: log.clone(),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn middleware_runs_in_registration_order_around_requests_and_tool_calls() {
    let log = Log::default();
    let client = MemoryClient::connect(&recorded(&log));
    client.initialize().await.unwrap();
    log.lock().unwrap().clear();
    let args = json!({"text": "unchanged", "n": [1, 2]});
    let r = client.call_tool("echo", args.clone()).await.unwrap();
    let got: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(got["args"], args, "the tool received the arguments as sent");
    assert_eq!(
        *log.lock().unwrap(),
        [
            "outer >tools/call memory",
            "inner >tools/call memory",
            "outer >tool echo",
            "inner >tool echo",
            "inner <tool echo",
            "outer <tool echo",
            "inner <tools/call memory",
            "outer <tools/call memory",
        ]
    );
}

fn guarded() -> Server {
    // Only `admin` may call `delete_all`; `echo` answers with a tool error for "bob".
    Server::builder("mw", "1.0")
        .auto_collect(false)
        .tool(echo())
        .tool(Tool::new("delete_all", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text("deleted")]))
        }))
        .middleware(before_tool_call(|call| {
            let who = call.context().identity().map(|i| i.subject().to_owned());
            match (call.name(), who.as_deref()) {
                ("delete_all", Some("admin")) => Ok(()),
                ("delete_all", who) => Err(ToolError::Protocol(McpError::invalid_params(format!(
                    "permission denied: {} may not call \"delete_all\"",
                    who.unwrap_or("an anonymous caller")
                )))),
                ("echo", Some("bob")) => Err(ToolError::tool("bob is on a break")),
                _ => Ok(()),
            }
        }))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_rejected_call_gets_the_middlewares_error_and_the_tool_does_not_run() {
    let server = guarded();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let err = client.call_tool("delete_all", json!({})).await.unwrap_err();
    assert_eq!(err.code, -32602);
    assert_eq!(
        err.message,
        "permission denied: an anonymous caller may not call \"delete_all\""
    );
    // Other tools pass untouched.
    let r = client.call_tool("echo", json!({"x": 1})).await.unwrap();
    assert_eq!(r["isError"], Value::Null);

    // The caller's identity decides.
    let bob = MemoryClient::connect_as(&server, Identity::new("bob"));
    bob.initialize().await.unwrap();
    let r = bob.call_tool("echo", json!({})).await.unwrap();
    assert_eq!(r["isError"], true);
    assert_eq!(r["content"][0]["text"], "bob is on a break");
    let admin = MemoryClient::connect_as(&server, Identity::new("admin"));
    admin.initialize().await.unwrap();
    let r = admin.call_tool("delete_all", json!({})).await.unwrap();
    assert_eq!(r["content"][0]["text"], "deleted");
}

#[tokio::test]
async fn a_request_middleware_can_refuse_any_method() {
    let server = Server::builder("mw", "1.0")
        .auto_collect(false)
        .tool(echo())
        .middleware(mcp_core::middleware::before_request(|req| {
            if req.method() == "tools/list" {
                return Err(McpError::invalid_request("listing is disabled"));
            }
            Ok(())
        }))
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let err = client.list_tools().await.unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-32600, "listing is disabled")
    );
    assert!(client.call_tool("echo", json!({})).await.is_ok());
}

/// Sends `lines` to a stdio server and returns every line it wrote, once input ended.
async fn over_stdio(server: Server, lines: &[Value]) -> Vec<Value> {
    let (mut to_server, read) = tokio::io::duplex(64 * 1024);
    let (write, from_server) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(serve_io(server, read, write));
    for l in lines {
        to_server
            .write_all(format!("{l}\n").as_bytes())
            .await
            .unwrap();
    }
    drop(to_server);
    let mut out = Vec::new();
    let mut reader = BufReader::new(from_server).lines();
    while let Some(line) = reader.next_line().await.unwrap() {
        out.push(serde_json::from_str(&line).unwrap());
    }
    serving.await.unwrap().unwrap();
    out
}

#[tokio::test]
async fn middleware_runs_on_stdio_sessions_and_stateless_requests() {
    let log = Log::default();
    let out = over_stdio(
        recorded(&log),
        &[
            json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}),
        ],
    )
    .await;
    assert!(out.iter().any(|m| m["id"] == 2 && m["result"].is_object()));
    let seen = log.lock().unwrap().clone();
    for expected in [
        "outer >initialize stdio",
        "inner >tools/call stdio",
        "inner >tool echo",
    ] {
        assert!(seen.iter().any(|s| s == expected), "{expected} in {seen:?}");
    }

    let log = Log::default();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    });
    let out = over_stdio(
        guarded_recorded(&log),
        &[json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_all","arguments":{},"_meta":meta}})],
    )
    .await;
    let answer = out.iter().find(|m| m["id"] == 7).expect("an answer");
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    assert_eq!(
        *log.lock().unwrap(),
        [
            "outer >tools/call stdio",
            "outer >tool delete_all",
            "outer <tool delete_all",
            "outer <tools/call stdio",
        ],
        "the recorder sees the stateless request and the refusal inside it"
    );
}

fn guarded_recorded(log: &Log) -> Server {
    Server::builder("mw", "1.0")
        .auto_collect(false)
        .tool(Tool::new("delete_all", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text("deleted")]))
        }))
        .middleware(Recorder {
            name: "outer",
            log: log.clone(),
        })
        .middleware(before_tool_call(|_| {
            Err(ToolError::Protocol(McpError::invalid_params(
                "permission denied",
            )))
        }))
        .build()
        .unwrap()
}
