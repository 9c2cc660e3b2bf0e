//! Raw-socket tests of the HTTP+SSE transport: exact bytes on the wire and every status code.

use std::time::Duration;

use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::{ServerHandle, SseServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(10);

fn test_server() -> Server {
    Server::builder("test", "1.0")
        .auto_collect(false)
        .tool(
            Tool::new("echo", |_ctx, args| async move {
                let text = args
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .description("Echo"),
        )
        .tool(
            Tool::new("slow", |ctx, _args| async move {
                ctx.progress(1.0, Some(2.0), Some("half")).await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(CallToolResult::success(vec![]))
            })
            .description("Never finishes"),
        )
        .build()
        .unwrap()
}

async fn start(f: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder) -> ServerHandle {
    f(SseServer::builder(test_server()).bind("127.0.0.1:0".parse().unwrap()))
        .start()
        .await
        .unwrap()
}

/// Sends a raw request and reads the whole response (the request asks to close).
async fn raw(h: &ServerHandle, request: &str) -> String {
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn post(path: &str, ctype: &str, body: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn status(resp: &str) -> u16 {
    resp.split(' ').nth(1).unwrap().parse().unwrap()
}

/// An open SSE stream read with raw bytes.
struct Stream {
    sock: TcpStream,
    buf: String,
}

impl Stream {
    async fn open(h: &ServerHandle, extra: &str) -> (Stream, String) {
        let mut sock = TcpStream::connect(h.local_addr()).await.unwrap();
        sock.write_all(format!("GET /sse HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n").as_bytes())
            .await
            .unwrap();
        let mut st = Stream {
            sock,
            buf: String::new(),
        };
        let head = st.until("\r\n\r\n").await;
        (st, head)
    }

    async fn until(&mut self, pat: &str) -> String {
        tokio::time::timeout(T, async {
            loop {
                if let Some(i) = self.buf.find(pat) {
                    let out = self.buf[..i + pat.len()].to_owned();
                    self.buf.drain(..i + pat.len());
                    return out;
                }
                let mut chunk = [0u8; 4096];
                let n = self.sock.read(&mut chunk).await.unwrap();
                assert!(n > 0, "stream closed; had {:?}", self.buf);
                self.buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
        .await
        .expect("timed out waiting on the stream")
    }

    /// The next `event: message` JSON, skipping chunk-size lines and keep-alives.
    async fn message(&mut self) -> Value {
        loop {
            let ev = self.until("\n\n").await;
            if let Some(i) = ev.find("event: message\ndata: ") {
                let data = &ev[i + "event: message\ndata: ".len()..ev.len() - 2];
                return serde_json::from_str(data).unwrap();
            }
        }
    }

    async fn endpoint(&mut self) -> String {
        let ev = self.until("\n\n").await;
        let i = ev
            .find("event: endpoint\ndata: ")
            .expect("endpoint event first");
        ev[i + "event: endpoint\ndata: ".len()..ev.len() - 2].to_owned()
    }
}

async fn send(h: &ServerHandle, endpoint: &str, msg: Value) -> u16 {
    status(&raw(h, &post(endpoint, "application/json", &msg.to_string(), "")).await)
}

async fn initialized(h: &ServerHandle) -> (Stream, String) {
    let (mut st, _) = Stream::open(h, "").await;
    let ep = st.endpoint().await;
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}});
    assert_eq!(send(h, &ep, init).await, 202);
    let r = st.message().await;
    assert_eq!(r["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(
        send(
            h,
            &ep,
            json!({"jsonrpc":"2.0","method":"notifications/initialized"})
        )
        .await,
        202
    );
    (st, ep)
}

#[tokio::test]
async fn endpoint_event_and_headers_are_exact() {
    let h = start(|b| b).await;
    let (mut st, head) = Stream::open(&h, "").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/event-stream\r\n"));
    assert!(lower.contains("cache-control: no-cache\r\n"));
    assert!(lower.contains("x-accel-buffering: no\r\n"));
    // Chunked: the first chunk is exactly the endpoint event.
    let chunk = st.until("\n\n").await;
    let id_start = chunk.find("sessionId=").unwrap() + "sessionId=".len();
    let id = &chunk[id_start..chunk.len() - 2];
    assert!(uuid::Uuid::parse_str(id).unwrap().get_version_num() == 4);
    assert!(
        chunk.ends_with(&format!(
            "event: endpoint\ndata: /messages?sessionId={id}\n\n"
        )),
        "{chunk:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn messages_travel_as_frames_and_posts_get_202() {
    let h = start(|b| b).await;
    let (mut st, ep) = initialized(&h).await;
    let call = json!({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}});
    assert_eq!(send(&h, &ep, call).await, 202);
    let r = st.message().await;
    assert_eq!(
        r,
        json!({"jsonrpc":"2.0","id":"c1","result":{"content":[{"type":"text","text":"hi"}]}})
    );
    h.shutdown().await;
}

#[tokio::test]
async fn status_codes_for_bad_posts() {
    let h = start(|b| b.max_body_bytes(1024)).await;
    let (_st, ep) = initialized(&h).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // Missing or repeated sessionId.
    assert_eq!(
        status(&raw(&h, &post("/messages", "application/json", ping, "")).await),
        400
    );
    let twice = format!("{ep}&sessionId=x");
    assert_eq!(
        status(&raw(&h, &post(&twice, "application/json", ping, "")).await),
        400
    );
    // Unknown session.
    let unknown = "/messages?sessionId=00000000-0000-4000-8000-000000000000";
    assert_eq!(
        status(&raw(&h, &post(unknown, "application/json", ping, "")).await),
        404
    );
    // Content types: a charset is fine, text/plain is not.
    assert_eq!(
        status(&raw(&h, &post(&ep, "application/json; charset=utf-8", ping, "")).await),
        202
    );
    assert_eq!(
        status(&raw(&h, &post(&ep, "text/plain", ping, "")).await),
        415
    );
    // Over the limit: refused from Content-Length, before the body is sent.
    let req = format!(
        "POST {ep} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(status(&raw(&h, &req).await), 413);
    // Malformed JSON: 400 with a JSON-RPC parse error, nothing forwarded.
    let resp = raw(&h, &post(&ep, "application/json", "{oops", "")).await;
    assert_eq!(status(&resp), 400);
    let body: Value = serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
    // Wrong methods and paths.
    assert_eq!(
        status(
            &raw(
                &h,
                "GET /messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
            .await
        ),
        405
    );
    assert_eq!(
        status(
            &raw(
                &h,
                "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
            .await
        ),
        404
    );
    h.shutdown().await;
}

#[tokio::test]
async fn dns_rebinding_protection() {
    let h = start(|b| b).await;
    let get = |host: &str, origin: &str| {
        format!("GET /health HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: close\r\n\r\n")
    };
    assert_eq!(status(&raw(&h, &get("localhost:8000", "")).await), 200);
    assert_eq!(status(&raw(&h, &get("evil.example.com", "")).await), 403);
    assert_eq!(
        status(&raw(&h, &get("localhost", "Origin: http://evil.example.com\r\n")).await),
        403
    );
    assert_eq!(
        status(&raw(&h, &get("localhost", "Origin: http://localhost:6274\r\n")).await),
        200
    );
    // The stream and the POST endpoint are guarded the same way.
    let resp = raw(
        &h,
        "GET /sse HTTP/1.1\r\nHost: evil.example.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&resp), 403);
    let resp = raw(
        &h,
        &post(
            "/messages?sessionId=x",
            "application/json",
            "{}",
            "Origin: http://evil.example.com\r\n",
        ),
    )
    .await;
    assert_eq!(status(&resp), 403);
    h.shutdown().await;
}

#[tokio::test]
async fn health_reveals_no_session_ids() {
    let h = start(|b| b).await;
    let (_st, ep) = initialized(&h).await;
    let resp = raw(
        &h,
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&resp), 200);
    let body: Value = serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["sessions"], 1);
    let id = ep.split('=').nth(1).unwrap();
    assert!(!resp.contains(id));
    h.shutdown().await;
}

#[tokio::test]
async fn bearer_auth_and_session_binding() {
    let h = start(|b| b.bearer_tokens(["alpha", "beta"])).await;
    let resp = raw(
        &h,
        "GET /sse HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&resp), 401);
    assert!(
        resp.to_ascii_lowercase()
            .contains("www-authenticate: bearer")
    );
    let resp = raw(&h, "GET /sse HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status(&resp), 401);
    let (mut st, head) = Stream::open(&h, "Authorization: Bearer alpha\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"));
    let ep = st.endpoint().await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let unauth = raw(&h, &post(&ep, "application/json", ping, "")).await;
    assert_eq!(status(&unauth), 401);
    assert!(
        unauth
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer")
    );
    // Another valid credential cannot reach the session.
    let other = raw(
        &h,
        &post(
            &ep,
            "application/json",
            ping,
            "Authorization: Bearer beta\r\n",
        ),
    )
    .await;
    assert_eq!(status(&other), 404);
    let own = raw(
        &h,
        &post(
            &ep,
            "application/json",
            ping,
            "Authorization: Bearer alpha\r\n",
        ),
    )
    .await;
    assert_eq!(status(&own), 202);
    h.shutdown().await;
}

#[tokio::test]
async fn session_cap_answers_503() {
    let h = start(|b| b.max_sessions(2)).await;
    let (_a, _) = Stream::open(&h, "").await;
    let (_b, _) = Stream::open(&h, "").await;
    let resp = raw(
        &h,
        "GET /sse HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&resp), 503);
    h.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_and_headers_for_configured_origins_only() {
    let h = start(|b| b.cors_origins(["http://localhost:6274"])).await;
    let pre = |origin: &str| {
        format!(
            "OPTIONS /sse HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n"
        )
    };
    let resp = raw(&h, &pre("http://localhost:6274")).await;
    assert_eq!(status(&resp), 204);
    let lower = resp.to_ascii_lowercase();
    assert!(lower.contains("access-control-allow-origin: http://localhost:6274"));
    assert!(lower.contains("access-control-allow-headers:"));
    let resp = raw(&h, &pre("http://localhost:9999")).await;
    assert!(
        !resp
            .to_ascii_lowercase()
            .contains("access-control-allow-origin")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn disconnect_ends_the_session_and_cancels_its_calls() {
    let h = start(|b| b).await;
    let (mut st, ep) = initialized(&h).await;
    let call = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":"p"}}});
    assert_eq!(send(&h, &ep, call).await, 202);
    let progress = st.message().await;
    assert_eq!(progress["method"], "notifications/progress");
    drop(st);
    // The session is gone: its id answers 404 (poll briefly for the close to be noticed).
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let mut code = 0;
    for _ in 0..100 {
        code = send(&h, &ep, ping.clone()).await;
        if code == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(code, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn a_stalled_reader_is_disconnected() {
    let h = start(|b| b.session_queue(1).stall_timeout(Duration::from_millis(200))).await;
    let (st, ep) = initialized(&h).await;
    // Stop reading; flood the session with answers until the kernel buffers and queue fill.
    let big = "x".repeat(60_000);
    let mut saw_404 = false;
    for i in 0..400 {
        let call = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"echo","arguments":{"text":big}}});
        if send(&h, &ep, call).await == 404 {
            saw_404 = true;
            break;
        }
    }
    assert!(saw_404, "the stalled session should have been closed");
    drop(st);
    h.shutdown().await;
}

#[tokio::test]
async fn shutdown_with_open_streams_does_not_hang() {
    let h = start(|b| b.shutdown_grace(Duration::from_secs(2))).await;
    let (_st1, _) = initialized(&h).await;
    let (_st2, _) = Stream::open(&h, "").await;
    tokio::time::timeout(Duration::from_secs(10), h.shutdown())
        .await
        .expect("shutdown hung with open streams");
}

#[tokio::test]
async fn shutdown_drops_connections_that_sent_nothing_yet() {
    let h = start(|b| b).await;
    let mut silent = TcpStream::connect(h.local_addr()).await.unwrap();
    tokio::task::yield_now().await;
    tokio::time::timeout(Duration::from_secs(10), h.shutdown())
        .await
        .expect("shutdown hung");
    // Well before the 30 s header timeout: the connection is closed, never served.
    let mut out = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut out))
        .await
        .expect("a silent connection outlived the shutdown")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn many_sessions_are_isolated() {
    let h = start(|b| b).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let addr = h.local_addr();
        tasks.push(tokio::spawn(async move {
            let h2 = HandleAddr(addr);
            let (mut st, ep) = h2.initialized().await;
            for k in 0..5 {
                let text = format!("s{n}-{k}");
                let call = json!({"jsonrpc":"2.0","id":k,"method":"tools/call","params":{"name":"echo","arguments":{"text":text}}});
                assert_eq!(h2.send(&ep, call).await, 202);
                let r = st.message().await;
                assert_eq!(r["id"], k);
                assert_eq!(r["result"]["content"][0]["text"], text);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    h.shutdown().await;
}

/// Lets spawned tasks use the helpers with only the address.
struct HandleAddr(std::net::SocketAddr);

impl HandleAddr {
    async fn initialized(&self) -> (Stream, String) {
        let mut sock = TcpStream::connect(self.0).await.unwrap();
        sock.write_all(b"GET /sse HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut st = Stream {
            sock,
            buf: String::new(),
        };
        st.until("\r\n\r\n").await;
        let ep = st.endpoint().await;
        let init = json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{
            "protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}});
        assert_eq!(self.send(&ep, init).await, 202);
        assert_eq!(st.message().await["id"], "init");
        (st, ep)
    }

    async fn send(&self, ep: &str, msg: Value) -> u16 {
        let mut s = TcpStream::connect(self.0).await.unwrap();
        s.write_all(post(ep, "application/json", &msg.to_string(), "").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(T, s.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        status(&String::from_utf8_lossy(&out))
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    let h = start(|b| b).await;
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(h.local_addr()).await.unwrap());
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut get = async |uri: String| {
        let req = hyper::Request::get(uri)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        tokio::time::timeout(T, send.send_request(req))
            .await
            .unwrap()
            .unwrap()
    };
    let resp = get(format!("http://{}/health", h.local_addr())).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    // The `:authority` pseudo-header is checked like Host.
    let resp = get("http://evil.example.com/health".into()).await;
    assert_eq!(resp.status(), 403);
    h.shutdown().await;
}

#[tokio::test]
async fn an_sse_session_runs_over_http2() {
    use http_body_util::{BodyExt, Full};
    let h = start(|b| b).await;
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(h.local_addr()).await.unwrap());
    let (send, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let base = format!("http://{}", h.local_addr());
    let get = hyper::Request::get(format!("{base}/sse"))
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let mut stream = send.clone().send_request(get).await.unwrap().into_body();
    let mut next_event = async || {
        let frame = tokio::time::timeout(T, stream.frame()).await.unwrap();
        let data = frame.unwrap().unwrap().into_data().unwrap();
        String::from_utf8(data.to_vec()).unwrap()
    };
    let endpoint = next_event().await;
    let path = endpoint
        .strip_prefix("event: endpoint\ndata: ")
        .and_then(|e| e.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("unexpected first event {endpoint:?}"))
        .to_owned();
    // The POST travels on the same HTTP/2 connection as the stream.
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"h2","version":"1"}}});
    let post = hyper::Request::post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(init.to_string())))
        .unwrap();
    let resp = send.clone().send_request(post).await.unwrap();
    assert_eq!(resp.status(), 202);
    let message = next_event().await;
    let json = message
        .strip_prefix("event: message\ndata: ")
        .unwrap_or_else(|| panic!("unexpected event {message:?}"));
    let v: Value = serde_json::from_str(json.trim_end()).unwrap();
    assert_eq!(v["result"]["protocolVersion"], "2024-11-05");
    drop(stream);
    h.shutdown().await;
}

#[tokio::test]
async fn a_request_line_split_across_packets_is_served() {
    let h = start(|b| b).await;
    // "P" alone could start an HTTP/2 preface or "POST": the server waits for more.
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.write_all(b"P").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rest = post("/messages", "application/json", "{}", "");
    s.write_all(&rest.as_bytes()[1..]).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    // Routed as HTTP/1: no sessionId, so 400.
    assert_eq!(status(&String::from_utf8_lossy(&out)), 400);
    h.shutdown().await;
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_header_timeout() {
    let h = start(|b| b.header_read_timeout(Duration::from_millis(200))).await;
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    let mut out = Vec::new();
    let n = tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .expect("the server should close a connection that sends nothing")
        .unwrap();
    assert_eq!(n, 0);
    h.shutdown().await;
}
