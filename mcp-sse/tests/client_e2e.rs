//! End-to-end tests of the HTTP+SSE transport over loopback sockets with literal requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::client::{SseClient, raw_request};
use mcp_sse::{Builder, ServerHandle, SseServer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Cancelled(Arc<AtomicUsize>);
impl Drop for Cancelled {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn server(dropped: Arc<AtomicUsize>) -> Server {
    Server::builder("test", "1.0")
        .tool(Tool::new("echo", |_ctx, args| async move {
            Ok(CallToolResult::success(vec![Content::text(
                args.get("text")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )]))
        }))
        .tool(Tool::new("who", |ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text(
                ctx.session_id().unwrap_or("").to_owned(),
            )]))
        }))
        .tool(Tool::new("big", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![Content::text(
                "x".repeat(256 * 1024),
            )]))
        }))
        .tool(Tool::new("hang", move |_ctx, _args| {
            let guard = Cancelled(dropped.clone());
            async move {
                let _g = guard;
                std::future::pending::<()>().await;
                Ok(CallToolResult::success(vec![]))
            }
        }))
        .build()
        .unwrap()
}

fn builder() -> (Builder, Arc<AtomicUsize>) {
    let dropped = Arc::new(AtomicUsize::new(0));
    let b = SseServer::builder(server(dropped.clone())).bind(SocketAddr::from(([127, 0, 0, 1], 0)));
    (b, dropped)
}

async fn start() -> ServerHandle {
    builder().0.start().await.unwrap()
}

fn post(addr: SocketAddr, target: &str, ctype: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get(addr: SocketAddr, target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n")
        .into_bytes()
}

#[tokio::test]
async fn endpoint_event_and_message_frames_are_exact() {
    let h = start().await;
    let addr = h.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&get(addr, "/sse", "")).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains("sessionId=") || !buf.ends_with(b"\n\n\r\n") {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/event-stream\r\n"));
    assert!(lower.contains("cache-control: no-cache\r\n"));
    assert!(lower.contains("x-accel-buffering: no\r\n"));
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    // one chunk: size line, then exactly the endpoint frame
    let (size, frame) = body.split_once("\r\n").unwrap();
    let frame = &frame[..usize::from_str_radix(size, 16).unwrap()];
    let id = frame
        .strip_prefix("event: endpoint\ndata: /messages?sessionId=")
        .and_then(|r| r.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("bad endpoint frame {frame:?}"));
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 4);

    let r = raw_request(
        addr,
        &post(
            addr,
            &format!("/messages?sessionId={id}"),
            "application/json",
            r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#,
            "",
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let mut buf = Vec::new();
    while !buf.ends_with(b"\n\n\r\n") {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8(buf).unwrap();
    let (_, frame) = text.split_once("\r\n").unwrap();
    assert_eq!(
        frame,
        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n\r\n"
    );
    drop(s);
    h.shutdown().await;
}

#[tokio::test]
async fn keep_alive_comments_are_sent() {
    let h = builder()
        .0
        .keep_alive(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&get(addr, "/sse", "")).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains(": keep-alive\n\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn post_status_codes() {
    let h = builder().0.max_body_bytes(1024).start().await.unwrap();
    let addr = h.local_addr();
    let c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let ep = c.endpoint().to_owned();
    let ok = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let st = |b: Vec<u8>| async move { raw_request(addr, &b).await.unwrap() };

    assert_eq!(
        st(post(addr, "/messages", "application/json", ok, ""))
            .await
            .status,
        400
    );
    let twice = format!("{ep}&sessionId={}", c.session_id());
    assert_eq!(
        st(post(addr, &twice, "application/json", ok, ""))
            .await
            .status,
        400
    );
    let unknown = format!("/messages?sessionId={}", uuid::Uuid::new_v4());
    assert_eq!(
        st(post(addr, &unknown, "application/json", ok, ""))
            .await
            .status,
        404
    );
    assert_eq!(
        st(post(
            addr,
            "/messages?sessionId=nope",
            "application/json",
            ok,
            ""
        ))
        .await
        .status,
        404
    );
    assert_eq!(st(post(addr, &ep, "text/plain", ok, "")).await.status, 415);
    assert_eq!(
        st(post(addr, &ep, "application/json; charset=utf-8", ok, ""))
            .await
            .status,
        202
    );

    // 413 before reading: declare a large body and send none of it.
    let head = format!(
        "POST {ep} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    );
    let r = st(head.into_bytes()).await;
    assert_eq!(r.status, 413);
    // counted excess on a chunked body
    let big = "x".repeat(2000);
    let chunked = format!(
        "POST {ep} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    assert_eq!(st(chunked.into_bytes()).await.status, 413);

    let r = st(post(addr, &ep, "application/json", "{not json", "")).await;
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], -32700);
    assert_eq!(v["id"], serde_json::Value::Null);

    assert_eq!(st(get(addr, "/messages", "")).await.status, 405);
    assert_eq!(st(get(addr, "/nothing", "")).await.status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn parse_errors_forward_nothing() {
    let h = start().await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    assert_eq!(c.post(b"[").await.unwrap().status, 400);
    // The next message on the stream is the answer to the following valid request.
    let r = c.request(5, "ping", json!({})).await.unwrap();
    assert_eq!(r, json!({"jsonrpc":"2.0","id":5,"result":{}}));
    h.shutdown().await;
}

#[tokio::test]
async fn host_and_origin_checks() {
    let h = start().await;
    let addr = h.local_addr();
    let req = |host: &str, extra: &str| {
        format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n")
            .into_bytes()
    };
    let cases = [
        ("localhost:1234", "", 200),
        ("[::1]", "", 200),
        ("evil.example", "", 403),
        ("localhost", "Origin: http://localhost:6274\r\n", 200),
        ("localhost", "Origin: https://evil.example\r\n", 403),
        ("localhost", "Origin: null\r\n", 403),
    ];
    for (host, extra, status) in cases {
        let got = raw_request(addr, &req(host, extra)).await.unwrap().status;
        assert_eq!(got, status, "Host {host:?}, {extra:?}");
    }
    // Checked before anything else: a foreign origin POST never reaches the session lookup.
    let r = raw_request(
        addr,
        &post(
            addr,
            "/messages",
            "application/json",
            "{}",
            "Origin: http://evil.example\r\n",
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn bearer_auth_and_session_binding() {
    let h = builder()
        .0
        .bearer_tokens(["alpha", "beta"])
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    let r = raw_request(addr, &get(addr, "/sse", "")).await.unwrap();
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = raw_request(addr, &get(addr, "/sse", "Authorization: Bearer gamma\r\n"))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = raw_request(
        addr,
        &post(addr, "/messages?sessionId=x", "application/json", "{}", ""),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);

    let mut c = SseClient::connect(addr, "/sse", &[("Authorization", "Bearer alpha")])
        .await
        .unwrap();
    assert_eq!(
        c.request(1, "ping", json!({})).await.unwrap()["result"],
        json!({})
    );
    let other = post(
        addr,
        c.endpoint(),
        "application/json",
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
        "Authorization: Bearer beta\r\n",
    );
    assert_eq!(raw_request(addr, &other).await.unwrap().status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_and_health() {
    let h = builder()
        .0
        .cors_origins(["http://inspector.example:6274"])
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    let pre = format!(
        "OPTIONS /messages HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://inspector.example:6274\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    );
    let r = raw_request(addr, pre.as_bytes()).await.unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://inspector.example:6274")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase()
            .contains("content-type")
    );
    let pre = pre.replace("inspector.example", "other.example");
    assert_eq!(raw_request(addr, pre.as_bytes()).await.unwrap().status, 403);

    let r = raw_request(addr, &get(addr, "/health", "")).await.unwrap();
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["status"], "ok");
    h.shutdown().await;
}

#[tokio::test]
async fn session_cap_answers_503() {
    let h = builder().0.max_sessions(2).start().await.unwrap();
    let addr = h.local_addr();
    let a = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let _b = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let r = raw_request(addr, &get(addr, "/sse", "")).await.unwrap();
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    drop(a);
    // The slot frees once the server notices the disconnect.
    let mut ok = false;
    for _ in 0..200 {
        if h.session_count() < 2 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ok, "session not removed after disconnect");
    let _c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    h.shutdown().await;
}

#[tokio::test]
async fn sessions_are_isolated_and_run_concurrently() {
    let h = start().await;
    let addr = h.local_addr();
    let mut tasks = Vec::new();
    for n in 0..50 {
        tasks.push(tokio::spawn(async move {
            let mut c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
            let init = c.initialize().await.unwrap();
            assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
            for i in 1..=5 {
                let r = c
                    .request(
                        i,
                        "tools/call",
                        json!({"name":"echo","arguments":{"text":format!("{n}-{i}")}}),
                    )
                    .await
                    .unwrap();
                assert_eq!(r["result"]["content"][0]["text"], format!("{n}-{i}"));
            }
            let r = c
                .request(9, "tools/call", json!({"name":"who"}))
                .await
                .unwrap();
            assert_eq!(r["result"]["content"][0]["text"], c.session_id());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    h.shutdown().await;
}

#[tokio::test]
async fn disconnect_ends_session_and_cancels_in_flight_calls() {
    let (b, dropped) = builder();
    let h = b.start().await.unwrap();
    let addr = h.local_addr();
    let mut c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    c.initialize().await.unwrap();
    let ep = c.endpoint().to_owned();
    let r = c
        .post(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hang"}}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    drop(c);
    for _ in 0..500 {
        if dropped.load(Ordering::SeqCst) == 1 && h.session_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "in-flight call not cancelled"
    );
    assert_eq!(h.session_count(), 0);
    let r = raw_request(
        addr,
        &post(
            addr,
            &ep,
            "application/json",
            r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            "",
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn stalled_reader_is_closed_after_the_stall_timeout() {
    let h = builder()
        .0
        .session_queue(2)
        .stall_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    // A raw stream that reads the endpoint and then never reads again.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&get(addr, "/sse", "")).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains("\n\n") {
        let n = s.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let id = text
        .split("sessionId=")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap()
        .to_owned();
    let ep = format!("/messages?sessionId={id}");
    for init in [
        r#"{"jsonrpc":"2.0","id":"i","method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    ] {
        let r = raw_request(addr, &post(addr, &ep, "application/json", init, ""))
            .await
            .unwrap();
        assert_eq!(r.status, 202);
    }
    // Each answer is 256 KiB; socket buffers fill, then the queue, then the stall timer fires.
    let mut closed = false;
    for i in 0..400 {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"big"}}}}"#
        );
        let r = raw_request(addr, &post(addr, &ep, "application/json", &body, ""))
            .await
            .unwrap();
        if r.status == 404 {
            closed = true;
            break;
        }
        assert_eq!(r.status, 202);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(closed, "stalled session never closed");
    assert_eq!(h.session_count(), 0);
    drop(s);
    h.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_with_open_streams_does_not_hang() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = builder()
        .0
        .shutdown_grace(Duration::from_secs(5))
        .shutdown_signal(async move {
            let _ = rx.await;
        })
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(SseClient::connect(addr, "/sse", &[]).await.unwrap());
    }
    let mut c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), h.wait())
        .await
        .expect("shutdown hung");
    // The stream ends cleanly (terminating chunk) rather than hanging.
    loop {
        match c.next_event().await.unwrap() {
            None => break,
            Some(_) => continue,
        }
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

#[tokio::test]
async fn mount_prefix_is_used_in_the_endpoint() {
    let h = builder().0.mount_prefix("/app").start().await.unwrap();
    let addr = h.local_addr();
    let mut c = SseClient::connect(addr, "/app/sse", &[]).await.unwrap();
    assert!(c.endpoint().starts_with("/app/messages?sessionId="));
    assert_eq!(
        c.request(1, "ping", json!({})).await.unwrap()["result"],
        json!({})
    );
    assert_eq!(
        raw_request(addr, &get(addr, "/sse", ""))
            .await
            .unwrap()
            .status,
        404
    );
    h.shutdown().await;
}

#[tokio::test]
async fn slow_body_gets_408_and_slow_headers_close_the_connection() {
    let h = builder()
        .0
        .body_read_timeout(Duration::from_millis(200))
        .header_read_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let addr = h.local_addr();
    let c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    // Declares 100 bytes, sends 10, then stalls.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\"",
        c.endpoint()
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&buf)
    );

    // Slowloris: an unfinished head; the server closes without a response.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(
        r.is_ok(),
        "header read timeout did not close the connection"
    );
    assert!(buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"));
    h.shutdown().await;
}

#[tokio::test]
async fn batches_on_a_2024_11_05_session_get_one_invalid_request_error() {
    let h = start().await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    let init = c.initialize().await.unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    let r = c
        .post(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#)
        .await
        .unwrap();
    // Refused as a whole like a body that does not parse (batches belong to revision
    // 2025-03-26 only): 400 with the error, none of its elements run, nothing on the stream.
    assert_eq!(r.status, 400);
    let m: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(m["error"]["code"], -32600);
    assert_eq!(m["id"], serde_json::Value::Null);
    let r = c.request(3, "ping", json!({})).await.unwrap();
    assert_eq!(r, json!({"jsonrpc":"2.0","id":3,"result":{}}));
    h.shutdown().await;
}

#[tokio::test]
async fn head_too_large_is_rejected() {
    let h = builder().0.max_header_bytes(8192).start().await.unwrap();
    let addr = h.local_addr();
    let big = "a".repeat(20_000);
    let req = format!(
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    );
    let r = raw_request(addr, req.as_bytes()).await.unwrap();
    assert_eq!(r.status, 431);
    h.shutdown().await;
}
