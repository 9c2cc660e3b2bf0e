//! Dispatcher throughput: parse + dispatch + serialize of a trivial `tools/call`, of a call
//! with two arguments to a tool whose schema has only types (`args_unconstrained`) and to one
//! whose schema adds a range, a length and a pattern (`args_constrained`, checked before the
//! handler runs), and `tools/list` with 100 registered tools (served from its cached
//! serialization).
//!
//! Run with `cargo bench -p mcp-core --bench dispatch`. Each iteration feeds raw request bytes
//! through `jsonrpc::parse`, `Session::receive_incoming`, awaits the request and takes the
//! serialized response off the outbound channel, on a single-threaded runtime (one core).

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcp_core::jsonrpc;
use mcp_core::{CallToolResult, Content, Outbound, Server, SessionOptions, Tool};

fn schema(constrained: bool) -> mcp_core::JsonObject {
    let mut s = serde_json::json!({
        "type": "object",
        "properties": {
            "count": {"type": "integer", "format": "int64"},
            "query": {"type": "string"}
        },
        "required": ["count", "query"]
    });
    if constrained {
        s["properties"]["count"]["minimum"] = 1.into();
        s["properties"]["count"]["maximum"] = 100.into();
        s["properties"]["query"]["maxLength"] = 64.into();
        s["properties"]["query"]["pattern"] = "^[a-z ]+$".into();
    }
    s.as_object().unwrap().clone()
}

fn server(tools: usize) -> Server {
    let mut b = Server::builder("bench", "1.0").page_size(1000);
    b = b.tool(Tool::new("noop", |_ctx, _args| async {
        Ok(CallToolResult::success(vec![Content::text("ok")]))
    }));

    for i in 1..tools {
        b = b.tool(
            Tool::new(format!("tool_{i:03}"), |_ctx, _args| async {
                Ok(CallToolResult::default())
            })
            .description(format!("Tool number {i}, which does a thing.")),
        );
    }
    b.build().expect("bench server builds")
}

/// One tool with two arguments; `constrained` adds a range, a length and a pattern.
fn args_server(constrained: bool) -> Server {
    Server::builder("bench", "1.0")
        .tool(
            Tool::new("args", |_ctx, _args| async {
                Ok(CallToolResult::success(vec![Content::text("ok")]))
            })
            .input_schema(schema(constrained)),
        )
        .build()
        .expect("bench server builds")
}

fn run(c: &mut Criterion, name: &str, server: Server, body: &'static [u8], expect: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (out, mut rx) = Outbound::channel(16);
    let session = server.session(SessionOptions::new(out.clone()).id("bench"));
    let limits = server.parse_limits();
    rt.block_on(async {
        let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}"#;
        let inc = jsonrpc::parse(init, &limits).unwrap();
        if let Some(f) = session.receive_incoming(inc, &out) {
            f.await;
        }
        rx.recv().await.unwrap();
        let inc = jsonrpc::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &limits).unwrap();
        assert!(session.receive_incoming(inc, &out).is_none());
        // Sanity: the measured request really succeeds.
        let inc = jsonrpc::parse(body, &limits).unwrap();
        session.receive_incoming(inc, &out).unwrap().await;
        let msg = rx.recv().await.unwrap();
        let text = std::str::from_utf8(&msg.json).unwrap();
        assert!(text.contains(expect), "unexpected answer: {text}");
    });
    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::Elements(1));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let inc = jsonrpc::parse(std::hint::black_box(body), &limits).unwrap();
                    if let Some(f) = session.receive_incoming(inc, &out) {
                        f.await;
                    }
                    std::hint::black_box(rx.recv().await.unwrap());
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    run(
        c,
        "tools_call_trivial",
        server(1),
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"noop","arguments":{}}}"#,
        r#""text":"ok""#,
    );
    run(
        c,
        "tools_call_args_unconstrained",
        args_server(false),
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"args","arguments":{"count":5,"query":"find me"}}}"#,
        r#""text":"ok""#,
    );
    run(
        c,
        "tools_call_args_constrained",
        args_server(true),
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"args","arguments":{"count":5,"query":"find me"}}}"#,
        r#""text":"ok""#,
    );
    run(
        c,
        "tools_list_100",
        server(100),
        br#"{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{}}"#,
        "tool_099",
    );
}

criterion_group! {
    name = dispatch;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(dispatch);
