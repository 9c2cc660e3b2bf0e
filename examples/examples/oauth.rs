//! The quickstart as an OAuth 2.1 resource server: clients get an access token from your
//! identity provider and send it as a bearer token; `add` needs no scope, `echo` needs `echo`.
//!
//! ```text
//! MCP_OAUTH_ISSUER=https://login.example.com/realms/mcp \
//! MCP_OAUTH_RESOURCE=https://mcp.example.com/mcp \
//!     cargo run --example oauth -- 127.0.0.1:8000
//! curl http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp
//! ```
//!
//! * `MCP_OAUTH_ISSUER` (required): the authorization server's issuer identifier. Its
//!   `/.well-known/oauth-authorization-server` (or `/.well-known/openid-configuration`) names
//!   the `jwks_uri` the token signatures are checked against.
//! * `MCP_OAUTH_RESOURCE`: the server's canonical URL, the `aud` tokens must carry (default
//!   `http://<bind address>/mcp`).
//! * `MCP_OAUTH_JWKS_URI`: the key set URL, when the issuer publishes no metadata.
//! * `MCP_OAUTH_INTROSPECTION_CLIENT_ID` / `MCP_OAUTH_INTROSPECTION_CLIENT_SECRET`: also accept
//!   opaque tokens, checked at the issuer's `introspection_endpoint` with these credentials.
//! * `MCP_CORS_ORIGIN`: browser origins allowed to call (comma-separated), e.g. the MCP
//!   Inspector's `http://localhost:6274`.

use mcp_examples::{quickstart, run};
use mcp_sse::SseServer;
use mcp_sse::oauth::OAuth;

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run::init_tracing();
    let issuer = env("MCP_OAUTH_ISSUER")
        .ok_or("set MCP_OAUTH_ISSUER to your authorization server's issuer URL")?;
    let server = quickstart::builder("oauth")
        .tool_scopes("echo", ["echo"])
        .build()?;
    let mut oauth = OAuth::builder()
        .authorization_server(issuer)
        .scopes_supported(["echo"])
        .resource_name("MCP quickstart");
    if let Some(resource) = env("MCP_OAUTH_RESOURCE") {
        oauth = oauth.resource(resource);
    }
    if let Some(jwks) = env("MCP_OAUTH_JWKS_URI") {
        oauth = oauth.jwks_uri(jwks);
    }
    if let Some(id) = env("MCP_OAUTH_INTROSPECTION_CLIENT_ID") {
        oauth = oauth.introspection(None, Some(id), env("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET"));
    }
    let mut builder = SseServer::builder(server)
        .bind_str(run::bind_addr())
        // Metadata at /.well-known/oauth-protected-resource[/mcp]; 401/403 challenges that
        // point at it; sessions bound to the token's issuer and subject.
        .oauth(oauth);
    let cors: Vec<String> = env("MCP_CORS_ORIGIN")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    if !cors.is_empty() {
        builder = builder.cors_origins(cors);
    }
    run::serve(builder).await?;
    Ok(())
}
