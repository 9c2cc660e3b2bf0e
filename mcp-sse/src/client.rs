//! A small test client for the HTTP+SSE transport over raw TCP (HTTP/1.1): it opens `/sse`,
//! reads the `endpoint` event, POSTs messages and yields the messages received on the stream.
//! It exists for tests and load tools; it is not a general HTTP client.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Errors of the test client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Socket failure.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered something unexpected.
    #[error("unexpected response: {0}")]
    Protocol(String),
    /// The guard timeout passed.
    #[error("timed out")]
    Timeout,
}

/// A raw HTTP response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// The head (status line + headers) as text.
    pub head: String,
    /// The body bytes (de-chunked when chunked).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` bytes verbatim on a new connection and reads the response until the server
/// closes the connection (send `Connection: close`). Guarded by a 10 s timeout.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> Result<RawResponse, ClientError> {
    let fut = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(request).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        parse_response(&buf)
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| ClientError::Timeout)?
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_response(buf: &[u8]) -> Result<RawResponse, ClientError> {
    let end = find(buf, b"\r\n\r\n")
        .ok_or_else(|| ClientError::Protocol("no complete response head".into()))?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ClientError::Protocol(format!("bad status line in {head:?}")))?;
    let mut r = RawResponse {
        status,
        head,
        body: Vec::new(),
    };
    let rest = &buf[end + 4..];
    r.body = if r
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut d = Dechunker::default();
        d.push(rest);
        d.out
    } else {
        rest.to_vec()
    };
    Ok(r)
}

/// Incremental decoder of HTTP/1.1 chunked transfer coding.
#[derive(Debug, Default)]
struct Dechunker {
    pending: Vec<u8>,
    out: Vec<u8>,
    finished: bool,
}

impl Dechunker {
    fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while !self.finished {
            let Some(eol) = find(&self.pending, b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.pending[..eol]);
            let size =
                usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
            if size == 0 {
                self.finished = true;
                return;
            }
            if self.pending.len() < eol + 2 + size + 2 {
                return;
            }
            self.out
                .extend_from_slice(&self.pending[eol + 2..eol + 2 + size]);
            self.pending.drain(..eol + 2 + size + 2);
        }
    }
}

/// A connected SSE session.
#[derive(Debug)]
pub struct SseClient {
    addr: SocketAddr,
    endpoint: String,
    headers: Vec<(String, String)>,
    events: mpsc::UnboundedReceiver<SseEvent>,
    reader: JoinHandle<()>,
    stash: Vec<Value>,
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl SseClient {
    /// Opens `GET <path>` on `addr` with `headers` (e.g. `Authorization`) and waits for the
    /// endpoint event.
    pub async fn connect(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<SseClient, ClientError> {
        let mut s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let mut req =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let end = loop {
            if let Some(e) = find(&buf, b"\r\n\r\n") {
                break e;
            }
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Err(ClientError::Protocol(
                    "connection closed before headers".into(),
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 200") {
            return Err(ClientError::Protocol(head));
        }
        let rest = buf[end + 4..].to_vec();
        let (tx, mut events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut d = Dechunker::default();
            d.push(&rest);
            let mut chunk = vec![0u8; 65536];
            loop {
                while let Some(e) = find(&d.out, b"\n\n") {
                    let frame: Vec<u8> = d.out.drain(..e + 2).collect();
                    if let Some(ev) = parse_event(&frame)
                        && tx.send(ev).is_err()
                    {
                        return;
                    }
                }
                if d.finished {
                    return;
                }
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => d.push(&chunk[..n]),
                }
            }
        });
        let first = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .map_err(|_| ClientError::Timeout)?
            .ok_or_else(|| ClientError::Protocol("stream ended before endpoint".into()))?;
        if first.event != "endpoint" {
            return Err(ClientError::Protocol(format!("first event {first:?}")));
        }
        Ok(SseClient {
            addr,
            endpoint: first.data,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            events,
            reader,
            stash: Vec::new(),
        })
    }

    /// The endpoint the server announced (relative URL).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The session id in the endpoint URL.
    pub fn session_id(&self) -> &str {
        self.endpoint.split("sessionId=").nth(1).unwrap_or("")
    }

    /// POSTs `body` to the endpoint; returns the response.
    pub async fn post(&self, body: &[u8]) -> Result<RawResponse, ClientError> {
        let mut req = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.endpoint,
            self.addr,
            body.len()
        );
        for (k, v) in &self.headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        raw_request(self.addr, &bytes).await
    }

    /// The next event of any kind (keep-alive comments are not events); `None` when the
    /// stream ended. Guarded by a 10 s timeout.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent>, ClientError> {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .map_err(|_| ClientError::Timeout)
    }

    /// The next JSON-RPC message received on the stream.
    pub async fn next_message(&mut self) -> Result<Value, ClientError> {
        if !self.stash.is_empty() {
            return Ok(self.stash.remove(0));
        }
        loop {
            match self.next_event().await? {
                None => return Err(ClientError::Protocol("stream ended".into())),
                Some(ev) if ev.event == "message" => {
                    return serde_json::from_str(&ev.data)
                        .map_err(|e| ClientError::Protocol(e.to_string()));
                }
                Some(_) => {}
            }
        }
    }

    /// Sends request `method` with `id` and waits for its response (other messages received
    /// meanwhile are kept for [`SseClient::next_message`]).
    pub async fn request(
        &mut self,
        id: i64,
        method: &str,
        params: Value,
    ) -> Result<Value, ClientError> {
        let body = serde_json::json!({"jsonrpc":"2.0","id":id,"method":method,"params":params});
        let r = self.post(body.to_string().as_bytes()).await?;
        if r.status != 202 {
            return Err(ClientError::Protocol(format!("POST answered {}", r.status)));
        }
        if let Some(i) = self.stash.iter().position(|m| m["id"] == id) {
            return Ok(self.stash.remove(i));
        }
        loop {
            let m = self.next_message_fresh().await?;
            if m["id"] == id {
                return Ok(m);
            }
            self.stash.push(m);
        }
    }

    async fn next_message_fresh(&mut self) -> Result<Value, ClientError> {
        let stash = std::mem::take(&mut self.stash);
        let r = self.next_message().await;
        self.stash = stash;
        r
    }

    /// Sends `initialize` (2024-11-05) and `notifications/initialized`.
    pub async fn initialize(&mut self) -> Result<Value, ClientError> {
        self.initialize_with("2024-11-05").await
    }

    /// Sends `initialize` asking for protocol `version`, then `notifications/initialized`.
    pub async fn initialize_with(&mut self, version: &str) -> Result<Value, ClientError> {
        let r = self
            .request(
                0,
                "initialize",
                serde_json::json!({"protocolVersion":version,"capabilities":{},
                    "clientInfo":{"name":"mcp-sse-test-client","version":"0"}}),
            )
            .await?;
        self.post(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await?;
        Ok(r)
    }
}

fn parse_event(frame: &[u8]) -> Option<SseEvent> {
    let text = String::from_utf8_lossy(frame);
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = Some(v.trim_start().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if event.is_none() && data.is_empty() {
        return None;
    }
    Some(SseEvent {
        event: event.unwrap_or_else(|| "message".into()),
        data: data.join("\n"),
    })
}
