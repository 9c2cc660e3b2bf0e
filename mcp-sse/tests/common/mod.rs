//! Helpers shared by the mcp-sse integration tests: one test server, raw HTTP/1.1 requests
//! and keep-alive connections, an SSE stream read off a raw socket (whose reader can stop
//! reading), and waits on events rather than on the clock.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::client::{RawResponse, raw_request};
use mcp_sse::{ServerHandle, SseServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// The guard on every wait: far beyond what a loaded machine needs, so that only a real hang
/// fails a test.
pub const T: Duration = Duration::from_secs(20);

/// Counts the `forever` calls whose handler was dropped (cancelled).
struct CountDrop(Arc<watch::Sender<usize>>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n += 1);
    }
}

/// The test server: `echo` (answers `text`), `who` (answers the session id), `big` (answers
/// 256 KiB), `chatty` (sends `n` progress notifications, then answers) and `forever` (reports
/// progress once, then never answers; each cancelled call counts in `cancelled`).
pub fn test_server(cancelled: Arc<watch::Sender<usize>>) -> Server {
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
            Tool::new("who", |ctx, _args| async move {
                let id = ctx.session_id().unwrap_or("").to_owned();
                Ok(CallToolResult::success(vec![Content::text(id)]))
            })
            .description("Answers the session id"),
        )
        .tool(
            Tool::new("big", |_ctx, _args| async move {
                let text = "x".repeat(256 * 1024);
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .description("Answers 256 KiB"),
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
            Tool::new("forever", move |ctx, _args| {
                let guard = CountDrop(cancelled.clone());
                async move {
                    let _guard = guard;
                    ctx.progress(1.0, None, None).await;
                    std::future::pending::<()>().await;
                    Ok(CallToolResult::success(vec![]))
                }
            })
            .description("Reports progress once, then never answers"),
        )
        .build()
        .unwrap()
}

/// The test server, not counting cancellations.
pub fn echo_server() -> Server {
    test_server(Arc::new(watch::Sender::new(0)))
}

/// Starts `server` on 127.0.0.1:0 with the settings `f` adds.
pub async fn start_with(
    server: Server,
    f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder,
) -> ServerHandle {
    f(SseServer::builder(server).bind("127.0.0.1:0".parse().unwrap()))
        .start()
        .await
        .unwrap()
}

/// Starts the test server with the settings `f` adds.
pub async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    start_with(echo_server(), f).await
}

/// Starts the test server and returns the count of cancelled `forever` calls beside it.
pub async fn start_counting(
    f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder,
) -> (ServerHandle, watch::Receiver<usize>) {
    let cancelled = Arc::new(watch::Sender::new(0));
    let rx = cancelled.subscribe();
    (start_with(test_server(cancelled), f).await, rx)
}

/// Waits until `rx` holds a value for which `done` is true; panics naming `what` after `T`.
pub async fn wait_for<V>(what: &str, rx: &mut watch::Receiver<V>, done: impl FnMut(&V) -> bool) {
    match tokio::time::timeout(T, rx.wait_for(done)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => panic!("gone before {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// The number of tasks alive on the runtime (the server's included: it runs in the test's).
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits until the server holds exactly `n` sessions.
pub async fn wait_sessions(h: &ServerHandle, n: usize) {
    let mut count = h.watch_session_count();
    let what = format!("{n} sessions (now {})", *count.borrow());
    wait_for(&what, &mut count, |c| *c == n).await;
}

/// Checks `done` again and again until it holds, for what only shows by looking (whether the
/// server noticed a closed socket, the runtime's task count); panics naming `what` after `T`.
pub async fn poll_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A `GET` asking to close the connection after the answer, with `extra` header lines.
pub fn get(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n")
        .into_bytes()
}

/// A `POST` of `body` as `ctype`, asking to close the connection after the answer.
pub fn post(target: &str, ctype: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `request` verbatim on a new connection and reads the answer to the end.
pub async fn send(h: &ServerHandle, request: &[u8]) -> RawResponse {
    raw_request(h.local_addr(), request)
        .await
        .unwrap_or_else(|e| panic!("no answer: {e}"))
}

/// A whole answer as text, its body de-chunked.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The body as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The events of an SSE body, in order: their id and their data.
    pub fn events(&self) -> Vec<(Option<String>, String)> {
        self.body
            .split("\n\n")
            .filter_map(|ev| {
                let id = ev
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .map(str::to_owned);
                let data = ev.lines().find_map(|l| l.strip_prefix("data: "))?;
                Some((id, data.to_owned()))
            })
            .collect()
    }

    /// The messages of the body: one JSON document, or the `data:` payloads of an SSE stream.
    pub fn messages(&self) -> Vec<Value> {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            self.events()
                .iter()
                .map(|(_, d)| serde_json::from_str(d).unwrap())
                .collect()
        } else if self.body.is_empty() {
            Vec::new()
        } else {
            vec![self.json()]
        }
    }
}

/// Sends `request` verbatim on a new connection and reads the whole answer as text.
pub async fn exchange(h: &ServerHandle, request: &str) -> Answer {
    let r = send(h, request.as_bytes()).await;
    Answer {
        status: r.status,
        head: r.head,
        body: String::from_utf8_lossy(&r.body).into_owned(),
    }
}

/// The JSON body of an answer.
pub fn json_body(r: &RawResponse) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)))
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
        Conn::to(h.local_addr()).await
    }

    /// A connection to the server at `addr`.
    pub async fn to(addr: std::net::SocketAddr) -> Conn {
        Conn {
            sock: TcpStream::connect(addr).await.unwrap(),
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
    /// Opens `GET /sse` on a connection with a small receive buffer and reads the endpoint.
    pub async fn open(h: &ServerHandle) -> Sse {
        let (mut s, head) = Sse::connect(small_buffer_connect(h).await, "/sse", "").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        s.endpoint = s.next_data().await.expect("endpoint event");
        s
    }

    /// A stream on `sock`, whose request was sent and whose answer is left unread.
    pub fn on(sock: TcpStream) -> Sse {
        Sse {
            sock,
            buf: Vec::new(),
            endpoint: String::new(),
        }
    }

    /// Everything left on the stream up to its end; panics if it does not end within `T`.
    pub async fn read_rest(mut self) -> String {
        tokio::time::timeout(T, self.sock.read_to_end(&mut self.buf))
            .await
            .expect("the stream did not end")
            .unwrap();
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    /// Sends `GET path` with `extra` header lines on `sock` and reads the response head (returned
    /// with its blank line); the endpoint is left unread.
    pub async fn connect(mut sock: TcpStream, path: &str, extra: &str) -> (Sse, String) {
        let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n");
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut s = Sse::on(sock);
        let head = s.until("\r\n\r\n").await;
        (s, head)
    }

    /// The bytes up to and including the next `pat`, exactly as sent (chunk sizes included).
    pub async fn until(&mut self, pat: &str) -> String {
        tokio::time::timeout(T, async {
            loop {
                if let Some(i) = self
                    .buf
                    .windows(pat.len())
                    .position(|w| w == pat.as_bytes())
                {
                    let out: Vec<u8> = self.buf.drain(..i + pat.len()).collect();
                    return String::from_utf8(out).unwrap();
                }
                let mut chunk = [0u8; 8192];
                let n = self.sock.read(&mut chunk).await.unwrap();
                assert!(
                    n > 0,
                    "stream closed; had {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
                self.buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {pat:?} on the stream"))
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
