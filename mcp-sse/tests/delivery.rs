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
    // A reader slower than the tool (the case under test): what it has not read yet must
    // wait for it.
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
    let mut st = Sse::on(post_raw(&h, &id, call).await);
    let head = st.until("\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The call runs once its progress arrives.
    st.until("notifications/progress").await;
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#;
    let mut c = Conn::open(&h).await;
    let r = c
        .request(
            &format!("{}Mcp-Session-Id: {id}\r\n", post_head("/mcp")),
            cancel.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 202);
    st.read_rest().await;
    h.shutdown().await;
}

/// A resumption asking for events older than what the stream's replay log still holds is
/// refused with 410, never served with a silent gap; a cursor past the stream's last event
/// is 400.
#[tokio::test]
async fn a_resumption_past_the_replay_log_is_gone() {
    use tokio::io::AsyncReadExt;
    let h = start(|b| b.replay_bytes(1024)).await;
    let id = init_session(&h).await;
    let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chatty","arguments":{"n":3000},"_meta":{"progressToken":"p"}}}"#;
    let mut sock = post_raw(&h, &id, call).await;
    // Read 50 events (over 1 KiB of them), then break the connection.
    let mut text = String::new();
    tokio::time::timeout(T, async {
        while text.matches("\nid: ").count() < 50 {
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await.unwrap();
            assert!(n > 0, "stream ended early: {text}");
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
    .await
    .unwrap();
    drop(sock);
    let first = text
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_owned();
    let stream = first.split_once('-').unwrap().0.to_owned();
    let mut c = Conn::open(&h).await;
    let get = |last: &str| {
        format!(
            "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\nLast-Event-ID: {last}\r\n"
        )
    };
    // The stream is busy (409) until the server notices the broken connection.
    let ahead = format!("{stream}-999999999");
    let mut status = 0;
    poll_until("the broken stream to be noticed", async || {
        let r = c.request(&get(&ahead), b"").await;
        status = r.status;
        status != 409
    })
    .await;
    assert_eq!(status, 400);
    let r = c.request(&get(&first), b"").await;
    let body = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 410, "{body}");
    assert!(
        body.contains("replay log") && body.contains("1024"),
        "{body}"
    );
    // The session goes on.
    let ping = r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#;
    let head = format!(
        "{}Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n",
        post_head("/mcp")
    );
    assert_eq!(c.request(&head, ping.as_bytes()).await.status, 200);
    h.shutdown().await;
}

/// Over HTTP/2 a session whose stream is no longer read ends alone: its stream ends once the
/// client reads again, and another session multiplexed on the same connection keeps working.
#[tokio::test]
async fn a_stalled_session_on_http2_ends_only_its_stream() {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    let h = start(|b| {
        b.session_queue(4)
            .max_pending(64, 1 << 24)
            .stall_timeout(Duration::from_millis(300))
    })
    .await;
    let io = hyper_util::rt::TokioIo::new(
        tokio::net::TcpStream::connect(h.local_addr())
            .await
            .unwrap(),
    );
    // A small stream window: an unread stream is felt after 64 KiB.
    let (send, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(65_535)
            .initial_connection_window_size(16 << 20)
            .handshake(io)
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let base = format!("http://{}", h.local_addr());
    let request = |method: &str, path: &str, body: Vec<u8>| {
        let mut send = send.clone();
        let req = hyper::Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from(body)))
            .unwrap();
        async move {
            tokio::time::timeout(T, send.send_request(req))
                .await
                .expect("no answer in time")
        }
    };
    async fn next_data(body: &mut Incoming, buf: &mut String) -> Option<String> {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                if let Some(d) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return Some(d.to_owned());
                }
                continue;
            }
            let frame = tokio::time::timeout(T, body.frame()).await.unwrap()?;
            if let Ok(data) = frame.unwrap().into_data() {
                buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
    let mut streams = Vec::new();
    for _ in 0..2 {
        let resp = request("GET", "/sse", Vec::new()).await.unwrap();
        let mut body = resp.into_body();
        let mut buf = String::new();
        let endpoint = next_data(&mut body, &mut buf).await.unwrap();
        for m in [INIT_2024, INITIALIZED] {
            let r = request("POST", &endpoint, m.as_bytes().to_vec()).await;
            assert_eq!(r.unwrap().status(), 202);
        }
        streams.push((body, buf, endpoint));
    }
    let (mut live, mut live_buf, live_path) = streams.pop().unwrap();
    let (mut stalled, mut stalled_buf, stalled_path) = streams.pop().unwrap();
    assert!(
        next_data(&mut live, &mut live_buf)
            .await
            .unwrap()
            .contains("\"id\":0")
    );
    // The first stream is no longer read: its answers fill the stream window, then its queue
    // (POSTs get 429), and the stall timeout ends its session.
    let text = "x".repeat(16 * 1024);
    let mut last = 202;
    for id in 1..=200 {
        let r = request("POST", &stalled_path, echo_call(id, &text)).await;
        last = r.expect("the connection was dropped").status().as_u16();
        if last != 202 {
            break;
        }
    }
    assert!(
        matches!(last, 429 | 404),
        "the stalled session kept accepting: {last}"
    );
    wait_sessions(&h, 1).await;
    let r = request("POST", &stalled_path, echo_call(201, "late")).await;
    assert_eq!(r.expect("the connection was dropped").status(), 404);
    // The other session on the same connection is served as before.
    for id in 1..=3 {
        let r = request("POST", &live_path, echo_call(id, "still here")).await;
        assert_eq!(r.expect("the connection was dropped").status(), 202);
        let v: Value =
            serde_json::from_str(&next_data(&mut live, &mut live_buf).await.unwrap()).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["result"]["content"][0]["text"], "still here");
    }
    assert!(!conn.is_finished());
    // Reading the stalled stream again: what was sent arrives, then the stream ends.
    while next_data(&mut stalled, &mut stalled_buf).await.is_some() {}
    assert!(!conn.is_finished());
    drop((live, stalled, send));
    h.shutdown().await;
}
