//! Property test of the HTTP request path: arbitrary requests (methods, paths, header sets and
//! body bytes) through the real server over loopback never panic it, never hang, and are
//! answered with a status the server documents; a JSON answer to a refused request is a
//! JSON-RPC error.

use std::sync::OnceLock;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::{ServerHandle, SseServer};
use proptest::prelude::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

/// Every status the server answers with (README: limits, security, both transports).
const DOCUMENTED: &[u16] = &[
    200, 202, 204, 400, 401, 403, 404, 405, 406, 408, 410, 413, 415, 431, 503,
];

/// How long one request may take to be answered: far above the server's own timeouts below.
const ANSWER: Duration = Duration::from_secs(5);

fn rig() -> &'static (Runtime, ServerHandle) {
    static RIG: OnceLock<(Runtime, ServerHandle)> = OnceLock::new();
    RIG.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = Server::builder("props", "1.0")
            .auto_collect(false)
            .tool(Tool::new("echo", |_ctx, args| async move {
                Ok(CallToolResult::success(vec![Content::text(
                    Value::Object(args).to_string(),
                )]))
            }))
            .build()
            .unwrap();
        let handle = rt.block_on(async {
            SseServer::builder(server)
                .bind("127.0.0.1:0".parse().unwrap())
                .max_body_bytes(4096)
                .body_read_timeout(Duration::from_millis(300))
                .header_read_timeout(Duration::from_millis(300))
                .start()
                .await
                .unwrap()
        });
        (rt, handle)
    })
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("DELETE".to_owned()),
        Just("OPTIONS".to_owned()),
        Just("PUT".to_owned()),
        Just("HEAD".to_owned()),
        "[A-Z]{1,7}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/mcp".to_owned()),
        Just("/sse".to_owned()),
        Just("/messages".to_owned()),
        Just("/health".to_owned()),
        "/messages\\?sessionId=[0-9a-f-]{0,40}",
        "/[a-z%?=&/.]{0,20}",
        Just("*".to_owned()),
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Content-Type: application/json".to_owned()),
        Just("Content-Type: text/plain".to_owned()),
        Just("Content-Type: application/json; charset=latin1".to_owned()),
        Just("Accept: application/json, text/event-stream".to_owned()),
        Just("Accept: text/event-stream".to_owned()),
        Just("Accept: */*".to_owned()),
        Just("Origin: http://evil.example".to_owned()),
        Just("Origin: http://127.0.0.1".to_owned()),
        Just("Host: evil.example".to_owned()),
        Just("Transfer-Encoding: chunked".to_owned()),
        Just("Expect: 100-continue".to_owned()),
        Just("Authorization: Bearer x".to_owned()),
        "Mcp-Session-Id: [ -~]{0,40}",
        "MCP-Protocol-Version: (2024-11-05|2025-03-26|2025-06-18|2025-11-25|2026-07-28|[0-9-]{0,10})",
        "Last-Event-ID: [ -~]{0,20}",
        "[A-Za-z-]{1,12}: [ -~]{0,30}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        Just(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"p","version":"1"}}}"#.to_vec()),
        Just(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#.to_vec()),
        Just(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"}]"#.to_vec()),
        Just(b"[]".to_vec()),
        "[ -~]{0,64}".prop_map(String::into_bytes),
    ]
}

/// Sends `request` and reads the response head and whatever body arrives before the
/// connection closes or a short pause (streams stay open).
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    // A refused request may be answered before the whole body was read.
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + ANSWER;
    loop {
        let head_done = out.windows(4).any(|w| w == b"\r\n\r\n");
        let wait = if head_done {
            Duration::from_millis(100)
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        };
        match tokio::time::timeout(wait, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    out
}

fn check(response: &[u8]) -> Result<(), TestCaseError> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        // A connection may be closed unanswered (a silent or malformed start), but never
        // after part of a head.
        prop_assert!(
            response.is_empty(),
            "a partial head: {:?}",
            String::from_utf8_lossy(response)
        );
        return Ok(());
    };
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let rest = &response[end + 4..];
    if head.starts_with("http/1.1 100") {
        // An interim 100 Continue: the answer follows.
        return check(rest);
    }
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| TestCaseError::fail(format!("bad status line in {head:?}")))?;
    prop_assert!(
        DOCUMENTED.contains(&status),
        "undocumented status {status}: {head}"
    );
    let json = head.contains("content-type: application/json");
    let chunked = head.contains("transfer-encoding: chunked");
    if status >= 400 && json && !chunked && !rest.is_empty() {
        let v: Value = serde_json::from_slice(rest).map_err(|e| {
            TestCaseError::fail(format!("a JSON error body that is not JSON ({e}): {head}"))
        })?;
        let v = match &v {
            Value::Array(items) if !items.is_empty() => items[0].clone(),
            other => other.clone(),
        };
        prop_assert_eq!(&v["jsonrpc"], "2.0", "{}", v);
        prop_assert!(v["error"]["code"].is_i64(), "no error code in {}", v);
        prop_assert!(
            v["error"]["message"].is_string(),
            "no error message in {}",
            v
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_documented_answer(
        method in method(),
        path in path(),
        headers in prop::collection::vec(header(), 0..6),
        body in body(),
        length in prop_oneof![8 => Just(None), 1 => Just(Some(0usize)), 1 => (0usize..600).prop_map(Some)],
        with_host in prop_oneof![9 => Just(true), 1 => Just(false)],
    ) {
        let (rt, handle) = rig();
        let addr = handle.local_addr();
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        if with_host {
            request.push_str(&format!("Host: {addr}\r\n"));
        }
        for h in &headers {
            request.push_str(h);
            request.push_str("\r\n");
        }
        let chunked = headers.iter().any(|h| h.starts_with("Transfer-Encoding"));
        if !chunked {
            request.push_str(&format!("Content-Length: {}\r\n", length.unwrap_or(body.len())));
        }
        request.push_str("Connection: close\r\n\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(&body);
        let response = rt.block_on(exchange(addr, &bytes));
        check(&response)?;
        // The server is still up and answering.
        let health = rt.block_on(exchange(
            addr,
            format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        ));
        prop_assert!(health.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&health));
    }
}

/// Reads one event the way an EventSource does (lines end at `\r\n`, `\n` or `\r`; a blank
/// line ends the event): its `id`, `event` and the `data` lines joined with `\n`, and whether
/// the blank line came only at the very end.
fn read_event(frame: &[u8]) -> (Option<String>, Option<String>, String, bool) {
    let text = String::from_utf8_lossy(frame).into_owned();
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let (event_text, after) = normalized
        .split_once("\n\n")
        .expect("the frame ends with a blank line");
    let mut id = None;
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    for line in event_text.split('\n') {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => event = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    (id, event, data.join("\n"), after.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_sse_frame_is_one_event_carrying_its_data(
        id in proptest::option::of("[ -~]{0,20}"),
        event in proptest::option::of("[a-z]{1,10}"),
        data in prop::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => Just(b'\n'), 1 => 0x80u8..=0xff], 0..200),
    ) {
        let frame = mcp_sse::sse::frame(event.as_deref(), id.as_deref(), &data);
        prop_assert!(frame.ends_with(b"\n\n"));
        let (got_id, got_event, got_data, whole) = read_event(&frame);
        prop_assert!(whole, "a blank line inside the frame: {:?}", frame);
        prop_assert_eq!(got_id, id);
        prop_assert_eq!(got_event, event);
        // Empty lines of the data are dropped (JSON text has none that matter).
        let text = String::from_utf8_lossy(&data).into_owned();
        let expected: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
        prop_assert_eq!(got_data, expected.join("\n"));
    }

    #[test]
    fn json_messages_survive_sse_framing(value in any::<String>()) {
        // What the server frames is serialized JSON: control characters, `\r` and `\n`
        // included, arrive escaped and the client reads the same message back.
        let json = serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "method": "m", "params": {"v": value}})).unwrap();
        let frame = mcp_sse::sse::frame(Some("message"), None, &json);
        let (_, _, data, whole) = read_event(&frame);
        prop_assert!(whole);
        let back: Value = serde_json::from_str(&data).unwrap();
        prop_assert_eq!(&back["params"]["v"], &Value::String(value));
    }
}
