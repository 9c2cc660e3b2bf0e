//! Load generator for the two HTTP transports.
//!
//! ```text
//! mcp-load --addr 127.0.0.1:8000 [--transport sse|streamable|stateless] --sessions 32 --seconds 10
//! mcp-load --addr 127.0.0.1:8000 [--transport sse|streamable] --idle 10000 --server-pid PID
//! ```
//!
//! Load mode: N sessions (for `stateless`, the 2026-07-28 revision: N clients without a
//! session), each a closed loop of `tools/call add`; prints calls/s and p50/p99 latency. Idle mode: opens K initialized sessions and holds them, printing the server's
//! resident memory (VmRSS of `--server-pid`) before and after, and the difference per session.

mod client;
mod sse;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use client::{Client, PostPool, Target, Transport};

struct Args {
    addr: SocketAddr,
    transport: Transport,
    sessions: usize,
    seconds: u64,
    idle: Option<usize>,
    server_pid: Option<u32>,
    tool: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:8000".parse().map_err(|e| format!("{e}"))?,
        transport: Transport::Sse,
        sessions: 1,
        seconds: 5,
        idle: None,
        server_pid: None,
        tool: "add".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--transport" => {
                a.transport = match value()?.as_str() {
                    "sse" => Transport::Sse,
                    "streamable" => Transport::Streamable,
                    "stateless" => Transport::Stateless,
                    other => return Err(format!("unknown transport {other:?}")),
                }
            }
            "--sessions" => {
                a.sessions = value()?.parse().map_err(|e| format!("--sessions: {e}"))?
            }
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--idle" => a.idle = Some(value()?.parse().map_err(|e| format!("--idle: {e}"))?),
            "--server-pid" => {
                a.server_pid = Some(value()?.parse().map_err(|e| format!("--server-pid: {e}"))?)
            }
            "--tool" => a.tool = value()?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mcp-load: {e}");
            std::process::exit(2);
        }
    };
    let target = Target {
        addr: args.addr,
        authority: args.addr.to_string(),
        prefix: String::new(),
    };
    let name = match args.transport {
        Transport::Sse => "sse",
        Transport::Streamable => "streamable",
        Transport::Stateless => "stateless",
    };
    if let Some(k) = args.idle {
        if args.transport == Transport::Stateless {
            eprintln!("mcp-load: --idle measures sessions; the stateless revision has none");
            std::process::exit(2);
        }
        idle(&args, &target, k, name).await;
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.sessions {
        let target = target.clone();
        let transport = args.transport;
        let tool = args.tool.clone();
        tasks.push(tokio::spawn(async move {
            let pool = PostPool::new(target.addr, 1);
            let mut client = Client::open(transport, &target, pool).await?;
            let mut lat = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let t = Instant::now();
                client.call_tool(&tool).await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            Ok::<_, client::Error>(lat)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(l)) => all.extend(l),
            Ok(Err(e)) => {
                errors += 1;
                eprintln!("session failed: {e}");
            }
            Err(e) => {
                errors += 1;
                eprintln!("session panicked: {e}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64().max(args.seconds as f64);
    all.sort_unstable();
    println!(
        "transport={name} sessions={} calls={} calls_per_sec={:.0} p50_us={} p99_us={} failed_sessions={errors}",
        args.sessions,
        all.len(),
        all.len() as f64 / secs,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
    );
    if errors > 0 {
        std::process::exit(1);
    }
}

async fn idle(args: &Args, target: &Target, k: usize, name: &str) {
    let before = args.server_pid.and_then(rss_kib);
    // POSTs of all idle sessions share a few connections; each session keeps its own stream.
    let pool = PostPool::new(target.addr, 8);
    let mut clients = Vec::with_capacity(k);
    let mut failed = 0;
    let mut opening = Vec::new();
    for i in 0..k {
        let target = target.clone();
        let pool = pool.clone();
        let transport = args.transport;
        opening.push(tokio::spawn(async move {
            Client::open(transport, &target, pool).await
        }));
        if opening.len() == 64 || i + 1 == k {
            for t in opening.drain(..) {
                match t.await {
                    Ok(Ok(c)) => clients.push(c),
                    _ => failed += 1,
                }
            }
        }
    }
    // Let the server settle (allocator, lazily grown buffers).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = args.server_pid.and_then(rss_kib);
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "transport={name} idle_sessions={} failed={failed} rss_before_kib={b} rss_after_kib={a} kib_per_session={:.1}",
            clients.len(),
            (a.saturating_sub(b)) as f64 / clients.len().max(1) as f64
        ),
        _ => println!(
            "transport={name} idle_sessions={} failed={failed} (no --server-pid: memory not measured)",
            clients.len()
        ),
    }
    drop(clients);
}
