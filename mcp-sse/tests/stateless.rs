//! Raw-socket tests of the stateless revision (2026-07-28) on `/mcp`, beside 2025 sessions.
//! Every message the server sends here is validated against the revision's `schema.json`
//! (`mcp-core/tests/schemas/`).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Answer, T, exchange, poll_until, start_with};
use mcp_core::{CallToolResult, Content, Context, Server, Tool};
use mcp_sse::{ServerHandle, SseServer};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const REV: &str = "2026-07-28";

fn server() -> Server {
    let header_schema = json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "N"},
            "query": {"type": "string"}
        },
        "required": ["region"]
    });
    Server::builder("t", "1")
        .auto_collect(false)
        .tool(
            Tool::new("echo", |_, a| async move {
                let t = a
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Ok(CallToolResult::success(vec![Content::text(t)]))
            })
            .description("Echo"),
        )
        .tool(
            Tool::new("steps", |ctx: Context, _| async move {
                ctx.progress(1.0, Some(2.0), None).await;
                ctx.progress(2.0, Some(2.0), None).await;
                Ok(CallToolResult::success(vec![Content::text("done")]))
            })
            .description("Progress"),
        )
        .tool(
            Tool::new("meta", |ctx: Context, _| async move {
                let meta = serde_json::to_string(&ctx.meta()).unwrap();
                Ok(CallToolResult::success(vec![Content::text(meta)]))
            })
            .description("Its _meta"),
        )
        .tool(
            Tool::new("wait", |ctx: Context, _| async move {
                ctx.cancelled().await;
                Ok(CallToolResult::success(vec![Content::text("cancelled")]))
            })
            .description("Waits for cancellation"),
        )
        .tool(
            Tool::new("ask", |ctx: Context, _| async move {
                let r = ctx.elicit_schema("Name?", name_schema()).await?;
                Ok(CallToolResult::success(vec![Content::text(format!(
                    "{:?}",
                    r.action
                ))]))
            })
            .description("Elicits"),
        )
        .tool(
            Tool::new("steps_then_ask", |ctx: Context, _| async move {
                ctx.progress(1.0, Some(2.0), None).await;
                let r = ctx.elicit_schema("Name?", name_schema()).await?;
                Ok(CallToolResult::success(vec![Content::text(format!(
                    "{:?}",
                    r.action
                ))]))
            })
            .description("Progress, then elicits"),
        )
        .tool(
            Tool::new("sql", |_, a| async move {
                let r = a
                    .get("region")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Ok(CallToolResult::success(vec![Content::text(r)]))
            })
            .description("Region header")
            .input_schema(header_schema.as_object().unwrap().clone()),
        )
        .build()
        .unwrap()
}

fn name_schema() -> serde_json::Map<String, Value> {
    json!({"type": "object", "properties": {"name": {"type": "string"}}})
        .as_object()
        .unwrap()
        .clone()
}

async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    start_with(server(), f).await
}

/// Validates server messages against the 2026-07-28 schema.
struct Schema {
    doc: Value,
    cache: HashMap<String, jsonschema::Validator>,
}

impl Schema {
    fn load() -> Schema {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../mcp-core/tests/schemas/2026-07-28/schema.json"
        );
        let doc = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        Schema {
            doc,
            cache: HashMap::new(),
        }
    }

    fn check_def(&mut self, name: &str, value: &Value) {
        let doc = &self.doc;
        assert!(doc["$defs"].get(name).is_some(), "no definition {name}");
        let v = self.cache.entry(name.to_owned()).or_insert_with(|| {
            let root = json!({
                "$schema": doc["$schema"],
                "$defs": doc["$defs"],
                "allOf": [{"$ref": format!("#/$defs/{name}")}],
            });
            jsonschema::validator_for(&root).unwrap()
        });
        let errors: Vec<String> = v.iter_errors(value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}\n{value}");
    }

    /// Checks one server message; `method` is the request it answers, for responses.
    fn check(&mut self, method: &str, msg: &Value) {
        if msg.get("error").is_some() {
            assert!(
                !msg["id"].is_null(),
                "error without the request's id: {msg}"
            );
            return self.check_def("JSONRPCErrorResponse", msg);
        }
        if let Some(m) = msg.get("method").and_then(Value::as_str) {
            let def = match m {
                "notifications/progress" => "ProgressNotification",
                "notifications/message" => "LoggingMessageNotification",
                "notifications/subscriptions/acknowledged" => {
                    "SubscriptionsAcknowledgedNotification"
                }
                "notifications/tools/list_changed" => "ToolListChangedNotification",
                "notifications/prompts/list_changed" => "PromptListChangedNotification",
                "notifications/resources/list_changed" => "ResourceListChangedNotification",
                "notifications/resources/updated" => "ResourceUpdatedNotification",
                other => panic!("unexpected notification {other}: {msg}"),
            };
            return self.check_def(def, msg);
        }
        let def = match method {
            "tools/call" if msg["result"]["resultType"] == "input_required" => {
                return self.check_def("InputRequiredResult", &msg["result"]);
            }
            "tools/call" => "CallToolResultResponse",
            "tools/list" => "ListToolsResultResponse",
            "server/discover" => "DiscoverResultResponse",
            "subscriptions/listen" => "SubscriptionsListenResultResponse",
            other => panic!("no response definition for {other}"),
        };
        self.check_def(def, msg);
    }
}

fn request_text(headers: &str, body: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
}

/// Sends one raw POST and reads the whole (de-chunked) response.
async fn send_raw(h: &ServerHandle, headers: &str, body: &str) -> Answer {
    exchange(h, &request_text(headers, body)).await
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    })
}

fn body(id: i64, method: &str, mut params: Value) -> String {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// The standard headers for `method` (and `Mcp-Name` when given).
fn std_headers(method: &str, name: Option<&str>) -> String {
    let mut h = format!("MCP-Protocol-Version: {REV}\r\nMcp-Method: {method}\r\n");
    if let Some(n) = name {
        h.push_str(&format!("Mcp-Name: {n}\r\n"));
    }
    h
}

/// A well-formed stateless call; every message of the answer is schema-checked.
async fn call(
    h: &ServerHandle,
    schema: &mut Schema,
    id: i64,
    tool: &str,
    args: Value,
    extra: &str,
) -> Answer {
    let headers = format!("{}{extra}", std_headers("tools/call", Some(tool)));
    let r = send_raw(
        h,
        &headers,
        &body(id, "tools/call", json!({"name": tool, "arguments": args})),
    )
    .await;
    for m in r.messages() {
        schema.check("tools/call", &m);
    }
    r
}

fn error_code(r: &Answer) -> i64 {
    r.messages()[0]["error"]["code"].as_i64().unwrap()
}

#[tokio::test]
async fn both_eras_share_the_endpoint() {
    let h = start(|b| b).await;
    let mut schema = Schema::load();
    // A 2025-11-25 session, exactly as before.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}});
    let r = send_raw(&h, "", &init.to_string()).await;
    assert_eq!(r.status, 200);
    let sid = r
        .header("mcp-session-id")
        .expect("2025 sessions still get an id");
    let legacy = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"old"}}});
    let r = send_raw(
        &h,
        &format!("Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n"),
        &legacy.to_string(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.messages()[0]["result"]["content"][0]["text"], "old");
    // A stateless call: no handshake, no session id in or out (one sent is ignored).
    let r = call(
        &h,
        &mut schema,
        3,
        "echo",
        json!({"text": "new"}),
        "Mcp-Session-Id: made-up\r\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("mcp-session-id").is_none());
    let m = &r.messages()[0];
    assert_eq!(m["id"], 3);
    assert_eq!(m["result"]["content"][0]["text"], "new");
    assert_eq!(m["result"]["resultType"], "complete");
    // server/discover.
    let r = send_raw(
        &h,
        &std_headers("server/discover", None),
        &body(4, "server/discover", json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    schema.check("server/discover", &r.messages()[0]);
    h.shutdown().await;
}

#[tokio::test]
async fn headers_must_match_the_body() {
    let h = start(|b| b).await;
    let echo = body(7, "tools/call", json!({"name": "echo", "arguments": {}}));
    let cases: &[(&str, String)] = &[
        (
            "no Mcp-Method",
            format!("MCP-Protocol-Version: {REV}\r\nMcp-Name: echo\r\n"),
        ),
        ("other method", std_headers("tools/list", Some("echo"))),
        ("method case", std_headers("TOOLS/CALL", Some("echo"))),
        ("no Mcp-Name", std_headers("tools/call", None)),
        (
            "other name",
            std_headers("tools/call", Some("wrong_tool_name")),
        ),
        (
            "bad base64 name",
            std_headers("tools/call", Some("=?base64?ZWNobw?=")),
        ),
        (
            "no version header",
            "Mcp-Method: tools/call\r\nMcp-Name: echo\r\n".to_owned(),
        ),
        (
            "other version header",
            "MCP-Protocol-Version: 2099-01-01\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\n"
                .to_owned(),
        ),
    ];
    for (what, headers) in cases {
        let r = send_raw(&h, headers, &echo).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(error_code(&r), -32020, "{what}: {}", r.body);
        assert_eq!(r.messages()[0]["id"], 7, "{what}: the error echoes the id");
    }
    // Names are case-insensitive, values are trimmed, the Base64 form is decoded.
    let ok: &[String] = &[
        format!("mcp-protocol-version: {REV}\r\nMCP-METHOD: tools/call\r\nmcp-name:   echo  \r\n"),
        std_headers("tools/call", Some("=?base64?ZWNobw==?=")),
    ];
    for headers in ok {
        let r = send_raw(&h, headers, &echo).await;
        assert_eq!(r.status, 200, "{headers:?}: {}", r.body);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn mirrored_parameters_are_checked() {
    let h = start(|b| b).await;
    let mut schema = Schema::load();
    let args = json!({"region": "us-west1", "n": 42, "query": "select"});
    let r = call(
        &h,
        &mut schema,
        1,
        "sql",
        args.clone(),
        "Mcp-Param-Region: us-west1\r\nMcp-Param-N: 42.0\r\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        &h,
        &mut schema,
        2,
        "sql",
        json!({"region": "Hello"}),
        "Mcp-Param-Region: =?base64?SGVsbG8=?=\r\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The literal text of a value that only looks encoded.
    let r = call(
        &h,
        &mut schema,
        3,
        "sql",
        json!({"region": "=?base64?SGVsbG8="}),
        "Mcp-Param-Region: =?base64?SGVsbG8=\r\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refused: &[(&str, Value, &str)] = &[
        (
            "bad padding",
            json!({"region": "Hello"}),
            "Mcp-Param-Region: =?base64?SGVsbG8?=\r\n",
        ),
        (
            "bad alphabet",
            json!({"region": "Hello"}),
            "Mcp-Param-Region: =?base64?SGVs!!!bG8=?=\r\n",
        ),
        ("missing", json!({"region": "x"}), ""),
        (
            "different",
            json!({"region": "x"}),
            "Mcp-Param-Region: y\r\n",
        ),
        (
            "integer differs",
            json!({"region": "x", "n": 1}),
            "Mcp-Param-Region: x\r\nMcp-Param-N: 2\r\n",
        ),
        (
            "absent argument",
            json!({"region": "x"}),
            "Mcp-Param-Region: x\r\nMcp-Param-N: 2\r\n",
        ),
    ];
    for (i, (what, args, extra)) in refused.iter().enumerate() {
        let r = call(&h, &mut schema, 10 + i as i64, "sql", args.clone(), extra).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(error_code(&r), -32020, "{what}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn revision_errors_carry_their_http_status() {
    let h = start(|b| b).await;
    // No _meta: invalid params, 400.
    let bare = json!({"jsonrpc":"2.0","id":5,"method":"server/discover","params":{}}).to_string();
    let r = send_raw(&h, &std_headers("server/discover", None), &bare).await;
    assert_eq!((r.status, error_code(&r)), (400, -32602), "{}", r.body);
    // Unknown version in both places: unsupported, 400, with the supported list.
    let mut odd =
        json!({"jsonrpc":"2.0","id":6,"method":"server/discover","params":{"_meta": meta()}});
    odd["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "v999.0.0".into();
    let r = send_raw(
        &h,
        "MCP-Protocol-Version: v999.0.0\r\nMcp-Method: server/discover\r\n",
        &odd.to_string(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let m = &r.messages()[0];
    assert_eq!(m["id"], 6);
    assert_eq!(m["error"]["data"]["requested"], "v999.0.0");
    assert!(
        m["error"]["data"]["supported"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    // Methods this revision removed, and unknown ones: 404.
    for (i, method) in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "unknown/method",
    ]
    .iter()
    .enumerate()
    {
        let r = send_raw(
            &h,
            &std_headers(method, None),
            &body(20 + i as i64, method, json!({})),
        )
        .await;
        assert_eq!(
            (r.status, error_code(&r)),
            (404, -32601),
            "{method}: {}",
            r.body
        );
        assert_eq!(r.messages()[0]["id"], 20 + i as i64);
    }
    // GET and DELETE have no meaning on this revision.
    for method in ["GET", "DELETE"] {
        let req = format!(
            "{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMCP-Protocol-Version: {REV}\r\nConnection: close\r\n\r\n"
        );
        let r = exchange(&h, &req).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow").as_deref(), Some("POST"));
    }
    // A batch is not a request of this revision.
    let batch = format!("[{}]", body(1, "tools/list", json!({})));
    let r = send_raw(&h, &std_headers("tools/list", None), &batch).await;
    assert_eq!(r.status, 400);
    h.shutdown().await;
}

#[tokio::test]
async fn progress_streams_before_the_result() {
    let h = start(|b| b).await;
    let mut schema = Schema::load();
    let headers = std_headers("tools/call", Some("steps"));
    let mut b: Value = serde_json::from_str(&body(
        9,
        "tools/call",
        json!({"name": "steps", "arguments": {}}),
    ))
    .unwrap();
    b["params"]["_meta"]["progressToken"] = "p1".into();
    let r = send_raw(&h, &headers, &b.to_string()).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let msgs = r.messages();
    for m in &msgs {
        schema.check("tools/call", m);
    }
    let kinds: Vec<_> = msgs
        .iter()
        .map(|m| {
            m.get("method")
                .and_then(Value::as_str)
                .unwrap_or("response")
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "notifications/progress",
            "notifications/progress",
            "response"
        ]
    );
    assert_eq!(msgs[2]["result"]["content"][0]["text"], "done");
    h.shutdown().await;
}

#[tokio::test]
async fn closing_the_stream_cancels_the_request() {
    // The tool only ends when cancelled, and says when it started.
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let running = started.clone();
    let srv = Server::builder("t", "1")
        .auto_collect(false)
        .tool(Tool::new("wait", move |ctx: Context, _| {
            let running = running.clone();
            async move {
                running.notify_one();
                ctx.cancelled().await;
                Ok(CallToolResult::success(vec![Content::text("cancelled")]))
            }
        }))
        .build()
        .unwrap();
    let h = start_with(srv, |b| b).await;
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    let b = body(1, "tools/call", json!({"name": "wait", "arguments": {}}));
    s.write_all(request_text(&std_headers("tools/call", Some("wait")), &b).as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(T, started.notified())
        .await
        .expect("the call started");
    drop(s);
    // Shutdown waits for in-flight work: it returns because the call was cancelled.
    tokio::time::timeout(T, h.shutdown())
        .await
        .expect("the call was cancelled");
}

/// Opens a listen stream and returns its reader, past the response head.
async fn open_listen(h: &ServerHandle, id: i64, filter: Value) -> BufReader<TcpStream> {
    let s = TcpStream::connect(h.local_addr()).await.unwrap();
    let mut r = BufReader::new(s);
    let b = body(id, "subscriptions/listen", json!({"notifications": filter}));
    r.get_mut()
        .write_all(request_text(&std_headers("subscriptions/listen", None), &b).as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        tokio::time::timeout(T, r.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        if line.starts_with("HTTP/1.1") {
            assert!(line.contains("200"), "{line}");
        }
        if line == "\r\n" {
            return r;
        }
    }
}

/// The next SSE event of a chunked stream: a message, `keep-alive`, or `None` at the end.
async fn next_event(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        let n = tokio::time::timeout(T, r.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        if n == 0 || line == "0\r\n" {
            return None;
        }
        if let Some(d) = line.strip_prefix("data: ") {
            return Some(d.trim_end().to_owned());
        }
        if line.starts_with(": keep-alive") {
            return Some("keep-alive".into());
        }
    }
}

async fn next_message(r: &mut BufReader<TcpStream>, schema: &mut Schema) -> Option<Value> {
    loop {
        let e = next_event(r).await?;
        if e != "keep-alive" {
            let m: Value = serde_json::from_str(&e).unwrap();
            schema.check("subscriptions/listen", &m);
            return Some(m);
        }
    }
}

#[tokio::test]
async fn listen_acknowledges_then_tags_changes_and_ends_at_shutdown() {
    let srv = server();
    let h = SseServer::builder(srv.clone())
        .bind("127.0.0.1:0".parse().unwrap())
        .keep_alive(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let mut schema = Schema::load();
    let mut tools = open_listen(&h, 41, json!({"toolsListChanged": true})).await;
    let mut prompts = open_listen(&h, 42, json!({"promptsListChanged": true})).await;
    for (r, id) in [(&mut tools, 41), (&mut prompts, 42)] {
        let ack = next_message(r, &mut schema).await.unwrap();
        assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
        assert_eq!(
            ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            id
        );
    }
    // Idle: keep-alive comments.
    assert_eq!(next_event(&mut tools).await.as_deref(), Some("keep-alive"));
    // A change reaches the stream that asked for it, tagged with its id.
    srv.add_tool(
        Tool::new("later", |_, _| async move { Ok(CallToolResult::default()) })
            .description("Later"),
    )
    .unwrap();
    let n = next_message(&mut tools, &mut schema).await.unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        41
    );
    // Shutdown ends both with the closing result, then the stream ends.
    let shut = tokio::spawn(async move { h.shutdown().await });
    for (r, id) in [(&mut tools, 41), (&mut prompts, 42)] {
        let end = next_message(r, &mut schema).await.unwrap();
        assert_eq!(end["id"], id, "{end}");
        assert_eq!(end["result"]["resultType"], "complete");
        assert_eq!(
            end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            id
        );
        assert!(
            next_message(r, &mut schema).await.is_none(),
            "nothing after the closing result"
        );
    }
    tokio::time::timeout(T, shut).await.unwrap().unwrap();
}

#[tokio::test]
async fn listen_streams_are_bounded() {
    let srv = Server::builder("t", "1")
        .auto_collect(false)
        .max_subscriptions(1)
        .build()
        .unwrap();
    let h = SseServer::builder(srv)
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut schema = Schema::load();
    let mut first = open_listen(&h, 1, json!({"toolsListChanged": true})).await;
    next_message(&mut first, &mut schema).await.unwrap();
    let b = body(
        2,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    );
    let r = send_raw(&h, &std_headers("subscriptions/listen", None), &b).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.messages()[0]["id"], 2);
    drop(first);
    let r = send_raw(
        &h,
        &std_headers("tools/list", None),
        &body(9, "tools/list", json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "other requests are served meanwhile");
    // The place is given back once the server notices the stream closed.
    let mut again = None;
    poll_until("a closed stream to free its place", async || {
        let mut s = open_listen(&h, 3, json!({"toolsListChanged": true})).await;
        let acknowledged = next_message(&mut s, &mut schema)
            .await
            .is_some_and(|m| m["method"] == "notifications/subscriptions/acknowledged");
        if acknowledged {
            again = Some(s);
        }
        acknowledged
    })
    .await;
    drop(again);
    h.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_allows_the_request_headers() {
    let h = start(|b| b.cors_origins(["http://inspector.example:6274"])).await;
    let req = "OPTIONS /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://inspector.example:6274\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, mcp-method, mcp-name, mcp-param-region, x-other\r\nConnection: close\r\n\r\n";
    let r = exchange(&h, req).await;
    assert_eq!(r.status, 204);
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "mcp-method",
        "mcp-name",
        "mcp-protocol-version",
        "mcp-param-region",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    assert!(!allowed.contains("x-other"));
    h.shutdown().await;
}

/// A request needing a client capability the client did not declare: 400 with -32021 and what
/// is required when the error is the answer; once a stream has begun (progress first), the
/// status is already sent and the error is the stream's final message. Declaring the
/// capability turns the same call into an `input_required` result (200).
#[tokio::test]
async fn a_missing_client_capability_is_a_400() {
    let h = start(|b| b).await;
    let mut schema = Schema::load();
    let r = call(&h, &mut schema, 1, "ask", json!({}), "").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let m = &r.messages()[0];
    assert_eq!((m["id"].as_i64(), error_code(&r)), (Some(1), -32021), "{m}");
    assert_eq!(
        m["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
    // Streaming began with progress: the status is 200, the error ends the stream.
    let mut b: Value = serde_json::from_str(&body(
        2,
        "tools/call",
        json!({"name": "steps_then_ask", "arguments": {}}),
    ))
    .unwrap();
    b["params"]["_meta"]["progressToken"] = "p".into();
    let r = send_raw(
        &h,
        &std_headers("tools/call", Some("steps_then_ask")),
        &b.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let msgs = r.messages();
    for m in &msgs {
        schema.check("tools/call", m);
    }
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0]["method"], "notifications/progress");
    assert_eq!(msgs[1]["error"]["code"], -32021);
    // With the capability declared, the same call asks for input.
    let mut b: Value = serde_json::from_str(&body(
        3,
        "tools/call",
        json!({"name": "ask", "arguments": {}}),
    ))
    .unwrap();
    b["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"elicitation": {}});
    let r = send_raw(&h, &std_headers("tools/call", Some("ask")), &b.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &r.messages()[0];
    schema.check("tools/call", m);
    assert_eq!(m["result"]["resultType"], "input_required", "{m}");
    h.shutdown().await;
}

/// The statuses of the wire not covered above: a refused Origin is 403, a notification 202
/// with no body, a client's response 400, a body that is not JSON 415, and an `Accept` without
/// both media types 406.
#[tokio::test]
async fn the_other_statuses_of_the_wire() {
    let h = start(|b| b).await;
    let list = body(1, "tools/list", json!({}));
    let r = send_raw(
        &h,
        &format!(
            "{}Origin: http://evil.example\r\n",
            std_headers("tools/list", None)
        ),
        &list,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                          "params": {"requestId": 1}});
    note["params"]["_meta"] = meta();
    let r = send_raw(
        &h,
        &std_headers("notifications/cancelled", None),
        &note.to_string(),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let response = json!({"jsonrpc": "2.0", "id": 1, "result": {}}).to_string();
    let r = send_raw(&h, &std_headers("tools/list", None), &response).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Not JSON, and an Accept without text/event-stream: raw requests of their own.
    for (status, head) in [
        (
            415,
            "Content-Type: text/plain\r\nAccept: application/json, text/event-stream\r\n",
        ),
        (
            406,
            "Content-Type: application/json\r\nAccept: application/json\r\n",
        ),
    ] {
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}{}Content-Length: {}\r\nConnection: close\r\n\r\n{list}",
            std_headers("tools/list", None),
            list.len()
        );
        let r = exchange(&h, &req).await;
        assert_eq!(r.status, status, "{head}: {}", r.body);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn handlers_see_the_whole_meta_and_a_key_twice_in_it_is_refused() {
    let h = start(|b| b).await;
    let mut m = meta();
    m["io.modelcontextprotocol/clientInfo"] =
        json!({"name": "test", "version": "1", "title": null, "icons": [{"src": "x"}]});
    m["io.modelcontextprotocol/logLevel"] = "error".into();
    m["com.example/trace"] = json!({"id": [1, 2.5, null, "é"]});
    m["progressToken"] = 7.into();
    let b = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "meta", "arguments": {}, "_meta": m}});
    let r = send_raw(&h, &std_headers("tools/call", Some("meta")), &b.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.messages()[0]["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), m);
    // A key given twice inside `_meta`, at any depth, is the parse error it is anywhere.
    for twice in [
        r#""io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientCapabilities":{}"#,
        r#""io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"a","version":"1","name":"b"}"#,
        r#""io.modelcontextprotocol/clientCapabilities":{"x":{"k":1,"k":1}}"#,
        r#""io.modelcontextprotocol/clientCapabilities":{},"other":[{"k":1,"k":1}]"#,
    ] {
        let raw = format!(
            r#"{{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{{"name":"meta","arguments":{{}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28",{twice}}}}}}}"#
        );
        let r = send_raw(&h, &std_headers("tools/call", Some("meta")), &raw).await;
        assert_eq!(r.status, 400, "{twice}: {}", r.body);
        assert_eq!(error_code(&r), -32600, "{twice}");
        assert!(r.body.contains("duplicate key"), "{}", r.body);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_request_state_binds_the_retry_to_the_same_call() {
    let h = start(|b| b).await;
    let mut schema = Schema::load();
    let mut m = meta();
    m["io.modelcontextprotocol/clientCapabilities"] = json!({"elicitation": {}});
    let send = |params: Value| {
        let mut params = params;
        params["_meta"] = m.clone();
        let b = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": params});
        let h = &h;
        async move { send_raw(h, &std_headers("tools/call", Some("ask")), &b.to_string()).await }
    };
    let first = send(json!({"name": "ask", "arguments": {"b": 1, "a": "x"}})).await;
    let msg = &first.messages()[0];
    schema.check("tools/call", msg);
    assert_eq!(
        msg["result"]["resultType"], "input_required",
        "{}",
        first.body
    );
    let state = msg["result"]["requestState"].clone();
    let answer = json!({"elicitation-1": {"action": "decline"}});
    // The same call (its arguments in another order) with the answer goes through.
    let retry = send(json!({"arguments": {"a": "x", "b": 1}, "name": "ask",
        "inputResponses": answer, "requestState": state}))
    .await;
    let msg = &retry.messages()[0];
    schema.check("tools/call", msg);
    assert_eq!(
        msg["result"]["content"][0]["text"], "Decline",
        "{}",
        retry.body
    );
    // Other arguments with that state are refused.
    let other = send(json!({"name": "ask", "arguments": {"b": 2, "a": "x"},
        "inputResponses": answer, "requestState": state}))
    .await;
    assert_eq!(error_code(&other), -32602, "{}", other.body);
    h.shutdown().await;
}
