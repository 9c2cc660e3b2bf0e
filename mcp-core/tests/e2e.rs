//! In-memory end-to-end suite: every method and every error, for each served revision, with
//! every message the server sent validated against that revision's `schema.json`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use common::{REVISIONS, WireSchema, server, settle};
use mcp_core::jsonrpc::{ErrorObject, RequestId};
use mcp_core::transport::memory::MemoryClient;
use mcp_core::{CallToolResult, Content, Server, Tool};
use serde_json::{Value, json};

/// A client that remembers which method each request id was for.
struct Probe {
    client: MemoryClient,
    next: AtomicI64,
    methods: std::sync::Mutex<HashMap<String, String>>,
}

impl Probe {
    fn new(server: &Server, caps: Value) -> Probe {
        Probe {
            client: MemoryClient::connect(server).with_capabilities(caps),
            next: AtomicI64::new(1000),
            methods: Default::default(),
        }
    }

    async fn req(&self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.methods
            .lock()
            .unwrap()
            .insert(n.to_string(), method.to_owned());
        let fut = self
            .client
            .request_with_id(RequestId::Int(n), method, params);
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .expect("guard: the server answers")
    }

    async fn code(&self, method: &str, params: Value) -> i32 {
        match self.req(method, params).await {
            Ok(v) => panic!("{method} should fail, got {v}"),
            Err(e) => e.code,
        }
    }

    fn validate(&self, revision: &str) -> usize {
        let mut schema = WireSchema::load(revision);
        let methods = self.methods.lock().unwrap().clone();
        let mut methods = methods;
        // Requests sent by MemoryClient itself (initialize) use ids from 1.
        methods.insert("1".into(), "initialize".into());
        let recorded = self.client.recorded();
        for m in &recorded {
            schema.check_message(m, &methods);
        }
        recorded.len()
    }
}

/// What the client recorded once it holds more than `count` messages (the recorder runs beside
/// the session, so an answer sent is recorded a moment later).
async fn recorded_past(p: &Probe, count: usize) -> Vec<Value> {
    let wait = async {
        loop {
            let recorded = p.client.recorded();
            if recorded.len() > count {
                return recorded;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("guard: the answer is recorded")
}

fn v(rev: &str) -> mcp_core::ProtocolVersion {
    rev.parse().unwrap()
}

async fn list_all(p: &Probe, method: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let page = p.req(method, params).await.unwrap();
        let got = page[key].as_array().unwrap();
        assert!(got.len() <= 2, "page size respected");
        items.extend(got.iter().cloned());
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    items
}

async fn lifecycle(_srv: &Server, p: &Probe, rev: &'static str) {
    // Before initialize: only ping.
    assert_eq!(p.req("ping", json!({})).await.unwrap(), json!({}));
    assert!(p.req("tools/list", json!({})).await.is_err());

    let init = p.client.initialize_with(rev).await.unwrap();
    assert_eq!(init["protocolVersion"], rev);
    assert_eq!(init["serverInfo"]["name"], "e2e");
    assert_eq!(init["instructions"], "Use the tools.");
    let caps = &init["capabilities"];
    for c in ["tools", "resources", "prompts", "logging"] {
        assert!(caps.get(c).is_some(), "{rev}: capability {c} in {caps}");
    }
    assert_eq!(
        init["serverInfo"].get("title").is_some(),
        v(rev).has_titles(),
        "{rev}: serverInfo.title only from 2025-06-18"
    );
    assert_eq!(p.session_version(), Some(v(rev)));

    // Second initialize.
    assert!(
        p.req(
            "initialize",
            json!({"protocolVersion": rev, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}})
        )
        .await
        .is_err()
    );
    assert_eq!(p.req("ping", json!({})).await.unwrap(), json!({}));
    assert_eq!(p.code("no/such/method", json!({})).await, -32601);
}

async fn tools_list(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // tools/list: pagination, opaque cursors, version filtering.
    let tools = list_all(p, "tools/list", "tools").await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names,
        list_all(p, "tools/list", "tools")
            .await
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        "deterministic order"
    );
    assert_eq!(
        p.code("tools/list", json!({"cursor": "garbage"})).await,
        -32602
    );
    let echo = tools.iter().find(|t| t["name"] == "echo").unwrap();
    let add = tools.iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(
        echo.get("annotations").is_some(),
        v(rev).has_tool_annotations(),
        "{rev} annotations"
    );
    assert_eq!(
        echo.get("title").is_some(),
        v(rev).has_titles(),
        "{rev} title"
    );
    assert_eq!(
        add.get("outputSchema").is_some(),
        v(rev).has_structured_output(),
        "{rev} outputSchema"
    );
}

async fn tools_call(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // tools/call.
    let r = p
        .req(
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "hi"}}),
        )
        .await
        .unwrap();
    assert_eq!(r["content"][0]["text"], "hi");
    let r = p.req("tools/call", json!({"name": "echo"})).await.unwrap();
    assert_eq!(r["content"][0]["text"], "", "missing arguments means {{}}");
    assert_eq!(
        p.code("tools/call", json!({"name": "nope", "arguments": {}}))
            .await,
        -32602
    );
    let r = p
        .req("tools/call", json!({"name": "fail", "arguments": {}}))
        .await
        .unwrap();
    assert_eq!(r["isError"], true);
    let r = p
        .req(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        )
        .await
        .unwrap();
    assert_eq!(
        r.get("structuredContent").is_some(),
        v(rev).has_structured_output(),
        "{rev} structuredContent"
    );
    assert!(r["content"][0]["text"].as_str().unwrap().contains('3'));
    let r = p
        .req(
            "tools/call",
            json!({"name": "add", "arguments": {"a": "x"}}),
        )
        .await
        .unwrap();
    assert_eq!(r["isError"], true);
}

async fn a_panicking_tool(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // A panicking tool answers with an error and the session goes on.
    match p
        .req("tools/call", json!({"name": "boom", "arguments": {}}))
        .await
    {
        Ok(r) => assert_eq!(r["isError"], true),
        Err(e) => assert_eq!(e.code, -32603),
    }
    assert_eq!(p.req("ping", json!({})).await.unwrap(), json!({}));
    let r = p
        .req("tools/call", json!({"name": "media", "arguments": {}}))
        .await
        .unwrap();
    let types: Vec<&str> = r["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.contains(&"audio"),
        v(rev).has_audio(),
        "{rev} audio: {types:?}"
    );
    assert_eq!(
        types.contains(&"resource_link"),
        v(rev).has_resource_links(),
        "{rev} resource_link: {types:?}"
    );
}

async fn logging_and_progress(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // logging/setLevel, progress and log messages, in order before the result.
    assert_eq!(
        p.req("logging/setLevel", json!({"level": "info"}))
            .await
            .unwrap(),
        json!({})
    );
    assert_eq!(
        p.code("logging/setLevel", json!({"level": "loud"})).await,
        -32602
    );
    p.client.drain_notifications().await;
    let r = p
        .req(
            "tools/call",
            json!({"name": "progress", "arguments": {}, "_meta": {"progressToken": "tok"}}),
        )
        .await
        .unwrap();
    assert_eq!(r["content"][0]["text"], "ok");
    let notes = p.client.drain_notifications().await;
    let methods: Vec<&str> = notes
        .iter()
        .map(|n| n["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "notifications/progress",
            "notifications/progress",
            "notifications/message"
        ],
        "{notes:?}"
    );
    assert_eq!(notes[0]["params"]["progressToken"], "tok");
    assert_eq!(notes[0]["params"]["progress"], 1.0);
    assert_eq!(notes[2]["params"]["level"], "info");
    assert_eq!(
        notes[0]["params"].get("message").is_some(),
        v(rev).has_progress_message(),
        "{rev}: progress message only from 2025-03-26"
    );
}

async fn no_progress_without_a_token(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Without a progress token: no progress notifications.
    p.req("tools/call", json!({"name": "progress", "arguments": {}}))
        .await
        .unwrap();
    let notes = p.client.drain_notifications().await;
    assert!(
        notes
            .iter()
            .all(|n| n["method"] != "notifications/progress"),
        "{notes:?}"
    );
}

async fn cancellation(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Cancellation: no response for the cancelled request.
    let (id, mut rx) = p
        .client
        .start_request("tools/call", json!({"name": "wait", "arguments": {}}));
    tokio::task::yield_now().await;
    p.client
        .notify(
            "notifications/cancelled",
            Some(json!({"requestId": id, "reason": "test"})),
        )
        .await;
    assert_eq!(p.req("ping", json!({})).await.unwrap(), json!({}));
    // The tool returns once cancelled; its answer must be dropped, not sent.
    settle().await;
    assert!(rx.try_recv().is_err(), "no response to a cancelled request");
    let id_json = serde_json::to_value(&id).unwrap();
    assert!(p.client.recorded().iter().all(|m| m["id"] != id_json));
}

async fn resources(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Resources.
    let res = list_all(p, "resources/list", "resources").await;
    assert_eq!(res.len(), 1);
    assert_eq!(res[0]["uri"], "app://about");
    let tpl = list_all(p, "resources/templates/list", "resourceTemplates").await;
    assert_eq!(tpl[0]["uriTemplate"], "users://{id}/profile");
    let r = p
        .req("resources/read", json!({"uri": "app://about"}))
        .await
        .unwrap();
    assert_eq!(r["contents"][0]["text"], "An example.");
    let r = p
        .req("resources/read", json!({"uri": "users://bob/profile"}))
        .await
        .unwrap();
    assert_eq!(r["contents"][0]["text"], "user bob");
    let e = p
        .req("resources/read", json!({"uri": "app://missing"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, -32002);
    assert_eq!(e.data.as_ref().unwrap()["uri"], "app://missing");
    assert_eq!(p.code("resources/read", json!({})).await, -32602);
}

async fn subscriptions(srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Subscriptions: updates go to subscribers only.
    assert_eq!(
        p.req("resources/subscribe", json!({"uri": "app://about"}))
            .await
            .unwrap(),
        json!({})
    );
    p.client.drain_notifications().await;
    srv.notify_resource_updated("app://about").await;
    srv.notify_resource_updated("app://other").await;
    let n = tokio::time::timeout(Duration::from_secs(10), p.client.next_notification())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "app://about");
    assert_eq!(
        p.req("resources/unsubscribe", json!({"uri": "app://about"}))
            .await
            .unwrap(),
        json!({})
    );
    srv.notify_resource_updated("app://about").await;
    assert!(p.client.drain_notifications().await.is_empty());
}

async fn prompts(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Prompts.
    let prompts = list_all(p, "prompts/list", "prompts").await;
    assert_eq!(prompts[0]["name"], "greet");
    assert_eq!(prompts[0]["arguments"][0]["required"], true);
    let r = p
        .req(
            "prompts/get",
            json!({"name": "greet", "arguments": {"name": "Ann"}}),
        )
        .await
        .unwrap();
    assert_eq!(r["messages"][0]["role"], "user");
    assert_eq!(r["messages"][0]["content"]["text"], "Say hello to Ann");
    assert_eq!(
        p.code("prompts/get", json!({"name": "greet", "arguments": {}}))
            .await,
        -32602
    );
    assert_eq!(p.code("prompts/get", json!({"name": "nope"})).await, -32602);
}

async fn completion(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Completion.
    let r = p
        .req("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "B"}}))
        .await
        .unwrap();
    assert_eq!(r["completion"]["values"], json!(["Bob"]));
    let r = p
        .req("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "users://{id}/profile"}, "argument": {"name": "id", "value": "al"}}))
        .await
        .unwrap();
    assert_eq!(r["completion"]["values"], json!(["alice", "alina"]));
    assert_eq!(
        p.code("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}})).await,
        -32602
    );
}

async fn list_changed(srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // list_changed on add/remove while serving.
    p.client.drain_notifications().await;
    srv.add_tool(Tool::new("late", |_c, _a| async {
        Ok(CallToolResult::success(vec![Content::text("late")]))
    }))
    .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), p.client.next_notification())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(list_all(p, "tools/list", "tools").await.len(), 9);
    assert!(
        srv.add_tool(Tool::new("late", |_c, _a| async {
            Ok(CallToolResult::default())
        }))
        .is_err()
    );
    assert!(srv.remove_tool("late"));
    let n = tokio::time::timeout(Duration::from_secs(10), p.client.next_notification())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(list_all(p, "tools/list", "tools").await.len(), 8);
}

async fn unsupported_server_request(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // A server-to-client request the client has no capability for fails without being sent.
    let r = p
        .req("tools/call", json!({"name": "roots", "arguments": {}}))
        .await;
    match r {
        Ok(r) => assert_eq!(r["isError"], true, "{r}"),
        Err(e) => assert_ne!(e.code, 0),
    }
    assert!(
        p.client
            .recorded()
            .iter()
            .all(|m| m["method"] != "roots/list")
    );
}

async fn batches(_srv: &Server, p: &Probe, rev: &'static str) {
    p.client.initialize_with(rev).await.unwrap();
    // Batches: only 2025-03-26, answered as one array.
    let before = p.client.recorded().len();
    p.client
        .send_raw(br#"[{"jsonrpc":"2.0","id":"b1","method":"ping"},{"jsonrpc":"2.0","id":"b2","method":"ping"}]"#)
        .await;
    let after = recorded_past(p, before).await;
    assert_eq!(after.len(), before + 1, "{:?}", &after[before..]);
    if v(rev).allows_batches() {
        let arr = after[before]
            .as_array()
            .expect("batch answered as one array");
        assert_eq!(arr.len(), 2);
    } else {
        assert_eq!(after[before]["error"]["code"], -32600);
    }
}

/// One test per section and revision, each on a fresh server and session, every message the
/// server sent validated against the revision's schema.
/// Time is paused: nothing here waits on a clock, the guard timeouts fire only if the session is
/// stuck, and [`settle`] can wait for the session to go idle.
macro_rules! for_every_revision {
    ($($section:ident),* $(,)?) => {$(
        mod $section {
            use super::*;

            async fn run(rev: &'static str) {
                let srv = server();
                let p = Probe::new(&srv, json!({}));
                super::$section(&srv, &p, rev).await;
                let n = p.validate(rev);
                assert!(n >= 2, "{rev}: validated {n} messages");
            }

            #[tokio::test(start_paused = true)]
            async fn revision_2024_11_05() {
                run(REVISIONS[0]).await;
            }

            #[tokio::test(start_paused = true)]
            async fn revision_2025_03_26() {
                run(REVISIONS[1]).await;
            }

            #[tokio::test(start_paused = true)]
            async fn revision_2025_06_18() {
                run(REVISIONS[2]).await;
            }

            #[tokio::test(start_paused = true)]
            async fn revision_2025_11_25() {
                run(REVISIONS[3]).await;
            }
        }
    )*};
}

for_every_revision!(
    lifecycle,
    tools_list,
    tools_call,
    a_panicking_tool,
    logging_and_progress,
    no_progress_without_a_token,
    cancellation,
    resources,
    subscriptions,
    prompts,
    completion,
    list_changed,
    unsupported_server_request,
    batches,
);

impl Probe {
    fn session_version(&self) -> Option<mcp_core::ProtocolVersion> {
        self.client.session().protocol_version()
    }
}

#[tokio::test]
async fn server_to_client_requests_with_capabilities() {
    let srv = server();
    let p = Probe::new(&srv, json!({"roots": {"listChanged": true}}));
    p.client.on_request(|method, _params| {
        assert_eq!(method, "roots/list");
        Ok(json!({"roots": [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}]}))
    });
    p.client.initialize_with("2025-06-18").await.unwrap();
    let r = p
        .req("tools/call", json!({"name": "roots", "arguments": {}}))
        .await
        .unwrap();
    assert_eq!(r["content"][0]["text"], "2", "{r}");
    let n = p.validate("2025-06-18");
    assert!(n >= 3);
}

#[tokio::test]
async fn unknown_version_negotiates_latest_and_slow_tool_does_not_block_ping() {
    let srv = server();
    let p = Probe::new(&srv, json!({}));
    let init = p.client.initialize_with("1999-01-01").await.unwrap();
    assert_eq!(init["protocolVersion"], "2025-11-25");
    let (_id, mut rx) = p
        .client
        .start_request("tools/call", json!({"name": "wait", "arguments": {}}));
    assert_eq!(p.req("ping", json!({})).await.unwrap(), json!({}));
    assert!(rx.try_recv().is_err(), "slow tool still running");
    p.client.close();
}

#[test]
#[should_panic(expected = "not a valid CallToolResult")]
fn the_wire_validator_rejects_an_invalid_result() {
    let mut schema = WireSchema::load("2025-06-18");
    schema.check("CallToolResult", &json!({"content": [{"type": "text"}]}));
}

#[test]
fn every_revision_schema_is_present() {
    for rev in REVISIONS {
        let mut schema = WireSchema::load(rev);
        schema.check("EmptyResult", &json!({}));
    }
}

/// A server whose one tool, `wait`, runs until its request is cancelled.
fn waiting_server(max_in_flight: usize) -> Server {
    Server::builder("wait", "1")
        .auto_collect(false)
        .max_in_flight(max_in_flight)
        .tool(Tool::new("wait", |ctx, _| async move {
            ctx.cancelled().await;
            Ok(CallToolResult::default())
        }))
        .build()
        .unwrap()
}

#[tokio::test]
async fn requests_in_flight_per_session_are_capped() {
    let server = waiting_server(2);
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let _a = client.start_request("tools/call", serde_json::json!({"name": "wait"}));
    let _b = client.start_request("tools/call", serde_json::json!({"name": "wait"}));
    tokio::task::yield_now().await;
    let err = client
        .request("ping", serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code, -32600);
    assert!(
        err.message.contains("too many requests in flight"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_cancelled_request_id_can_be_reused_and_cancelled_again() {
    use mcp_core::jsonrpc::{Message, Request};
    let server = waiting_server(256);
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let session = client.session().clone();
    let start = |id: i64| {
        let msg = Message::Request(Request {
            id: RequestId::Int(id),
            method: "tools/call".into(),
            params: Some(json!({"name": "wait"})),
        });
        tokio::spawn(session.receive(msg, session.outbound()).unwrap())
    };
    let cancel = || {
        client.notify(
            "notifications/cancelled",
            Some(json!({"requestId": 7, "reason": "test"})),
        )
    };
    let first = start(7);
    tokio::task::yield_now().await;
    cancel().await;
    // The id is free again at once; the first request's cleanup must not unregister this one.
    let second = start(7);
    first.await.unwrap();
    cancel().await;
    tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the second request with the reused id was not cancelled")
        .unwrap();
}
