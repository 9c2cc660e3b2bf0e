//! The fixture for the official MCP conformance suite (`@modelcontextprotocol/conformance`):
//! every tool, resource, template and prompt its server scenarios call, at the session-based
//! 2025-11-25 wire and the stateless 2026-07-28 one, declared with the project's own macros.
//! `cargo run --example conformance -- 127.0.0.1:3001`, then point the suite at
//! `http://127.0.0.1:3001/mcp`.

use std::sync::OnceLock;
use std::time::Duration;

use mcp_core::protocol::SamplingRequest;
use mcp_core::{
    CallToolResult, Content, Context, GetPromptResult, McpError, Prompt, PromptMessage,
    ResourceContents, Role, Tool,
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
