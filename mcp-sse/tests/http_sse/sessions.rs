//! The life of a session: the cap, isolation, and its end when the client goes or stalls.

use std::time::Duration;

use mcp_sse::client::SseClient;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_session_cap_answers_503_until_a_session_ends() {
    let h = start(|b| b.max_sessions(2)).await;
    let addr = h.local_addr();
    let a = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let _b = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let r = send(&h, &get("/sse", "")).await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some(), "{}", r.head);
    // The place is given back once the server notices the disconnect.
    drop(a);
    wait_sessions(&h, 1).await;
    let _c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    h.shutdown().await;
}

#[tokio::test]
async fn sessions_are_isolated_and_run_concurrently() {
    let h = start(|b| b).await;
    let addr = h.local_addr();
    let mut tasks = Vec::new();
    for n in 0..50 {
        tasks.push(tokio::spawn(async move {
            let mut c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
            // Both revisions the transport serves.
            let version = if n % 2 == 0 {
                "2024-11-05"
            } else {
                "2025-03-26"
            };
            let init = c.initialize_with(version).await.unwrap();
            assert_eq!(init["result"]["protocolVersion"], version);
            for i in 1..=5 {
                let text = format!("{n}-{i}");
                let args = json!({"name": "echo", "arguments": {"text": text}});
                let r = c.request(i, "tools/call", args).await.unwrap();
                assert_eq!(r["id"], i);
                assert_eq!(r["result"]["content"][0]["text"], text);
            }
            let r = c
                .request(9, "tools/call", json!({"name": "who"}))
                .await
                .unwrap();
            assert_eq!(r["result"]["content"][0]["text"], c.session_id());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_disconnect_ends_the_session_and_cancels_its_calls() {
    let (h, mut cancelled) = start_counting(|b| b).await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let ep = c.endpoint().to_owned();
    let call = json!({"jsonrpc":"2.0","id":9,"method":"tools/call",
        "params":{"name":"forever","_meta":{"progressToken":"p"}}});
    assert_eq!(
        c.post(call.to_string().as_bytes()).await.unwrap().status,
        202
    );
    // The call is running once its progress arrives.
    let progress = c.next_message().await.unwrap();
    assert_eq!(progress["method"], "notifications/progress");
    drop(c);
    wait_for("the call to be cancelled", &mut cancelled, |n| *n == 1).await;
    wait_sessions(&h, 0).await;
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    assert_eq!(
        send(&h, &post(&ep, "application/json", ping, ""))
            .await
            .status,
        404
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_stalled_reader_is_disconnected_after_the_stall_timeout() {
    let h = start(|b| b.session_queue(2).stall_timeout(Duration::from_millis(200))).await;
    // A stream that reads the endpoint and then never reads again.
    let st = Sse::open(&h).await;
    let ep = st.endpoint.clone();
    for m in [INIT_2024, INITIALIZED] {
        assert_eq!(
            send(&h, &post(&ep, "application/json", m, "")).await.status,
            202
        );
    }
    // Each answer is 256 KiB: the socket buffers fill, then the queue; POSTs are refused
    // (429) once the session holds its limit, or 404 once the stall timer ended it.
    let mut last = 202;
    for i in 0..400 {
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"big"}}}}"#
        );
        last = send(&h, &post(&ep, "application/json", &call, ""))
            .await
            .status;
        if last != 202 {
            break;
        }
    }
    assert!(
        matches!(last, 429 | 404),
        "a stalled session kept accepting: {last}"
    );
    wait_sessions(&h, 0).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(
        send(&h, &post(&ep, "application/json", ping, ""))
            .await
            .status,
        404
    );
    drop(st);
    h.shutdown().await;
}
