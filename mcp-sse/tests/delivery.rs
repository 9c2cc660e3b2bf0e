//! Delivery under a reader that stops reading: what a session holds is bounded, accepted
//! messages are never lost while their session lives.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

/// A client that stopped reading its HTTP+SSE stream and keeps POSTing gets 429 once its
/// session holds its limit; every message answered 202 is delivered once it reads again.
#[tokio::test]
async fn legacy_posts_past_the_session_bound_get_429_and_accepted_ones_arrive() {
    let h = start(|b| {
        b.session_queue(4)
            .max_pending(8, 1 << 20)
            .stall_timeout(Duration::from_secs(60))
    })
    .await;
    let mut sse = Sse::open(&h).await;
    let mut post = Conn::open(&h).await;
    let head = post_head(&sse.endpoint);
    assert_eq!(post.request(&head, INIT_2024.as_bytes()).await.status, 202);
    assert!(sse.next_data().await.unwrap().contains("\"id\":0"));
    assert_eq!(
        post.request(&head, INITIALIZED.as_bytes()).await.status,
        202
    );
    // The stream is no longer read; every answer is 64 KiB.
    let text = "x".repeat(64 * 1024);
    let mut accepted = Vec::new();
    let mut refused = 0;
    for id in 1..=300 {
        let r = post.request(&head, &echo_call(id, &text)).await;
        match r.status {
            202 => accepted.push(id),
            429 => {
                assert_eq!(r.header("retry-after"), Some("1"));
                refused += 1;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(refused > 0, "a stalled session kept accepting");
    // Reading again: each accepted call is answered, in order.
    let mut got = Vec::new();
    while got.len() < accepted.len() {
        let data = sse.next_data().await.expect("stream ended early");
        let v: Value = serde_json::from_str(&data).unwrap();
        got.push(v["id"].as_u64().unwrap());
        assert_eq!(
            v["result"]["content"][0]["text"].as_str().unwrap().len(),
            text.len()
        );
    }
    assert_eq!(got, accepted);
    // And the session accepts again.
    assert_eq!(
        post.request(&head, &echo_call(1000, "hi")).await.status,
        202
    );
    let v: Value = serde_json::from_str(&sse.next_data().await.unwrap()).unwrap();
    assert_eq!(v["id"], 1000);
    h.shutdown().await;
}

const INIT_2025: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// An initialize that fails registers nothing and returns no session id.
#[tokio::test]
async fn a_failed_initialize_leaves_no_session() {
    let h = start(|b| b).await;
    let mut c = Conn::open(&h).await;
    let bad = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":"nope"}}"#;
    let r = c.request(&post_head("/mcp"), bad.as_bytes()).await;
    assert!(r.header("mcp-session-id").is_none(), "{}", r.head);
    assert!(String::from_utf8_lossy(&r.body).contains("error"));
    assert_eq!(h.session_count(), 0);
    let r = c.request(&post_head("/mcp"), INIT_2025.as_bytes()).await;
    assert!(r.header("mcp-session-id").is_some());
    assert_eq!(h.session_count(), 1);
    h.shutdown().await;
}

/// Reads a chunked SSE response to its end; the `data:` payloads.
async fn read_sse_to_end(mut sock: tokio::net::TcpStream) -> (String, Vec<Value>) {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    tokio::time::timeout(T, sock.read_to_end(&mut all))
        .await
        .expect("the stream did not end")
        .unwrap();
    let text = String::from_utf8_lossy(&all).into_owned();
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| !d.is_empty())
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    (text, data)
}

async fn init_session(h: &mcp_sse::ServerHandle) -> String {
    let mut c = Conn::open(h).await;
    let r = c.request(&post_head("/mcp"), INIT_2025.as_bytes()).await;
    r.header("mcp-session-id").unwrap().to_owned()
}

async fn post_raw(h: &mcp_sse::ServerHandle, id: &str, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut sock = tokio::net::TcpStream::connect(h.local_addr())
        .await
        .unwrap();
    let req = format!(
        "{}Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        post_head("/mcp"),
        body.len()
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    sock
}

/// A request that sends many more notifications than any store held before its response:
/// every one reaches the client, in order, then the response.
#[tokio::test]
async fn a_chatty_request_loses_no_notification() {
    let h = start(|b| b.replay_bytes(4096)).await;
    let id = init_session(&h).await;
    let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chatty","arguments":{"n":3000},"_meta":{"progressToken":"p"}}}"#;
    let sock = post_raw(&h, &id, call).await;
    // A reader slower than the tool: what it has not read yet must wait for it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, data) = read_sse_to_end(sock).await;
    let progress: Vec<f64> = data
        .iter()
        .filter(|v| v["method"] == "notifications/progress")
        .map(|v| v["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress.len(), 3000);
    assert!(progress.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(data.last().unwrap()["id"], 7);
    h.shutdown().await;
}

/// A POST stream whose request is cancelled ends instead of sending keep-alives forever.
#[tokio::test]
async fn a_cancelled_request_closes_its_stream() {
    let h = start(|b| b.keep_alive(Duration::from_millis(50))).await;
    let id = init_session(&h).await;
    let call = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"forever","arguments":{},"_meta":{"progressToken":"p"}}}"#;
    let sock = post_raw(&h, &id, call).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#;
    let mut c = Conn::open(&h).await;
    let r = c
        .request(
            &format!("{}Mcp-Session-Id: {id}\r\n", post_head("/mcp")),
            cancel.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 202);
    let (text, _) = read_sse_to_end(sock).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    h.shutdown().await;
}
