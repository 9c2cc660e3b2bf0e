//! The endpoints mounted in an application's own hyper server as a `tower_service::Service`:
//! routing under a prefix (given whole or stripped by the application's router), request
//! bodies of any type, and the application's graceful shutdown ending the service's streams.

use std::convert::Infallible;
use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use mcp_core::{CallToolResult, Content, Server, Tool};
use mcp_sse::client::{SseClient, raw_request};
use mcp_sse::{McpService, ServeError, SseServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

const T: Duration = Duration::from_secs(10);

fn server(shutdowns: Arc<AtomicUsize>) -> Server {
    Server::builder("mounted", "1.2.3")
        .auto_collect(false)
        .tool(
            Tool::new("echo", |_ctx, args| async move {
                let text = args.get("text").and_then(Value::as_str).unwrap_or("");
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .description("Echo"),
        )
        .on_shutdown(move |_| async move {
            shutdowns.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap()
}

async fn service(shutdowns: Arc<AtomicUsize>) -> McpService {
    SseServer::builder(server(shutdowns))
        .mount_prefix("/mcp-api")
        .into_service()
        .await
        .unwrap()
}

/// An application on its own listener: `/hello` is its own route, everything else goes to
/// `mcp` (with the prefix stripped first when `strip` is set). Stopping `stop` shuts the
/// application down the way the README says: the MCP service first, then its connections.
struct App {
    addr: SocketAddr,
    stop: CancellationToken,
    done: tokio::task::JoinHandle<()>,
}

async fn app(mcp: McpService, strip: bool) -> App {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let done = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        loop {
            let (stream, _) = tokio::select! {
                r = listener.accept() => r.unwrap(),
                () = stopped.cancelled() => break,
            };
            let mcp = mcp.clone();
            let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let mut mcp = mcp.clone();
                async move {
                    if req.uri().path() == "/hello" {
                        let body = Full::new(Bytes::from_static(b"hello from the app"))
                            .map_err(|e| match e {})
                            .boxed_unsync();
                        return Ok::<_, Infallible>(http::Response::new(body));
                    }
                    let req = if strip {
                        let (mut parts, body) = req.into_parts();
                        let pq = parts.uri.path_and_query().unwrap().as_str();
                        let rest = pq.strip_prefix("/mcp-api").unwrap_or(pq).to_owned();
                        parts.uri = rest.parse().unwrap();
                        http::Request::from_parts(parts, body)
                    } else {
                        req
                    };
                    mcp.call(req).await
                }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            let conn = graceful.watch(conn);
            tokio::spawn(conn);
        }
        mcp.shutdown().await;
        tokio::time::timeout(T, graceful.shutdown())
            .await
            .expect("connections drain once the MCP streams ended");
    });
    App { addr, stop, done }
}

async fn get(addr: SocketAddr, path: &str) -> mcp_sse::client::RawResponse {
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    raw_request(addr, req.as_bytes()).await.unwrap()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
}

async fn sse_round_trip(addr: SocketAddr) {
    let mut c = SseClient::connect(addr, "/mcp-api/sse", &[]).await.unwrap();
    assert!(
        c.endpoint().starts_with("/mcp-api/messages?sessionId="),
        "the endpoint event carries the prefix: {}",
        c.endpoint()
    );
    let init = c.initialize().await.unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "mounted");
    let r = c
        .request(
            2,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "through the app"}}),
        )
        .await
        .unwrap();
    assert_eq!(r["result"]["content"][0]["text"], "through the app");
}

#[tokio::test]
async fn serves_both_transports_and_health_under_the_prefix_beside_the_apps_routes() {
    let app = app(service(Arc::default()).await, false).await;
    let hello = get(app.addr, "/hello").await;
    assert_eq!(hello.status, 200);
    assert_eq!(&hello.body[..], b"hello from the app");
    let health = get(app.addr, "/mcp-api/health").await;
    assert_eq!(health.status, 200);
    let h: Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(
        (h["name"].as_str(), h["status"].as_str()),
        (Some("mounted"), Some("ok"))
    );
    // Outside the prefix the service answers 404, like any path it does not serve.
    assert_eq!(get(app.addr, "/sse").await.status, 404);
    assert_eq!(get(app.addr, "/mcp-api/other").await.status, 404);
    sse_round_trip(app.addr).await;
    let body = initialize().to_string();
    let post = format!(
        "POST /mcp-api/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let r = raw_request(app.addr, post.as_bytes()).await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_some());
    app.stop.cancel();
    tokio::time::timeout(T, app.done).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_nested_service_answers_stripped_paths_and_announces_the_prefix() {
    let app = app(service(Arc::default()).await.nested(), true).await;
    assert_eq!(get(app.addr, "/mcp-api/health").await.status, 200);
    sse_round_trip(app.addr).await;
    app.stop.cancel();
    tokio::time::timeout(T, app.done).await.unwrap().unwrap();
}

/// Posts `initialize` to `/mcp-api/mcp` with `body` and returns the status and the body.
async fn post_with<B>(mcp: &McpService, body: B) -> (u16, Value)
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let req = http::Request::post("/mcp-api/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body)
        .unwrap();
    let resp = mcp.clone().call(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn takes_any_request_body_type() {
    let mcp = service(Arc::default()).await;
    let text = initialize().to_string();
    // Bytes chunks, another `Buf` type, a String, and a body streamed in small frames.
    let (s, v) = post_with(&mcp, Full::new(Bytes::from(text.clone()))).await;
    assert_eq!(
        (s, v["result"]["serverInfo"]["version"].as_str()),
        (200, Some("1.2.3"))
    );
    let (s, v) = post_with(&mcp, Full::new(Cursor::new(text.clone().into_bytes()))).await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(1)));
    let (s, _) = post_with(&mcp, text.clone()).await;
    assert_eq!(s, 200);
    let frames: Vec<Result<http_body::Frame<Cursor<Vec<u8>>>, std::io::Error>> = text
        .as_bytes()
        .chunks(7)
        .map(|c| Ok(http_body::Frame::data(Cursor::new(c.to_vec()))))
        .collect();
    let (s, v) = post_with(&mcp, StreamBody::new(futures_util::stream::iter(frames))).await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(1)));
    // A body that fails while it is read is a bad request, not a crash.
    let broken: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> =
        vec![Err(std::io::Error::other("connection reset"))];
    let (s, _) = post_with(&mcp, StreamBody::new(futures_util::stream::iter(broken))).await;
    assert_eq!(s, 400);
    // The limits hold as when serving: a body over the limit is 413.
    let limited = SseServer::builder(server(Arc::default()))
        .mount_prefix("/mcp-api")
        .max_body_bytes(64)
        .into_service()
        .await
        .unwrap();
    let (s, _) = post_with(&limited, Full::new(Bytes::from(text))).await;
    assert_eq!(s, 413);
}

#[tokio::test]
async fn the_apps_graceful_shutdown_ends_the_streams_and_runs_the_shutdown_hooks_once() {
    let shutdowns = Arc::new(AtomicUsize::new(0));
    let mcp = service(shutdowns.clone()).await;
    let app = app(mcp.clone(), false).await;
    let mut c = SseClient::connect(app.addr, "/mcp-api/sse", &[])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    assert_eq!(mcp.session_count(), 1);
    app.stop.cancel();
    // The application's drain finishes although an event stream was open: the service ended it.
    tokio::time::timeout(T, app.done).await.unwrap().unwrap();
    let end = tokio::time::timeout(T, async {
        loop {
            match c.next_event().await {
                Ok(Some(_)) => continue,
                other => break other,
            }
        }
    })
    .await
    .unwrap();
    assert!(
        matches!(end, Ok(None) | Err(_)),
        "the stream ended: {end:?}"
    );
    assert_eq!(mcp.session_count(), 0);
    assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
    mcp.shutdown().await;
    assert_eq!(
        shutdowns.load(Ordering::SeqCst),
        1,
        "shutdown hooks run once"
    );
    // After shutdown the endpoints refuse new work.
    let req = http::Request::get("/mcp-api/sse")
        .header("host", "localhost")
        .body(String::new())
        .unwrap();
    assert_eq!(mcp.clone().call(req).await.unwrap().status(), 503);
}

#[tokio::test]
async fn a_failing_startup_hook_keeps_the_service_and_the_server_from_starting() {
    let failing = || {
        Server::builder("s", "1")
            .auto_collect(false)
            .on_startup(|| async { Err::<u8, _>(std::io::Error::other("database unreachable")) })
            .build()
            .unwrap()
    };
    let err = SseServer::builder(failing())
        .into_service()
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::Startup(_)), "{err:?}");
    assert!(err.to_string().contains("database unreachable"), "{err}");
    let err = SseServer::builder(failing())
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("database unreachable"), "{err}");
}
