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
