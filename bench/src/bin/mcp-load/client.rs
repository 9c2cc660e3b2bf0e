//! MCP clients for the two HTTP transports, on hyper's low-level HTTP/1.1 client.
//!
//! * Legacy HTTP+SSE (2024-11-05): one `GET /sse` stream per session carrying the `endpoint`
//!   event and then every answer; requests are `POST`ed to the endpoint and answered `202`.
//! * Streamable HTTP (2025-11-25): `POST /mcp` with `Mcp-Session-Id`; each request is answered
//!   on its own response, as `application/json` or as a `text/event-stream`.
//! * Stateless Streamable HTTP (2026-07-28): `POST /mcp` with no handshake and no session; every
//!   request carries the revision's `_meta` and the `MCP-Protocol-Version`, `Mcp-Method` and
//!   `Mcp-Name` headers.
//!
//! POSTs go through a [`PostPool`]: in load mode each session owns a pool of one connection
//! (like a real client), in idle mode thousands of sessions share a few connections so that the
//! generator does not churn through ephemeral ports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::sse;

/// Errors of the generator: anything unexpected ends the session and is counted.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Which HTTP transport to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Legacy HTTP+SSE: `GET /sse` + `POST /messages?sessionId=..`.
    Sse,
    /// Streamable HTTP: `POST /mcp` with `Mcp-Session-Id`.
    Streamable,
    /// Stateless Streamable HTTP (2026-07-28): `POST /mcp`, no session.
    Stateless,
}

/// Where the server is and what to call.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's socket address.
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub authority: String,
    /// Path prefix before `/sse` or `/mcp` (empty by default).
    pub prefix: String,
}

/// How many loopback source addresses connections are spread over (0: the system's choice).
/// One source address gives only about 28,000 ephemeral ports toward one server port.
static SOURCES: AtomicUsize = AtomicUsize::new(0);
static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

/// Spreads the connections opened from now on over `n` source addresses, 127.0.1.1 onwards
/// (all of 127.0.0.0/8 is loopback).
pub fn spread_sources(n: usize) {
    SOURCES.store(n, Ordering::Relaxed);
}

/// A TCP connection to `addr`, from the next source address when they are spread.
pub async fn tcp(addr: SocketAddr) -> Result<TcpStream, Error> {
    let n = SOURCES.load(Ordering::Relaxed);
    let stream = if n == 0 {
        TcpStream::connect(addr).await?
    } else {
        let i = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % n;
        let ip = std::net::Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(ip.into(), 0))?;
        socket.connect(addr).await?
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// An HTTP/2 (prior knowledge) connection whose streams carry `GET` event streams.
pub async fn connect_h2(addr: SocketAddr) -> Result<H2, Error> {
    let stream = tcp(addr).await?;
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The sending half of an HTTP/2 connection.
pub type H2 = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

/// Where a session's event stream travels: its own HTTP/1.1 connection, or a stream of a
/// shared HTTP/2 connection.
#[derive(Debug, Clone, Default)]
pub enum StreamConn {
    /// One HTTP/1.1 connection per stream.
    #[default]
    Own,
    /// A stream of this HTTP/2 connection.
    H2(H2),
}

impl StreamConn {
    /// Sends the `GET` of an event stream; the response, and what keeps its connection.
    async fn get(
        &self,
        addr: SocketAddr,
        req: Request<Empty<Bytes>>,
    ) -> Result<
        (
            hyper::Response<hyper::body::Incoming>,
            Option<SendRequest<Empty<Bytes>>>,
        ),
        Error,
    > {
        match self {
            StreamConn::Own => {
                let mut conn = connect::<Empty<Bytes>>(addr).await?;
                let resp = conn.send_request(req).await?;
                Ok((resp, Some(conn)))
            }
            StreamConn::H2(h2) => {
                let (mut parts, body) = req.into_parts();
                // HTTP/2 requests carry an absolute URI (`:authority` from it).
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok());
                let host = host.unwrap_or_default().to_owned();
                parts.uri = format!("http://{host}{}", parts.uri).parse()?;
                parts.headers.remove(header::HOST);
                let resp = h2
                    .clone()
                    .send_request(Request::from_parts(parts, body))
                    .await?;
                Ok((resp, None))
            }
        }
    }
}

async fn connect<B>(addr: SocketAddr) -> Result<SendRequest<B>, Error>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tcp(addr).await?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the server or the generator closes it; either is normal here.
        let _ = conn.await;
    });
    Ok(sender)
}

/// A set of keep-alive connections used for POSTs, handed out round-robin.
#[derive(Debug)]
pub struct PostPool {
    addr: SocketAddr,
    conns: Vec<Mutex<Option<SendRequest<Full<Bytes>>>>>,
    next: AtomicUsize,
}

impl PostPool {
    /// A pool of `size` lazily opened connections to `addr`.
    pub fn new(addr: SocketAddr, size: usize) -> Arc<Self> {
        Arc::new(PostPool {
            addr,
            conns: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// Sends one request on the next connection, (re)opening it if needed.
    pub async fn send(
        &self,
        req: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, Error> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let mut slot = self.conns[i].lock().await;
        let usable = match slot.as_mut() {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            *slot = Some(connect(self.addr).await?);
        }
        let sender = slot.as_mut().ok_or("no connection")?;
        Ok(sender.send_request(req).await?)
    }
}

fn initialize_body(version: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"mcp-load","version":"0.1.0"}}}}}}"#
    ))
}

const INITIALIZED: &[u8] = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

fn call_body(id: u64, tool: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"a":{id},"b":1}}}}}}"#
    ))
}

/// The stateless revision's `tools/call`: the same call, with the per-request `_meta`.
fn stateless_call_body(id: u64, tool: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"a":{id},"b":1}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{STATELESS_VERSION}","io.modelcontextprotocol/clientCapabilities":{{}},"io.modelcontextprotocol/clientInfo":{{"name":"mcp-load","version":"0.1.0"}}}}}}}}"#
    ))
}

/// What the generator reads of a message: the members that say whether it is the successful
/// answer to a request. Everything else is skipped, not built into a tree, so the generator
/// spends as little as it can on each answer.
#[derive(serde::Deserialize)]
struct Answer<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, borrow)]
    error: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    result: Option<AnswerResult>,
}

#[derive(serde::Deserialize)]
struct AnswerResult {
    #[serde(default, rename = "isError")]
    is_error: Option<bool>,
}

/// Checks whether `data` is the successful answer to request `id`: `false` for another
/// message, an error for a failed answer.
fn check_answer(data: &[u8], id: u64) -> Result<bool, Error> {
    let msg: Answer<'_> = serde_json::from_slice(data)?;
    if msg.id.as_ref().and_then(Value::as_u64) != Some(id) {
        // A notification or another message: not the answer we wait for.
        return Ok(false);
    }
    if let Some(err) = msg.error {
        return Err(format!("request {id} failed: {err}").into());
    }
    let result = msg.result.ok_or("response without result")?;
    if result.is_error == Some(true) {
        return Err("tool error (isError: true)".into());
    }
    Ok(true)
}

/// One client session on either transport.
#[derive(Debug)]
pub enum Client {
    /// Legacy HTTP+SSE.
    Sse(SseClient),
    /// Streamable HTTP.
    Streamable(StreamableClient),
}

impl Client {
    /// Opens a session and performs `initialize` + `notifications/initialized`.
    pub async fn open(
        transport: Transport,
        target: &Target,
        pool: Arc<PostPool>,
    ) -> Result<Client, Error> {
        Self::open_on(transport, target, pool, &StreamConn::Own).await
    }

    /// [`Client::open`], the HTTP+SSE stream on `conn`.
    pub async fn open_on(
        transport: Transport,
        target: &Target,
        pool: Arc<PostPool>,
        conn: &StreamConn,
    ) -> Result<Client, Error> {
        match transport {
            Transport::Sse => Ok(Client::Sse(SseClient::open(target, pool, conn).await?)),
            Transport::Streamable => Ok(Client::Streamable(
                StreamableClient::open(target, pool).await?,
            )),
            Transport::Stateless => Ok(Client::Streamable(StreamableClient::stateless(
                target, pool,
            ))),
        }
    }

    /// Calls the target tool once and waits for its successful result. Behind a balancer
    /// that names the instance answering (`X-Served-By`), an HTTP+SSE call also tells whether
    /// its POST landed on another instance than the one holding the stream (`Some(true)`).
    pub async fn call_tool(&mut self, tool: &str) -> Result<Option<bool>, Error> {
        match self {
            Client::Sse(c) => c.call_tool(tool).await,
            Client::Streamable(c) => c.call_tool(tool).await.map(|()| None),
        }
    }
}

/// A legacy HTTP+SSE session.
#[derive(Debug)]
pub struct SseClient {
    authority: String,
    post_path: String,
    events: sse::Reader,
    // Kept so the stream's connection lives as long as the session.
    _stream_conn: Option<SendRequest<Empty<Bytes>>>,
    /// The instance holding the stream, when a balancer names it (`X-Served-By`).
    owner: Option<String>,
    pool: Arc<PostPool>,
    next_id: u64,
}

impl SseClient {
    async fn open(
        target: &Target,
        pool: Arc<PostPool>,
        conn: &StreamConn,
    ) -> Result<SseClient, Error> {
        let req = Request::get(format!("{}/sse", target.prefix))
            .header(header::HOST, &target.authority)
            .header(header::ACCEPT, "text/event-stream")
            .body(Empty::new())?;
        let (resp, stream_conn) = conn.get(target.addr, req).await?;
        if resp.status() != StatusCode::OK {
            return Err(format!("GET /sse answered {}", resp.status()).into());
        }
        let owner = served_by(resp.headers());
        let mut events = sse::Reader::new(resp.into_body());
        let first = events
            .next()
            .await?
            .ok_or("stream ended before the endpoint event")?;
        if first.event != "endpoint" {
            return Err(format!("first event is {:?}, not endpoint", first.event).into());
        }
        let post_path = match first.data.find("://") {
            // An absolute URL: keep its path and query.
            Some(i) => {
                let rest = &first.data[i + 3..];
                rest[rest.find('/').unwrap_or(rest.len())..].to_owned()
            }
            None => first.data,
        };
        let mut client = SseClient {
            authority: target.authority.clone(),
            post_path,
            events,
            _stream_conn: stream_conn,
            owner,
            pool,
            next_id: 1,
        };
        client.post(initialize_body("2024-11-05")).await?;
        client.wait_answer(0).await?;
        client.post(Bytes::from_static(INITIALIZED)).await?;
        Ok(client)
    }

    /// The path POSTs go to (from the endpoint event).
    pub fn post_path(&self) -> &str {
        &self.post_path
    }

    /// POSTs `body`; the instance that took it, when a balancer names it.
    async fn post(&self, body: Bytes) -> Result<Option<String>, Error> {
        let req = Request::post(&self.post_path)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        let resp = self.pool.send(req).await?;
        let status = resp.status();
        let landed = served_by(resp.headers());
        // Drain the (empty) body so the connection can carry the next request.
        resp.into_body().collect().await?;
        if status != StatusCode::ACCEPTED {
            return Err(format!("POST {} answered {status}", self.post_path).into());
        }
        Ok(landed)
    }

    async fn wait_answer(&mut self, id: u64) -> Result<(), Error> {
        loop {
            let ev = self
                .events
                .next()
                .await?
                .ok_or("SSE stream ended while waiting for an answer")?;
            if ev.event != "message" {
                continue;
            }
            if check_answer(ev.data.as_bytes(), id)? {
                return Ok(());
            }
        }
    }

    async fn call_tool(&mut self, tool: &str) -> Result<Option<bool>, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let landed = self.post(call_body(id, tool)).await?;
        self.wait_answer(id).await?;
        Ok(match (&self.owner, landed) {
            (Some(owner), Some(landed)) => Some(*owner != landed),
            _ => None,
        })
    }
}

/// The instance a balancer says answered (`X-Served-By`), if any.
fn served_by(h: &hyper::HeaderMap) -> Option<String> {
    h.get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A Streamable HTTP session, or a stateless client (no session, nothing to open).
#[derive(Debug)]
pub struct StreamableClient {
    /// The standalone `GET` stream, once opened, and what keeps its connection.
    standalone: Option<(hyper::body::Incoming, Option<SendRequest<Empty<Bytes>>>)>,
    authority: String,
    path: String,
    session_id: String,
    stateless: bool,
    pool: Arc<PostPool>,
    next_id: u64,
}

/// The negotiated revision sent in `MCP-Protocol-Version`.
const STREAMABLE_VERSION: &str = "2025-11-25";
/// The stateless revision.
const STATELESS_VERSION: &str = "2026-07-28";

impl StreamableClient {
    async fn open(target: &Target, pool: Arc<PostPool>) -> Result<StreamableClient, Error> {
        let mut client = StreamableClient {
            authority: target.authority.clone(),
            path: format!("{}/mcp", target.prefix),
            session_id: String::new(),
            stateless: false,
            pool,
            next_id: 1,
            standalone: None,
        };
        let (status, session, answer) = client
            .post(initialize_body(STREAMABLE_VERSION), Some(0))
            .await?;
        if status != StatusCode::OK || !answer {
            return Err(format!("initialize answered {status}").into());
        }
        client.session_id = session.ok_or("initialize answered without Mcp-Session-Id")?;
        let (status, _, _) = client.post(Bytes::from_static(INITIALIZED), None).await?;
        if status != StatusCode::ACCEPTED {
            return Err(format!("notifications/initialized answered {status}").into());
        }
        Ok(client)
    }

    /// Opens the session's standalone `GET` stream on `conn` and keeps it (unread: nothing
    /// is sent on it while the session is idle).
    pub async fn open_standalone(
        &mut self,
        addr: SocketAddr,
        conn: &StreamConn,
    ) -> Result<(), Error> {
        let req = Request::get(&self.path)
            .header(header::HOST, &self.authority)
            .header(header::ACCEPT, "text/event-stream")
            .header("mcp-session-id", &self.session_id)
            .header("mcp-protocol-version", STREAMABLE_VERSION)
            .body(Empty::new())?;
        let (resp, keep) = conn.get(addr, req).await?;
        if resp.status() != StatusCode::OK {
            return Err(format!("GET {} answered {}", self.path, resp.status()).into());
        }
        self.standalone = Some((resp.into_body(), keep));
        Ok(())
    }

    /// The session's id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Ends the session with `DELETE`.
    pub async fn delete(&mut self) -> Result<(), Error> {
        let req = Request::delete(&self.path)
            .header(header::HOST, &self.authority)
            .header("mcp-session-id", &self.session_id)
            .header("mcp-protocol-version", STREAMABLE_VERSION)
            .body(Full::new(Bytes::new()))?;
        let resp = self.pool.send(req).await?;
        let status = resp.status();
        resp.into_body().collect().await?;
        self.standalone = None;
        if status != StatusCode::OK {
            return Err(format!("DELETE {} answered {status}", self.path).into());
        }
        Ok(())
    }

    /// A stateless client: every request stands alone, so there is nothing to open.
    fn stateless(target: &Target, pool: Arc<PostPool>) -> StreamableClient {
        StreamableClient {
            authority: target.authority.clone(),
            path: format!("{}/mcp", target.prefix),
            session_id: String::new(),
            stateless: true,
            pool,
            next_id: 1,
            standalone: None,
        }
    }

    /// POSTs `body`; when `id` is given, reads the answer from JSON or SSE. `tool` names the
    /// called tool, for the stateless revision's `Mcp-Name` header.
    async fn post_named(
        &self,
        body: Bytes,
        id: Option<u64>,
        tool: Option<&str>,
    ) -> Result<(StatusCode, Option<String>, bool), Error> {
        let mut req = Request::post(&self.path)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream");
        if self.stateless {
            req = req
                .header("mcp-protocol-version", STATELESS_VERSION)
                .header("mcp-method", "tools/call")
                .header("mcp-name", tool.unwrap_or_default());
        }
        if !self.session_id.is_empty() {
            req = req
                .header("mcp-session-id", &self.session_id)
                .header("mcp-protocol-version", STREAMABLE_VERSION);
        }
        let resp = self.pool.send(req.body(Full::new(body))?).await?;
        let status = resp.status();
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_sse = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let Some(id) = id.filter(|_| status == StatusCode::OK) else {
            resp.into_body().collect().await?;
            return Ok((status, session, false));
        };
        let answer = if is_sse {
            let mut events = sse::Reader::new(resp.into_body());
            let mut answer = false;
            while let Some(ev) = events.next().await? {
                if ev.event != "message" || ev.data.is_empty() {
                    // The 2025-11-25 priming event carries an id and empty data.
                    continue;
                }
                if !answer {
                    answer = check_answer(ev.data.as_bytes(), id)?;
                }
            }
            if !answer {
                return Err("SSE response ended without the answer".into());
            }
            true
        } else {
            let bytes = resp.into_body().collect().await?.to_bytes();
            if !check_answer(&bytes, id)? {
                return Err("JSON response is not the answer".into());
            }
            true
        };
        Ok((status, session, answer))
    }

    async fn post(
        &self,
        body: Bytes,
        id: Option<u64>,
    ) -> Result<(StatusCode, Option<String>, bool), Error> {
        self.post_named(body, id, None).await
    }

    async fn call_tool(&mut self, tool: &str) -> Result<(), Error> {
        let id = self.next_id;
        self.next_id += 1;
        let body = if self.stateless {
            stateless_call_body(id, tool)
        } else {
            call_body(id, tool)
        };
        let (status, _, answer) = self.post_named(body, Some(id), Some(tool)).await?;
        if !answer {
            return Err(format!("tools/call answered {status}").into());
        }
        Ok(())
    }
}
