//! The quickstart: four tools, a resource, a resource template and a prompt, served over
//! HTTP+SSE. Run it with `cargo run --example quickstart` (or `-- 127.0.0.1:9000` to move it)
//! and point any MCP client at the printed URL.

use mcp_core::Json;
use mcp_macros::{mcp_prompt, mcp_resource, mcp_tool};
use serde::Serialize;

/// Add two integers.
#[mcp_tool(read_only, idempotent)]
async fn add(
    /// The first addend
    a: i64,
    /// The second addend
    b: i64,
) -> i64 {
    a + b
}

/// What `echo` answers.
#[derive(Serialize, schemars::JsonSchema)]
struct Echo {
    /// The message, unchanged.
    message: String,
    /// When the server received it (ISO 8601, UTC).
    timestamp: String,
    /// The transport that carried the call.
    transport: String,
}

/// Echo a message back, with a timestamp and the transport name.
#[mcp_tool(read_only)]
async fn echo(
    ctx: mcp_core::Context,
    /// The message to echo
    message: String,
) -> Json<Echo> {
    Json(Echo {
        message,
        timestamp: jiff::Timestamp::now().to_string(),
        transport: ctx.transport().to_owned(),
    })
}

/// Convert text to upper case.
#[mcp_tool(read_only, idempotent)]
fn uppercase_text(
    /// The text to convert
    text: String,
) -> String {
    text.to_uppercase()
}

/// The current time in an IANA time zone.
#[derive(Serialize, schemars::JsonSchema)]
struct ServerTime {
    /// The zone used.
    timezone: String,
    /// ISO 8601 with offset.
    iso: String,
    /// Local wall-clock time.
    local: String,
    /// Seconds since the Unix epoch.
    unix: i64,
}

/// Tell the current time in a time zone (IANA name such as "Europe/Paris"; default UTC).
#[mcp_tool(read_only)]
fn server_time(
    /// IANA time zone name, e.g. "America/New_York"
    timezone: Option<String>,
) -> Result<Json<ServerTime>, String> {
    let name = timezone.unwrap_or_else(|| "UTC".to_owned());
    let zone = jiff::tz::TimeZone::get(&name).map_err(|_| {
        format!("unknown time zone {name:?}: use an IANA name such as \"Europe/Paris\"")
    })?;
    let now = jiff::Timestamp::now().to_zoned(zone);
    Ok(Json(ServerTime {
        timezone: name,
        iso: now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        local: now.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        unix: now.timestamp().as_second(),
    }))
}

/// About this server.
#[mcp_resource(uri = "quickstart://about", mime_type = "text/markdown")]
fn about() -> &'static str {
    "# Quickstart server\n\nTools: add, echo, uppercase_text, server_time."
}

/// A greeting for someone, by name.
#[mcp_resource(uri = "greeting://{name}", mime_type = "text/plain")]
fn greeting(name: String) -> String {
    format!("Hello, {name}!")
}

/// Ask for a review of a piece of code.
#[mcp_prompt]
fn review_code(
    /// The code to review
    code: String,
    /// The programming language, if known
    language: Option<String>,
) -> String {
    let language = language.unwrap_or_else(|| "the following".to_owned());
    format!("Please review this {language} code and point out bugs:\n\n{code}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    mcp_examples::init_logging();
    let server = mcp_core::Server::builder("quickstart", env!("CARGO_PKG_VERSION")).build()?;
    let handle = mcp_sse::SseServer::builder(server)
        .bind_str(mcp_examples::bind_addr())
        .with_os_signals(true)
        .start()
        .await?;
    mcp_examples::announce(handle.local_addr());
    handle.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tools_are_plain_functions() {
        assert_eq!(add(2, 3).await, 5);
        assert_eq!(uppercase_text("abc".into()), "ABC");
        assert!(
            server_time(Some("Not/AZone".into()))
                .unwrap_err()
                .contains("Not/AZone")
        );
        assert_eq!(server_time(None).unwrap().0.timezone, "UTC");
    }
}
