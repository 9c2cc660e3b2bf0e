//! What one client can hold and how long a handler can run: subscriptions are bounded and
//! limited to resolvable uris, resource updates never wait on a slow session, handlers are
//! cancelled past their timeout, and client text is echoed only as a short prefix.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::settle;
use mcp_core::jsonrpc::{Message, Request, RequestId};
use mcp_core::transport::memory::MemoryClient;
use mcp_core::{
    CallToolResult, Outbound, OutboundReceiver, Prompt, PromptMessage, Resource, ResourceContents,
    ResourceTemplate, Server, SessionOptions, Tool,
};
use serde_json::{Value, json};

fn resources() -> mcp_core::ServerBuilder {
    Server::builder("limits", "1")
        .auto_collect(false)
        .resource(Resource::new("app://a", "a", |_ctx| async {
            Ok(ResourceContents::text("app://a", "text/plain", "a").into())
        }))
        .resource_template(ResourceTemplate::new(
            "items://{id}",
            "item",
            |_ctx, vars| async move {
                let uri = format!("items://{}", vars["id"]);
                Ok(ResourceContents::text(uri, "text/plain", "item").into())
            },
        ))
}

async fn subscribe(
    client: &MemoryClient,
    uri: &str,
) -> Result<Value, mcp_core::jsonrpc::ErrorObject> {
    client
        .request("resources/subscribe", json!({ "uri": uri }))
        .await
}

#[tokio::test]
async fn only_resolvable_uris_can_be_subscribed() {
    let server = resources().build().unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    assert_eq!(subscribe(&client, "app://a").await.unwrap(), json!({}));
    assert_eq!(subscribe(&client, "items://42").await.unwrap(), json!({}));
    let e = subscribe(&client, "app://nothing-here").await.unwrap_err();
    assert_eq!(e.code, -32002, "{e:?}");
    let e = subscribe(&client, "items://a/b").await.unwrap_err();
    assert_eq!(e.code, -32002, "{e:?}");
    assert_eq!(client.session().subscription_count(), 2);
}

#[tokio::test]
async fn subscriptions_per_session_are_capped() {
    let server = resources()
        .max_session_subscriptions(2)
        .max_subscription_uri_bytes(32)
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    subscribe(&client, "items://1").await.unwrap();
    subscribe(&client, "items://2").await.unwrap();
    let e = subscribe(&client, "items://3").await.unwrap_err();
    assert_eq!(e.code, -32600);
    assert!(e.message.contains("limit 2"), "{}", e.message);
    // Subscribing again to a held uri is not a new subscription.
    subscribe(&client, "items://2").await.unwrap();
    client
        .request("resources/unsubscribe", json!({"uri": "items://1"}))
        .await
        .unwrap();
    subscribe(&client, "items://3").await.unwrap();
    assert_eq!(client.session().subscription_count(), 2);
    let long = format!("items://{}", "x".repeat(40));
    let e = subscribe(&client, &long).await.unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("32 bytes"), "{}", e.message);
    // Each session has its own allowance.
    let other = MemoryClient::connect(&server);
    other.initialize().await.unwrap();
    subscribe(&other, "items://1").await.unwrap();
}

/// A session whose transport queue holds `capacity` messages and is drained only by the test.
async fn raw_session(server: &Server, capacity: usize) -> (mcp_core::Session, OutboundReceiver) {
    let (out, mut rx) = Outbound::channel(capacity);
    let session = server.session(SessionOptions::new(out.clone()).transport("test"));
    let req = |id: i64, method: &str, params: Value| {
        Message::Request(Request {
            id: RequestId::Int(id),
            method: method.into(),
            params: Some(params),
        })
    };
    let init = json!({
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}
    });
    session.handle(req(1, "initialize", init), &out).await;
    rx.recv().await.unwrap();
    session
        .handle(
            req(2, "resources/subscribe", json!({"uri": "app://a"})),
            &out,
        )
        .await;
    let answer: Value = serde_json::from_slice(&rx.recv().await.unwrap().json).unwrap();
    assert_eq!(answer["result"], json!({}), "{answer}");
    (session, rx)
}

fn note(n: i64) -> mcp_core::Outgoing {
    mcp_core::Outgoing::notification(mcp_core::jsonrpc::notification_bytes(
        "test/filler",
        Some(&json!({ "n": n })),
    ))
}

#[tokio::test(start_paused = true)]
async fn resource_updates_never_wait_on_a_stalled_session() {
    let server = resources().build().unwrap();
    // A session whose client stopped reading: its queue is full and nothing drains it.
    let (stalled, mut stalled_rx) = raw_session(&server, 2).await;
    stalled.outbound().try_send(note(1)).unwrap();
    stalled.outbound().try_send(note(2)).unwrap();
    let healthy = MemoryClient::connect(&server);
    healthy.initialize().await.unwrap();
    subscribe(&healthy, "app://a").await.unwrap();
    healthy.drain_notifications().await;

    for _ in 0..3 {
        tokio::time::timeout(
            Duration::from_millis(500),
            server.notify_resource_updated("app://a"),
        )
        .await
        .expect("notify_resource_updated waited on the stalled session");
    }
    let n = tokio::time::timeout(Duration::from_secs(5), healthy.next_notification())
        .await
        .expect("the healthy session got its update")
        .unwrap();
    assert_eq!(n["params"]["uri"], "app://a");

    // Once the stalled client reads again, its update arrives, once for the three.
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = tokio::time::timeout(Duration::from_secs(5), stalled_rx.recv())
            .await
            .expect("the stalled session's update was delivered")
            .unwrap();
        got.push(serde_json::from_slice::<Value>(&m.json).unwrap());
    }
    assert_eq!(got[0]["method"], "test/filler");
    assert_eq!(got[1]["method"], "test/filler");
    assert_eq!(got[2]["method"], "notifications/resources/updated");
    settle().await;
    assert!(
        stalled_rx.try_recv().is_none(),
        "updates of one uri are coalesced"
    );
    // Later updates go straight to the queue again.
    server.notify_resource_updated("app://a").await;
    let m = stalled_rx.try_recv().expect("queued at once");
    assert_eq!(
        serde_json::from_slice::<Value>(&m.json).unwrap()["method"],
        "notifications/resources/updated"
    );
    drop(stalled);
}

/// Sets a flag when dropped: shows that a handler's future was cancelled, not left running.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn forever(flag: Arc<AtomicBool>) -> Tool {
    Tool::new("forever", move |_ctx, _args| {
        let guard = DropFlag(flag.clone());
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok(CallToolResult::default())
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_tool_past_its_timeout_is_cancelled_and_answered_with_a_tool_error() {
    let dropped = Arc::new(AtomicBool::new(false));
    let server = Server::builder("timeouts", "1")
        .auto_collect(false)
        .max_in_flight(1)
        .tool(forever(dropped.clone()).timeout(Duration::from_millis(100)))
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        client.call_tool("forever", json!({})),
    )
    .await
    .expect("the call was answered after its timeout")
    .unwrap();
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("did not finish within 100 ms"), "{text}");
    assert!(dropped.load(Ordering::SeqCst), "the handler was cancelled");
    // No longer in flight: with room for one request, the next one runs.
    assert_eq!(client.request("ping", json!({})).await.unwrap(), json!({}));
    let again = client.request_with_id(
        RequestId::Int(1000),
        "tools/call",
        json!({"name": "forever"}),
    );
    let again = tokio::time::timeout(Duration::from_secs(5), again)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again["isError"], true);
}

#[tokio::test(start_paused = true)]
async fn the_server_default_timeout_applies_unless_a_tool_sets_its_own() {
    let dropped = Arc::new(AtomicBool::new(false));
    let server = Server::builder("timeouts", "1")
        .auto_collect(false)
        .handler_timeout(Duration::from_millis(100))
        .tool(forever(dropped.clone()))
        .tool(
            // Takes longer than the server's default, within its own timeout.
            Tool::new("patient", |_ctx, _args| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(CallToolResult::default())
            })
            .timeout(Duration::from_secs(10)),
        )
        .resource(Resource::new("app://slow", "slow", |_ctx| async {
            std::future::pending::<()>().await;
            Ok(ResourceContents::text("app://slow", "text/plain", "never").into())
        }))
        .prompt(Prompt::new("slow", |_ctx, _args| async {
            std::future::pending::<()>().await;
            Ok(vec![PromptMessage::user("never")].into())
        }))
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let r = client.call_tool("forever", json!({})).await.unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(dropped.load(Ordering::SeqCst));
    let r = client.call_tool("patient", json!({})).await.unwrap();
    assert_ne!(r["isError"], true, "{r}");
    let e = client.read_resource("app://slow").await.unwrap_err();
    assert_eq!(e.code, -32603);
    assert!(
        e.message.contains("did not finish within 100 ms"),
        "{}",
        e.message
    );
    let e = client.get_prompt("slow", json!({})).await.unwrap_err();
    assert_eq!(e.code, -32603);
    assert!(
        e.message.contains("did not finish within 100 ms"),
        "{}",
        e.message
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn long_client_names_are_echoed_as_a_short_prefix_in_errors_and_logs() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = resources().build().unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let huge = "m".repeat(1 << 20);
    let e = client.request(&huge, json!({})).await.unwrap_err();
    assert_eq!(e.code, -32601);
    assert!(e.message.len() < 200, "{} bytes", e.message.len());
    assert!(
        e.message.contains("mmmm") && e.message.contains("1048576 bytes"),
        "{}",
        e.message
    );
    let e = client.call_tool(&huge, json!({})).await.unwrap_err();
    assert!(e.message.len() < 200, "{} bytes", e.message.len());
    let e = client
        .read_resource(&format!("app://{huge}"))
        .await
        .unwrap_err();
    assert!(e.message.len() < 200, "{} bytes", e.message.len());
    assert!(e.data.unwrap().to_string().len() < 200);
    client.notify(&huge, None).await;
    let logs = out.0.lock().unwrap().clone();
    assert!(!logs.is_empty());
    assert!(
        logs.len() < 64 * 1024,
        "the logs repeated the name: {} bytes",
        logs.len()
    );
}
