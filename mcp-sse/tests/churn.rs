//! Churn: sessions opened and closed on both transports, and connections dropped in the middle
//! of a request body and in the middle of a stream. Afterwards the session count, the
//! runtime's live tasks and the process's RSS are back at their baseline. Alone in its binary,
//! so the process's RSS and tasks are this test's. `CHURN_SESSIONS` (default 1,000 per
//! transport) and `CHURN_DROPS` (default 200 of each kind) scale it; the figures are printed.
//! The `mcp-load --churn` benchmark mode runs the same against a release server at 10,000
//! sessions and 1,000 drops.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const INIT_2025: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const CHATTY: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chatty","arguments":{"n":1000},"_meta":{"progressToken":"p"}}}"#;
/// Connections open at once.
const PARALLEL: usize = 32;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An HTTP+SSE session: opened, initialized, one call answered, then its stream dropped.
async fn legacy_session(h: &mcp_sse::ServerHandle) {
    let mut sse = Sse::open(h).await;
    let mut post = Conn::open(h).await;
    let head = post_head(&sse.endpoint);
    assert_eq!(post.request(&head, INIT_2024.as_bytes()).await.status, 202);
    assert!(sse.next_data().await.unwrap().contains("\"id\":0"));
    assert_eq!(post.request(&head, &echo_call(1, "hi")).await.status, 202);
    assert!(sse.next_data().await.unwrap().contains("\"id\":1"));
}

/// A Streamable HTTP session: initialized, one call answered, its standalone stream opened
/// (every other time), then deleted.
async fn streamable_session(h: &mcp_sse::ServerHandle, with_stream: bool) {
    let mut c = Conn::open(h).await;
    let r = c.request(&post_head("/mcp"), INIT_2025.as_bytes()).await;
    assert_eq!(r.status, 200);
    let id = r.header("mcp-session-id").unwrap().to_owned();
    let with = format!(
        "{}Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n",
        post_head("/mcp")
    );
    assert_eq!(c.request(&with, INITIALIZED.as_bytes()).await.status, 202);
    assert_eq!(c.request(&with, &echo_call(1, "hi")).await.status, 200);
    let mut stream = None;
    if with_stream {
        let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
        let get = format!(
            "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
        );
        s.write_all(get.as_bytes()).await.unwrap();
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(T, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        stream = Some(s);
    }
    let delete = with.replacen("POST", "DELETE", 1);
    assert_eq!(c.request(&delete, b"").await.status, 200);
    drop(stream);
}

/// A POST that promises a longer body than it sends, then drops its connection.
async fn drop_mid_body(h: &mcp_sse::ServerHandle, path: &str) {
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    let req = format!(
        "{}Content-Length: 100000\r\n\r\n{{\"jsonrpc\":\"2.0\",",
        post_head(path)
    );
    s.write_all(req.as_bytes()).await.unwrap();
}

/// A Streamable HTTP call that streams many notifications; its connection is dropped after
/// the first bytes of the stream.
async fn drop_mid_stream(h: &mcp_sse::ServerHandle, id: &str) {
    let mut s = TcpStream::connect(h.local_addr()).await.unwrap();
    let req = format!(
        "{}Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{CHATTY}",
        post_head("/mcp"),
        CHATTY.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(T, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}

/// A `GET /sse` dropped right after its endpoint event.
async fn drop_legacy_stream(h: &mcp_sse::ServerHandle) {
    let _sse = Sse::open(h).await;
}

/// Runs `n` of `f(i)` with at most [`PARALLEL`] at once.
async fn run<F, Fut>(n: usize, f: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures_util::StreamExt;
    futures_util::stream::iter(0..n)
        .map(f)
        .buffer_unordered(PARALLEL)
        .collect::<()>()
        .await;
}

async fn churn(h: &mcp_sse::ServerHandle, sessions: usize, drops: usize) {
    run(sessions, |_| legacy_session(h)).await;
    run(sessions, |i| streamable_session(h, i % 2 == 0)).await;
    run(drops, |_| drop_mid_body(h, "/mcp")).await;
    // A legacy POST dropped mid-body needs a live session to reach the body.
    let sse = Sse::open(h).await;
    let mut post = Conn::open(h).await;
    assert_eq!(
        post.request(&post_head(&sse.endpoint), INIT_2024.as_bytes())
            .await
            .status,
        202
    );
    run(drops, |_| drop_mid_body(h, &sse.endpoint)).await;
    drop((sse, post));
    run(drops, |_| drop_legacy_stream(h)).await;
    let mut c = Conn::open(h).await;
    let r = c.request(&post_head("/mcp"), INIT_2025.as_bytes()).await;
    let id = r.header("mcp-session-id").unwrap().to_owned();
    run(drops, |_| drop_mid_stream(h, &id)).await;
    let delete = format!(
        "DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n"
    );
    assert_eq!(c.request(&delete, b"").await.status, 200);
}

/// Waits until no session is left, then until the live tasks are down to `tasks` (a task
/// ends a moment after its session), and returns both counts.
async fn settle(h: &mcp_sse::ServerHandle, tasks: usize) -> (usize, usize) {
    wait_sessions(h, 0).await;
    poll_until(&format!("at most {tasks} live tasks"), async || {
        alive_tasks() <= tasks
    })
    .await;
    (h.session_count(), alive_tasks())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_tasks_and_memory_return_to_baseline_after_churn() {
    let sessions = env("CHURN_SESSIONS", 1_000);
    let drops = env("CHURN_DROPS", 200);
    let h = start(|b| {
        b.max_sessions(100_000)
            .body_read_timeout(Duration::from_millis(500))
            .keep_alive(Duration::from_millis(100))
    })
    .await;
    let idle_tasks = alive_tasks();
    // Warm up allocator and code paths with a small round.
    churn(&h, 50, 20).await;
    let (left, _) = settle(&h, idle_tasks).await;
    assert_eq!(left, 0);
    let tasks_before = alive_tasks();
    let rss_before = rss_kib();
    churn(&h, sessions, drops).await;
    let (left, tasks_after) = settle(&h, tasks_before).await;
    let rss_after = rss_kib();
    println!(
        "churn: {sessions} sessions per transport, {drops} drops of each kind; sessions left \
         {left}; tasks before {tasks_before}, after {tasks_after}; RSS before {rss_before} KiB, \
         after {rss_after} KiB (+{} KiB)",
        rss_after.saturating_sub(rss_before)
    );
    assert_eq!(left, 0, "sessions left after churn");
    assert!(tasks_after <= tasks_before, "tasks left after churn");
    assert!(
        rss_after.saturating_sub(rss_before) < 8 * 1024,
        "memory not given back after churn"
    );
    h.shutdown().await;
}
