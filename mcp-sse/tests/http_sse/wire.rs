//! What travels on the stream: the head, the endpoint event, message frames, keep-alives.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::common::*;

#[tokio::test]
async fn the_endpoint_event_and_message_frames_are_exact() {
    let h = start(|b| b).await;
    let sock = TcpStream::connect(h.local_addr()).await.unwrap();
    let (mut st, head) = Sse::connect(sock, "/sse", "").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: text/event-stream\r\n"),
        "{head}"
    );
    assert!(lower.contains("cache-control: no-cache\r\n"), "{head}");
    assert!(lower.contains("x-accel-buffering: no\r\n"), "{head}");
    // Chunked: the first chunk is exactly the endpoint event.
    let chunk = st.until("\n\n\r\n").await;
    let (size, frame) = chunk.split_once("\r\n").unwrap();
    let frame = &frame[..usize::from_str_radix(size, 16).unwrap()];
    let id = frame
        .strip_prefix("event: endpoint\ndata: /messages?sessionId=")
        .and_then(|r| r.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("bad endpoint frame {frame:?}"));
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    let ep = format!("/messages?sessionId={id}");

    // A POST is answered 202 with no body; its answer is one message frame on the stream.
    let r = send(
        &h,
        &post(
            &ep,
            "application/json",
            r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#,
            "",
        ),
    )
    .await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let chunk = st.until("\n\n\r\n").await;
    let (_, frame) = chunk.split_once("\r\n").unwrap();
    assert_eq!(
        frame,
        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n\r\n"
    );

    // A tool call on the initialized session: the answer, exactly.
    for m in [INIT_2024, INITIALIZED] {
        assert_eq!(
            send(&h, &post(&ep, "application/json", m, "")).await.status,
            202
        );
    }
    let init: Value = serde_json::from_str(&st.next_data().await.unwrap()).unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    let call = json!({"jsonrpc":"2.0","id":"c1","method":"tools/call",
        "params":{"name":"echo","arguments":{"text":"hi"}}});
    let r = send(&h, &post(&ep, "application/json", &call.to_string(), "")).await;
    assert_eq!(r.status, 202);
    let answer: Value = serde_json::from_str(&st.next_data().await.unwrap()).unwrap();
    assert_eq!(
        answer,
        json!({"jsonrpc":"2.0","id":"c1","result":{"content":[{"type":"text","text":"hi"}]}})
    );
    drop(st);
    h.shutdown().await;
}

#[tokio::test]
async fn keep_alive_comments_are_sent() {
    let h = start(|b| b.keep_alive(Duration::from_millis(50))).await;
    let sock = TcpStream::connect(h.local_addr()).await.unwrap();
    let (mut st, _) = Sse::connect(sock, "/sse", "").await;
    st.until(": keep-alive\n\n").await;
    drop(st);
    h.shutdown().await;
}
