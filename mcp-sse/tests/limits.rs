//! The HTTP layer's limits and refusals, on raw sockets: a refused body's 413 is readable,
//! the header section limits are exact, and repeated or missing fields are refused.

mod common;

use common::{T, start};
use mcp_sse::ServerHandle;
use mcp_sse::client::raw_request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn status_of(resp: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(resp);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// Sends `head` and the whole `body` as a simple client does, then reads the answer until the
/// server closes the connection.
async fn send_reading(h: &ServerHandle, head: String, body: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut sock = TcpStream::connect(h.local_addr()).await.unwrap();
    tokio::time::timeout(T, async {
        sock.write_all(head.as_bytes()).await?;
        sock.write_all(&body).await?;
        let mut out = Vec::new();
        sock.read_to_end(&mut out).await?;
        Ok(out)
    })
    .await
    .expect("no answer in time")
}

fn post_head(path: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn an_oversized_body_gets_a_readable_413() {
    // Bodies larger than the socket buffers hold, so the server must read them for the client
    // to finish sending.
    let h = start(|b| b.max_body_bytes(16 * 1024).max_discard_bytes(64 << 20)).await;
    // Over the limit by Content-Length and by the bytes of a chunked body: the client reads
    // the 413 instead of a reset.
    for _ in 0..3 {
        let body = vec![b' '; 32 << 20];
        let resp = send_reading(&h, post_head("/mcp", body.len(), ""), body)
            .await
            .expect("the 413 is readable");
        assert_eq!(status_of(&resp), 413);
        assert!(String::from_utf8_lossy(&resp).contains("16384 bytes"));
    }
    let head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned();
    let mut body = Vec::new();
    for _ in 0..1024 {
        body.extend_from_slice(format!("{:x}\r\n", 32 * 1024).as_bytes());
        body.extend_from_slice(&[b' '; 32 * 1024]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let resp = send_reading(&h, head, body)
        .await
        .expect("the 413 is readable");
    assert_eq!(status_of(&resp), 413);
    h.shutdown().await;
}

#[tokio::test]
async fn expect_continue_over_the_limit_is_answered_before_the_body() {
    let h = start(|b| b.max_body_bytes(16 * 1024)).await;
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.write_all(post_head("/mcp", 1 << 20, "Expect: 100-continue\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&out), 413, "{}", String::from_utf8_lossy(&out));
    assert!(!String::from_utf8_lossy(&out).contains("100 Continue"));
    h.shutdown().await;
}

/// A GET /health whose header section (names and values) is exactly `size` bytes in
/// `count` field lines.
fn health_with(size: usize, count: usize) -> Vec<u8> {
    let host = ("host", "127.0.0.1");
    let close = ("connection", "close");
    let mut fields = vec![host, close];
    let mut used: usize = fields.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut req = String::from("GET /health HTTP/1.1\r\n");
    for (n, v) in &fields {
        req += &format!("{n}: {v}\r\n");
    }
    fields.clear();
    let pads = count - 2;
    for i in 0..pads {
        let name = format!("x-p{i:03}");
        let left = size - used;
        let share = if i + 1 == pads {
            left - name.len()
        } else {
            left / (pads - i) - name.len()
        };
        req += &format!("{name}: {}\r\n", "a".repeat(share));
        used += name.len() + share;
    }
    assert_eq!(used, size);
    req += "\r\n";
    req.into_bytes()
}

#[tokio::test]
async fn the_header_limits_are_exact() {
    let h = start(|b| b).await;
    let limit = 64 * 1024;
    let ok = raw_request(h.local_addr(), &health_with(limit, 100))
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.head);
    for (size, count) in [
        (limit + 1, 10),
        (limit + 1, 3),
        (1000, 101),
        (65 * 1024 + 100, 66),
    ] {
        let r = raw_request(h.local_addr(), &health_with(size, count))
            .await
            .unwrap();
        assert_eq!(r.status, 431, "{size} bytes in {count} fields");
    }
    h.shutdown().await;
    let h = start(|b| b.max_header_bytes(4096).max_headers(20)).await;
    assert_eq!(
        raw_request(h.local_addr(), &health_with(4096, 20))
            .await
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        raw_request(h.local_addr(), &health_with(4097, 20))
            .await
            .unwrap()
            .status,
        431
    );
    assert_eq!(
        raw_request(h.local_addr(), &health_with(500, 21))
            .await
            .unwrap()
            .status,
        431
    );
    h.shutdown().await;
}

async fn status(h: &ServerHandle, req: &[u8]) -> u16 {
    raw_request(h.local_addr(), req).await.unwrap().status
}

#[tokio::test]
async fn host_must_be_present_once_and_valid() {
    let h = start(|b| b).await;
    let cases: [(&[u8], u16); 6] = [
        (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 200),
        (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: local\xffhost\r\nConnection: close\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 403),
    ];
    for (req, want) in cases {
        assert_eq!(
            status(&h, req).await,
            want,
            "{}",
            String::from_utf8_lossy(req)
        );
    }
    // Opening a stream with two Host headers creates no session.
    let r = raw_request(
        h.local_addr(),
        b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn a_repeated_authorization_is_401() {
    let h = start(|b| b.bearer_tokens(["good"])).await;
    let once = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_eq!(status(&h, once).await, 200);
    let sse = |auth: &str| {
        format!("GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n")
    };
    let twice = sse("Authorization: Bearer good\r\nAuthorization: Bearer bad\r\n");
    assert_eq!(status(&h, twice.as_bytes()).await, 401);
    let twice = sse("Authorization: Bearer good\r\nAuthorization: Bearer good\r\n");
    assert_eq!(status(&h, twice.as_bytes()).await, 401);
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// Opens a Streamable HTTP session; its id.
async fn initialize(h: &ServerHandle) -> String {
    let req = format!(
        "{}{INIT}",
        post_head("/mcp", INIT.len(), "Connection: close\r\n")
    );
    let r = raw_request(h.local_addr(), req.as_bytes()).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.head);
    r.header("mcp-session-id").unwrap().to_owned()
}

#[tokio::test]
async fn repeated_session_ids_and_bad_versions_on_delete_are_400() {
    let h = start(|b| b).await;
    let id = initialize(&h).await;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let twice = format!(
        "{}{list}",
        post_head(
            "/mcp",
            list.len(),
            &format!("Mcp-Session-Id: {id}\r\nMcp-Session-Id: other\r\nConnection: close\r\n")
        )
    );
    assert_eq!(status(&h, twice.as_bytes()).await, 400);
    let get = format!(
        "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {id}\r\nMcp-Session-Id: {id}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(status(&h, get.as_bytes()).await, 400);
    let delete = |version: &str| {
        format!(
            "DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: {version}\r\nConnection: close\r\n\r\n"
        )
    };
    assert_eq!(status(&h, delete("1999-01-01").as_bytes()).await, 400);
    assert_eq!(h.session_count(), 1, "a refused DELETE leaves the session");
    let delete_twice = format!(
        "DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: {id}\r\nMcp-Session-Id: {id}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(status(&h, delete_twice.as_bytes()).await, 400);
    assert_eq!(h.session_count(), 1);
    assert_eq!(status(&h, delete("2025-06-18").as_bytes()).await, 200);
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}
