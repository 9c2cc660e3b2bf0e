//! Raw-socket tests of Streamable HTTP on `/mcp`.

mod common;

use std::time::Duration;

use common::{Answer, T, exchange, start_with, wait_sessions};
use mcp_core::{CallToolResult, Content, Context, Server, Tool};
use mcp_sse::ServerHandle;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ACCEPT: &str = "Accept: application/json, text/event-stream\r\n";

fn server() -> Server {
    Server::builder("t", "1")
        .auto_collect(false)
        .tool(Tool::new("echo", |_, a| async move {
            let t = a
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Ok(CallToolResult::success(vec![Content::text(t)]))
        }))
        .tool(Tool::new("steps", |ctx: Context, _| async move {
            ctx.progress(1.0, Some(2.0), None).await;
            ctx.progress(2.0, Some(2.0), None).await;
            Ok(CallToolResult::success(vec![Content::text("done")]))
        }))
        .tool(Tool::new("reconnect", |ctx: Context, _| async move {
            ctx.progress(1.0, None, None).await;
            ctx.close_sse_stream();
            // Still working while the client reconnects: the answer goes to the new stream.
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(CallToolResult::success(vec![Content::text(
                "after reconnect",
            )]))
        }))
        .build()
        .unwrap()
}

async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    start_with(server(), f).await
}

/// Sends one request with `Connection: close` and reads the whole (de-chunked) response.
async fn send(h: &ServerHandle, method: &str, headers: &str, body: &str) -> Answer {
    let req = format!(
        "{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    );
    exchange(h, &req).await
}

fn init(version: &str) -> String {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name":"raw","version":"1"}}})
    .to_string()
}

async fn session(h: &ServerHandle, version: &str) -> String {
    let r = send(h, "POST", ACCEPT, &init(version)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type").unwrap(), "application/json");
    assert_eq!(r.json()["result"]["protocolVersion"], version);
    let id = r.header("mcp-session-id").expect("session id issued");
    assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string();
    let r = send(
        h,
        "POST",
        &format!("{ACCEPT}Mcp-Session-Id: {id}\r\n"),
        &note,
    )
    .await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    id
}

fn call(id: i64, tool: &str) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{"text":"x"},"_meta":{"progressToken":"p"}}}).to_string()
}

#[tokio::test]
async fn json_when_only_a_result_sse_when_notifications_come_first() {
    let h = start(|b| b).await;
    let sid = session(&h, "2025-11-25").await;
    let hdr = format!("{ACCEPT}Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n");
    let r = send(&h, "POST", &hdr, &call(1, "echo")).await;
    assert_eq!(r.header("content-type").unwrap(), "application/json");
    assert_eq!(r.json()["result"]["content"][0]["text"], "x");
    let r = send(&h, "POST", &hdr, &call(2, "steps")).await;
    assert_eq!(r.header("content-type").unwrap(), "text/event-stream");
    let events = r.events();
    // Priming event (id, empty data) with a retry hint, then progress, progress, result.
    assert_eq!(events[0].1, "");
    assert!(r.body.contains("retry: "));
    let kinds: Vec<Value> = events[1..]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(kinds[0]["method"], "notifications/progress");
    assert_eq!(kinds[1]["method"], "notifications/progress");
    assert_eq!(kinds[2]["id"], 2);
    let ids: Vec<_> = events.iter().map(|(id, _)| id.clone().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique);
    h.shutdown().await;
}

#[tokio::test]
async fn status_codes() {
    let h = start(|b| b).await;
    let sid = session(&h, "2025-06-18").await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();
    let with = format!("{ACCEPT}Mcp-Session-Id: {sid}\r\n");
    assert_eq!(send(&h, "POST", &with, &ping).await.status, 200);
    // Accept must allow both types.
    assert_eq!(
        send(
            &h,
            "POST",
            &format!("Accept: application/json\r\nMcp-Session-Id: {sid}\r\n"),
            &ping
        )
        .await
        .status,
        406
    );
    // No session on a non-initialize request; unknown session.
    assert_eq!(send(&h, "POST", ACCEPT, &ping).await.status, 400);
    let unknown = format!("{ACCEPT}Mcp-Session-Id: 00000000-0000-4000-8000-000000000000\r\n");
    assert_eq!(send(&h, "POST", &unknown, &ping).await.status, 404);
    // Unsupported protocol version header.
    assert_eq!(
        send(
            &h,
            "POST",
            &format!("{with}MCP-Protocol-Version: 1999-01-01\r\n"),
            &ping
        )
        .await
        .status,
        400
    );
    // Malformed JSON.
    let r = send(&h, "POST", &with, "{nope").await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!(-32700))
    );
    // A client-chosen id on initialize is not adopted: without a known session it is 404.
    assert_eq!(
        send(
            &h,
            "POST",
            &format!("{ACCEPT}Mcp-Session-Id: mine\r\n"),
            &init("2025-06-18")
        )
        .await
        .status,
        404
    );
    // DELETE ends the session; then 404.
    assert_eq!(send(&h, "DELETE", &with, "").await.status, 200);
    assert_eq!(send(&h, "POST", &with, &ping).await.status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn one_standalone_stream_per_session() {
    let h = start(|b| b).await;
    let sid = session(&h, "2025-11-25").await;
    let mut first = TcpStream::connect(h.local_addr()).await.unwrap();
    first
        .write_all(format!("GET /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(T, first.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let r = send(
        &h,
        "GET",
        &format!("Accept: text/event-stream\r\nMcp-Session-Id: {sid}\r\n"),
        "",
    )
    .await;
    assert_eq!(r.status, 409);
    drop(first);
    h.shutdown().await;
}

#[tokio::test]
async fn a_stream_closed_early_is_resumed_with_last_event_id() {
    let h = start(|b| b).await;
    let sid = session(&h, "2025-11-25").await;
    let hdr = format!("{ACCEPT}Mcp-Session-Id: {sid}\r\n");
    let r = send(&h, "POST", &hdr, &call(7, "reconnect")).await;
    let events = r.events();
    assert!(r.body.contains("retry: "), "{}", r.body);
    assert!(
        !r.body.contains("after reconnect"),
        "result must not be on the closed stream"
    );
    let last = events.last().unwrap().0.clone().unwrap();
    let r = send(
        &h,
        "GET",
        &format!("Accept: text/event-stream\r\nMcp-Session-Id: {sid}\r\nLast-Event-ID: {last}\r\n"),
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let replayed = r.events();
    let seq = |id: &str| id.split_once('-').unwrap().1.parse::<u64>().unwrap();
    let stream = |id: &str| id.split_once('-').unwrap().0.to_owned();
    for (id, _) in &replayed {
        let id = id.as_deref().unwrap();
        assert_eq!(
            stream(id),
            stream(&last),
            "only that stream's events: {replayed:?}"
        );
        assert!(
            seq(id) > seq(&last),
            "only events after Last-Event-ID: {replayed:?}"
        );
    }
    let msg: Value = serde_json::from_str(&replayed.last().unwrap().1).unwrap();
    assert_eq!(msg["id"], 7);
    assert_eq!(msg["result"]["content"][0]["text"], "after reconnect");
    h.shutdown().await;
}

#[tokio::test]
async fn session_cap_is_shared_with_legacy_sse() {
    let h = start(|b| b.max_sessions(1)).await;
    let mut legacy = TcpStream::connect(h.local_addr()).await.unwrap();
    legacy
        .write_all(b"GET /sse HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    tokio::time::timeout(T, legacy.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        send(&h, "POST", ACCEPT, &init("2025-06-18")).await.status,
        503
    );
    drop(legacy);
    h.shutdown().await;
}

#[tokio::test]
async fn idle_sessions_expire() {
    let h = start(|b| b.idle_timeout(Duration::from_millis(100))).await;
    let sid = session(&h, "2025-06-18").await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();
    let with = format!("{ACCEPT}Mcp-Session-Id: {sid}\r\n");
    // No request and no stream for longer than the timeout: the reaper ends the session.
    wait_sessions(&h, 0).await;
    let status = send(&h, "POST", &with, &ping).await.status;
    assert_eq!(status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn batches_only_on_2025_03_26() {
    let h = start(|b| b).await;
    let sid = session(&h, "2025-03-26").await;
    let with = format!("{ACCEPT}Mcp-Session-Id: {sid}\r\n");
    let batch =
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#;
    let r = send(&h, "POST", &with, batch).await;
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    // A batch refused as a whole is answered like `[]`: 400 with -32600.
    let init = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}]"#;
    for body in [init, "[]"] {
        let r = send(&h, "POST", &with, body).await;
        assert_eq!(
            (r.status, r.json()["error"]["code"].clone()),
            (400, json!(-32600))
        );
    }
    let sid = session(&h, "2025-06-18").await;
    let r = send(
        &h,
        "POST",
        &format!("{ACCEPT}Mcp-Session-Id: {sid}\r\n"),
        batch,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
    h.shutdown().await;
}
