//! Start-up and shutdown hooks: the start-up value reaches handlers as typed state, a failing
//! hook keeps the server from serving, hooks run in registration order and exactly once.

use std::sync::{Arc, Mutex};

use mcp_core::transport::stdio::serve_io;
use mcp_core::{CallToolResult, Content, Server, State, Tool};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

struct Pool {
    url: String,
}

type Log = Arc<Mutex<Vec<String>>>;

fn server(log: &Log) -> Server {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    Server::builder("life", "1.0")
        .auto_collect(false)
        .tool(Tool::new("db_url", |ctx, _args| async move {
            let pool = State::<Pool>::from_context(&ctx).map_err(mcp_core::ToolError::Protocol)?;
            Ok(CallToolResult::success(vec![Content::text(&pool.0.url)]))
        }))
        .on_startup(move || async move {
            a.lock().unwrap().push("start pool".into());
            Ok::<_, std::io::Error>(Pool {
                url: "db://primary".into(),
            })
        })
        .on_startup(move || async move {
            b.lock().unwrap().push("start cache".into());
            Ok::<_, std::io::Error>(7u32)
        })
        .on_shutdown(move |server| async move {
            let url = server.state::<Pool>().map(|p| p.url.clone());
            c.lock()
                .unwrap()
                .push(format!("close {}", url.unwrap_or_default()));
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_startup_value_is_typed_state_and_shutdown_runs_once_after_the_connection() {
    let log = Log::default();
    let server = server(&log);
    // One pipe each way, so closing the client's writing side is the server's end of input.
    let (mut client_write, read) = tokio::io::duplex(64 * 1024);
    let (write, client_read) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(serve_io(server.clone(), read, write));
    let mut lines = BufReader::new(client_read).lines();
    for msg in [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"db_url","arguments":{}}}),
    ] {
        client_write
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
    }
    let mut answer = Value::Null;
    while let Some(line) = lines.next_line().await.unwrap() {
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["id"] == 2 {
            answer = v;
            break;
        }
    }
    assert_eq!(answer["result"]["content"][0]["text"], "db://primary");
    assert_eq!(server.state::<u32>().as_deref(), Some(&7));
    assert_eq!(
        *log.lock().unwrap(),
        ["start pool", "start cache"],
        "start-up hooks run in registration order, before anything is served"
    );
    drop(client_write);
    serving.await.unwrap().unwrap();
    assert_eq!(log.lock().unwrap().last().unwrap(), "close db://primary");
    // Starting or shutting down again runs nothing more.
    server.start().await.unwrap();
    server.shutdown().await;
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_failing_startup_hook_stops_the_server_and_reports_its_error() {
    let log = Log::default();
    let (a, b) = (log.clone(), log.clone());
    let server = Server::builder("life", "1.0")
        .auto_collect(false)
        .on_startup(|| async { Err::<Pool, _>(std::io::Error::other("connection refused")) })
        .on_startup(move || async move {
            a.lock().unwrap().push("second hook".into());
            Ok::<_, std::io::Error>(1u8)
        })
        .on_shutdown(move |_| async move { b.lock().unwrap().push("shutdown".into()) })
        .build()
        .unwrap();
    let (client, server_io) = tokio::io::duplex(1024);
    let (read, write) = tokio::io::split(server_io);
    let err = serve_io(server.clone(), read, write).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("start-up hook 1 of 2 failed: connection refused"),
        "{err}"
    );
    drop(client);
    let again = server.start().await.unwrap_err();
    assert_eq!(again.index(), 1);
    assert_eq!(again.message(), "connection refused");
    server.shutdown().await;
    assert!(
        log.lock().unwrap().is_empty(),
        "neither the later hook nor shutdown ran: {:?}",
        log.lock().unwrap()
    );
}

#[tokio::test]
async fn concurrent_starts_run_the_hooks_once_and_all_see_the_state() {
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    let server = Server::builder("life", "1.0")
        .auto_collect(false)
        .on_startup(move || async move {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, std::io::Error>(Pool { url: "x".into() })
        })
        .build()
        .unwrap();
    let (a, b) = tokio::join!(server.start(), server.start());
    a.unwrap();
    b.unwrap();
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(server.state::<Pool>().unwrap().url, "x");
}
