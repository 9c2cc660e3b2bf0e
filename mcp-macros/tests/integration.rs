//! Runtime behaviour of the generated code and snapshots of the generated schemas.
//!
//! Snapshots live in `tests/snapshots/<tool>.json`; run with `MCP_SNAPSHOT_OVERWRITE=1` to
//! rewrite them, then review the diff.

use std::collections::BTreeMap;

use mcp_core::transport::memory::MemoryClient;
use mcp_core::{Context, Json, Server};
use mcp_macros::{mcp_prompt, mcp_resource, mcp_tool};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Add two numbers.
#[mcp_tool]
async fn add(
    /// The first addend
    a: i64,
    /// The second addend
    b: i64,
) -> i64 {
    a + b
}

/// Greets someone.
///
/// Examples:
///     greet(name = "Ada")
#[mcp_tool(
    title = "Greeter",
    read_only,
    idempotent,
    icon = "https://example.com/greet.png"
)]
fn greet(
    /// Who to greet
    name: String,
    /// Optional punctuation
    punctuation: Option<String>,
    /// How many times
    #[mcp(default = 1)]
    times: u32,
) -> String {
    let p = punctuation.unwrap_or_else(|| "!".into());
    (0..times)
        .map(|_| format!("Hello, {name}{p}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a query in a region; the region is mirrored in a request header.
#[mcp_tool]
fn regional(
    /// Where to run
    #[mcp(header = "Region")]
    region: String,
    /// What to run
    query: String,
) -> String {
    format!("{query} in {region}")
}

#[mcp_tool]
fn no_params() -> &'static str {
    "nothing to see"
}

/// A point on the plane.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
struct Point {
    /// Horizontal
    x: f64,
    /// Vertical
    y: f64,
}

/// A colour.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Colour {
    Red,
    Green,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Summary {
    count: usize,
    first: Option<String>,
}

/// Summarise a drawing.
#[mcp_tool]
fn nested(
    /// The points
    points: Vec<Point>,
    /// The pen colour
    colour: Colour,
    /// Renamed on the wire
    #[serde(rename = "labelText")]
    label: String,
    /// Free-form tags
    tags: BTreeMap<String, String>,
    ctx: Context,
) -> Json<Summary> {
    let _ = ctx;
    Json(Summary {
        count: points.len() + tags.len(),
        first: Some(format!("{label}:{colour:?}")),
    })
}

/// Structured output that is not an object: text only, no outputSchema.
#[mcp_tool]
fn listing() -> Json<Vec<u8>> {
    Json(vec![1, 2])
}

#[mcp_tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 {
        Err("division by zero".into())
    } else {
        Ok(a / b)
    }
}

struct Counter(std::sync::atomic::AtomicU64);

mod renamed {
    pub use mcp_core::Context as Ctx;
    pub use mcp_core::State as Shared;
}

/// Counts calls; uses injected parameters under other names.
#[mcp_tool(name = "count")]
fn counter(
    c: renamed::Shared<Counter>,
    _ctx: renamed::Ctx,
    /// Step
    step: u64,
) -> u64 {
    c.0.0.fetch_add(step, std::sync::atomic::Ordering::SeqCst) + step
}

/// The readme.
#[mcp_resource(uri = "docs://readme", mime_type = "text/markdown")]
fn readme() -> &'static str {
    "# Hello"
}

#[mcp_resource(uri = "users://{id}/name")]
fn user_name(id: u32) -> String {
    format!("user-{id}")
}

/// Ask for a summary.
#[mcp_prompt]
fn summarize(
    /// The text
    text: String,
    /// Style
    style: Option<String>,
) -> String {
    format!(
        "Summarize ({}): {text}",
        style.as_deref().unwrap_or("plain")
    )
}

fn server() -> Server {
    Server::builder("test", "1.0")
        .state(Counter(std::sync::atomic::AtomicU64::new(0)))
        .build()
        .expect("the annotated items register")
}

async fn client() -> MemoryClient {
    let client = MemoryClient::connect(&server());
    client.initialize().await.expect("initialize");
    client
}

async fn tool_list(client: &MemoryClient) -> BTreeMap<String, Value> {
    let list = client.list_tools().await.expect("tools/list");
    list["tools"]
        .as_array()
        .expect("tools array")
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

fn check_snapshot(name: &str, value: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("MCP_SNAPSHOT_OVERWRITE").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with MCP_SNAPSHOT_OVERWRITE=1",
            path.display()
        )
    });
    assert_eq!(
        text, expected,
        "snapshot {name} changed; rerun with MCP_SNAPSHOT_OVERWRITE=1 and review"
    );
}

#[tokio::test]
async fn functions_stay_callable() {
    assert_eq!(add(2, 3).await, 5);
    assert_eq!(greet("Ada".into(), None, 2), "Hello, Ada! Hello, Ada!");
    assert_eq!(no_params(), "nothing to see");
    assert_eq!(readme(), "# Hello");
    assert_eq!(user_name(3), "user-3");
}

#[tokio::test]
async fn schema_snapshots() {
    let client = client().await;
    let tools = tool_list(&client).await;
    for name in ["add", "greet", "no_params", "nested", "divide", "count"] {
        let tool = tools
            .get(name)
            .unwrap_or_else(|| panic!("tool {name} listed"));
        check_snapshot(name, tool);
    }
}

#[tokio::test]
async fn schema_details() {
    let client = client().await;
    let tools = tool_list(&client).await;
    assert_eq!(
        tools["no_params"]["inputSchema"],
        json!({"type": "object", "properties": {}})
    );
    let greet = &tools["greet"];
    assert_eq!(
        greet["description"],
        "Greets someone.\n\nExamples:\n    greet(name = \"Ada\")"
    );
    assert_eq!(greet["inputSchema"]["required"], json!(["name"]));
    assert_eq!(
        greet["inputSchema"]["properties"]["times"]["default"],
        json!(1)
    );
    assert_eq!(greet["annotations"]["readOnlyHint"], json!(true));
    let nested = &tools["nested"]["inputSchema"];
    assert!(
        nested["properties"].get("ctx").is_none(),
        "Context is injected"
    );
    assert!(
        nested["properties"].get("labelText").is_some(),
        "serde rename respected"
    );
    assert!(nested["$defs"].get("Point").is_some(), "$defs kept");
    assert!(tools["nested"].get("outputSchema").is_some());
    let regional = &tools["regional"]["inputSchema"]["properties"];
    assert_eq!(regional["region"]["x-mcp-header"], "Region");
    assert!(regional["query"].get("x-mcp-header").is_none());
    let count = &tools["count"]["inputSchema"];
    assert_eq!(
        count["properties"].as_object().unwrap().len(),
        1,
        "aliased injections"
    );
}

#[tokio::test]
async fn calls_and_errors() {
    let client = client().await;
    let out = client
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(out["content"][0]["text"], "5");

    let out = client
        .call_tool("greet", json!({"name": "Bo"}))
        .await
        .unwrap();
    assert_eq!(out["content"][0]["text"], "Hello, Bo!");

    let bad = client
        .call_tool("add", json!({"a": "two", "b": 3}))
        .await
        .unwrap();
    assert_eq!(bad["isError"], true);
    let text = bad["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("invalid argument `a`"),
        "names the field: {text}"
    );
    let missing = client.call_tool("add", json!({"a": 1})).await.unwrap();
    assert_eq!(missing["isError"], true);
    assert!(
        missing["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`b`")
    );

    let err = client
        .call_tool("divide", json!({"a": 1.0, "b": 0.0}))
        .await
        .unwrap();
    assert_eq!(err["isError"], true);
    assert_eq!(err["content"][0]["text"], "division by zero");

    let drawn = client
        .call_tool(
            "nested",
            json!({"points": [{"x": 1.0, "y": 2.0}], "colour": "red", "labelText": "L", "tags": {}}),
        )
        .await
        .unwrap();
    assert_eq!(
        drawn["structuredContent"],
        json!({"count": 1, "first": "L:Red"})
    );

    let listed = client.call_tool("listing", json!({})).await.unwrap();
    assert!(listed.get("structuredContent").is_none(), "{listed}");
    assert_eq!(listed["content"][0]["text"], "[1,2]");
    assert!(
        tool_list(&client).await["listing"]
            .get("outputSchema")
            .is_none()
    );

    let c1 = client.call_tool("count", json!({"step": 2})).await.unwrap();
    let c2 = client.call_tool("count", json!({"step": 2})).await.unwrap();
    assert_eq!(c1["content"][0]["text"], "2");
    assert_eq!(c2["content"][0]["text"], "4");
}

#[tokio::test]
async fn resources_and_prompts() {
    let client = client().await;
    let r = client.read_resource("docs://readme").await.unwrap();
    assert_eq!(r["contents"][0]["text"], "# Hello");
    assert_eq!(r["contents"][0]["mimeType"], "text/markdown");
    let t = client.read_resource("users://42/name").await.unwrap();
    assert_eq!(t["contents"][0]["text"], "user-42");
    let p = client
        .get_prompt("summarize", json!({"text": "abc"}))
        .await
        .unwrap();
    assert_eq!(
        p["messages"][0]["content"]["text"],
        "Summarize (plain): abc"
    );
    let prompts = client.request("prompts/list", json!({})).await.unwrap();
    let summarize = prompts["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "summarize")
        .expect("summarize listed");
    let args = &summarize["arguments"];
    assert_eq!(args[0]["required"], true);
    assert_ne!(args[1]["required"], true);
}

/// Read a file (needs an OAuth scope).
#[mcp_tool(scopes = ["files:read", "files"])]
fn read_file(path: String) -> String {
    path
}

#[test]
fn scopes_reach_the_tool() {
    let server = Server::builder("scoped", "1.0")
        .auto_collect(false)
        .item::<read_file>()
        .item::<add>()
        .build()
        .unwrap();
    assert_eq!(
        server.tool_scopes("read_file").unwrap(),
        ["files:read", "files"]
    );
    assert!(server.tool_scopes("add").unwrap().is_empty());
}

#[tokio::test]
async fn explicit_registration_without_collection() {
    let server = Server::builder("explicit", "1.0")
        .auto_collect(false)
        .item::<add>()
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let tools = tool_list(&client).await;
    assert_eq!(tools.keys().collect::<Vec<_>>(), vec!["add"]);
}

#[test]
fn duplicate_names_name_both_origins() {
    let by_hand = mcp_core::Tool::new("add", |_ctx, _args| async {
        Ok(mcp_core::CallToolResult::success(Vec::new()))
    });
    let err = Server::builder("dup", "1.0")
        .auto_collect(false)
        .item::<add>()
        .tool(by_hand)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"add\""), "{err}");
    assert!(
        err.contains("integration::add"),
        "names the macro origin: {err}"
    );
    assert!(err.contains("builder"), "names the other origin: {err}");
}

/// Shared state no server in these tests registers.
struct Unregistered;

#[mcp_tool]
fn needs_state_tool(s: mcp_core::State<Unregistered>) -> &'static str {
    let _ = s;
    "unreachable"
}

#[mcp_resource(uri = "state://needed")]
fn needs_state_resource(s: mcp_core::State<Unregistered>) -> &'static str {
    let _ = s;
    "unreachable"
}

#[mcp_prompt]
fn needs_state_prompt(s: mcp_core::State<Unregistered>) -> &'static str {
    let _ = s;
    "unreachable"
}

#[tokio::test]
async fn missing_state_fails_the_same_way_everywhere() {
    let server = Server::builder("stateless", "1.0")
        .auto_collect(false)
        .item::<needs_state_tool>()
        .item::<needs_state_resource>()
        .item::<needs_state_prompt>()
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let errors = [
        client.call_tool("needs_state_tool", json!({})).await,
        client.read_resource("state://needed").await,
        client.get_prompt("needs_state_prompt", json!({})).await,
    ];
    for e in errors {
        let e = e.expect_err("a missing State<T> is a protocol error");
        assert_eq!(e.code, -32603);
        assert!(
            e.message.contains("no shared state of type")
                && e.message.contains("Unregistered")
                && e.message.contains("ServerBuilder::state"),
            "{}",
            e.message
        );
    }
}

/// A search request whose schema promises more than its types.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchRequest {
    /// What to look for
    #[schemars(length(min = 1, max = 20), regex(pattern = "^[a-z ]+$"))]
    text: String,
    /// How many results
    #[schemars(range(min = 1, max = 50))]
    limit: u32,
}

#[mcp_tool]
fn search(request: SearchRequest) -> String {
    format!("{} x{}", request.text, request.limit)
}

#[tokio::test]
async fn the_schema_is_enforced_before_the_function_runs() {
    let client = client().await;
    let ok = client
        .call_tool("search", json!({"request": {"text": "cats", "limit": 5}}))
        .await
        .unwrap();
    assert_eq!(ok["content"][0]["text"], "cats x5");
    for (args, name, rule) in [
        (
            json!({"text": "cats", "limit": 0}),
            "`request.limit`",
            "(minimum)",
        ),
        (
            json!({"text": "", "limit": 5}),
            "`request.text`",
            "(minLength)",
        ),
        (
            json!({"text": "CATS", "limit": 5}),
            "`request.text`",
            "(pattern)",
        ),
        (
            json!({"text": "cats", "limit": 5, "sort": "asc"}),
            "`sort`",
            "(additionalProperties)",
        ),
    ] {
        let out = client
            .call_tool("search", json!({ "request": args }))
            .await
            .unwrap();
        assert_eq!(out["isError"], true, "{out}");
        let text = out["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(name) && text.ends_with(rule), "{text}");
    }
}

/// Cities starting with the typed prefix, in the country already chosen.
async fn cities(
    _ctx: Context,
    req: mcp_core::CompletionRequest,
) -> Result<Vec<String>, mcp_core::McpError> {
    let all: &[&str] = match req.context.get("country").map(String::as_str) {
        Some("fr") => &["paris", "lyon"],
        _ => &["london", "leeds"],
    };
    Ok(all
        .iter()
        .filter(|c| c.starts_with(&req.value))
        .map(|c| (*c).to_owned())
        .collect())
}

/// The weather in a city.
#[mcp_resource(
    uri = "weather://{country}/{city}",
    icon = "https://example.com/weather.png",
    meta = r#"{"com.example/refresh": 60}"#,
    audience = ["user"],
    priority = 0.25,
    last_modified = "2026-01-01T00:00:00Z",
    complete(city = cities)
)]
fn weather(country: String, city: String) -> String {
    format!("{city}, {country}: sunny")
}

/// Plan a trip.
#[mcp_prompt(
    icon = "https://example.com/trip.png",
    meta = r#"{"com.example/kind": "travel"}"#,
    complete(city = cities)
)]
fn trip(country: String, city: String) -> String {
    format!("Plan a trip to {city} in {country}")
}

#[tokio::test]
async fn resources_and_prompts_carry_icons_annotations_meta_and_async_completers() {
    let client = client().await;
    let templates = client
        .request("resources/templates/list", json!({}))
        .await
        .unwrap();
    let weather = templates["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "weather")
        .expect("weather listed")
        .clone();
    assert_eq!(
        weather["icons"],
        json!([{"src": "https://example.com/weather.png"}])
    );
    assert_eq!(weather["_meta"], json!({"com.example/refresh": 60}));
    assert_eq!(
        weather["annotations"],
        json!({"audience": ["user"], "priority": 0.25, "lastModified": "2026-01-01T00:00:00Z"})
    );
    let prompts = client.request("prompts/list", json!({})).await.unwrap();
    let trip = prompts["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "trip")
        .expect("trip listed")
        .clone();
    assert_eq!(
        trip["icons"],
        json!([{"src": "https://example.com/trip.png"}])
    );
    assert_eq!(trip["_meta"], json!({"com.example/kind": "travel"}));

    for reference in [
        json!({"type": "ref/resource", "uri": "weather://{country}/{city}"}),
        json!({"type": "ref/prompt", "name": "trip"}),
    ] {
        let done = client
            .request(
                "completion/complete",
                json!({
                    "ref": reference,
                    "argument": {"name": "city", "value": "l"},
                    "context": {"arguments": {"country": "fr"}}
                }),
            )
            .await
            .unwrap();
        assert_eq!(done["completion"]["values"], json!(["lyon"]), "{reference}");
    }
}

/// Set when [`stalls`]'s call is dropped, i.e. cancelled.
static STALL_DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct SetOnDrop;

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        STALL_DROPPED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Never finishes.
#[mcp_tool(timeout_ms = 30000)]
async fn stalls() -> String {
    let _guard = SetOnDrop;
    std::future::pending::<()>().await;
    unreachable!("pending never resolves")
}

#[tokio::test(start_paused = true)]
async fn a_tool_past_its_timeout_ms_is_cancelled_with_a_clear_error() {
    let server = Server::builder("timeouts", "1.0")
        .auto_collect(false)
        .handler_timeout(std::time::Duration::from_secs(3600))
        .item::<stalls>()
        .build()
        .unwrap();
    let client = MemoryClient::connect(&server);
    client.initialize().await.unwrap();
    let started = tokio::time::Instant::now();
    let out = client.call_tool("stalls", json!({})).await.unwrap();
    // The tool's own 30 s, not the server's hour (time is paused: the test takes no real time).
    assert_eq!(started.elapsed().as_secs(), 30);
    assert_eq!(out["isError"], true);
    assert_eq!(
        out["content"][0]["text"],
        "tool \"stalls\" did not finish within 30000 ms and was cancelled"
    );
    assert!(
        STALL_DROPPED.load(std::sync::atomic::Ordering::SeqCst),
        "the call's future was dropped"
    );
}
