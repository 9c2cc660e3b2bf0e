//! Helpers shared by the delivery and memory tests: an echo server, a raw HTTP/1.1 keep-alive
//! connection, and an SSE stream whose reader can stop reading.

#![allow(dead_code)]

use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::{ServerHandle, SseServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub const T: Duration = Duration::from_secs(20);

pub fn echo_server() -> Server {
    Server::builder("test", "1.0")
        .auto_collect(false)
        .tool(
            Tool::new("echo", |_ctx, args| async move {
                let text = args.get("text").and_then(Value::as_str).unwrap_or("");
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .description("Echo"),
        )
        .tool(
            Tool::new("chatty", |ctx, args| async move {
                let n = args.get("n").and_then(Value::as_u64).unwrap_or(0);
                for i in 0..n {
                    ctx.progress(i as f64, Some(n as f64), None).await;
                }
                Ok(CallToolResult::success(vec![Content::text("done")]))
            })
            .description("Sends n progress notifications, then answers"),
        )
        .tool(
            Tool::new("forever", |ctx, _args| async move {
                ctx.progress(1.0, None, None).await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(CallToolResult::success(vec![]))
            })
            .description("Reports progress once, then never answers"),
        )
        .build()
        .unwrap()
}

pub async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    f(SseServer::builder(echo_server()).bind("127.0.0.1:0".parse().unwrap()))
        .start()
        .await
        .unwrap()
}

/// A connection with a small receive buffer, so that a reader that stops reading is felt
/// by the server after a few KiB rather than megabytes.
pub async fn small_buffer_connect(h: &ServerHandle) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(h.local_addr()).await.unwrap()
}

/// One HTTP/1.1 response read off a keep-alive connection.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A raw keep-alive HTTP/1.1 connection for requests with `Content-Length` answers.
pub struct Conn {
    pub sock: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(h: &ServerHandle) -> Conn {
        Conn {
            sock: TcpStream::connect(h.local_addr()).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// Sends `head` (without the blank line) and `body`, and reads one answer whose body has a
    /// `Content-Length` (or none).
    pub async fn request(&mut self, head: &str, body: &[u8]) -> Resp {
        let req = format!("{head}Content-Length: {}\r\n\r\n", body.len());
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        tokio::time::timeout(T, async {
            self.sock.write_all(&bytes).await.unwrap();
            loop {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                    let mut r = Resp {
                        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
                        head,
                        body: Vec::new(),
                    };
                    let len: usize = r.header("content-length").map_or(0, |v| v.parse().unwrap());
                    while self.buf.len() < end + 4 + len {
                        self.fill().await;
                    }
                    r.body = self.buf[end + 4..end + 4 + len].to_vec();
                    self.buf.drain(..end + 4 + len);
                    return r;
                }
                self.fill().await;
            }
        })
        .await
        .expect("no answer in time")
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

/// An open `GET /sse` stream on a raw socket.
pub struct Sse {
    pub sock: TcpStream,
    pub buf: Vec<u8>,
    pub endpoint: String,
}

impl Sse {
    pub async fn open(h: &ServerHandle) -> Sse {
        let mut sock = small_buffer_connect(h).await;
        sock.write_all(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut s = Sse {
            sock,
            buf: Vec::new(),
            endpoint: String::new(),
        };
        let first = s.next_data().await.expect("endpoint event");
        s.endpoint = first;
        s
    }

    /// The data of the next SSE event (keep-alive comments skipped); `None` at the end.
    pub async fn next_data(&mut self) -> Option<String> {
        tokio::time::timeout(T, async {
            loop {
                let text = String::from_utf8_lossy(&self.buf).into_owned();
                if let Some(end) = text.find("\n\n") {
                    let event = text[..end].to_owned();
                    self.buf.drain(..end + 2);
                    let data: Vec<&str> = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    if !data.is_empty() {
                        return Some(data.join("\n"));
                    }
                    continue;
                }
                let mut chunk = [0u8; 65536];
                match self.sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(strip_chunking(&chunk[..n])),
                }
            }
        })
        .await
        .expect("no event in time")
    }
}

/// The SSE tests read chunked bodies by ignoring the chunk-size lines: they only look for
/// `data:` lines, so the sizes between them do no harm.
fn strip_chunking(b: &[u8]) -> &[u8] {
    b
}

/// The process's resident set size in KiB (Linux).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A `tools/call` of `echo` with `text`.
pub fn echo_call(id: u64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}}
    }))
    .unwrap()
}

pub const INIT_2024: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

pub fn post_head(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
    )
}
