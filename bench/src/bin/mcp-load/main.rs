//! Load generator for the two HTTP transports.
//!
//! ```text
//! mcp-load --addr 127.0.0.1:8000 [--transport sse|streamable|stateless] --sessions 32 --seconds 10
//! mcp-load --addr 127.0.0.1:8000 [--transport sse|streamable] --idle 10000 --server-pid PID[,PID...]
//!          [--sources 8] [--h2-streams 100] [--control 2000]
//! mcp-load --addr 127.0.0.1:8000 [--transport sse|streamable] --churn 10000 --drops 1000 --server-pid PID
//! mcp-load --addr 127.0.0.1:8000 --sessions 32 --redis 127.0.0.1:6379   # behind a balancer
//! ```
//!
//! Load mode: N sessions (for `stateless`, the 2026-07-28 revision: N clients without a
//! session), each a closed loop of `tools/call add`; prints calls/s and p50/p99 latency.
//! Behind a balancer that names the answering instance (`X-Served-By`, as in
//! `examples/cluster/haproxy.cfg`), HTTP+SSE calls are also split by whether their POST
//! landed on the instance holding the stream, with the p50 of each; `--redis` first measures
//! the p50 of a Redis `PING` round trip, the yardstick of a cross-instance hop. Idle mode:
//! opens K initialized sessions and holds them, printing the servers' resident memory (the
//! sum of VmRSS over `--server-pid`) before and after, and the difference per session; a
//! Streamable session holds its standalone `GET` stream too (when the server serves one).
//! `--sources N` spreads the connections over N loopback source addresses (one address gives
//! only ~28,000 ephemeral ports); `--h2-streams K` carries the idle HTTP+SSE streams K to an
//! HTTP/2 connection; `--control N` times N `tools/call` of one more session before the idle
//! sessions are opened and again while they are held (p50 of each). Churn mode: opens and
//! closes N sessions (HTTP+SSE: the stream dropped; Streamable: its standalone stream opened,
//! then `DELETE`), drops M connections in the middle of a request body and M in the middle of
//! a stream, then prints the server's session count (`/health`) and RSS before and after.

mod churn;
mod client;
mod sse;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use client::{Client, PostPool, StreamConn, Target, Transport};

struct Args {
    addr: SocketAddr,
    transport: Transport,
    sessions: usize,
    seconds: u64,
    idle: Option<usize>,
    server_pids: Vec<u32>,
    redis: Option<SocketAddr>,
    tool: String,
    sources: usize,
    h2_streams: usize,
    control: usize,
    churn: Option<usize>,
    drops: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:8000".parse().map_err(|e| format!("{e}"))?,
        transport: Transport::Sse,
        sessions: 1,
        seconds: 5,
        idle: None,
        server_pids: Vec::new(),
        redis: None,
        tool: "add".into(),
        sources: 0,
        h2_streams: 0,
        control: 0,
        churn: None,
        drops: 0,
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
                for pid in value()?.split(',') {
                    a.server_pids
                        .push(pid.parse().map_err(|e| format!("--server-pid: {e}"))?);
                }
            }
            "--redis" => a.redis = Some(value()?.parse().map_err(|e| format!("--redis: {e}"))?),
            "--tool" => a.tool = value()?,
            "--sources" => a.sources = value()?.parse().map_err(|e| format!("--sources: {e}"))?,
            "--h2-streams" => {
                a.h2_streams = value()?.parse().map_err(|e| format!("--h2-streams: {e}"))?
            }
            "--control" => a.control = value()?.parse().map_err(|e| format!("--control: {e}"))?,
            "--churn" => a.churn = Some(value()?.parse().map_err(|e| format!("--churn: {e}"))?),
            "--drops" => a.drops = value()?.parse().map_err(|e| format!("--drops: {e}"))?,
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

/// The summed VmRSS of `pids`; `None` without pids or when one cannot be read.
fn total_rss_kib(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| rss_kib(*p)).sum()
}

/// The median round trip of a Redis `PING` at `addr`, in microseconds.
async fn redis_rtt_p50(addr: SocketAddr) -> Result<u64, client::Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await?;
    sock.set_nodelay(true)?;
    let mut lat = Vec::with_capacity(2000);
    let mut buf = [0u8; 16];
    for _ in 0..2000 {
        let t = Instant::now();
        sock.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
        let mut got = 0;
        while got < 7 {
            let n = sock.read(&mut buf[got..]).await?;
            if n == 0 {
                return Err("redis closed the connection".into());
            }
            got += n;
        }
        if &buf[..7] != b"+PONG\r\n" {
            return Err("unexpected answer to PING".into());
        }
        lat.push(t.elapsed().as_micros() as u64);
    }
    lat.sort_unstable();
    Ok(percentile(&lat, 0.5))
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
    client::spread_sources(args.sources);
    if let Some(n) = args.churn {
        if args.transport == Transport::Stateless {
            eprintln!("mcp-load: --churn opens sessions; the stateless revision has none");
            std::process::exit(2);
        }
        churn::run(&args, &target, n, name).await;
        return;
    }
    if let Some(k) = args.idle {
        if args.transport == Transport::Stateless {
            eprintln!("mcp-load: --idle measures sessions; the stateless revision has none");
            std::process::exit(2);
        }
        idle(&args, &target, k, name).await;
        return;
    }
    let redis_rtt = match args.redis {
        Some(addr) => match redis_rtt_p50(addr).await {
            Ok(us) => Some(us),
            Err(e) => {
                eprintln!("mcp-load: redis at {addr}: {e}");
                std::process::exit(1);
            }
        },
        None => None,
    };
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.sessions {
        let target = target.clone();
        let transport = args.transport;
        let tool = args.tool.clone();
        tasks.push(tokio::spawn(async move {
            let pool = PostPool::new(target.addr, 1);
            let mut client = Client::open(transport, &target, pool).await?;
            // Every latency, and those of calls known to have landed on / off the owner.
            let mut lat = (Vec::with_capacity(100_000), Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let t = Instant::now();
                let off_owner = client.call_tool(&tool).await?;
                let us = t.elapsed().as_micros() as u64;
                lat.0.push(us);
                match off_owner {
                    Some(false) => lat.1.push(us),
                    Some(true) => lat.2.push(us),
                    None => {}
                }
            }
            Ok::<_, client::Error>(lat)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for t in tasks {
        match t.await {
            Ok(Ok((l, l_on, l_off))) => {
                all.extend(l);
                on.extend(l_on);
                off.extend(l_off);
            }
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
    let mut line = format!(
        "transport={name} sessions={} calls={} calls_per_sec={:.0} p50_us={} p99_us={} failed_sessions={errors}",
        args.sessions,
        all.len(),
        all.len() as f64 / secs,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
    );
    if !on.is_empty() || !off.is_empty() {
        on.sort_unstable();
        off.sort_unstable();
        let share = off.len() as f64 / (on.len() + off.len()) as f64;
        line.push_str(&format!(
            " off_owner_share={share:.2} on_owner_p50_us={} off_owner_p50_us={} off_owner_added_us={}",
            percentile(&on, 0.5),
            percentile(&off, 0.5),
            percentile(&off, 0.5) as i64 - percentile(&on, 0.5) as i64,
        ));
    }
    if let Some(us) = redis_rtt {
        line.push_str(&format!(" redis_rtt_p50_us={us}"));
    }
    println!("{line}");
    if errors > 0 {
        std::process::exit(1);
    }
}

/// The p50 in µs of `n` calls of a fresh session.
async fn control_p50(args: &Args, target: &Target, n: usize) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let pool = PostPool::new(target.addr, 1);
    let mut c = Client::open(args.transport, target, pool).await.ok()?;
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        c.call_tool(&args.tool).await.ok()?;
        lat.push(t.elapsed().as_micros() as u64);
    }
    lat.sort_unstable();
    Some(percentile(&lat, 0.5))
}

async fn idle(args: &Args, target: &Target, k: usize, name: &str) {
    let control_before = control_p50(args, target, args.control).await;
    let before = total_rss_kib(&args.server_pids);
    // POSTs of all idle sessions share a few connections; each session keeps its own stream.
    let pool = PostPool::new(target.addr, 8);
    let mut clients = Vec::with_capacity(k);
    let mut failed = 0;
    let mut standalone = 0;
    let mut opening = Vec::new();
    let mut conn = StreamConn::Own;
    let mut on_conn = 0;
    for i in 0..k {
        if args.h2_streams > 0 && (i == 0 || on_conn == args.h2_streams) {
            conn = match client::connect_h2(target.addr).await {
                Ok(h2) => StreamConn::H2(h2),
                Err(e) => {
                    eprintln!("HTTP/2 connection failed: {e}");
                    break;
                }
            };
            on_conn = 0;
        }
        on_conn += 1;
        let target = target.clone();
        let pool = pool.clone();
        let transport = args.transport;
        let conn = conn.clone();
        opening.push(tokio::spawn(async move {
            let mut c = Client::open_on(transport, &target, pool, &conn).await?;
            let mut with_stream = false;
            if let Client::Streamable(s) = &mut c {
                // The ceiling serves no standalone stream: then the session goes without.
                with_stream = s.open_standalone(target.addr, &conn).await.is_ok();
            }
            Ok::<_, client::Error>((c, with_stream))
        }));
        if opening.len() == 64 || i + 1 == k {
            for t in opening.drain(..) {
                match t.await {
                    Ok(Ok((c, s))) => {
                        clients.push(c);
                        standalone += usize::from(s);
                    }
                    Ok(Err(e)) => {
                        if failed == 0 {
                            eprintln!("session failed: {e}");
                        }
                        failed += 1
                    }
                    _ => failed += 1,
                }
            }
        }
    }
    // Let the server settle (allocator, lazily grown buffers).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = total_rss_kib(&args.server_pids);
    let control_during = control_p50(args, target, args.control).await;
    let control = match (control_before, control_during) {
        (Some(b), Some(d)) => format!(" control_p50_us_before={b} control_p50_us_during={d}"),
        _ => String::new(),
    };
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "transport={name} idle_sessions={} standalone_streams={standalone} failed={failed} rss_before_kib={b} rss_after_kib={a} kib_per_session={:.1}{control}",
            clients.len(),
            (a.saturating_sub(b)) as f64 / clients.len().max(1) as f64
        ),
        _ => println!(
            "transport={name} idle_sessions={} standalone_streams={standalone} failed={failed} (no --server-pid: memory not measured){control}",
            clients.len()
        ),
    }
    drop(clients);
}
