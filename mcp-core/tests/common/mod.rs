//! A server exercising every registry kind, and a validator of server messages against a
//! revision's `schema.json`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use mcp_core::protocol::Completion;
use mcp_core::{
    CallToolResult, Content, Prompt, PromptArgument, PromptMessage, Resource, ResourceContents,
    ResourceTemplate, Server, Tool, ToolAnnotations, ToolError,
};
use serde_json::{Value, json};

/// Returns once every other task of the runtime is idle, so that whatever the server was going
/// to send has been sent: a test that checks something does *not* happen calls this before
/// looking. Only for tests with paused time (`#[tokio::test(start_paused = true)]`) and no
/// sockets: a paused clock moves on by itself only when no task can run, so the timer here
/// fires at the first moment the runtime has nothing left to do.
pub async fn settle() {
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
}

/// The revisions the wire test covers.
pub const REVISIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// A server with tools (plain, structured, failing, panicking, slow, progress, logging,
/// typed-argument), a resource, a template with completion and a prompt with completion.
pub fn server() -> Server {
    let mut out_schema = serde_json::Map::new();
    out_schema.insert("type".into(), "object".into());
    out_schema.insert("properties".into(), json!({"sum": {"type": "integer"}}));
    let add_schema = json!({
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"]
    });
    Server::builder("e2e", "1.0.0")
        .title("E2E server")
        .instructions("Use the tools.")
        .page_size(2)
        .tool(
            Tool::new("echo", |_ctx, args| async move {
                let text = args
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Ok(CallToolResult::success(vec![Content::text(text)]))
            })
            .title("Echo")
            .description("Echo text")
            .annotations(ToolAnnotations {
                read_only_hint: Some(true),
                ..Default::default()
            }),
        )
        .tool(
            Tool::new("add", |_ctx, args| async move {
                let a = args.get("a").and_then(Value::as_i64);
                let b = args.get("b").and_then(Value::as_i64);
                match (a, b) {
                    (Some(a), Some(b)) => Ok(CallToolResult::structured(json!({"sum": a + b}))),
                    _ => Err(ToolError::tool(
                        "invalid arguments: field `a` and `b` must be integers",
                    )),
                }
            })
            .input_schema(add_schema.as_object().unwrap().clone())
            .output_schema(out_schema),
        )
        .tool(Tool::new("fail", |_ctx, _args| async move {
            Err(ToolError::tool("it failed"))
        }))
        .tool(Tool::new("boom", |_ctx, _args| async move {
            if std::hint::black_box(true) {
                panic!("tool panicked on purpose");
            }
            Ok(CallToolResult::default())
        }))
        .tool(Tool::new("media", |_ctx, _args| async move {
            Ok(CallToolResult::success(vec![
                Content::image("aGk=", "image/png"),
                Content::audio("aGk=", "audio/wav"),
                Content::resource_link("app://about", "about"),
                Content::resource(ResourceContents::text("app://about", "text/plain", "x")),
            ]))
        }))
        .tool(Tool::new("progress", |ctx, _args| async move {
            ctx.progress(1.0, Some(2.0), Some("half")).await;
            ctx.progress(2.0, Some(2.0), None).await;
            ctx.info(json!({"step": "done"})).await;
            ctx.debug("hidden below info").await;
            Ok(CallToolResult::success(vec![Content::text("ok")]))
        }))
        .tool(Tool::new("wait", |ctx, _args| async move {
            ctx.cancelled().await;
            Ok(CallToolResult::success(vec![Content::text("cancelled")]))
        }))
        .tool(Tool::new("roots", |ctx, _args| async move {
            let roots = ctx.list_roots().await?;
            Ok(CallToolResult::success(vec![Content::text(
                roots.len().to_string(),
            )]))
        }))
        .resource(
            Resource::new("app://about", "about", |_ctx| async {
                Ok(ResourceContents::text("app://about", "text/plain", "An example.").into())
            })
            .description("About")
            .mime_type("text/plain"),
        )
        .resource_template(Ok(ResourceTemplate::new(
            "users://{id}/profile",
            "profile",
            |_ctx, vars| async move {
                let id = vars["id"].clone();
                Ok(ResourceContents::text(
                    format!("users://{id}/profile"),
                    "text/plain",
                    format!("user {id}"),
                )
                .into())
            },
        )
        .unwrap()
        .complete("id", |_ctx, req| async move {
            let all = ["alice", "bob", "alina"];
            Ok(Completion::from_values(
                all.iter()
                    .filter(|v| v.starts_with(&req.value))
                    .map(|v| (*v).to_owned())
                    .collect(),
            ))
        })))
        .prompt(
            Prompt::new("greet", |_ctx, args: HashMap<String, String>| async move {
                Ok(vec![PromptMessage::user(format!(
                    "Say hello to {}",
                    args["name"]
                ))]
                .into())
            })
            .description("Greet someone")
            .argument(PromptArgument::new("name", Some("Who".into()), true))
            .complete("name", |_ctx, req| async move {
                Ok(Completion::from_values(vec![format!("{}ob", req.value)]))
            }),
        )
        .build()
        .expect("server builds")
}

/// The wire schemas carried in the repository as test data: `mcp-core/tests/schemas/<revision>/`
/// (origin and licence in its README).
pub fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// Validates server messages against one revision's schema.
pub struct WireSchema {
    revision: String,
    doc: Value,
    defs_key: &'static str,
    cache: HashMap<String, jsonschema::Validator>,
}

impl WireSchema {
    /// Loads `tests/schemas/<revision>/schema.json`.
    pub fn load(revision: &str) -> WireSchema {
        let path = schema_dir().join(revision).join("schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let defs_key = if doc.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        WireSchema {
            revision: revision.to_owned(),
            doc,
            defs_key,
            cache: HashMap::new(),
        }
    }

    /// True when the schema defines `name`.
    pub fn has(&self, name: &str) -> bool {
        self.doc[self.defs_key].get(name).is_some()
    }

    /// Asserts `value` is valid against definition `name`.
    pub fn check(&mut self, name: &str, value: &Value) {
        assert!(self.has(name), "{}: no definition {name}", self.revision);
        let defs_key = self.defs_key;
        let doc = &self.doc;
        let v = self.cache.entry(name.to_owned()).or_insert_with(|| {
            let mut root = serde_json::Map::new();
            root.insert("$schema".into(), doc["$schema"].clone());
            root.insert(defs_key.into(), doc[defs_key].clone());
            root.insert(
                "allOf".into(),
                json!([{ "$ref": format!("#/{defs_key}/{name}") }]),
            );
            jsonschema::validator_for(&Value::Object(root)).expect("schema compiles")
        });
        let errors: Vec<String> = v
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: message is not a valid {name}: {errors:?}\n{value}",
            self.revision
        );
    }

    /// The result definition for a request method, where the schema has one.
    pub fn result_def(method: &str) -> Option<&'static str> {
        Some(match method {
            "initialize" => "InitializeResult",
            "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => {
                "EmptyResult"
            }
            "tools/list" => "ListToolsResult",
            "tools/call" => "CallToolResult",
            "resources/list" => "ListResourcesResult",
            "resources/templates/list" => "ListResourceTemplatesResult",
            "resources/read" => "ReadResourceResult",
            "prompts/list" => "ListPromptsResult",
            "prompts/get" => "GetPromptResult",
            "completion/complete" => "CompleteResult",
            "server/discover" => "DiscoverResult",
            "subscriptions/listen" => "SubscriptionsListenResult",
            _ => return None,
        })
    }

    /// The notification definition for a method.
    pub fn notification_def(method: &str) -> Option<&'static str> {
        Some(match method {
            "notifications/progress" => "ProgressNotification",
            "notifications/message" => "LoggingMessageNotification",
            "notifications/tools/list_changed" => "ToolListChangedNotification",
            "notifications/resources/list_changed" => "ResourceListChangedNotification",
            "notifications/resources/updated" => "ResourceUpdatedNotification",
            "notifications/prompts/list_changed" => "PromptListChangedNotification",
            "notifications/cancelled" => "CancelledNotification",
            "notifications/subscriptions/acknowledged" => "SubscriptionsAcknowledgedNotification",
            _ => return None,
        })
    }

    /// The request definition for a server-to-client method.
    pub fn request_def(method: &str) -> Option<&'static str> {
        Some(match method {
            "sampling/createMessage" => "CreateMessageRequest",
            "elicitation/create" => "ElicitRequest",
            "roots/list" => "ListRootsRequest",
            "ping" => "PingRequest",
            _ => return None,
        })
    }

    /// The tasks extension's fields: a task (`CreateTaskResult`, `tasks/get`) has its id,
    /// status, timestamps and integer durations, never a `requestState`; `tasks/get` inlines a
    /// completed task's `CallToolResult` or a failed one's error; the other task methods
    /// answer an empty acknowledgment.
    fn check_task_fields(&mut self, result: &Value, method: Option<&str>) {
        let is_task = result["resultType"] == "task" || method == Some("tasks/get");
        if !is_task {
            let extra: Vec<&String> = result
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "resultType" && *k != "_meta")
                .collect();
            assert!(
                extra.is_empty(),
                "an acknowledgment carries {extra:?}: {result}"
            );
            assert_eq!(result["resultType"], "complete", "{result}");
            return;
        }
        for k in ["taskId", "createdAt", "lastUpdatedAt"] {
            assert!(
                result[k].is_string(),
                "task field {k} is not a string: {result}"
            );
        }
        let status = result["status"].as_str().unwrap_or("");
        assert!(
            [
                "working",
                "input_required",
                "completed",
                "failed",
                "cancelled"
            ]
            .contains(&status),
            "task status {status:?}: {result}"
        );
        for k in ["ttlMs", "pollIntervalMs"] {
            assert!(
                result.get(k).is_none_or(Value::is_u64),
                "{k} is not an integer: {result}"
            );
        }
        assert!(result["ttlMs"].is_u64(), "ttlMs missing: {result}");
        for gone in ["requestState", "ttl", "pollInterval", "task"] {
            assert!(
                result.get(gone).is_none(),
                "a task carries {gone}: {result}"
            );
        }
        if result["resultType"] == "task" {
            assert!(result.get("result").is_none() && result.get("error").is_none());
            return;
        }
        assert_eq!(result["resultType"], "complete", "{result}");
        match status {
            "completed" => {
                self.check("CallToolResult", &result["result"]);
                assert!(result.get("error").is_none());
            }
            "failed" => {
                self.check("Error", &result["error"]);
                assert!(result.get("result").is_none());
            }
            "input_required" => {
                let asks = result["inputRequests"].as_object().expect("inputRequests");
                assert!(!asks.is_empty());
                self.check("InputRequests", &result["inputRequests"]);
            }
            _ => assert!(result.get("result").is_none() && result.get("error").is_none()),
        }
    }

    /// Validates one server message; `methods` maps client request ids (as JSON text) to
    /// their methods so results are checked against the method's result definition.
    pub fn check_message(&mut self, msg: &Value, methods: &HashMap<String, String>) {
        if let Some(arr) = msg.as_array() {
            assert!(
                self.revision == "2025-03-26",
                "{}: batch response sent",
                self.revision
            );
            self.check("JSONRPCBatchResponse", msg);
            for m in arr {
                self.check_message(m, methods);
            }
            return;
        }
        if msg.get("error").is_some() {
            let def = if self.has("JSONRPCErrorResponse") {
                "JSONRPCErrorResponse"
            } else {
                "JSONRPCError"
            };
            if !msg["id"].is_null() {
                self.check(def, msg);
            }
            // The revision's own error codes have their own definitions.
            let specific = match msg["error"]["code"].as_i64() {
                Some(-32020) => "HeaderMismatchError",
                Some(-32021) => "MissingRequiredClientCapabilityError",
                Some(-32022) => "UnsupportedProtocolVersionError",
                _ => "",
            };
            if self.has(specific) {
                self.check(specific, msg);
            }
        } else if msg.get("result").is_some() {
            let def = if self.has("JSONRPCResultResponse") {
                "JSONRPCResultResponse"
            } else {
                "JSONRPCResponse"
            };
            self.check(def, msg);
            let method = methods.get(&msg["id"].to_string()).cloned();
            let result = &msg["result"];
            if result["resultType"] == "input_required" {
                self.check("InputRequiredResult", result);
            } else if result["resultType"] == "task"
                || method.as_deref().is_some_and(is_task_method)
            {
                // The tasks extension is not part of the core schema: its results are core
                // `Result`s, with the extension's fields checked here.
                self.check("Result", result);
                self.check_task_fields(result, method.as_deref());
            } else if let Some(rd) = method.as_deref().and_then(Self::result_def)
                && self.has(rd)
            {
                self.check(rd, &msg["result"]);
            }
        } else if msg.get("id").is_some() {
            self.check("JSONRPCRequest", msg);
            if let Some(d) = msg["method"].as_str().and_then(Self::request_def)
                && self.has(d)
            {
                self.check(d, msg);
            }
        } else {
            self.check("JSONRPCNotification", msg);
            let method = msg["method"].as_str().unwrap_or("");
            let d = Self::notification_def(method)
                .unwrap_or_else(|| panic!("unexpected server notification {method}"));
            self.check(d, msg);
        }
    }
}

/// The methods of the tasks extension.
fn is_task_method(method: &str) -> bool {
    matches!(method, "tasks/get" | "tasks/update" | "tasks/cancel")
}
