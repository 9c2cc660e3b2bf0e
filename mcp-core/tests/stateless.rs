//! The stateless revision (2026-07-28) end to end through `Server::serve_stateless`: every
//! method, the `_meta` validation, the result fields, with every message the server sent
//! validated against the revision's `schema.json`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{WireSchema, server};
use mcp_core::cache::{CachePolicy, CacheScope, CacheableMethod};
use mcp_core::jsonrpc::{self, Message, code};
use mcp_core::stateless::StatelessOptions;
use mcp_core::{CallToolResult, Content, Outbound, Resource, ResourceContents, Server, Tool};
use serde_json::{Value, json};

const REV: &str = "2026-07-28";

/// A stateless client: each call is one independent request with its `_meta`.
struct Client {
    server: Server,
    next: AtomicI64,
    methods: Mutex<HashMap<String, String>>,
    sent: Mutex<Vec<Value>>,
    /// Sends each request as its text, read as a transport does (`_meta` apart, the text
    /// kept), instead of as a parsed request.
    wire: bool,
    /// Who is calling, as a transport's authentication would tell.
    caller: Option<mcp_core::Identity>,
}

/// Everything the server sent for one request: notifications, then the response.
struct Exchange {
    notes: Vec<Value>,
    response: Value,
    /// True when the request was refused before it ran.
    rejected: bool,
}

impl Exchange {
    fn result(&self) -> &Value {
        assert!(
            self.response.get("result").is_some(),
            "expected a result: {}",
            self.response
        );
        &self.response["result"]
    }

    fn code(&self) -> i64 {
        self.response["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("expected an error: {}", self.response))
    }
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": { "name": "stateless-test", "version": "1" },
    })
}

impl Client {
    fn new(server: Server) -> Client {
        Client {
            server,
            next: AtomicI64::new(1),
            methods: Mutex::default(),
            sent: Mutex::default(),
            wire: false,
            caller: None,
        }
    }

    /// A client whose requests reach the server as their text (`wire`, as over HTTP) or
    /// parsed, from `caller`.
    fn from(server: Server, wire: bool, caller: Option<mcp_core::Identity>) -> Client {
        Client {
            wire,
            caller,
            ..Client::new(server)
        }
    }

    /// An anonymous client sending its requests as their text when `wire`.
    fn with(server: Server, wire: bool) -> Client {
        Client::from(server, wire, None)
    }

    /// Sends `params` as they are (the caller supplies `_meta`).
    async fn raw(&self, method: &str, params: Value) -> Exchange {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.methods
            .lock()
            .unwrap()
            .insert(id.to_string(), method.to_owned());
        let msg = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let (req, mut options) = if self.wire {
            let text = bytes::Bytes::from(serde_json::to_vec(&msg).unwrap());
            let limits = jsonrpc::ParseLimits::default();
            let (incoming, meta) = jsonrpc::parse_stateless(&text, &limits).unwrap();
            let jsonrpc::Incoming::Single(Message::Request(req)) = incoming else {
                unreachable!()
            };
            (req, StatelessOptions::new("test").meta(meta))
        } else {
            let Message::Request(req) = jsonrpc::from_value(msg).unwrap() else {
                unreachable!()
            };
            (req, StatelessOptions::new("test"))
        };
        if let Some(who) = &self.caller {
            options = options.identity(who.clone());
        }
        let (reply, mut rx) = Outbound::channel(64);
        let (rejected, work) = match self.server.serve_stateless(req, options, reply.clone()) {
            Ok(work) => (false, Some(work)),
            Err(rejection) => {
                reply.send(rejection.outgoing()).await.unwrap();
                (true, None)
            }
        };
        drop(reply);
        let run = async {
            if let Some(w) = work {
                w.await;
            }
        };
        let collect = async {
            let mut all = Vec::new();
            while let Some(out) = rx.recv().await {
                all.push(serde_json::from_slice::<Value>(&out.json).unwrap());
            }
            all
        };
        let ((), mut all) = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::join!(run, collect)
        })
        .await
        .expect("guard: the request ends");
        self.sent.lock().unwrap().extend(all.iter().cloned());
        let response = all.pop().expect("a response");
        assert!(
            response.get("id").is_some(),
            "the last message is the response"
        );
        assert!(
            all.iter().all(|m| m.get("id").is_none()),
            "only notifications precede the response (no server-to-client requests): {all:?}"
        );
        Exchange {
            notes: all,
            response,
            rejected,
        }
    }

    async fn call(&self, method: &str, mut params: Value) -> Exchange {
        params["_meta"] = meta(json!({}));
        self.raw(method, params).await
    }

    /// Validates every message sent so far against the 2026-07-28 schema.
    fn validate(&self) -> usize {
        let mut schema = WireSchema::load(REV);
        let methods = self.methods.lock().unwrap().clone();
        let sent = self.sent.lock().unwrap();
        for m in sent.iter() {
            schema.check_message(m, &methods);
        }
        sent.len()
    }
}

fn server_info_of(result: &Value) -> &Value {
    &result["_meta"]["io.modelcontextprotocol/serverInfo"]
}

#[tokio::test]
async fn every_method_answers_with_the_revision_fields() {
    let c = Client::new(server());
    let d = c.call("server/discover", json!({})).await;
    let r = d.result();
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"][0], REV);
    assert!(
        r["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2025-11-25"))
    );
    assert!(r["capabilities"]["tools"].is_object());
    assert_eq!(r["instructions"], "Use the tools.");
    assert_eq!(r["ttlMs"], 0);
    assert_eq!(r["cacheScope"], "public");
    assert_eq!(server_info_of(r)["name"], "e2e");
    assert_eq!(server_info_of(r)["title"], "E2E server");

    // Lists: paged (page size 2), every page complete and cacheable, tools in name order.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let page = c.call("tools/list", params).await;
        let r = page.result();
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["cacheScope"], "public");
        assert!(r["ttlMs"].is_u64());
        assert_eq!(server_info_of(r)["version"], "1.0.0");
        for t in r["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match r["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names, sorted,
        "tools/list is in a deterministic (name) order"
    );
    assert!(names.contains(&"echo".to_owned()));
    for (method, key) in [
        ("resources/list", "resources"),
        ("resources/templates/list", "resourceTemplates"),
        ("prompts/list", "prompts"),
    ] {
        let r = c.call(method, json!({})).await;
        assert!(r.result()[key].is_array(), "{method}");
        assert_eq!(r.result()["resultType"], "complete", "{method}");
        assert!(r.result()["ttlMs"].is_u64(), "{method}");
    }

    let call = c
        .call(
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "hi" } }),
        )
        .await;
    assert_eq!(call.result()["content"][0]["text"], "hi");
    assert_eq!(call.result()["resultType"], "complete");
    assert_eq!(server_info_of(call.result())["name"], "e2e");
    assert!(
        call.result().get("ttlMs").is_none(),
        "tool results are not cacheable"
    );

    let add = c
        .call(
            "tools/call",
            json!({ "name": "add", "arguments": { "a": 2, "b": 3 } }),
        )
        .await;
    assert_eq!(add.result()["structuredContent"]["sum"], 5);
    let failed = c.call("tools/call", json!({ "name": "fail" })).await;
    assert_eq!(failed.result()["isError"], true);
    assert_eq!(failed.result()["resultType"], "complete");
    let media = c.call("tools/call", json!({ "name": "media" })).await;
    assert_eq!(media.result()["content"].as_array().unwrap().len(), 4);

    let read = c
        .call("resources/read", json!({ "uri": "app://about" }))
        .await;
    assert_eq!(read.result()["contents"][0]["text"], "An example.");
    assert_eq!(read.result()["cacheScope"], "private");
    assert_eq!(read.result()["resultType"], "complete");
    let templ = c
        .call("resources/read", json!({ "uri": "users://bob/profile" }))
        .await;
    assert_eq!(templ.result()["contents"][0]["text"], "user bob");

    let prompt = c
        .call(
            "prompts/get",
            json!({ "name": "greet", "arguments": { "name": "Ann" } }),
        )
        .await;
    assert_eq!(prompt.result()["resultType"], "complete");
    assert!(prompt.result().get("ttlMs").is_none());
    let done = c
        .call(
            "completion/complete",
            json!({ "ref": { "type": "ref/resource", "uri": "users://{id}/profile" },
                    "argument": { "name": "id", "value": "al" } }),
        )
        .await;
    assert_eq!(
        done.result()["completion"]["values"],
        json!(["alice", "alina"])
    );
    assert_eq!(done.result()["resultType"], "complete");

    assert!(c.validate() >= 15);
}

#[tokio::test]
async fn errors_use_the_revision_codes() {
    let c = Client::new(server());
    // Unknown resource: -32602 on this revision (not -32002).
    let missing = c
        .call("resources/read", json!({ "uri": "app://nope" }))
        .await;
    assert_eq!(missing.code(), i64::from(code::INVALID_PARAMS));
    assert!(!missing.rejected);
    assert_eq!(missing.response["error"]["data"]["uri"], "app://nope");
    let unknown_tool = c.call("tools/call", json!({ "name": "nope" })).await;
    assert_eq!(unknown_tool.code(), i64::from(code::INVALID_PARAMS));

    // Methods of the session revisions do not exist here.
    for method in [
        "ping",
        "initialize",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "tasks/list",
        "nope/nope",
    ] {
        let r = c.call(method, json!({})).await;
        assert_eq!(r.code(), i64::from(code::METHOD_NOT_FOUND), "{method}");
        assert!(r.rejected, "{method} is refused before it runs");
    }

    // `_meta` validation.
    let no_meta = c.raw("tools/list", json!({})).await;
    assert_eq!(no_meta.code(), i64::from(code::INVALID_PARAMS));
    assert!(no_meta.rejected);
    let no_caps = c
        .raw(
            "tools/list",
            json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": REV } }),
        )
        .await;
    assert_eq!(no_caps.code(), i64::from(code::INVALID_PARAMS));
    let bad_level = c
        .raw(
            "tools/list",
            json!({ "_meta": {
                "io.modelcontextprotocol/protocolVersion": REV,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/logLevel": "loudest",
            } }),
        )
        .await;
    assert_eq!(bad_level.code(), i64::from(code::INVALID_PARAMS));
    for v in ["1900-01-01", "2025-11-25"] {
        let r = c
            .raw(
                "tools/list",
                json!({ "_meta": {
                    "io.modelcontextprotocol/protocolVersion": v,
                    "io.modelcontextprotocol/clientCapabilities": {},
                } }),
            )
            .await;
        assert_eq!(
            r.code(),
            i64::from(code::UNSUPPORTED_PROTOCOL_VERSION),
            "{v}"
        );
        assert_eq!(r.response["error"]["data"]["requested"], v);
        assert_eq!(r.response["error"]["data"]["supported"][0], REV);
        assert!(r.rejected);
    }
    c.validate();
}

#[tokio::test]
async fn logs_only_for_requests_carrying_a_log_level() {
    let c = Client::new(server());
    let silent = c
        .call(
            "tools/call",
            json!({ "name": "progress", "_meta": { "progressToken": "p" } }),
        )
        .await;
    // `call` replaces `_meta`: no progress token, no level, so nothing but the response.
    assert!(silent.notes.is_empty(), "{:?}", silent.notes);

    let mut m = meta(json!({}));
    m["progressToken"] = "tok".into();
    let progress_only = c
        .raw(
            "tools/call",
            json!({ "name": "progress", "_meta": m.clone() }),
        )
        .await;
    let methods: Vec<&str> = progress_only
        .notes
        .iter()
        .map(|n| n["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["notifications/progress", "notifications/progress"],
        "no log messages without logLevel"
    );
    assert_eq!(progress_only.notes[0]["params"]["message"], "half");

    m["io.modelcontextprotocol/logLevel"] = "debug".into();
    let with_logs = c
        .raw(
            "tools/call",
            json!({ "name": "progress", "_meta": m.clone() }),
        )
        .await;
    let levels: Vec<&str> = with_logs
        .notes
        .iter()
        .filter(|n| n["method"] == "notifications/message")
        .map(|n| n["params"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["info", "debug"]);

    m["io.modelcontextprotocol/logLevel"] = "warning".into();
    let quiet = c
        .raw("tools/call", json!({ "name": "progress", "_meta": m }))
        .await;
    assert!(
        quiet
            .notes
            .iter()
            .all(|n| n["method"] != "notifications/message")
    );
    c.validate();
}

#[tokio::test]
async fn cache_hints_are_configurable_per_server_method_and_resource() {
    let s = Server::builder("cache", "1")
        .auto_collect(false)
        .cache_policy(CachePolicy::new(
            Duration::from_secs(60),
            CacheScope::Public,
        ))
        .cache_policy_for(
            CacheableMethod::PromptsList,
            CachePolicy::new(Duration::from_millis(1500), CacheScope::Private),
        )
        .tool(Tool::new("t", |_, _| async {
            Ok(CallToolResult::success(vec![Content::text("x")]))
        }))
        .resource(Resource::new("a://one", "one", |_| async {
            Ok(ResourceContents::text("a://one", "text/plain", "1").into())
        }))
        .resource(
            Resource::new("a://two", "two", |_| async {
                Ok(ResourceContents::text("a://two", "text/plain", "2").into())
            })
            .cache(CachePolicy::new(
                Duration::from_secs(5),
                CacheScope::Private,
            )),
        )
        .build()
        .unwrap();
    let c = Client::new(s);
    let tools = c.call("tools/list", json!({})).await;
    assert_eq!(tools.result()["ttlMs"], 60_000);
    assert_eq!(tools.result()["cacheScope"], "public");
    let prompts = c.call("prompts/list", json!({})).await;
    assert_eq!(prompts.result()["ttlMs"], 1500);
    assert_eq!(prompts.result()["cacheScope"], "private");
    let one = c.call("resources/read", json!({ "uri": "a://one" })).await;
    assert_eq!(one.result()["ttlMs"], 60_000);
    assert_eq!(one.result()["cacheScope"], "public");
    let two = c.call("resources/read", json!({ "uri": "a://two" })).await;
    assert_eq!(two.result()["ttlMs"], 5000);
    assert_eq!(two.result()["cacheScope"], "private");
    let discover = c.call("server/discover", json!({})).await;
    assert_eq!(discover.result()["ttlMs"], 60_000);
    c.validate();
}

#[tokio::test]
async fn a_closed_reply_cancels_the_request() {
    let started = Arc::new(tokio::sync::Notify::new());
    let running = started.clone();
    let s = Server::builder("wait", "1")
        .auto_collect(false)
        .tool(Tool::new("wait", move |ctx, _| {
            let running = running.clone();
            async move {
                running.notify_one();
                ctx.cancelled().await;
                Ok(CallToolResult::default())
            }
        }))
        .build()
        .unwrap();
    let msg = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "wait", "_meta": meta(json!({})) } });
    let Message::Request(req) = jsonrpc::from_value(msg).unwrap() else {
        unreachable!()
    };
    let (reply, rx) = Outbound::channel(8);
    let work = s
        .serve_stateless(req, StatelessOptions::new("test"), reply)
        .unwrap();
    let task = tokio::spawn(work);
    started.notified().await;
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the request stops once its reply is gone")
        .unwrap();
}

#[tokio::test]
async fn session_revisions_are_unchanged_by_the_stateless_fields() {
    // A 2025-11-25 session never sees resultType, ttlMs or serverInfo meta.
    let s = server();
    let client = mcp_core::transport::memory::MemoryClient::connect(&s);
    client.initialize().await.unwrap();
    let tools = client.list_tools().await.unwrap();
    assert!(tools.get("resultType").is_none());
    assert!(tools.get("ttlMs").is_none());
    let r = client
        .call_tool("echo", json!({ "text": "x" }))
        .await
        .unwrap();
    assert!(r.get("resultType").is_none());
    assert!(r.get("_meta").is_none());
    let e = client
        .request("resources/read", json!({ "uri": "app://nope" }))
        .await
        .unwrap_err();
    assert_eq!(e.code, code::RESOURCE_NOT_FOUND);
    assert!(client.request("server/discover", json!({})).await.is_err());
}

#[derive(schemars::JsonSchema, serde::Deserialize)]
struct Login {
    name: String,
}

/// Asks for a login (elicitation), then a model's opinion (sampling), then the roots; counts
/// its runs in `request_state` so the test sees what it carried across rounds.
fn mrtr_server() -> Server {
    use mcp_core::protocol::{Elicitation, SamplingRequest};
    Server::builder("mrtr", "1")
        .auto_collect(false)
        .tool(Tool::new("onboard", |ctx, _args| async move {
            let runs = ctx.request_state::<u32>().unwrap_or(0) + 1;
            ctx.set_request_state(&runs)?;
            let name = match ctx.elicit::<Login>("Your login?").await? {
                Elicitation::Accept(l) => l.name,
                _ => return Ok(CallToolResult::error("declined")),
            };
            let opinion = ctx
                .sample(SamplingRequest::user_text(format!("Greet {name}"), 50))
                .await?;
            let roots = ctx.list_roots().await?;
            let said = serde_json::to_value(&opinion.content).unwrap()["text"].clone();
            Ok(CallToolResult::success(vec![Content::text(format!(
                "{name}|{}|{}|runs={runs}",
                said.as_str().unwrap_or(""),
                roots.len()
            ))]))
        }))
        .build()
        .unwrap()
}

fn all_caps() -> Value {
    json!({ "elicitation": {}, "sampling": {}, "roots": {} })
}

#[tokio::test]
async fn a_tool_asks_for_input_across_rounds_and_resumes() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        asks_across_rounds(wire).await;
    }
}

async fn asks_across_rounds(wire: bool) {
    let c = Client::with(mrtr_server(), wire);
    let base =
        json!({ "name": "onboard", "arguments": { "team": "core" }, "_meta": meta(all_caps()) });

    let first = c.raw("tools/call", base.clone()).await;
    let r = first.result();
    assert_eq!(r["resultType"], "input_required");
    assert!(
        r.get("ttlMs").is_none(),
        "interim results carry no caching hints"
    );
    let asks = r["inputRequests"].as_object().unwrap();
    assert_eq!(asks.len(), 1);
    assert_eq!(asks["elicitation-1"]["method"], "elicitation/create");
    assert_eq!(asks["elicitation-1"]["params"]["mode"], "form");
    assert_eq!(
        asks["elicitation-1"]["params"]["requestedSchema"]["properties"]["name"]["type"],
        "string"
    );
    let state1 = r["requestState"].as_str().unwrap().to_owned();

    let mut retry = base.clone();
    retry["inputResponses"] =
        json!({ "elicitation-1": { "action": "accept", "content": { "name": "ann" } } });
    retry["requestState"] = state1.clone().into();
    let second = c.raw("tools/call", retry.clone()).await;
    let r = second.result();
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(
        r["inputRequests"]["sampling-2"]["method"],
        "sampling/createMessage"
    );
    let state2 = r["requestState"].as_str().unwrap().to_owned();

    let mut third = base.clone();
    third["inputResponses"] = json!({ "sampling-2": {
        "role": "assistant", "content": { "type": "text", "text": "hello ann" },
        "model": "m", "stopReason": "endTurn" } });
    third["requestState"] = state2.into();
    let r = c.raw("tools/call", third).await;
    assert_eq!(
        r.result()["inputRequests"]["roots-3"]["method"],
        "roots/list"
    );

    let mut last = base.clone();
    last["inputResponses"] = json!({ "roots-3": { "roots": [ { "uri": "file:///a" } ] } });
    last["requestState"] = r.result()["requestState"].clone();
    let done = c.raw("tools/call", last).await;
    assert_eq!(done.result()["resultType"], "complete");
    assert_eq!(
        done.result()["content"][0]["text"],
        "ann|hello ann|1|runs=4",
        "earlier answers replayed from the state; the tool's own counter carried across rounds"
    );

    // The state is bound to the request: other arguments are refused clearly.
    let mut elsewhere = retry.clone();
    elsewhere["arguments"] = json!({ "team": "other" });
    let e = c.raw("tools/call", elsewhere).await;
    assert_eq!(e.code(), i64::from(code::INVALID_PARAMS));
    assert!(
        e.response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    // A forged state.
    let mut forged = retry.clone();
    forged["requestState"] = format!("x{state1}").into();
    let e = c.raw("tools/call", forged).await;
    assert_eq!(e.code(), i64::from(code::INVALID_PARAMS));
    // A state from another server (another random key).
    let other = Client::with(mrtr_server(), wire);
    let e = other.raw("tools/call", retry).await;
    assert_eq!(e.code(), i64::from(code::INVALID_PARAMS));
    assert!(c.validate() >= 6);
}

#[tokio::test]
async fn a_missing_client_capability_is_reported_with_what_is_required() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        reports_the_missing_capability(wire).await;
    }
}

async fn reports_the_missing_capability(wire: bool) {
    let c = Client::with(mrtr_server(), wire);
    let r = c
        .raw(
            "tools/call",
            json!({ "name": "onboard", "_meta": meta(json!({ "sampling": {} })) }),
        )
        .await;
    assert_eq!(
        r.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    assert_eq!(
        r.response["error"]["data"]["requiredCapabilities"],
        json!({ "elicitation": {} })
    );
    c.validate();
}

#[tokio::test]
async fn instances_sharing_a_key_accept_each_others_state_until_it_expires() {
    let key = vec![42u8; 32];
    let build = |ttl: Duration| {
        Server::builder("mrtr", "1")
            .auto_collect(false)
            .request_state_key(key.clone())
            .request_state_ttl(ttl)
            .tool(Tool::new("ask", |ctx, _| async move {
                let v = ctx.list_roots().await?;
                Ok(CallToolResult::success(vec![Content::text(
                    v.len().to_string(),
                )]))
            }))
            .build()
            .unwrap()
    };
    let (a, b) = (
        Client::new(build(Duration::from_secs(60))),
        Client::new(build(Duration::from_secs(60))),
    );
    let base = json!({ "name": "ask", "_meta": meta(all_caps()) });
    let first = a.raw("tools/call", base.clone()).await;
    let mut retry = base.clone();
    retry["requestState"] = first.result()["requestState"].clone();
    retry["inputResponses"] = json!({ "roots-1": { "roots": [] } });
    let done = b.raw("tools/call", retry).await;
    assert_eq!(done.result()["content"][0]["text"], "0");

    let short = Client::new(build(Duration::ZERO));
    let first = short.raw("tools/call", base.clone()).await;
    let mut retry = base;
    retry["requestState"] = first.result()["requestState"].clone();
    retry["inputResponses"] = json!({ "roots-1": { "roots": [] } });
    let e = short.raw("tools/call", retry).await;
    assert!(
        e.response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert!(
        Server::builder("x", "1")
            .request_state_key(vec![1u8; 8])
            .build()
            .is_err(),
        "short keys are refused"
    );
}

#[tokio::test]
async fn the_same_tool_asks_by_server_requests_on_a_session() {
    let s = mrtr_server();
    let client =
        mcp_core::transport::memory::MemoryClient::connect(&s).with_capabilities(all_caps());
    client.on_request(|method, _params| {
        Ok(match method {
            "elicitation/create" => json!({ "action": "accept", "content": { "name": "bo" } }),
            "sampling/createMessage" => json!({
                "role": "assistant", "content": { "type": "text", "text": "hi bo" },
                "model": "m" }),
            "roots/list" => json!({ "roots": [ { "uri": "file:///x" }, { "uri": "file:///y" } ] }),
            other => panic!("unexpected {other}"),
        })
    });
    client.initialize().await.unwrap();
    let r = client.call_tool("onboard", json!({})).await.unwrap();
    assert_eq!(r["content"][0]["text"], "bo|hi bo|2|runs=1");
}

#[tokio::test]
async fn questions_asked_together_come_in_one_round_under_their_keys() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        asks_together(wire).await;
    }
}

async fn asks_together(wire: bool) {
    use mcp_core::protocol::SamplingRequest;
    let s = Server::builder("keys", "1")
        .auto_collect(false)
        .tool(Tool::new("all", |ctx, _| async move {
            let keyed = ctx.input_key("user_name");
            let (login, said, roots) = tokio::join!(
                keyed.elicit::<Login>("Login?"),
                ctx.sample(SamplingRequest::user_text("hi", 10)),
                ctx.list_roots(),
            );
            let _ = (said?, roots?);
            let name = match login? {
                mcp_core::protocol::Elicitation::Accept(l) => l.name,
                _ => "nobody".into(),
            };
            Ok(CallToolResult::success(vec![Content::text(name)]))
        }))
        .build()
        .unwrap();
    let c = Client::with(s, wire);
    let base = json!({ "name": "all", "_meta": meta(all_caps()) });
    // A wrong key and no state: the questions are asked again, not an error.
    let mut first = base.clone();
    first["inputResponses"] = json!({ "wrong_key": { "action": "accept" } });
    let r = c.raw("tools/call", first).await;
    let asks = r.result()["inputRequests"].as_object().unwrap();
    let mut keys: Vec<&str> = asks.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["roots-3", "sampling-2", "user_name"]);
    let mut retry = base;
    retry["requestState"] = r.result()["requestState"].clone();
    retry["inputResponses"] = json!({
        "user_name": { "action": "accept", "content": { "name": "Alice" } },
        "sampling-2": { "role": "assistant", "content": { "type": "text", "text": "x" }, "model": "m" },
        "roots-3": { "roots": [] },
    });
    let done = c.raw("tools/call", retry).await;
    assert_eq!(done.result()["content"][0]["text"], "Alice");
    c.validate();
}

/// Opens a `subscriptions/listen` stream; returns its receiver and the running work.
fn open_listen(
    server: &Server,
    id: i64,
    notifications: Value,
) -> (mcp_core::OutboundReceiver, tokio::task::JoinHandle<()>) {
    let msg = json!({ "jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
        "params": { "_meta": meta(json!({})), "notifications": notifications } });
    let Message::Request(req) = jsonrpc::from_value(msg).unwrap() else {
        unreachable!()
    };
    let (reply, rx) = Outbound::channel(16);
    let work = server
        .serve_stateless(req, StatelessOptions::new("test"), reply)
        .unwrap();
    (rx, tokio::spawn(work))
}

async fn next(rx: &mut mcp_core::OutboundReceiver) -> Value {
    let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("guard: a message comes")
        .expect("the stream is open");
    serde_json::from_slice(&m.json).unwrap()
}

#[tokio::test]
async fn subscriptions_listen_streams_the_changes_asked_for_until_the_server_ends_it() {
    let s = server();
    let (mut tools_rx, tools_task) = open_listen(
        &s,
        7,
        json!({ "toolsListChanged": true, "resourceSubscriptions": ["app://about"] }),
    );
    let (mut prompts_rx, prompts_task) = open_listen(&s, 8, json!({ "promptsListChanged": true }));
    let mut sent = Vec::new();
    let ack = next(&mut tools_rx).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({ "toolsListChanged": true, "resourceSubscriptions": ["app://about"] })
    );
    sent.push(ack);
    let ack = next(&mut prompts_rx).await;
    assert_eq!(
        ack["params"]["notifications"],
        json!({ "promptsListChanged": true })
    );
    sent.push(ack);
    assert_eq!(s.subscription_count(), 2);

    s.add_tool(Tool::new("late", |_, _| async {
        Ok(CallToolResult::default())
    }))
    .unwrap();
    let changed = next(&mut tools_rx).await;
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    sent.push(changed);
    s.notify_resource_updated("app://about").await;
    s.notify_resource_updated("app://other").await;
    let updated = next(&mut tools_rx).await;
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "app://about");
    sent.push(updated);
    // The prompts-only stream heard none of it.
    assert!(prompts_rx.try_recv().is_none());
    s.remove_prompt("greet");
    let p = next(&mut prompts_rx).await;
    assert_eq!(p["method"], "notifications/prompts/list_changed");
    assert_eq!(
        p["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        8
    );
    sent.push(p);

    // The client of the prompts stream goes away: its subscription ends and is forgotten.
    drop(prompts_rx);
    tokio::time::timeout(Duration::from_secs(5), prompts_task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.subscription_count(), 1);

    // Shutdown: a complete result tagged with the subscription id, then the end.
    s.end_subscriptions();
    let end = next(&mut tools_rx).await;
    assert_eq!(end["id"], 7);
    assert_eq!(end["result"]["resultType"], "complete");
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    assert_eq!(server_info_of(&end["result"])["name"], "e2e");
    sent.push(end);
    tools_task.await.unwrap();
    assert_eq!(s.subscription_count(), 0);

    let mut schema = WireSchema::load(REV);
    let methods: HashMap<String, String> =
        [("7".to_owned(), "subscriptions/listen".to_owned())].into();
    for m in &sent {
        schema.check_message(m, &methods);
    }
}

#[tokio::test]
async fn subscriptions_are_bounded_and_validated() {
    let s = Server::builder("subs", "1")
        .auto_collect(false)
        .max_subscriptions(1)
        .max_subscription_resources(2)
        .build()
        .unwrap();
    let (mut rx, task) = open_listen(&s, 1, json!({ "toolsListChanged": true }));
    next(&mut rx).await;
    let c = Client::new(s.clone());
    let full = c
        .call(
            "subscriptions/listen",
            json!({ "notifications": { "toolsListChanged": true } }),
        )
        .await;
    assert_eq!(full.code(), i64::from(code::INVALID_REQUEST));
    for bad in [
        json!({}),
        json!({ "notifications": [] }),
        json!({ "notifications": { "toolsListChanged": "yes" } }),
        json!({ "notifications": { "resourceSubscriptions": ["a://1", "a://2", "a://3"] } }),
        json!({ "notifications": { "resourceSubscriptions": [1] } }),
    ] {
        let r = c.call("subscriptions/listen", bad.clone()).await;
        assert_eq!(r.code(), i64::from(code::INVALID_PARAMS), "{bad}");
    }
    s.end_subscriptions();
    task.await.unwrap();
    c.validate();
}

fn tasks_server() -> Server {
    use mcp_core::tasks::TaskSupport;
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    struct Confirm {
        confirm: bool,
    }
    Server::builder("tasks", "1")
        .auto_collect(false)
        .tool(Tool::new("greet", |_, _| async {
            Ok(CallToolResult::success(vec![Content::text("Hello!")]))
        }))
        .tool(
            Tool::new("slow", |ctx, args| async move {
                let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(0);
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    () = ctx.cancelled() => return Ok(CallToolResult::error("cancelled")),
                }
                Ok(CallToolResult::success(vec![Content::text(format!("slept {ms}"))]))
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            Tool::new("two_questions", |ctx, _| async move {
                // Work first: the task exists by the time the questions are asked.
                tokio::time::sleep(Duration::from_millis(5)).await;
                let first = ctx.input_key("first");
                let (a, b) = tokio::join!(
                    first.elicit::<Confirm>("First?"),
                    ctx.elicit::<Confirm>("Second?"),
                );
                let yes = |e: mcp_core::protocol::Elicitation<Confirm>| {
                    matches!(e, mcp_core::protocol::Elicitation::Accept(c) if c.confirm)
                };
                let text = format!("{} {}", yes(a?), yes(b?));
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(
            Tool::new("onboard_then_work", |ctx, _| async move {
                let login = ctx.input_key("user_name").elicit::<Login>("Login?").await?;
                // Work between the two questions.
                tokio::time::sleep(Duration::from_millis(5)).await;
                let sure = ctx.input_key("sure").elicit::<Confirm>("Sure?").await?;
                let name = match login {
                    mcp_core::protocol::Elicitation::Accept(l) => l.name,
                    _ => "nobody".into(),
                };
                let sure = matches!(sure, mcp_core::protocol::Elicitation::Accept(c) if c.confirm);
                Ok(CallToolResult::success(vec![Content::text(format!(
                    "{name} sure={sure}"
                ))]))
            })
            .task_support(TaskSupport::Required),
        )
        .tool(
            Tool::new("failing_job", |_, _| async {
                Err(mcp_core::ToolError::tool("the job failed"))
            })
            .task_support(TaskSupport::Required),
        )
        .tool(
            Tool::new("protocol_error_job", |_, _| async {
                Err(mcp_core::McpError::internal("broken").into())
            })
            .task_support(TaskSupport::Optional),
        )
        .build()
        .unwrap()
}

fn task_caps() -> Value {
    json!({ "elicitation": {}, "extensions": { "io.modelcontextprotocol/tasks": {} } })
}

async fn with_caps(c: &Client, method: &str, mut params: Value, caps: Value) -> Exchange {
    params["_meta"] = meta(caps);
    c.raw(method, params).await
}

/// Polls `tasks/get`, as a client of the extension does, until the task is in one of `want`.
async fn wait_status(c: &Client, id: &str, want: &[&str]) -> Value {
    wait_task(c, id, &format!("{want:?}"), |t| {
        want.contains(&t["status"].as_str().unwrap())
    })
    .await
}

/// Polls `tasks/get` until `done` holds for the task. The task tests run with paused time: each
/// poll comes once the server is idle, and the bound is in virtual time, so load cannot make
/// them fail.
async fn wait_task(c: &Client, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let t = with_caps(c, "tasks/get", json!({ "taskId": id }), task_caps()).await;
        last = t.result().clone();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("task {id} never reached {what}: {last}");
}

#[tokio::test(start_paused = true)]
async fn task_capable_tools_run_as_tasks_for_clients_of_the_extension() {
    let c = Client::new(tasks_server());
    let d = c.call("server/discover", json!({})).await;
    assert_eq!(
        d.result()["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );
    // Without the extension: optional tools answer directly, required ones need it, and the
    // task methods are refused.
    let direct = c
        .call(
            "tools/call",
            json!({ "name": "slow", "arguments": { "ms": 1 } }),
        )
        .await;
    assert_eq!(direct.result()["resultType"], "complete");
    assert_eq!(direct.result()["content"][0]["text"], "slept 1");
    let required = c.call("tools/call", json!({ "name": "failing_job" })).await;
    assert_eq!(
        required.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    assert_eq!(
        required.response["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );
    let gated = c.call("tasks/get", json!({ "taskId": "x" })).await;
    assert_eq!(
        gated.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    for removed in ["tasks/list", "tasks/result"] {
        let r = with_caps(&c, removed, json!({ "taskId": "x" }), task_caps()).await;
        assert_eq!(r.code(), i64::from(code::METHOD_NOT_FOUND), "{removed}");
    }

    // A sync tool stays sync; a task-capable one becomes a task.
    let greet = with_caps(&c, "tools/call", json!({ "name": "greet" }), task_caps()).await;
    assert_eq!(greet.result()["resultType"], "complete");
    let created = with_caps(
        &c,
        "tools/call",
        json!({ "name": "slow", "arguments": { "ms": 30 } }),
        task_caps(),
    )
    .await;
    let r = created.result();
    assert_eq!(r["resultType"], "task");
    assert_eq!(r["status"], "working");
    assert!(r["ttlMs"].as_u64().unwrap() > 0);
    assert!(r["pollIntervalMs"].as_u64().unwrap() > 0);
    assert!(r["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(r.get("result").is_none() && r.get("task").is_none());
    let id = r["taskId"].as_str().unwrap().to_owned();
    let done = wait_status(&c, &id, &["completed"]).await;
    assert_eq!(done["result"]["content"][0]["text"], "slept 30");
    assert_eq!(done["resultType"], "complete");
    // Cancelling a finished task is an idempotent empty acknowledgment.
    let ack = with_caps(&c, "tasks/cancel", json!({ "taskId": id }), task_caps()).await;
    assert_eq!(ack.result()["resultType"], "complete");
    assert!(ack.result().get("status").is_none());
    assert_eq!(
        wait_status(&c, &id, &["completed"]).await["status"],
        "completed"
    );

    // Tool error: completed with isError; protocol error: failed with the error.
    let failing = with_caps(
        &c,
        "tools/call",
        json!({ "name": "failing_job" }),
        task_caps(),
    )
    .await;
    let t = wait_status(
        &c,
        failing.result()["taskId"].as_str().unwrap(),
        &["completed", "failed"],
    )
    .await;
    assert_eq!(t["status"], "completed");
    assert_eq!(t["result"]["isError"], true);
    let broken = with_caps(
        &c,
        "tools/call",
        json!({ "name": "protocol_error_job" }),
        task_caps(),
    )
    .await;
    let t = wait_status(
        &c,
        broken.result()["taskId"].as_str().unwrap(),
        &["completed", "failed"],
    )
    .await;
    assert_eq!(t["status"], "failed");
    assert_eq!(t["error"]["code"], -32603);
    assert!(t.get("result").is_none());

    // Cancelling a running task.
    let long = with_caps(
        &c,
        "tools/call",
        json!({ "name": "slow", "arguments": { "ms": 60000 } }),
        task_caps(),
    )
    .await;
    let long_id = long.result()["taskId"].as_str().unwrap().to_owned();
    with_caps(
        &c,
        "tasks/cancel",
        json!({ "taskId": long_id }),
        task_caps(),
    )
    .await;
    assert_eq!(
        wait_status(&c, &long_id, &["cancelled"]).await["status"],
        "cancelled"
    );

    // Unknown task.
    let unknown = with_caps(&c, "tasks/get", json!({ "taskId": "nope" }), task_caps()).await;
    assert_eq!(unknown.code(), i64::from(code::INVALID_PARAMS));
    c.validate();
}

#[tokio::test(start_paused = true)]
async fn a_task_run_tool_asks_its_first_questions_on_the_call_then_through_the_task() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        asks_on_the_call_then_through_the_task(wire).await;
    }
}

async fn asks_on_the_call_then_through_the_task(wire: bool) {
    let c = Client::with(tasks_server(), wire);
    let base = json!({ "name": "onboard_then_work" });
    // Round 1: the question comes before any work, so the call itself asks it; no task yet.
    let first = with_caps(&c, "tools/call", base.clone(), task_caps()).await;
    let r = first.result();
    assert_eq!(r["resultType"], "input_required");
    assert!(r.get("taskId").is_none());
    assert_eq!(
        r["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    // Round 2: answered, the tool starts working and the call becomes a task.
    let mut retry = base.clone();
    retry["requestState"] = r["requestState"].clone();
    retry["inputResponses"] =
        json!({ "user_name": { "action": "accept", "content": { "name": "Alice" } } });
    let created = with_caps(&c, "tools/call", retry, task_caps()).await;
    let t = created.result();
    assert_eq!(t["resultType"], "task", "{t}");
    assert!(t.get("requestState").is_none());
    let id = t["taskId"].as_str().unwrap().to_owned();
    // The question asked while working goes through the task.
    let asked = wait_status(&c, &id, &["input_required"]).await;
    assert_eq!(
        asked["inputRequests"]["sure"]["method"],
        "elicitation/create"
    );
    with_caps(
        &c,
        "tasks/update",
        json!({ "taskId": id, "inputResponses": { "sure": { "action": "accept", "content": { "confirm": true } } } }),
        task_caps(),
    )
    .await;
    let done = wait_status(&c, &id, &["completed"]).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "Alice sure=true",
        "the answer of the call's round reaches the task's result"
    );
    // A client without the extension cannot start it, even for the first round.
    let refused = c.call("tools/call", base).await;
    assert_eq!(
        refused.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    c.validate();
}

#[tokio::test]
async fn a_handler_failing_after_a_question_failed_is_answered_with_the_question_error() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        answers_with_the_question_error(wire).await;
    }
}

async fn answers_with_the_question_error(wire: bool) {
    use mcp_core::protocol::SamplingRequest;
    // As the macros convert `Result<T, E: Display>`: an `Err` becomes an isError result.
    let s = Server::builder("faults", "1")
        .auto_collect(false)
        .tool(Tool::new("needs_sampling", |ctx, _| async move {
            ctx.sample(SamplingRequest::user_text("hi", 10))
                .await
                .map_err(|e| mcp_core::ToolError::tool(e.to_string()))?;
            Ok(CallToolResult::success(vec![Content::text("sampled")]))
        }))
        .tool(Tool::new("asks_name", |ctx, _| async move {
            let r = ctx.input_key("user_name").elicit::<Login>("Login?").await;
            Ok(match r {
                Ok(_) => CallToolResult::success(vec![Content::text("ok")]),
                Err(e) => CallToolResult::error(e.to_string()),
            })
        }))
        .tool(Tool::new("falls_back", |ctx, _| async move {
            let text = match ctx.sample(SamplingRequest::user_text("hi", 10)).await {
                Ok(_) => "sampled",
                Err(_) => "no sampling: a default answer",
            };
            Ok(CallToolResult::success(vec![Content::text(text)]))
        }))
        .build()
        .unwrap();
    let c = Client::with(s, wire);
    let missing = c
        .call("tools/call", json!({ "name": "needs_sampling" }))
        .await;
    assert_eq!(
        missing.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    assert_eq!(
        missing.response["error"]["data"]["requiredCapabilities"],
        json!({ "sampling": {} })
    );
    // An answer that does not parse, from a client that declared the capability.
    let bad = with_caps(
        &c,
        "tools/call",
        json!({ "name": "asks_name", "inputResponses": { "user_name": 12345 } }),
        all_caps(),
    )
    .await;
    assert_eq!(
        bad.code(),
        i64::from(code::INVALID_PARAMS),
        "{}",
        bad.response
    );
    // A handler that copes without the capability keeps its result.
    let fine = c.call("tools/call", json!({ "name": "falls_back" })).await;
    assert_eq!(
        fine.result()["content"][0]["text"],
        "no sampling: a default answer"
    );
    c.validate();
}

#[tokio::test(start_paused = true)]
async fn a_task_asks_through_tasks_update_and_resumes() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        asks_through_tasks_update(wire).await;
    }
}

async fn asks_through_tasks_update(wire: bool) {
    let c = Client::with(tasks_server(), wire);
    let created = with_caps(
        &c,
        "tools/call",
        json!({ "name": "two_questions" }),
        task_caps(),
    )
    .await;
    let id = created.result()["taskId"].as_str().unwrap().to_owned();
    let asked = wait_task(&c, &id, "two input requests", |t| {
        t["status"] == "input_required" && t["inputRequests"].as_object().unwrap().len() == 2
    })
    .await;
    let keys: Vec<String> = asked["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 2, "{asked}");
    assert!(keys.contains(&"first".to_owned()));
    assert_eq!(
        asked["inputRequests"]["first"]["method"],
        "elicitation/create"
    );
    let other = keys.iter().find(|k| *k != "first").unwrap().clone();
    // A partial answer: the task still waits for the other one.
    let ack = with_caps(
        &c,
        "tasks/update",
        json!({ "taskId": id, "inputResponses": { "first": { "action": "accept", "content": { "confirm": true } } } }),
        task_caps(),
    )
    .await;
    assert_eq!(ack.result()["resultType"], "complete");
    let still = wait_status(&c, &id, &["input_required"]).await;
    let remaining: Vec<&String> = still["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(remaining, [&other]);
    with_caps(
        &c,
        "tasks/update",
        json!({ "taskId": id, "inputResponses": { other: { "action": "accept", "content": { "confirm": false } } } }),
        task_caps(),
    )
    .await;
    let done = wait_status(&c, &id, &["completed"]).await;
    assert_eq!(done["result"]["content"][0]["text"], "true false");
    c.validate();
}

#[tokio::test]
async fn prompts_and_resource_reads_ask_for_input_in_rounds_too() {
    // As a parsed request, then as its text (its first rounds open on first use).
    for wire in [false, true] {
        prompts_and_reads_ask(wire).await;
    }
}

async fn prompts_and_reads_ask(wire: bool) {
    use mcp_core::{GetPromptResult, Prompt, PromptMessage};
    let s = Server::builder("rounds", "1")
        .auto_collect(false)
        .prompt(Prompt::new("contextual", |ctx, _| async move {
            let r = ctx
                .input_key("user_context")
                .elicit::<Login>("Context?")
                .await?;
            let name = match r {
                mcp_core::protocol::Elicitation::Accept(l) => l.name,
                _ => "none".into(),
            };
            Ok(GetPromptResult {
                description: None,
                messages: vec![PromptMessage::user(format!("context: {name}"))],
                meta: None,
            })
        }))
        .resource(Resource::new("app://roots", "roots", |ctx| async move {
            let roots = ctx.list_roots().await?;
            Ok(ResourceContents::text("app://roots", "text/plain", roots.len().to_string()).into())
        }))
        .build()
        .unwrap();
    let c = Client::with(s, wire);
    let base = json!({ "name": "contextual", "_meta": meta(all_caps()) });
    let first = c.raw("prompts/get", base.clone()).await;
    assert_eq!(first.result()["resultType"], "input_required");
    let mut retry = base;
    retry["requestState"] = first.result()["requestState"].clone();
    retry["inputResponses"] =
        json!({ "user_context": { "action": "accept", "content": { "name": "ops" } } });
    let done = c.raw("prompts/get", retry).await;
    assert_eq!(done.result()["resultType"], "complete");
    assert_eq!(
        done.result()["messages"][0]["content"]["text"],
        "context: ops"
    );

    let base = json!({ "uri": "app://roots", "_meta": meta(all_caps()) });
    let first = c.raw("resources/read", base.clone()).await;
    assert_eq!(
        first.result()["inputRequests"]["roots-1"]["method"],
        "roots/list"
    );
    let mut retry = base;
    retry["requestState"] = first.result()["requestState"].clone();
    retry["inputResponses"] = json!({ "roots-1": { "roots": [ { "uri": "file:///w" } ] } });
    let done = c.raw("resources/read", retry).await;
    assert_eq!(done.result()["contents"][0]["text"], "1");
    // Without the roots capability the read fails with what it needed.
    let refused = c
        .call("resources/read", json!({ "uri": "app://roots" }))
        .await;
    assert_eq!(
        refused.code(),
        i64::from(code::MISSING_REQUIRED_CLIENT_CAPABILITY)
    );
    assert!(c.validate() >= 5);
}

/// Aborts a spawned task when the handler that spawned it is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Tools whose questions come late: after the handler first waited, or from another task.
fn late_questions_server() -> Server {
    let count = |roots: Vec<mcp_core::protocol::Root>| {
        Ok(CallToolResult::success(vec![Content::text(
            roots.len().to_string(),
        )]))
    };
    Server::builder("late", "1")
        .auto_collect(false)
        .tool(Tool::new("asks_after_waiting", move |ctx, _| async move {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
            count(ctx.list_roots().await?)
        }))
        .tool(Tool::new(
            "asks_from_another_task",
            move |ctx, _| async move {
                let asker = ctx.clone();
                let mut job = AbortOnDrop(tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    asker.list_roots().await
                }));
                let roots = (&mut job.0)
                    .await
                    .map_err(|e| mcp_core::McpError::internal(e.to_string()))??;
                count(roots)
            },
        ))
        .tool(Tool::new("keeps_state", |ctx, _| async move {
            let before = ctx.request_state::<u32>();
            ctx.set_request_state(&7u32)?;
            let after = ctx.request_state::<u32>();
            Ok(CallToolResult::success(vec![Content::text(format!(
                "{before:?} {after:?}"
            ))]))
        }))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_question_asked_after_the_handler_waited_or_from_another_task_ends_the_round() {
    for wire in [false, true] {
        let c = Client::with(late_questions_server(), wire);
        for tool in ["asks_after_waiting", "asks_from_another_task"] {
            let base = json!({ "name": tool, "_meta": meta(all_caps()) });
            let first = c.raw("tools/call", base.clone()).await;
            let r = first.result();
            assert_eq!(r["resultType"], "input_required", "{tool}: {r}");
            assert_eq!(r["inputRequests"]["roots-1"]["method"], "roots/list");
            let mut retry = base;
            retry["requestState"] = r["requestState"].clone();
            retry["inputResponses"] = json!({ "roots-1": { "roots": [ { "uri": "file:///a" } ] } });
            let done = c.raw("tools/call", retry).await;
            assert_eq!(done.result()["resultType"], "complete", "{tool}");
            assert_eq!(done.result()["content"][0]["text"], "1", "{tool}");
        }
        // A handler that keeps state but asks nothing finishes in its first round.
        let kept = c.call("tools/call", json!({ "name": "keeps_state" })).await;
        assert_eq!(kept.result()["resultType"], "complete");
        assert_eq!(kept.result()["content"][0]["text"], "None Some(7)");
        assert!(kept.result().get("requestState").is_none());
        c.validate();
    }
}

#[tokio::test]
async fn a_state_opened_on_first_use_is_bound_to_the_caller_and_the_request() {
    let s = late_questions_server();
    let alice = || Some(mcp_core::Identity::new("alice").with_issuer("https://idp"));
    let first = Client::from(s.clone(), true, alice())
        .raw(
            "tools/call",
            json!({ "name": "asks_after_waiting", "arguments": { "a": [1, {"y": 2, "x": 1}], "b": null }, "_meta": meta(all_caps()) }),
        )
        .await;
    // The retry, as a parsed request (bound from its params, keys in another order).
    let retry = json!({ "arguments": { "b": null, "a": [1, {"x": 1, "y": 2}] }, "name": "asks_after_waiting",
        "_meta": meta(all_caps()), "requestState": first.result()["requestState"].clone(),
        "inputResponses": { "roots-1": { "roots": [] } } });
    for wire in [false, true] {
        let done = Client::from(s.clone(), wire, alice())
            .raw("tools/call", retry.clone())
            .await;
        assert_eq!(done.result()["content"][0]["text"], "0");
    }
    let mut elsewhere = retry.clone();
    elsewhere["arguments"]["b"] = 1.into();
    let callers = [
        Some(mcp_core::Identity::new("bob").with_issuer("https://idp")),
        Some(mcp_core::Identity::new("alice").with_issuer("https://other")),
        None,
    ];
    let refusals = callers
        .into_iter()
        .map(|who| (who, &retry))
        .chain([(alice(), &elsewhere)]);
    for (who, params) in refusals {
        let e = Client::from(s.clone(), true, who)
            .raw("tools/call", params.clone())
            .await;
        assert_eq!(e.code(), i64::from(code::INVALID_PARAMS));
        assert!(
            e.response["error"]["message"]
                .as_str()
                .unwrap()
                .contains("different request"),
            "{}",
            e.response
        );
    }
}
