//! How connections are served: shutdown, read timeouts, HTTP/2, a split request line, the
//! mount prefix.

use std::time::Duration;

use mcp_sse::client::SseClient;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

#[tokio::test]
async fn a_graceful_shutdown_with_open_streams_ends_them_and_closes_the_listener() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = start(|b| {
        b.shutdown_grace(Duration::from_secs(5))
            .shutdown_signal(async move {
                let _ = rx.await;
            })
    })
    .await;
    let addr = h.local_addr();
    let mut clients = Vec::new();
    for n in 0..5 {
        let mut c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
        if n % 2 == 0 {
            c.initialize().await.unwrap();
        }
        clients.push(c);
    }
    tx.send(()).unwrap();
    tokio::time::timeout(T, h.wait())
        .await
        .expect("shutdown hung with open streams");
    // Each stream ends cleanly (terminating chunk) rather than hanging.
    for c in &mut clients {
        while c.next_event().await.unwrap().is_some() {}
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

#[tokio::test]
async fn shutdown_drops_connections_that_sent_nothing_yet() {
    let h = start(|b| b).await;
    let mut silent = TcpStream::connect(h.local_addr()).await.unwrap();
    // Give the accept loop a turn to take the connection.
    tokio::task::yield_now().await;
    tokio::time::timeout(T, h.shutdown())
        .await
        .expect("shutdown hung");
    // Well before the 30 s header timeout: the connection is closed, never served.
    let mut out = Vec::new();
    let n = tokio::time::timeout(T, silent.read_to_end(&mut out))
        .await
        .expect("a silent connection outlived the shutdown")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_silent_or_unfinished_head_is_dropped_after_the_header_timeout() {
    let h = start(|b| b.header_read_timeout(Duration::from_millis(200))).await;
    // Sends nothing at all.
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    let mut out = Vec::new();
    let n = tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .expect("the server should close a connection that sends nothing")
        .unwrap();
    assert_eq!(n, 0);
    // Slowloris: an unfinished head; the server closes without serving it.
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .expect("the header read timeout did not close the connection")
        .unwrap();
    assert!(
        out.is_empty() || out.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_slow_body_gets_408() {
    let h = start(|b| b.body_read_timeout(Duration::from_millis(200))).await;
    let c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    // Declares 100 bytes, sends 10, then stalls.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"jsonrpc\"",
        c.endpoint()
    );
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .expect("the body read timeout did not answer")
        .unwrap();
    assert!(
        out.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_request_line_split_across_packets_is_served() {
    let h = start(|b| b).await;
    // "P" alone could start an HTTP/2 preface or "POST": the server waits for more.
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(b"P").await.unwrap();
    // The client pausing mid-line is the case under test: the rest comes in a later packet.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rest = post("/messages", "application/json", "{}", "");
    s.write_all(&rest[1..]).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    // Routed as HTTP/1: no sessionId, so 400.
    assert!(
        out.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    h.shutdown().await;
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
async fn the_mount_prefix_is_used_in_the_endpoint() {
    let h = start(|b| b.mount_prefix("/app")).await;
    let mut c = SseClient::connect(h.local_addr(), "/app/sse", &[])
        .await
        .unwrap();
    assert!(c.endpoint().starts_with("/app/messages?sessionId="));
    assert_eq!(
        c.request(1, "ping", json!({})).await.unwrap()["result"],
        json!({})
    );
    assert_eq!(send(&h, &get("/sse", "")).await.status, 404);
    h.shutdown().await;
}
