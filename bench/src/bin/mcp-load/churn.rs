//! Churn mode: sessions opened and closed, connections dropped in the middle of a request body
//! and of a stream; the server's session count (`/health`) and RSS before and after.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Args;
use crate::client::{self, Client, PostPool, StreamConn, Target, Transport};

/// Sessions opened at once.
const PARALLEL: usize = 64;

async fn health_sessions(target: &Target) -> Result<u64, client::Error> {
    let pool = PostPool::new(target.addr, 1);
    let req = Request::get("/health")
        .header(header::HOST, &target.authority)
        .body(Full::new(Bytes::new()))?;
    let body = pool
        .send(req)
        .await?
        .into_body()
        .collect()
        .await?
        .to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    v["sessions"]
        .as_u64()
        .ok_or_else(|| "no session count".into())
}

/// Runs `n` of `f(i)`, [`PARALLEL`] at a time; the number that failed.
async fn spread<F, Fut>(n: usize, f: F) -> usize
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), client::Error>> + Send + 'static,
{
    let mut failed = 0;
    let mut running = tokio::task::JoinSet::new();
    for i in 0..n {
        if running.len() == PARALLEL && !matches!(running.join_next().await, Some(Ok(Ok(())))) {
            failed += 1;
        }
        running.spawn(f(i));
    }
    while let Some(r) = running.join_next().await {
        if !matches!(r, Ok(Ok(()))) {
            failed += 1;
        }
    }
    failed
}

/// One session opened and closed.
async fn session(
    transport: Transport,
    target: Target,
    pool: std::sync::Arc<PostPool>,
) -> Result<(), client::Error> {
    let mut c = Client::open(transport, &target, pool).await?;
    if let Client::Streamable(s) = &mut c {
        s.open_standalone(target.addr, &StreamConn::Own).await?;
        s.delete().await?;
    }
    Ok(())
}

/// A POST that promises more body than it sends, dropped.
async fn drop_mid_body(target: Target, path: String) -> Result<(), client::Error> {
    let mut s = client::tcp(target.addr).await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{{\"jsonrpc\":\"2.0\",",
        target.authority
    );
    s.write_all(req.as_bytes()).await?;
    Ok(())
}

/// A stream dropped after its first bytes: `GET /sse` (its session ends with it), or the
/// standalone stream of a fresh Streamable session (which is then deleted).
async fn drop_mid_stream(
    transport: Transport,
    target: Target,
    pool: std::sync::Arc<PostPool>,
) -> Result<(), client::Error> {
    let mut session = None;
    let head = match transport {
        Transport::Streamable => {
            let Client::Streamable(c) = Client::open(transport, &target, pool).await? else {
                return Err("not a Streamable session".into());
            };
            let head = format!(
                "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n",
                target.authority,
                c.session_id()
            );
            session = Some(c);
            head
        }
        _ => format!("GET /sse HTTP/1.1\r\nHost: {}\r\n\r\n", target.authority),
    };
    let mut s = client::tcp(target.addr).await?;
    s.write_all(head.as_bytes()).await?;
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await??;
    if !buf[..n].starts_with(b"HTTP/1.1 200") {
        return Err(format!("stream answered {:?}", String::from_utf8_lossy(&buf[..n])).into());
    }
    drop(s);
    if let Some(mut c) = session {
        c.delete().await?;
    }
    Ok(())
}

/// Runs the churn and prints its figures.
pub(crate) async fn run(args: &Args, target: &Target, n: usize, name: &str) {
    let sessions_before = health_sessions(target).await.unwrap_or(u64::MAX);
    let before = crate::total_rss_kib(&args.server_pids);
    let started = Instant::now();
    let pool = PostPool::new(target.addr, 8);
    let transport = args.transport;
    let failed_sessions = spread(n, |_| session(transport, target.clone(), pool.clone())).await;
    // An HTTP+SSE POST reaches its body only for a live session: one is opened for them.
    let mut keep = Client::open(transport, target, pool.clone()).await.ok();
    let body_path = match &keep {
        Some(Client::Sse(c)) => c.post_path().to_owned(),
        _ => "/mcp".to_owned(),
    };
    let failed_body = spread(args.drops, |_| {
        drop_mid_body(target.clone(), body_path.clone())
    })
    .await;
    if let Some(Client::Streamable(c)) = &mut keep {
        let _ = c.delete().await;
    }
    drop(keep);
    let failed_stream = spread(args.drops, |_| {
        drop_mid_stream(transport, target.clone(), pool.clone())
    })
    .await;
    let elapsed = started.elapsed();
    // The server notices a dropped connection when it next reads or writes it (an idle
    // stream at its next keep-alive).
    let mut sessions_after = u64::MAX;
    for _ in 0..400 {
        sessions_after = health_sessions(target).await.unwrap_or(u64::MAX);
        if sessions_after <= sessions_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = crate::total_rss_kib(&args.server_pids);
    let rss = match (before, after) {
        (Some(b), Some(a)) => format!(" rss_before_kib={b} rss_after_kib={a}"),
        _ => String::new(),
    };
    println!(
        "transport={name} churn_sessions={n} drops_mid_body={} drops_mid_stream={} failed={} \
         seconds={:.1} sessions_before={sessions_before} sessions_after={sessions_after}{rss}",
        args.drops,
        args.drops,
        failed_sessions + failed_body + failed_stream,
        elapsed.as_secs_f64(),
    );
}
