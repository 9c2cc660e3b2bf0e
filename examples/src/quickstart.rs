//! The quickstart server: the tools every MCP tutorial shows, one resource, one resource
//! template and one prompt.
//!
//! The tools are plain async functions ([`add`], [`echo`], [`uppercase_text`],
//! [`server_time`]); [`builder`] registers them on an [`mcp_core::Server`] with their input
//! schemas, so they can be unit-tested without any server.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use mcp_core::{
    CallToolResult, Content, GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage,
    Resource, ResourceContents, ResourceTemplate, Server, ServerBuilder, Tool, ToolError,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::args::{parse, schema_of};

/// Adds two integers; overflowing `i64` is an error, not a wrap-around.
pub async fn add(a: i64, b: i64) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} does not fit in a 64-bit integer"))
}

/// Echoes `message` with the current time (ISO 8601, UTC) and the transport that carried it.
pub async fn echo(message: &str, transport: &str) -> Value {
    json!({
        "message": message,
        "timestamp": Timestamp::now().to_string(),
        "transport": transport,
    })
}

/// Upper-cases `text` (Unicode-aware).
pub async fn uppercase_text(text: &str) -> String {
    text.to_uppercase()
}

/// The current time in the IANA zone `timezone` (default `UTC`): ISO 8601 with offset and zone,
/// a readable local time, and Unix seconds. An unknown zone is an error naming it.
pub async fn server_time(timezone: Option<&str>) -> Result<Value, String> {
    time_at(Timestamp::now(), timezone.unwrap_or("UTC"))
}

/// [`server_time`] at a given instant (deterministic, for tests).
pub fn time_at(now: Timestamp, timezone: &str) -> Result<Value, String> {
    let tz = TimeZone::get(timezone).map_err(|_| {
        format!(
            "unknown timezone {timezone:?}: use an IANA name such as \"Europe/Paris\" or \"UTC\""
        )
    })?;
    let zoned = now.to_zoned(tz);
    Ok(json!({
        "timezone": timezone,
        "iso": zoned.to_string(),
        "local": zoned.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
        "unix": now.as_second(),
    }))
}

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// The first addend.
    pub a: i64,
    /// The second addend.
    pub b: i64,
}

/// Arguments of `echo`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// The message to echo back.
    pub message: String,
}

/// Arguments of `uppercase_text`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UppercaseArgs {
    /// The text to upper-case.
    pub text: String,
}

/// Arguments of `server_time`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ServerTimeArgs {
    /// An IANA timezone such as "Europe/Paris" (default "UTC").
    #[serde(default)]
    pub timezone: Option<String>,
}

/// A result carrying `value` both as JSON text (for every client) and as structured content.
pub fn json_result(value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![Content::text(value.to_string())]);
    result.structured_content = Some(value);
    result
}

/// The quickstart's tools as [`Tool`]s; `transport` is what `echo` reports (`"sse"`, `"stdio"`).
pub fn tools(transport: &'static str) -> Vec<Tool> {
    vec![
        Tool::new("add", |_ctx, raw: JsonObject| async move {
            let a: AddArgs = parse(raw)?;
            let sum = add(a.a, a.b).await.map_err(ToolError::tool)?;
            Ok(CallToolResult::success(vec![Content::text(
                sum.to_string(),
            )]))
        })
        .description("Add two integers.")
        .input_schema(schema_of::<AddArgs>()),
        Tool::new("echo", move |_ctx, raw: JsonObject| async move {
            let a: EchoArgs = parse(raw)?;
            Ok(json_result(echo(&a.message, transport).await))
        })
        .description("Echo a message back with a timestamp and the transport name.")
        .input_schema(schema_of::<EchoArgs>()),
        Tool::new("uppercase_text", |_ctx, raw: JsonObject| async move {
            let a: UppercaseArgs = parse(raw)?;
            Ok(CallToolResult::success(vec![Content::text(
                uppercase_text(&a.text).await,
            )]))
        })
        .description("Convert text to upper case.")
        .input_schema(schema_of::<UppercaseArgs>()),
        Tool::new("server_time", |_ctx, raw: JsonObject| async move {
            let a: ServerTimeArgs = parse(raw)?;
            let time = server_time(a.timezone.as_deref())
                .await
                .map_err(ToolError::tool)?;
            Ok(json_result(time))
        })
        .description("The current time in an IANA timezone (default UTC).")
        .input_schema(schema_of::<ServerTimeArgs>()),
    ]
}

/// A builder holding the quickstart's tools, resources and prompt; examples add to it.
pub fn builder(name: &str, transport: &'static str) -> ServerBuilder {
    let mut b = Server::builder(name, env!("CARGO_PKG_VERSION"));
    for tool in tools(transport) {
        b = b.tool(tool);
    }
    b.resource(
        Resource::new("info://server", "server-info", |_ctx| async {
            let text = json!({
                "name": "mcp-examples",
                "version": env!("CARGO_PKG_VERSION"),
                "tools": ["add", "echo", "uppercase_text", "server_time"],
            })
            .to_string();
            Ok(ResourceContents::text("info://server", "application/json", text).into())
        })
        .description("What this server is and which tools it has.")
        .mime_type("application/json"),
    )
    .resource_template(ResourceTemplate::new(
        "greeting://{name}",
        "greeting",
        |_ctx, vars| async move {
            let name = vars.get("name").cloned().unwrap_or_default();
            let uri = format!("greeting://{name}");
            Ok(ResourceContents::text(uri, "text/plain", format!("Hello, {name}!")).into())
        },
    ))
    .prompt(
        Prompt::new(
            "summarize",
            |_ctx, args: HashMap<String, String>| async move {
                let text = args.get("text").cloned().unwrap_or_default();
                let style = args
                    .get("style")
                    .cloned()
                    .unwrap_or_else(|| "concise".to_owned());
                let messages = vec![PromptMessage::user(format!(
                    "Summarize the following text in a {style} style:\n\n{text}"
                ))];
                Ok(GetPromptResult::from(messages))
            },
        )
        .description("Ask the model to summarize a text.")
        .argument(PromptArgument::new(
            "text",
            Some("The text to summarize".into()),
            true,
        ))
        .argument(PromptArgument::new(
            "style",
            Some("concise (default), detailed, bullet points...".into()),
            false,
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_is_a_plain_function() {
        assert_eq!(add(2, 3).await, Ok(5));
        assert!(add(i64::MAX, 1).await.unwrap_err().contains("does not fit"));
    }

    #[tokio::test]
    async fn echo_reports_message_time_and_transport() {
        let v = echo("hi", "sse").await;
        assert_eq!(v["message"], "hi");
        assert_eq!(v["transport"], "sse");
        let ts: Timestamp = v["timestamp"].as_str().unwrap().parse().unwrap();
        assert!(ts <= Timestamp::now());
    }

    #[tokio::test]
    async fn uppercase_handles_unicode() {
        assert_eq!(uppercase_text("straße").await, "STRASSE");
    }

    #[test]
    fn time_in_a_zone_is_iso_local_and_unix() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let v = time_at(now, "Europe/Paris").unwrap();
        assert_eq!(v["unix"], 1_700_000_000);
        assert_eq!(v["iso"], "2023-11-14T23:13:20+01:00[Europe/Paris]");
        assert_eq!(v["local"], "2023-11-14 23:13:20 CET");
        assert_eq!(
            time_at(now, "UTC").unwrap()["iso"],
            "2023-11-14T22:13:20+00:00[UTC]"
        );
    }

    #[tokio::test]
    async fn unknown_zone_is_an_error_naming_it() {
        let e = server_time(Some("Mars/Olympus")).await.unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }

    #[tokio::test]
    async fn whole_server_in_process() {
        let server = builder("test", "memory")
            .auto_collect(false)
            .build()
            .unwrap();
        let client = mcp_core::transport::memory::MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        let listed = client.list_tools().await.unwrap();
        assert_eq!(listed["tools"].as_array().unwrap().len(), 4);
        let r = client
            .call_tool("add", json!({"a": 40, "b": 2}))
            .await
            .unwrap();
        assert_eq!(r["content"][0]["text"], "42");
        let r = client
            .call_tool("server_time", json!({"timezone": "Nowhere/City"}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true);
        let r = client.read_resource("greeting://Ada").await.unwrap();
        assert_eq!(r["contents"][0]["text"], "Hello, Ada!");
        let r = client
            .get_prompt("summarize", json!({"text": "abc"}))
            .await
            .unwrap();
        assert!(
            r["messages"][0]["content"]["text"]
                .as_str()
                .unwrap()
                .contains("abc")
        );
    }
}
