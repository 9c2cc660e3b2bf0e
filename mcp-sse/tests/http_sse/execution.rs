//! Where a session's requests run: on a current-thread runtime, in the task that writes the
//! session's stream (no task per request); on a multi-thread runtime, each in a task of its
//! own. Either way the `202` never waits for the work.

use std::sync::{Arc, Mutex, mpsc};

use mcp_core::{CallToolResult, Content, Server, Tool};
use serde_json::json;

use crate::common::*;

fn call(id: u64, tool: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {}, "_meta": {"progressToken": "p"}}
    }))
    .unwrap()
}

/// An initialized session: its stream and a connection for its POSTs.
async fn session(h: &mcp_sse::ServerHandle) -> (Sse, Conn, String) {
    let mut sse = Sse::open(h).await;
    let mut post = Conn::open(h).await;
    let head = post_head(&sse.endpoint);
    assert_eq!(post.request(&head, INIT_2024.as_bytes()).await.status, 202);
    sse.next_data().await.unwrap();
    assert_eq!(
        post.request(&head, INITIALIZED.as_bytes()).await.status,
        202
    );
    (sse, post, head)
}

/// The tasks alive while a `forever` call (progress reported, then waiting) is in flight,
/// minus those before it; the call is cancelled at the end.
async fn tasks_of_a_waiting_request() -> usize {
    let (h, mut cancelled) = start_counting(|b| b).await;
    let (mut sse, mut post, head) = session(&h).await;
    let before = alive_tasks();
    assert_eq!(post.request(&head, &call(1, "forever")).await.status, 202);
    let progress = sse.next_data().await.unwrap();
    assert!(progress.contains("notifications/progress"), "{progress}");
    let during = alive_tasks();
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 1}});
    let r = post.request(&head, cancel.to_string().as_bytes()).await;
    assert_eq!(r.status, 202);
    wait_for("the call to be cancelled", &mut cancelled, |n| *n == 1).await;
    h.shutdown().await;
    during.saturating_sub(before)
}

#[tokio::test]
async fn on_a_current_thread_runtime_a_request_runs_in_its_stream_task() {
    assert_eq!(tasks_of_a_waiting_request().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_each_request_has_its_own_task() {
    assert_eq!(tasks_of_a_waiting_request().await, 1);
}

/// A synchronous tool that blocks its thread until released holds back neither its `202`
/// nor the answers of requests handled before it, and its own answer arrives once it is done.
#[tokio::test]
async fn a_blocking_tool_never_holds_back_the_202() {
    let (release, wait) = mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let server = Server::builder("t", "1")
        .auto_collect(false)
        .tool(Tool::new("block", move |_ctx, _args| {
            // Computes (here: waits) before its first await, as a synchronous tool does.
            let _ = wait.lock().unwrap().recv();
            async { Ok(CallToolResult::success(vec![Content::text("done")])) }
        }))
        .build()
        .unwrap();
    // The server has a current-thread runtime of its own, which the tool blocks.
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let h = start_with(server, |b| b).await;
            addr_tx.send(h.local_addr()).unwrap();
            let _ = stop_rx.await;
            h.shutdown().await;
        });
    });
    let addr = addr_rx.await.unwrap();
    let sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sse, _) = Sse::connect(sock, "/sse", "").await;
    sse.endpoint = sse.next_data().await.expect("endpoint event");
    let mut post = Conn::to(addr).await;
    let head = post_head(&sse.endpoint);
    assert_eq!(post.request(&head, INIT_2024.as_bytes()).await.status, 202);
    sse.next_data().await.unwrap();
    assert_eq!(
        post.request(&head, INITIALIZED.as_bytes()).await.status,
        202
    );
    // Were the 202 held by the tool, it would never come: the tool waits for the release,
    // sent only once the 202 is here.
    assert_eq!(post.request(&head, &call(1, "block")).await.status, 202);
    release.send(()).unwrap();
    let answer = sse.next_data().await.unwrap();
    assert!(answer.contains("done"), "{answer}");
    stop_tx.send(()).unwrap();
    drop((sse, post));
    tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
}
