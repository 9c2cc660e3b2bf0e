//! HTTP/1 connections whose first request opens an event stream are served outside hyper's
//! connection state: raw-socket checks of what a client sees there (framing, the connection
//! ending with the response, pipelined and slow heads, limits, disconnects, shutdown), and of
//! every other request still reaching hyper unchanged.

use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::ServerHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::wait_sessions;

const T: Duration = Duration::from_secs(20);

fn server() -> Server {
    Server::builder("test", "1.0")
        .auto_collect(false)
        .tool(Tool::new("echo", |_ctx, args| async move {
            let text = args.get("text").and_then(|t| t.as_str()).unwrap_or("");
            Ok(CallToolResult::success(vec![Content::text(text)]))
        }))
        .build()
        .unwrap()
}

async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    common::start_with(server(), f).await
}

/// A raw connection and what was read from it so far.
struct Raw {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    async fn open(h: &ServerHandle) -> Raw {
        Raw {
            sock: TcpStream::connect(h.local_addr()).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).await.unwrap();
    }

    /// Reads more; `false` at the end of the connection.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        match tokio::time::timeout(T, self.sock.read(&mut chunk))
            .await
            .expect("nothing read in time")
        {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The response head (status line and fields, lower-cased names).
    async fn head(&mut self) -> (u16, Vec<(String, String)>) {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8(self.buf[..end].to_vec()).unwrap();
                self.buf.drain(..end + 4);
                let mut lines = text.split("\r\n");
                let status = lines.next().unwrap();
                assert!(status.starts_with("HTTP/1."), "{status}");
                let code = status[9..12].parse().unwrap();
                let fields = lines
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap();
                        (k.to_ascii_lowercase(), v.trim().to_owned())
                    })
                    .collect();
                return (code, fields);
            }
            assert!(self.fill().await, "closed before a response head");
        }
    }

    /// The next chunk of a chunked body, checked strictly; `None` for the last chunk.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(eol) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let size = std::str::from_utf8(&self.buf[..eol]).unwrap();
                let size = usize::from_str_radix(size, 16).expect("a chunk size in hex");
                while self.buf.len() < eol + 2 + size + 2 {
                    assert!(self.fill().await, "closed inside a chunk");
                }
                assert_eq!(&self.buf[eol + 2 + size..eol + 4 + size], b"\r\n");
                let data = self.buf[eol + 2..eol + 2 + size].to_vec();
                self.buf.drain(..eol + 4 + size);
                return (size > 0).then_some(data);
            }
            assert!(self.fill().await, "closed before a chunk");
        }
    }

    /// Reads to the end of the connection; what came after the last read.
    async fn rest(&mut self) -> Vec<u8> {
        while self.fill().await {}
        std::mem::take(&mut self.buf)
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const GET_SSE: &[u8] = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// An HTTP+SSE stream: chunked, `Connection: close`, the endpoint event first; ended by the
/// server (shutdown), the body ends with its last chunk and the connection closes.
#[tokio::test]
async fn a_stream_is_chunked_and_ends_with_its_connection() {
    let h = start(|b| b).await;
    let mut c = Raw::open(&h).await;
    c.send(GET_SSE).await;
    let (status, fields) = c.head().await;
    assert_eq!(status, 200);
    assert_eq!(field(&fields, "content-type"), Some("text/event-stream"));
    assert_eq!(field(&fields, "transfer-encoding"), Some("chunked"));
    assert_eq!(field(&fields, "connection"), Some("close"));
    assert!(field(&fields, "date").is_some());
    assert_eq!(field(&fields, "content-length"), None);
    let first = String::from_utf8(c.chunk().await.unwrap()).unwrap();
    assert!(
        first.starts_with("event: endpoint\ndata: /messages?sessionId="),
        "{first}"
    );
    assert_eq!(h.session_count(), 1);
    let stop = tokio::spawn(h.shutdown());
    assert_eq!(c.chunk().await, None, "the last chunk ends the stream");
    assert_eq!(c.rest().await, b"", "nothing after the last chunk");
    tokio::time::timeout(T, stop)
        .await
        .expect("shutdown waited on the stream")
        .unwrap();
}

/// Bytes pipelined after the `GET` are not served: the stream works, and the connection
/// carries that one response.
#[tokio::test]
async fn pipelined_requests_after_a_stream_are_not_served() {
    let h = start(|b| b).await;
    let mut c = Raw::open(&h).await;
    let mut bytes = GET_SSE.to_vec();
    bytes.extend_from_slice(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    c.send(&bytes).await;
    let (status, _) = c.head().await;
    assert_eq!(status, 200);
    assert!(c.chunk().await.unwrap().starts_with(b"event: endpoint"));
    // More input while the stream is open is read and dropped, not answered.
    c.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await;
    let stop = tokio::spawn(h.shutdown());
    assert_eq!(c.chunk().await, None);
    assert_eq!(c.rest().await, b"");
    stop.await.unwrap();
}

/// A head that arrives in pieces, split inside the method and the path, is served.
#[tokio::test]
async fn a_slow_head_is_served() {
    let h = start(|b| b).await;
    let mut c = Raw::open(&h).await;
    for piece in [
        &GET_SSE[..2],
        &GET_SSE[2..7],
        &GET_SSE[7..20],
        &GET_SSE[20..],
    ] {
        c.send(piece).await;
        // The pause is the behaviour under test: each piece arrives on its own.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (status, _) = c.head().await;
    assert_eq!(status, 200);
    assert!(c.chunk().await.unwrap().starts_with(b"event: endpoint"));
    h.shutdown().await;
}

/// A head never finished is dropped at the header timeout, without a session.
#[tokio::test]
async fn an_unfinished_head_is_dropped_at_the_header_timeout() {
    let h = start(|b| b.header_read_timeout(Duration::from_millis(300))).await;
    let mut c = Raw::open(&h).await;
    c.send(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n").await;
    assert_eq!(c.rest().await, b"");
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}

/// Heads over the limits get 431, whether the head fits the read limit (the service refuses
/// it) or not (hyper does), and no session is opened.
#[tokio::test]
async fn heads_over_the_limits_get_431() {
    let h = start(|b| b.max_header_bytes(4096).max_headers(10)).await;
    for extra in [
        format!("X-Big: {}\r\n", "a".repeat(5000)),
        format!("X-Big: {}\r\n", "a".repeat(200_000)),
        "X-Many: 1\r\n".repeat(11),
        "X-Many: 1\r\n".repeat(200),
    ] {
        let mut c = Raw::open(&h).await;
        let head = format!("GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
        // The server may answer and close before reading everything.
        let _ = c.sock.write_all(head.as_bytes()).await;
        let (status, _) = c.head().await;
        assert_eq!(status, 431, "{} bytes", extra.len());
    }
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}

/// A client that leaves is noticed at once: its session ends.
#[tokio::test]
async fn a_client_that_leaves_ends_its_session() {
    let h = start(|b| b.keep_alive(Duration::from_secs(3600))).await;
    let mut c = Raw::open(&h).await;
    c.send(GET_SSE).await;
    c.head().await;
    c.chunk().await.unwrap();
    assert_eq!(h.session_count(), 1);
    drop(c);
    wait_sessions(&h, 0).await;
    h.shutdown().await;
}

/// A client that stops reading while its session's messages pile up is cut off by the stall
/// policy: the session ends and the connection is dropped.
#[tokio::test]
async fn a_stalled_stream_is_killed() {
    let h = start(|b| {
        b.session_queue(2)
            .max_pending(4, 1 << 20)
            .stall_timeout(Duration::from_millis(200))
    })
    .await;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut c = Raw {
        sock: sock.connect(h.local_addr()).await.unwrap(),
        buf: Vec::new(),
    };
    c.send(GET_SSE).await;
    c.head().await;
    let endpoint = String::from_utf8(c.chunk().await.unwrap()).unwrap();
    let path = endpoint
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap()
        .to_owned();
    let mut post = Raw::open(&h).await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let big = "x".repeat(60_000);
    let calls = (1..400).map(|id| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{big}"}}}}}}"#)
    });
    // Answers go to the stream, never read, until the session is gone.
    let mut ended = false;
    for body in [init.to_owned(), initialized.to_owned()]
        .into_iter()
        .chain(calls)
    {
        post.send(
            format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
        let (status, fields) = post.head().await;
        let len: usize = field(&fields, "content-length").unwrap().parse().unwrap();
        while post.buf.len() < len {
            assert!(post.fill().await);
        }
        post.buf.drain(..len);
        match status {
            202 => {}
            // Refused for now (the session is full): retry after a pause, as a client would.
            429 => tokio::time::sleep(Duration::from_millis(50)).await,
            404 => {
                ended = true;
                break;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(ended, "the stalled session was never ended");
    wait_sessions(&h, 0).await;
    // The connection was dropped: reading what is left reaches its end.
    let mut rest = Vec::new();
    let gone = tokio::time::timeout(T, async {
        let mut chunk = [0u8; 65536];
        loop {
            match c.sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(gone.is_ok(), "the stalled connection stayed open");
    h.shutdown().await;
}

/// Requests that are not a body-less HTTP/1.1 `GET` of a stream path reach hyper: a `HEAD`
/// or a `POST` of `/sse` (405 on a connection that stays open), a `GET` with a body framing
/// field, an HTTP/1.0 `GET`.
#[tokio::test]
async fn other_requests_reach_hyper() {
    let h = start(|b| b).await;
    for method in ["HEAD", "POST", "PUT"] {
        let mut c = Raw::open(&h).await;
        c.send(
            format!("{method} /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .await;
        let (status, fields) = c.head().await;
        assert_eq!(status, 405, "{method}");
        assert_eq!(field(&fields, "connection"), None, "{method}");
        // The connection is still open for another request.
        c.buf.clear();
        c.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await;
        loop {
            if c.buf.windows(12).any(|w| w == b"HTTP/1.1 200") {
                break;
            }
            assert!(c.fill().await, "{method}: connection closed");
        }
    }
    // A `GET` of the stream with `Content-Length: 0`: hyper serves the stream.
    let mut c = Raw::open(&h).await;
    c.send(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        .await;
    let (status, fields) = c.head().await;
    assert_eq!(status, 200);
    assert_eq!(field(&fields, "connection"), None);
    assert!(c.chunk().await.unwrap().starts_with(b"event: endpoint"));
    // HTTP/1.0 has no chunked bodies: hyper serves the stream, delimited by the close.
    let mut old = Raw::open(&h).await;
    old.send(b"GET /sse HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await;
    let (status, fields) = old.head().await;
    assert_eq!(status, 200);
    assert_eq!(field(&fields, "transfer-encoding"), None);
    while !old.buf.starts_with(b"event: endpoint") {
        assert!(old.fill().await);
    }
    wait_sessions(&h, 2).await;
    h.shutdown().await;
}

/// The service's checks apply unchanged, and its refusals are written here with a
/// `Content-Length` and the connection closing: a duplicate `Host`, a foreign Origin, a
/// Streamable `GET` without a session, a path outside the mount prefix.
#[tokio::test]
async fn refusals_of_stream_requests() {
    let h = start(|b| b.mount_prefix("/api")).await;
    for (head, want) in [
        (
            "GET /api/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n",
            400,
        ),
        ("GET /api/sse HTTP/1.1\r\n\r\n", 400),
        (
            "GET /api/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n\r\n",
            403,
        ),
        (
            "GET /api/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
            400,
        ),
        ("GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
    ] {
        let mut c = Raw::open(&h).await;
        c.send(head.as_bytes()).await;
        let (status, fields) = c.head().await;
        assert_eq!(status, want, "{head:?}");
        let len: usize = field(&fields, "content-length").unwrap().parse().unwrap();
        if status == 404 {
            // Outside the prefix: not a stream path, hyper answers.
            assert_eq!(field(&fields, "connection"), None);
            continue;
        }
        assert_eq!(field(&fields, "connection"), Some("close"), "{head:?}");
        assert_eq!(c.rest().await.len(), len, "{head:?}");
    }
    assert_eq!(h.session_count(), 0);
    // Under the prefix, the stream is served.
    let mut c = Raw::open(&h).await;
    c.send(b"GET /api/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await;
    assert_eq!(c.head().await.0, 200);
    let first = String::from_utf8(c.chunk().await.unwrap()).unwrap();
    assert!(first.contains("data: /api/messages?sessionId="), "{first}");
    h.shutdown().await;
}

/// A Streamable HTTP session's standalone stream, opened on its own connection: served here,
/// and it carries what the server sends.
#[tokio::test]
async fn a_streamable_standalone_stream() {
    let h = start(|b| b).await;
    let mut post = Raw::open(&h).await;
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    post.send(
        format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{init}",
            init.len()
        )
        .as_bytes(),
    )
    .await;
    let (status, fields) = post.head().await;
    assert_eq!(status, 200);
    let id = field(&fields, "mcp-session-id").unwrap().to_owned();
    let mut get = Raw::open(&h).await;
    get.send(
        format!(
            "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    let (status, fields) = get.head().await;
    assert_eq!(status, 200);
    assert_eq!(field(&fields, "transfer-encoding"), Some("chunked"));
    assert_eq!(field(&fields, "connection"), Some("close"));
    // A second standalone stream of the session is refused (409), on its own connection.
    let mut again = Raw::open(&h).await;
    again
        .send(
            format!(
                "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(again.head().await.0, 409);
    // Ended by the server: the last chunk, then the end of the connection.
    let stop = tokio::spawn(h.shutdown());
    while get.chunk().await.is_some() {}
    assert_eq!(get.rest().await, b"");
    stop.await.unwrap();
}
