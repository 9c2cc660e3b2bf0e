//! The memory of a server behind an HTTP+SSE client that stopped reading and keeps POSTing:
//! bounded while the session lives, given back once it ends. Alone in its binary, so the
//! process's RSS is this test's. `STALL_POSTS` sets the number of POSTs (default 1,000); the
//! figures are printed.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_holds_bounded_memory_and_gives_it_back() {
    let posts: u64 = std::env::var("STALL_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let h = start(|b| b.stall_timeout(Duration::from_secs(300))).await;
    let text = "x".repeat(64 * 1024);
    let warm = alive_tasks();
    // Warm up allocator and code paths with one ordinary session.
    {
        let mut sse = Sse::open(&h).await;
        let mut post = Conn::open(&h).await;
        let head = post_head(&sse.endpoint);
        post.request(&head, INIT_2024.as_bytes()).await;
        sse.next_data().await.unwrap();
        for id in 1..=50 {
            post.request(&head, &echo_call(id, &text)).await;
            sse.next_data().await.unwrap();
        }
    }
    wait_sessions(&h, 0).await;
    poll_until("the warm-up tasks to end", async || alive_tasks() <= warm).await;
    let tasks_before = alive_tasks();
    let before = rss_kib();
    let mut sse = Sse::open(&h).await;
    let mut post = Conn::open(&h).await;
    let head = post_head(&sse.endpoint);
    post.request(&head, INIT_2024.as_bytes()).await;
    sse.next_data().await.unwrap();
    let (mut accepted, mut refused) = (0, 0);
    for id in 1..=posts {
        match post.request(&head, &echo_call(id, &text)).await.status {
            202 => accepted += 1,
            429 => refused += 1,
            s => panic!("unexpected {s}"),
        }
    }
    // What the session holds was taken when its POSTs were accepted.
    let during = rss_kib();
    drop(sse);
    drop(post);
    wait_sessions(&h, 0).await;
    // The session's memory is given back as its tasks end.
    poll_until("the session's tasks to end", async || {
        alive_tasks() <= tasks_before
    })
    .await;
    let after = rss_kib();
    println!(
        "stalled reader, {posts} POSTs of 64 KiB: {accepted} accepted, {refused} refused (429); \
         RSS before {before} KiB, during {during} KiB (+{} KiB), after {after} KiB (+{} KiB)",
        during.saturating_sub(before),
        after.saturating_sub(before)
    );
    // Unbounded, 1,000 POSTs of 64 KiB held about 130 MiB.
    assert!(
        during.saturating_sub(before) < 48 * 1024,
        "grew too much while stalled"
    );
    assert!(
        after.saturating_sub(before) < 24 * 1024,
        "memory not given back"
    );
    h.shutdown().await;
}
