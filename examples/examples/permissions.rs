//! Per-tool permissions from the caller's identity, enforced by a middleware, plus a timing
//! middleware that logs every request. The quickstart's tools, where `add` and `echo` are open
//! to every authenticated caller and `uppercase_text` needs the `text:write` permission.
//!
//! ```text
//! cargo run --example permissions
//! # alice may call everything, bob only what needs no permission:
//! curl -H 'Authorization: Bearer alice-token' -N http://127.0.0.1:8000/sse
//! curl -H 'Authorization: Bearer bob-token' -N http://127.0.0.1:8000/sse
//! ```
//!
//! A refused call is answered with a JSON-RPC error (-32602) such as
//! `permission denied: bob may not call "uppercase_text" (it needs "text:write")`.

use std::collections::HashMap;
use std::time::Instant;

use mcp_core::middleware::{Answer, BoxFuture, McpRequest, Middleware, Next, NextTool, ToolCall};
use mcp_core::{CallToolResult, Identity, McpError, ToolError};
use mcp_examples::{quickstart, run};
use mcp_sse::SseServer;

/// Which permission (an identity scope) each tool needs; tools not listed need none.
struct Permissions(HashMap<&'static str, &'static str>);

impl Middleware for Permissions {
    fn tool_call<'a>(
        &'a self,
        call: ToolCall,
        next: NextTool<'a>,
    ) -> BoxFuture<'a, Result<CallToolResult, ToolError>> {
        if let Some(needed) = self.0.get(call.name()) {
            let who = call.context().identity();
            if !who.is_some_and(|i| i.has_scope(needed)) {
                let subject = who.map_or("an anonymous caller", |i| i.subject());
                let message = format!(
                    "permission denied: {subject} may not call {:?} (it needs {needed:?})",
                    call.name()
                );
                return Box::pin(async move {
                    Err(ToolError::Protocol(McpError::invalid_params(message)))
                });
            }
        }
        next.run(call)
    }
}

/// Logs each request's method, caller and duration (never its arguments).
struct Timing;

impl Middleware for Timing {
    fn request<'a>(
        &'a self,
        request: McpRequest,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Answer, McpError>> {
        Box::pin(async move {
            let method = request.method().to_owned();
            let who = request.identity().map(|i| i.subject().to_owned());
            let started = Instant::now();
            let answer = next.run(request).await;
            tracing::info!(
                %method,
                caller = who.as_deref().unwrap_or("-"),
                elapsed_us = started.elapsed().as_micros() as u64,
                ok = answer.is_ok(),
                "request"
            );
            answer
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let server = quickstart::builder("permissions")
        // Registration order is run order: timing sees the refusals too.
        .middleware(Timing)
        .middleware(Permissions(HashMap::from([(
            "uppercase_text",
            "text:write",
        )])))
        .build()?;
    let builder = SseServer::builder(server)
        .bind_str(run::bind_addr())
        // A real server checks tokens against its identity provider (or uses `.oauth(..)`).
        .bearer_validator(|token: String| async move {
            match token.as_str() {
                "alice-token" => Some(Identity::new("alice").with_scopes(["text:write"])),
                "bob-token" => Some(Identity::new("bob")),
                _ => None,
            }
        });
    run::serve(builder).await?;
    Ok(())
}
