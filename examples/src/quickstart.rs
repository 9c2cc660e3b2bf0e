//! The quickstart server: the tools every MCP tutorial shows, one that asks the user a
//! question, one resource, one resource template and one prompt, each an ordinary function with
//! an attribute macro.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use mcp_core::protocol::Elicitation;
use mcp_core::{Context, Json, McpError, Server, ServerBuilder};
use mcp_macros::{mcp_prompt, mcp_resource, mcp_tool};
use serde::Serialize;

/// Add two integers.
#[mcp_tool(read_only, idempotent)]
pub async fn add(
    /// The first addend
    a: i64,
    /// The second addend
    b: i64,
) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} does not fit in a 64-bit integer"))
}

/// What `echo` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Echo {
    /// The message, unchanged.
    pub message: String,
    /// When the server received it (ISO 8601, UTC).
    pub timestamp: String,
    /// The transport that carried the call (`sse`, `stdio`, ...).
    pub transport: String,
}

/// Echo a message back, with a timestamp and the transport name.
#[mcp_tool(read_only)]
pub async fn echo(
    ctx: Context,
    /// The message to echo
    message: String,
) -> Json<Echo> {
    Json(Echo {
        message,
        timestamp: Timestamp::now().to_string(),
        transport: ctx.transport().to_owned(),
    })
}

/// Convert text to upper case.
#[mcp_tool(read_only, idempotent)]
pub fn uppercase_text(
    /// The text to convert
    text: String,
) -> String {
    text.to_uppercase()
}

/// The current time in an IANA time zone.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServerTime {
    /// The zone used.
    pub timezone: String,
    /// ISO 8601 with offset and zone, e.g. `2023-11-14T23:13:20+01:00[Europe/Paris]`.
    pub iso: String,
    /// Local wall-clock time with the zone abbreviation.
    pub local: String,
    /// Seconds since the Unix epoch.
    pub unix: i64,
}

/// Tell the current time in a time zone (IANA name such as "Europe/Paris"; default UTC).
#[mcp_tool(read_only)]
pub fn server_time(
    /// IANA time zone name, e.g. "America/New_York" (default "UTC")
    timezone: Option<String>,
) -> Result<Json<ServerTime>, String> {
    time_at(Timestamp::now(), timezone.as_deref().unwrap_or("UTC")).map(Json)
}

/// [`server_time`] at a given instant (deterministic, for tests). An unknown zone is an error
/// that names it.
pub fn time_at(now: Timestamp, timezone: &str) -> Result<ServerTime, String> {
    let tz = TimeZone::get(timezone).map_err(|_| {
        format!(
            "unknown time zone {timezone:?}: use an IANA name such as \"Europe/Paris\" or \"UTC\""
        )
    })?;
    let zoned = now.to_zoned(tz);
    Ok(ServerTime {
        timezone: timezone.to_owned(),
        iso: zoned.to_string(),
        local: zoned.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
        unix: now.as_second(),
    })
}

/// What `greet_user` asks the user.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct UserName {
    /// Your name
    pub name: String,
}

/// Ask the user for their name, then greet them. The question reaches the user through the
/// client: a server-to-client request on a 2025 session, an input request the client answers
/// on its retry at 2026-07-28; the function is the same.
#[mcp_tool]
pub async fn greet_user(ctx: Context) -> Result<String, McpError> {
    Ok(match ctx.elicit::<UserName>("What is your name?").await? {
        Elicitation::Accept(u) => format!("Hello, {}!", u.name),
        Elicitation::Decline | Elicitation::Cancel => "Hello, stranger!".to_owned(),
    })
}

/// What this server is and which tools it has (JSON).
#[mcp_resource(uri = "info://server", mime_type = "application/json")]
pub fn server_info() -> String {
    serde_json::json!({
        "name": "mcp-examples",
        "version": env!("CARGO_PKG_VERSION"),
        "tools": ["add", "echo", "uppercase_text", "server_time", "greet_user"],
    })
    .to_string()
}

/// A greeting for someone, by name.
#[mcp_resource(uri = "greeting://{name}", mime_type = "text/plain")]
pub fn greeting(name: String) -> String {
    format!("Hello, {name}!")
}

/// Ask the model to summarize a text.
#[mcp_prompt]
pub fn summarize(
    /// The text to summarize
    text: String,
    /// concise (default), detailed, bullet points...
    style: Option<String>,
) -> String {
    let style = style.unwrap_or_else(|| "concise".to_owned());
    format!("Summarize the following text in a {style} style:\n\n{text}")
}

/// A builder holding exactly the quickstart's items; the other examples add to it.
pub fn builder(name: &str) -> ServerBuilder {
    Server::builder(name, env!("CARGO_PKG_VERSION"))
        .auto_collect(false)
        .item::<add>()
        .item::<echo>()
        .item::<uppercase_text>()
        .item::<server_time>()
        .item::<greet_user>()
        .item::<server_info>()
        .item::<greeting>()
        .item::<summarize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::transport::memory::MemoryClient;
    use serde_json::json;

    #[tokio::test]
    async fn tools_are_plain_functions() {
        assert_eq!(add(2, 3).await, Ok(5));
        assert!(add(i64::MAX, 1).await.unwrap_err().contains("does not fit"));
        assert_eq!(uppercase_text("straße".into()), "STRASSE");
        assert_eq!(server_time(None).unwrap().0.timezone, "UTC");
    }

    #[test]
    fn time_in_a_zone_is_iso_local_and_unix() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let t = time_at(now, "Europe/Paris").unwrap();
        assert_eq!(t.unix, 1_700_000_000);
        assert_eq!(t.iso, "2023-11-14T23:13:20+01:00[Europe/Paris]");
        assert_eq!(t.local, "2023-11-14 23:13:20 CET");
        assert_eq!(
            time_at(now, "UTC").unwrap().iso,
            "2023-11-14T22:13:20+00:00[UTC]"
        );
        let e = time_at(now, "Mars/Olympus").unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }

    #[tokio::test]
    async fn the_server_reports_the_application_name_and_version() {
        let server = mcp_core::from_registered!().unwrap();
        let client = MemoryClient::connect(&server);
        let init = client.initialize().await.unwrap();
        assert_eq!(init["serverInfo"]["name"], "mcp-examples");
        assert_eq!(init["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
        let server = Server::from_registered_as("weather", "2.1.0").unwrap();
        let client = MemoryClient::connect(&server);
        let init = client.initialize().await.unwrap();
        assert_eq!(init["serverInfo"]["name"], "weather");
        assert_eq!(init["serverInfo"]["version"], "2.1.0");
        let server = builder("x")
            .name("renamed")
            .version("9.9.9")
            .build()
            .unwrap();
        assert_eq!(server.info().name, "renamed");
        assert_eq!(server.info().version, "9.9.9");
    }

    #[tokio::test]
    async fn whole_server_in_process() {
        let server = builder("test").build().unwrap();
        let client = MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        let listed = client.list_tools().await.unwrap();
        assert_eq!(listed["tools"].as_array().unwrap().len(), 5);
        let r = client
            .call_tool("add", json!({"a": 40, "b": 2}))
            .await
            .unwrap();
        assert_eq!(r["content"][0]["text"], "42");
        let r = client
            .call_tool("echo", json!({"message": "hi"}))
            .await
            .unwrap();
        assert_eq!(r["structuredContent"]["message"], "hi");
        let r = client
            .call_tool("server_time", json!({"timezone": "Nowhere/City"}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true);
        let r = client.read_resource("greeting://Ada").await.unwrap();
        assert_eq!(r["contents"][0]["text"], "Hello, Ada!");
        let r = client.read_resource("info://server").await.unwrap();
        assert!(r["contents"][0]["text"].as_str().unwrap().contains("add"));
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
