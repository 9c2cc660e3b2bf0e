//! Where the resource server meets the HTTP routes: the metadata document, authentication of
//! every MCP request, and the scope check of tool calls.

// Refusals carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

use http::Response;
use http::request::Parts;

use super::OAuth;
use crate::response::Body;
use crate::security::{Authenticated, Identity};

/// The metadata document when `req` asks for it (its Host and Origin were checked already);
/// `prefix` and `mcp_path` are where the server itself serves Streamable HTTP.
pub(crate) fn metadata(
    oauth: &OAuth,
    prefix: &str,
    mcp_path: &str,
    req: &Parts,
) -> Option<Response<Body>> {
    let path = req.uri.path();
    let meta = &oauth.inner.metadata;
    let local = path
        .strip_suffix(mcp_path)
        .and_then(|p| p.strip_suffix(prefix))
        .is_some_and(|p| p == "/.well-known/oauth-protected-resource");
    (local || meta.is_metadata_path(path)).then(|| meta.response(&req.method))
}

/// Authenticates a request to an MCP endpoint: the caller, or the challenge to answer. The
/// session binding is the token's issuer and subject; handlers get its claims and granted
/// scopes (with those the hierarchy implies), never the token.
pub(crate) async fn authenticate(
    oauth: &OAuth,
    req: &Parts,
) -> Result<Authenticated, Response<Body>> {
    match oauth.verify(&req.headers, req.uri.query()).await {
        Ok(v) => {
            let mut who = mcp_core::Identity::new(v.subject.as_str())
                .with_issuer(v.issuer.as_str())
                .with_scopes(v.granted.iter().cloned());
            if let Some(client) = v
                .claims
                .get("client_id")
                .or_else(|| v.claims.get("azp"))
                .and_then(|c| c.as_str())
            {
                who = who.with_client_id(client);
            }
            Ok(Authenticated {
                identity: Identity::Principal {
                    issuer: Some(v.issuer),
                    subject: v.subject,
                },
                principal: Some(who.with_claims(v.claims)),
            })
        }
        Err(c) => {
            tracing::info!(target: "mcp::oauth", status = c.status().as_u16(), reason = %c.message(), "request refused");
            Err(c.response(oauth.metadata_url(), oauth.default_challenge_scopes()))
        }
    }
}

/// Refuses, with 403 `insufficient_scope`, a POST whose `tools/call` requests name a tool
/// needing scopes the caller's token does not grant. The challenge names every scope those
/// tools need, so one step-up authorization is enough.
pub(crate) fn check_calls(
    oauth: &OAuth,
    server: &mcp_core::Server,
    caller: &mcp_core::Caller,
    incoming: &mcp_core::jsonrpc::Incoming,
) -> Result<(), Response<Body>> {
    use mcp_core::jsonrpc::{Incoming, Message};
    let Some(granted) = caller.identity().map(|i| i.scopes()) else {
        return Ok(());
    };
    let tool_of = |m: &Message| match m {
        Message::Request(r) if r.method == "tools/call" => r
            .params
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned),
        _ => None,
    };
    let names: Vec<String> = match incoming {
        Incoming::Single(m) => tool_of(m).into_iter().collect(),
        Incoming::Batch(items) => items.iter().flatten().filter_map(tool_of).collect(),
    };
    let mut needed: Vec<String> = Vec::new();
    let mut short = false;
    for name in names {
        let Some(scopes) = server.tool_scopes(&name) else {
            continue;
        };
        short |= scopes.iter().any(|s| !granted.contains(s));
        for s in scopes {
            if !needed.contains(&s) {
                needed.push(s);
            }
        }
    }
    if !short {
        return Ok(());
    }
    tracing::info!(target: "mcp::oauth", "tool call refused: insufficient scope");
    let c = super::Challenge::InsufficientScope {
        scopes: needed,
        description: "the token lacks a scope this tool requires",
    };
    Err(c.response(oauth.metadata_url(), oauth.default_challenge_scopes()))
}
