//! The fixture for the official MCP conformance suite (`@modelcontextprotocol/conformance`):
//! every tool, resource, template and prompt its server scenarios call, at the session-based
//! 2025-11-25 wire and the stateless 2026-07-28 one, declared with the project's own macros.
//! `cargo run --example conformance -- 127.0.0.1:3001`, then point the suite at
//! `http://127.0.0.1:3001/mcp`.

use std::sync::OnceLock;
use std::time::Duration;

use mcp_core::protocol::{ElicitAction, ElicitResult, SamplingRequest};
use mcp_core::{
    CallToolResult, Content, Context, GetPromptResult, McpError, Prompt, PromptMessage,
    ResourceContents, Role, Tool, ToolError,
};
use mcp_macros::{mcp_prompt, mcp_resource, mcp_tool};
use serde_json::{Value, json};

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Answers with a simple text.
#[mcp_tool]
fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Answers with an image.
#[mcp_tool]
fn test_image_content() -> Content {
    Content::image(PNG, "image/png")
}

/// Answers with audio.
#[mcp_tool]
fn test_audio_content() -> Content {
    Content::audio(WAV, "audio/wav")
}

/// Answers with an embedded resource.
#[mcp_tool]
fn test_embedded_resource() -> Content {
    Content::resource(ResourceContents::text(
        "test://embedded-resource",
        "text/plain",
        "This is an embedded resource content.",
    ))
}

/// Answers with text, an image and a resource.
#[mcp_tool]
fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image(PNG, "image/png"),
        Content::resource(ResourceContents::text(
            "test://mixed-content-resource",
            "application/json",
            r#"{"test":"data","value":123}"#,
        )),
    ]
}

/// Logs three messages while it runs.
#[mcp_tool]
async fn test_tool_with_logging(ctx: Context) -> &'static str {
    for msg in [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ] {
        ctx.info(msg).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "Logging test completed"
}

/// Reports progress 0, 50, 100.
#[mcp_tool]
async fn test_tool_with_progress(ctx: Context) -> &'static str {
    for p in [0.0, 50.0, 100.0] {
        ctx.progress(p, Some(100.0), Some("working")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "Progress test completed"
}

/// Always fails with a tool error.
#[mcp_tool]
fn test_error_handling() -> Result<String, String> {
    Err("This tool intentionally returns an error for testing".into())
}

/// Asks the client's model to answer a prompt.
#[mcp_tool]
async fn test_sampling(
    ctx: Context,
    /// The prompt to send
    prompt: String,
) -> Result<String, McpError> {
    let r = ctx
        .create_message(SamplingRequest::user_text(prompt, 100))
        .await?;
    let text = match r.content {
        Content::Text { text, .. } => text,
        other => format!("{other:?}"),
    };
    Ok(format!("LLM response: {text}"))
}

/// Asks the user for a username and an email.
#[mcp_tool]
async fn test_elicitation(
    ctx: Context,
    /// The message to show
    message: String,
) -> Result<String, McpError> {
    let schema = json!({"type":"object","properties":{
        "username":{"type":"string","description":"User's response"},
        "email":{"type":"string","description":"User's email address"}},
        "required":["username","email"]});
    let r = ctx.elicit_schema(message, obj(schema)).await?;
    Ok(format!(
        "User response: action={:?}, content={}",
        r.action,
        json!(r.content)
    ))
}

/// Elicitation with default values of every primitive type (SEP-1034).
#[mcp_tool]
async fn test_elicitation_sep1034_defaults(ctx: Context) -> Result<String, McpError> {
    let schema = json!({"type":"object","properties":{
        "name":{"type":"string","default":"John Doe"},
        "age":{"type":"integer","default":30},
        "score":{"type":"number","default":95.5},
        "status":{"type":"string","enum":["active","inactive","pending"],"default":"active"},
        "verified":{"type":"boolean","default":true}}});
    let r = ctx
        .elicit_schema(
            "Please review and update the form fields with defaults",
            obj(schema),
        )
        .await?;
    Ok(format!(
        "Elicitation completed: action={:?}, content={}",
        r.action,
        json!(r.content)
    ))
}

/// Elicitation with every enum shape (SEP-1330).
#[mcp_tool]
async fn test_elicitation_sep1330_enums(ctx: Context) -> Result<String, McpError> {
    let schema = json!({"type":"object","properties":{
        "untitledSingle":{"type":"string","enum":["option1","option2","option3"]},
        "titledSingle":{"type":"string","oneOf":[
            {"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"}]},
        "legacyEnum":{"type":"string","enum":["opt1","opt2"],"enumNames":["Option One","Option Two"]},
        "untitledMulti":{"type":"array","items":{"type":"string","enum":["a","b","c"]}},
        "titledMulti":{"type":"array","items":{"anyOf":[
            {"const":"x","title":"Ex"},{"const":"y","title":"Why"}]}}}});
    let r = ctx
        .elicit_schema("Please select options", obj(schema))
        .await?;
    Ok(format!(
        "Elicitation completed: action={:?}, content={}",
        r.action,
        json!(r.content)
    ))
}

/// Closes its SSE stream before answering, so the client resumes with Last-Event-ID.
#[mcp_tool]
async fn test_reconnection(ctx: Context) -> &'static str {
    tokio::time::sleep(Duration::from_millis(50)).await;
    ctx.close_sse_stream();
    tokio::time::sleep(Duration::from_millis(200)).await;
    "Reconnection test completed"
}

/// Needs the client's sampling capability: a client that did not declare it gets the
/// missing-capability error (-32021) on the stateless revision.
#[mcp_tool]
async fn test_missing_capability(ctx: Context) -> Result<String, McpError> {
    let r = ctx
        .create_message(SamplingRequest::user_text("Say hello", 10))
        .await?;
    Ok(format!("sampled with model {}", r.model))
}

/// Reports progress, then asks the user for confirmation: on the stateless revision the
/// question travels as an input request in the result, never as a request on the stream.
#[mcp_tool]
async fn test_streaming_elicitation(ctx: Context) -> Result<String, McpError> {
    ctx.progress(0.0, Some(1.0), Some("asking")).await;
    let schema = json!({"type":"object","properties":{"confirm":{"type":"boolean"}}});
    let r = ctx.elicit_schema("Continue?", obj(schema)).await?;
    Ok(format!("answer: {:?}", r.action))
}

/// Logs at info level; on the stateless revision the messages go out only to requests that
/// carry a log level.
#[mcp_tool]
async fn test_logging_tool(ctx: Context) -> &'static str {
    ctx.info("test_logging_tool ran").await;
    "Logging tool completed"
}

/// The server being served, for the tools that change its lists.
static SERVER: OnceLock<mcp_core::Server> = OnceLock::new();

/// A tool whose registration the trigger below renews.
fn dynamic_tool() -> Tool {
    Tool::new("test_dynamic_tool", |_, _| async move {
        Ok(CallToolResult::success(vec![Content::text("dynamic")]))
    })
    .description("Re-registered by test_trigger_tool_change.")
}

/// Re-registers a tool, so listeners hear that the tool list changed.
#[mcp_tool]
fn test_trigger_tool_change() -> Result<&'static str, McpError> {
    let server = SERVER
        .get()
        .ok_or_else(|| McpError::internal("server not started"))?;
    server.remove_tool("test_dynamic_tool");
    server
        .add_tool(dynamic_tool())
        .map_err(|e| McpError::internal(e.to_string()))?;
    Ok("tool list changed")
}

/// A prompt whose registration the trigger below renews.
fn dynamic_prompt() -> Prompt {
    Prompt::new("test_dynamic_prompt", |_, _| async move {
        Ok(GetPromptResult {
            description: None,
            messages: vec![PromptMessage::user("dynamic")],
            meta: None,
        })
    })
    .description("Re-registered by test_trigger_prompt_change.")
}

/// Re-registers a prompt, so listeners hear that the prompt list changed.
#[mcp_tool]
fn test_trigger_prompt_change() -> Result<&'static str, McpError> {
    let server = SERVER
        .get()
        .ok_or_else(|| McpError::internal("server not started"))?;
    server.remove_prompt("test_dynamic_prompt");
    server
        .add_prompt(dynamic_prompt())
        .map_err(|e| McpError::internal(e.to_string()))?;
    Ok("prompt list changed")
}

/// Echoes a value that is mirrored in the `Mcp-Param-Value` request header, which the HTTP
/// transport checks against the body.
#[mcp_tool]
fn test_custom_header(
    /// Echoed back
    #[mcp(header = "Value")]
    value: String,
) -> String {
    format!("value: {value}")
}

/// The schema of a one-string-field elicitation form.
fn text_form(field: &str) -> mcp_core::JsonObject {
    obj(json!({"type":"object","properties":{field:{"type":"string"}},"required":[field]}))
}

/// The string `field` of an accepted elicitation, or what the user did instead.
fn answered(r: &ElicitResult, field: &str) -> String {
    match r.action {
        ElicitAction::Accept => r
            .content
            .as_ref()
            .and_then(|c| c.get(field))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default(),
        other => format!("({other:?})"),
    }
}

/// The text of a sampling answer.
fn sampled_text(content: &Content) -> String {
    match content {
        Content::Text { text, .. } => text.clone(),
        other => format!("{other:?}"),
    }
}

/// Asks the user's name (input request `user_name`), then greets them.
#[mcp_tool]
async fn test_input_required_result_elicitation(ctx: Context) -> Result<String, McpError> {
    let r = ctx
        .input_key("user_name")
        .elicit_schema("What is your name?", text_form("name"))
        .await?;
    Ok(format!("Hello, {}!", answered(&r, "name")))
}

/// Asks the client's model a question (input request `capital_question`).
#[mcp_tool]
async fn test_input_required_result_sampling(ctx: Context) -> Result<String, McpError> {
    let r = ctx
        .input_key("capital_question")
        .sample(SamplingRequest::user_text(
            "What is the capital of France?",
            100,
        ))
        .await?;
    Ok(format!("The model answered: {}", sampled_text(&r.content)))
}

/// Asks the client for its roots (input request `client_roots`).
#[mcp_tool]
async fn test_input_required_result_list_roots(ctx: Context) -> Result<String, McpError> {
    let roots = ctx.input_key("client_roots").list_roots().await?;
    let uris: Vec<&str> = roots.iter().map(|r| r.uri.as_str()).collect();
    Ok(format!(
        "The client has {} roots: {}",
        roots.len(),
        uris.join(", ")
    ))
}

/// Saves its own state before asking for a confirmation, and checks it came back.
#[mcp_tool]
async fn test_input_required_result_request_state(ctx: Context) -> Result<String, McpError> {
    if ctx.request_state::<String>().is_none() {
        ctx.set_request_state(&"awaiting-confirmation")?;
    }
    let schema =
        obj(json!({"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}));
    let r = ctx
        .input_key("confirm")
        .elicit_schema("Please confirm", schema)
        .await?;
    match ctx.request_state::<String>().as_deref() {
        Some("awaiting-confirmation") => Ok(format!("state-ok: confirmed={}", answered(&r, "ok"))),
        other => Err(McpError::internal(format!(
            "the saved state came back as {other:?}"
        ))),
    }
}

/// Asks for a name, a model's greeting and the roots in one round.
#[mcp_tool]
async fn test_input_required_result_multiple_inputs(ctx: Context) -> Result<String, McpError> {
    let name = ctx.input_key("user_name");
    let greeting = ctx.input_key("greeting");
    let roots = ctx.input_key("client_roots");
    let (name, greeting, roots) = tokio::join!(
        name.elicit_schema("What is your name?", text_form("name")),
        greeting.sample(SamplingRequest::user_text("Generate a greeting", 50)),
        roots.list_roots(),
    );
    Ok(format!(
        "{}, {}! ({} roots)",
        sampled_text(&greeting?.content),
        answered(&name?, "name"),
        roots?.len()
    ))
}

/// Asks two questions, one per round.
#[mcp_tool]
async fn test_input_required_result_multi_round(ctx: Context) -> Result<String, McpError> {
    let name = ctx
        .input_key("step1")
        .elicit_schema("Step 1: What is your name?", text_form("name"))
        .await?;
    let color = ctx
        .input_key("step2")
        .elicit_schema("Step 2: What is your favorite color?", text_form("color"))
        .await?;
    Ok(format!(
        "{} likes {}",
        answered(&name, "name"),
        answered(&color, "color")
    ))
}

/// Asks only for what the client declared it can answer (elicitation, sampling, roots).
#[mcp_tool]
async fn test_input_required_result_capabilities(ctx: Context) -> Result<String, McpError> {
    let caps = ctx.client_capabilities().unwrap_or_default();
    let has = |c: &str| caps.get(c).is_some_and(|v| !v.is_null());
    let (e, s, r) = (
        ctx.input_key("user_name"),
        ctx.input_key("greeting"),
        ctx.input_key("client_roots"),
    );
    let (name, greeting, roots) = tokio::join!(
        async {
            match has("elicitation") {
                true => Some(
                    e.elicit_schema("What is your name?", text_form("name"))
                        .await,
                ),
                false => None,
            }
        },
        async {
            match has("sampling") {
                true => Some(
                    s.sample(SamplingRequest::user_text("Generate a greeting", 50))
                        .await,
                ),
                false => None,
            }
        },
        async {
            match has("roots") {
                true => Some(r.list_roots().await),
                false => None,
            }
        },
    );
    let mut got = Vec::new();
    if let Some(n) = name {
        got.push(format!("name {}", answered(&n?, "name")));
    }
    if let Some(g) = greeting {
        got.push(format!("greeting {}", sampled_text(&g?.content)));
    }
    if let Some(r) = roots {
        got.push(format!("{} roots", r?.len()));
    }
    Ok(format!(
        "asked only for what the client declared: {}",
        got.join(", ")
    ))
}

/// Asks a question whose requestState must come back untouched.
#[mcp_tool]
async fn test_input_required_result_tampered_state(ctx: Context) -> Result<String, McpError> {
    let r = ctx
        .input_key("user_name")
        .elicit_schema("What is your name?", text_form("name"))
        .await?;
    Ok(format!("Hello, {}!", answered(&r, "name")))
}

/// A prompt that asks the user for its context first (input request `user_context`).
#[mcp_prompt]
async fn test_input_required_result_prompt(ctx: Context) -> Result<Vec<PromptMessage>, McpError> {
    let r = ctx
        .input_key("user_context")
        .elicit_schema("What context should the prompt use?", text_form("context"))
        .await?;
    Ok(vec![PromptMessage::user(format!(
        "Answer using this context: {}",
        answered(&r, "context")
    ))])
}

/// Greets someone, at once (never a task).
#[mcp_tool]
fn greet(
    /// Who to greet
    name: String,
) -> String {
    format!("Hello, {name}!")
}

/// Sleeps `seconds`, then reports; runs as a task for clients of the tasks extension.
#[mcp_tool(task = "optional")]
async fn slow_compute(
    ctx: Context,
    /// How long to work, in seconds
    seconds: f64,
    /// A label echoed in the result
    label: Option<String>,
) -> Result<String, McpError> {
    let d = Duration::from_secs_f64(seconds.clamp(0.0, 600.0));
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        () = ctx.cancelled() => return Err(McpError::internal("cancelled")),
    }
    Ok(format!(
        "{} computed after {seconds} s",
        label.as_deref().unwrap_or("slow_compute")
    ))
}

/// Works for a second, then reports a tool error; only as a task.
#[mcp_tool(task = "required")]
async fn failing_job() -> Result<String, String> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err("failing_job failed, as it always does".into())
}

/// Works briefly, then fails with a protocol error (the task fails).
#[mcp_tool(task = "optional")]
async fn protocol_error_job() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_millis(100)).await;
    Err(ToolError::Protocol(McpError::internal(
        "protocol_error_job hit an internal error, as it always does",
    )))
}

/// Asks the user, through the task, to confirm deleting a file.
#[mcp_tool(task = "optional")]
async fn confirm_delete(
    ctx: Context,
    /// The file to delete
    filename: String,
) -> Result<String, McpError> {
    // Looking the file up comes first: the task exists by the time the question is asked.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let schema = obj(
        json!({"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}),
    );
    let r = ctx
        .elicit_schema(format!("Delete {filename}?"), schema)
        .await?;
    let yes = r.action == ElicitAction::Accept
        && r.content.as_ref().and_then(|c| c.get("confirm")) == Some(&Value::Bool(true));
    Ok(match yes {
        true => format!("deleted {filename}"),
        false => format!("kept {filename}"),
    })
}

/// Asks two questions at once, through the task.
#[mcp_tool(task = "optional")]
async fn multi_input(ctx: Context) -> Result<String, McpError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (first, second) = (ctx.input_key("first"), ctx.input_key("second"));
    let (a, b) = tokio::join!(
        first.elicit_schema("First name?", text_form("name")),
        second.elicit_schema("Second name?", text_form("name")),
    );
    Ok(format!(
        "{} and {}",
        answered(&a?, "name"),
        answered(&b?, "name")
    ))
}

/// Asks the user's name in a round of the call itself, then works on as a task.
#[mcp_tool(task = "required")]
async fn test_tool_with_task(ctx: Context) -> Result<String, McpError> {
    let r = ctx
        .input_key("user_name")
        .elicit_schema("What is your name?", text_form("name"))
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!(
        "Hello, {}! The task is done.",
        answered(&r, "name")
    ))
}

/// A tool whose input schema uses JSON Schema 2020-12 features, listed verbatim.
fn json_schema_2020_12_tool() -> Tool {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {"address": {"$anchor": "addressDef", "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "phone": {"type": "string"},
            "email": {"type": "string"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]}
        },
        "additionalProperties": false,
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]}
    });
    Tool::new("json_schema_2020_12_tool", |_, args| async move {
        Ok(CallToolResult::success(vec![Content::text(format!(
            "received: {}",
            Value::Object(args)
        ))]))
    })
    .description("Accepts input described with JSON Schema 2020-12 keywords.")
    .input_schema(obj(schema))
}

fn obj(v: Value) -> mcp_core::JsonObject {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("schemas above are objects"),
    }
}

/// A static text resource.
#[mcp_resource(uri = "test://static-text", mime_type = "text/plain")]
fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource.
#[mcp_resource(uri = "test://static-binary", mime_type = "image/png")]
fn static_binary() -> ResourceContents {
    ResourceContents::blob("test://static-binary", "image/png", PNG)
}

/// A resource that can be subscribed to.
#[mcp_resource(uri = "test://watched-resource", mime_type = "text/plain")]
fn watched_resource() -> &'static str {
    "Watched resource content"
}

/// A resource template.
#[mcp_resource(uri = "test://template/{id}/data", mime_type = "application/json")]
fn template_data(id: String) -> String {
    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()
}

/// A simple prompt.
#[mcp_prompt]
fn test_simple_prompt() -> &'static str {
    "This is a simple prompt for testing."
}

fn complete_arg(prefix: &str) -> Vec<String> {
    ["paris", "park", "test", "testing"]
        .iter()
        .filter(|v| v.starts_with(prefix))
        .map(|v| (*v).to_owned())
        .collect()
}

/// A prompt with arguments.
#[mcp_prompt(complete(arg1 = complete_arg))]
fn test_prompt_with_arguments(
    /// First test argument
    arg1: String,
    /// Second test argument
    arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

/// A prompt that embeds a resource.
#[mcp_prompt]
fn test_prompt_with_embedded_resource(
    /// URI of the resource to embed
    #[serde(rename = "resourceUri")]
    resource_uri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: Content::resource(ResourceContents::text(
                resource_uri,
                "text/plain",
                "Embedded resource content for testing.",
            )),
        },
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

/// A prompt with an image.
#[mcp_prompt]
fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: Content::image(PNG, "image/png"),
        },
        PromptMessage::user("Please analyze the image above."),
    ]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Explicit, so the example library's own items (linked into every example) stay out.
    let server = mcp_core::Server::builder("mcp-conformance-fixture", env!("CARGO_PKG_VERSION"))
        .auto_collect(false)
        .item::<test_simple_text>()
        .item::<test_image_content>()
        .item::<test_audio_content>()
        .item::<test_embedded_resource>()
        .item::<test_multiple_content_types>()
        .item::<test_tool_with_logging>()
        .item::<test_tool_with_progress>()
        .item::<test_error_handling>()
        .item::<test_sampling>()
        .item::<test_elicitation>()
        .item::<test_elicitation_sep1034_defaults>()
        .item::<test_elicitation_sep1330_enums>()
        .item::<test_reconnection>()
        .item::<test_missing_capability>()
        .item::<test_streaming_elicitation>()
        .item::<test_logging_tool>()
        .item::<test_trigger_tool_change>()
        .item::<test_trigger_prompt_change>()
        .tool(dynamic_tool())
        .prompt(dynamic_prompt())
        .item::<test_custom_header>()
        .item::<test_input_required_result_elicitation>()
        .item::<test_input_required_result_sampling>()
        .item::<test_input_required_result_list_roots>()
        .item::<test_input_required_result_request_state>()
        .item::<test_input_required_result_multiple_inputs>()
        .item::<test_input_required_result_multi_round>()
        .item::<test_input_required_result_capabilities>()
        .item::<test_input_required_result_tampered_state>()
        .item::<test_input_required_result_prompt>()
        .item::<greet>()
        .item::<slow_compute>()
        .item::<failing_job>()
        .item::<protocol_error_job>()
        .item::<confirm_delete>()
        .item::<multi_input>()
        .item::<test_tool_with_task>()
        .tool(json_schema_2020_12_tool())
        .item::<static_text>()
        .item::<static_binary>()
        .item::<watched_resource>()
        .item::<template_data>()
        .item::<test_simple_prompt>()
        .item::<test_prompt_with_arguments>()
        .item::<test_prompt_with_embedded_resource>()
        .item::<test_prompt_with_image>()
        .build()?;
    let _ = SERVER.set(server.clone());
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3001".to_owned());
    let handle = mcp_sse::SseServer::builder(server)
        .bind_str(addr)
        .with_os_signals(true)
        .start()
        .await?;
    println!("http://{}/mcp", handle.local_addr());
    handle.wait().await;
    Ok(())
}
