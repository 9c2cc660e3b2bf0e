//! The OAuth resource server end to end: a test issuer on loopback signs tokens with its own
//! keys; the server checks them on both transports.

use std::net::SocketAddr;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, Context, Server, Tool};
use mcp_sse::client::{RawResponse, SseClient, raw_request};
use mcp_sse::oauth::{OAuth, OAuthBuilder};
use mcp_sse::{ServerHandle, SseServer};
use mcp_tests::issuer::{INTROSPECTION_CLIENT, TestIssuer, now};
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const ACCEPT: &str = "application/json, text/event-stream";

fn server() -> Server {
    Server::builder("oauth-test", "1")
        .auto_collect(false)
        .tool(Tool::new("add", |_, a| async move {
            let n = a["a"].as_i64().unwrap_or(0) + a["b"].as_i64().unwrap_or(0);
            Ok(CallToolResult::success(vec![Content::text(n.to_string())]))
        }))
        .tool(
            Tool::new("echo", |_, a| async move {
                let t = a["text"].as_str().unwrap_or("").to_owned();
                Ok(CallToolResult::success(vec![Content::text(t)]))
            })
            .scopes(["echo"]),
        )
        .tool(Tool::new("whoami", |ctx: Context, _| async move {
            let who = ctx.identity().map(|i| {
                json!({
                    "subject": i.subject(),
                    "issuer": i.issuer(),
                    "client_id": i.client_id(),
                    "scopes": i.scopes(),
                    "claims": i.claims(),
                })
            });
            Ok(CallToolResult::success(vec![Content::text(
                json!(who).to_string(),
            )]))
        }))
        .build()
        .unwrap()
}

async fn start(
    issuer: &TestIssuer,
    oauth: impl FnOnce(OAuthBuilder) -> OAuthBuilder,
    http: impl FnOnce(mcp_sse::Builder) -> mcp_sse::Builder,
) -> ServerHandle {
    let o = oauth(
        OAuth::builder()
            .authorization_server(issuer.url())
            .scopes_supported(["echo"]),
    );
    http(
        SseServer::builder(server())
            .bind("127.0.0.1:0".parse().unwrap())
            .oauth(o),
    )
    .start()
    .await
    .unwrap()
}

/// One request on a fresh connection.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw_request(addr, req.as_bytes()).await.unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Initializes a Streamable HTTP session with `token`; its id.
async fn mcp_session(h: &ServerHandle, token: &str) -> String {
    let auth = bearer(token);
    let r = send(
        h.local_addr(),
        "POST",
        "/mcp",
        &[("Authorization", &auth), ("Accept", ACCEPT)],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.header("mcp-session-id").unwrap().to_owned()
}

async fn mcp_call(h: &ServerHandle, token: &str, session: &str, body: &Value) -> RawResponse {
    let auth = bearer(token);
    send(
        h.local_addr(),
        "POST",
        "/mcp",
        &[
            ("Authorization", &auth),
            ("Accept", ACCEPT),
            ("Mcp-Session-Id", session),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &body.to_string(),
    )
    .await
}

fn call(id: i64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":args}})
}

fn metadata_url(h: &ServerHandle) -> String {
    format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        h.local_addr()
    )
}

#[tokio::test]
async fn metadata_is_public_and_still_host_checked() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o.resource_name("Test"), |b| b).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let r = send(h.local_addr(), "GET", path, &[], "").await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let doc: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            doc,
            json!({
                "resource": h.mcp_url(),
                "authorization_servers": [issuer.url()],
                "scopes_supported": ["echo"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Test",
            })
        );
    }
    let evil = [("Host", "evil.example.com")];
    let r = send(
        h.local_addr(),
        "GET",
        "/.well-known/oauth-protected-resource",
        &evil,
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        h.local_addr(),
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        &[("Origin", "http://evil.example.com")],
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        h.local_addr(),
        "POST",
        "/.well-known/oauth-protected-resource",
        &[],
        "{}",
    )
    .await;
    assert_eq!(r.status, 405);
    let r = send(
        h.local_addr(),
        "GET",
        "/.well-known/oauth-protected-resource/other",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn metadata_path_follows_the_mount_prefix() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o, |b| b.mount_prefix("/api")).await;
    assert!(h.mcp_url().ends_with("/api/mcp"));
    let r = send(
        h.local_addr(),
        "GET",
        "/.well-known/oauth-protected-resource/api/mcp",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc["resource"], h.mcp_url());
    let r = send(h.local_addr(), "GET", "/api/sse", &[], "").await;
    assert_eq!(r.status, 401);
    let expected = format!(
        "Bearer scope=\"echo\", resource_metadata=\"http://{}/.well-known/oauth-protected-resource/api/mcp\"",
        h.local_addr()
    );
    assert_eq!(r.header("www-authenticate"), Some(expected.as_str()));
    h.shutdown().await;
}

#[tokio::test]
async fn every_endpoint_challenges_before_any_session_exists() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o, |b| b).await;
    let meta = metadata_url(&h);
    let missing = format!("Bearer scope=\"echo\", resource_metadata=\"{meta}\"");
    let bad = format!(
        "Bearer error=\"invalid_token\", error_description=\"malformed token\", scope=\"echo\", resource_metadata=\"{meta}\""
    );
    let endpoints: [(&str, &str, &str); 5] = [
        ("GET", "/sse", ""),
        ("POST", "/messages?sessionId=x", "{}"),
        ("POST", "/mcp", INIT),
        ("GET", "/mcp", ""),
        ("DELETE", "/mcp", ""),
    ];
    for (method, path, body) in endpoints {
        let r = send(h.local_addr(), method, path, &[("Accept", ACCEPT)], body).await;
        assert_eq!(r.status, 401, "{method} {path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(missing.as_str()),
            "{method} {path}"
        );
        let r = send(
            h.local_addr(),
            method,
            path,
            &[("Accept", ACCEPT), ("Authorization", "Bearer not-a-jwt")],
            body,
        )
        .await;
        assert_eq!(r.status, 401, "{method} {path}");
        assert_eq!(r.header("www-authenticate"), Some(bad.as_str()));
    }
    assert_eq!(h.session_count(), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn valid_tokens_work_over_both_transports() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o, |b| b).await;
    let claims = issuer.claims(&h.mcp_url(), "alice", "echo");
    for kid in ["rsa1", "ec1"] {
        let token = issuer.sign(kid, &claims);
        let auth = bearer(&token);
        let mut c = SseClient::connect(h.local_addr(), "/sse", &[("Authorization", &auth)])
            .await
            .unwrap();
        c.initialize().await.unwrap();
        let list = c.request(2, "tools/list", json!({})).await.unwrap();
        assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 3);
        let r = c
            .request(
                3,
                "tools/call",
                json!({"name":"echo","arguments":{"text":"hi"}}),
            )
            .await
            .unwrap();
        assert_eq!(r["result"]["content"][0]["text"], "hi");

        let session = mcp_session(&h, &token).await;
        let r = mcp_call(&h, &token, &session, &call(2, "add", json!({"a":2,"b":3}))).await;
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["result"]["content"][0]["text"], "5");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_call_without_the_tools_scope_gets_the_403_challenge() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o, |b| b).await;
    let token = issuer.sign("rsa1", &issuer.claims(&h.mcp_url(), "bob", "other"));
    let expected = format!(
        "Bearer error=\"insufficient_scope\", error_description=\"the token lacks a scope this tool requires\", scope=\"echo\", resource_metadata=\"{}\"",
        metadata_url(&h)
    );
    // Streamable HTTP.
    let session = mcp_session(&h, &token).await;
    let r = mcp_call(&h, &token, &session, &call(2, "echo", json!({"text":"x"}))).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("www-authenticate"), Some(expected.as_str()));
    let r = mcp_call(&h, &token, &session, &call(3, "add", json!({"a":1,"b":1}))).await;
    assert_eq!(r.status, 200);
    // HTTP+SSE: the POST itself is refused.
    let auth = bearer(&token);
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[("Authorization", &auth)])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let r = c
        .post(call(2, "echo", json!({"text":"x"})).to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.header("www-authenticate"), Some(expected.as_str()));
    let ok = c
        .request(
            3,
            "tools/call",
            json!({"name":"add","arguments":{"a":1,"b":2}}),
        )
        .await
        .unwrap();
    assert_eq!(ok["result"]["content"][0]["text"], "3");
    h.shutdown().await;
}

#[tokio::test]
async fn server_wide_scopes_are_required_and_announced() {
    let issuer = TestIssuer::start(0).await;
    let h = start(
        &issuer,
        |o| {
            o.required_scopes(["mcp"])
                .scope_implies("mcp:all", ["mcp", "echo"])
        },
        |b| b,
    )
    .await;
    let r = send(h.local_addr(), "GET", "/sse", &[], "").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!(
                "Bearer scope=\"mcp\", resource_metadata=\"{}\"",
                metadata_url(&h)
            )
            .as_str()
        )
    );
    let without = issuer.sign("rsa1", &issuer.claims(&h.mcp_url(), "carol", "echo"));
    let auth = bearer(&without);
    let r = send(
        h.local_addr(),
        "GET",
        "/sse",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer error=\"insufficient_scope\"")
    );
    // A broader scope implies the required one (and the tool's).
    let broad = issuer.sign("rsa1", &issuer.claims(&h.mcp_url(), "carol", "mcp:all"));
    let session = mcp_session(&h, &broad).await;
    let r = mcp_call(&h, &broad, &session, &call(2, "echo", json!({"text":"ok"}))).await;
    assert_eq!(r.status, 200);
    h.shutdown().await;
}

/// Each kind of rejected token, the status and challenge it gets.
#[tokio::test]
async fn rejected_tokens_get_the_right_status_and_challenge() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o.leeway(Duration::from_secs(5)), |b| b).await;
    let aud = h.mcp_url();
    let valid = issuer.claims(&aud, "alice", "echo");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = valid.clone();
        f(&mut c);
        c
    };
    let good = issuer.sign("rsa1", &valid);
    let mut tampered_claims = valid.clone();
    tampered_claims["sub"] = "mallory".into();
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "expired",
            issuer.sign("rsa1", &with(&|c| c["exp"] = (now() - 60).into())),
            401,
            "the token has expired",
        ),
        (
            "not yet valid",
            issuer.sign("rsa1", &with(&|c| c["nbf"] = (now() + 600).into())),
            401,
            "the token is not valid yet (nbf)",
        ),
        (
            "wrong audience",
            issuer.sign(
                "rsa1",
                &with(&|c| c["aud"] = "http://127.0.0.1:1/other".into()),
            ),
            401,
            "the token was issued for another resource",
        ),
        (
            "wrong issuer",
            issuer.sign(
                "rsa1",
                &with(&|c| c["iss"] = "https://evil.example.com".into()),
            ),
            401,
            "the token's issuer is not trusted",
        ),
        (
            "unknown key",
            issuer.sign("rsa2", &valid),
            401,
            "the token is signed with an unknown key",
        ),
        (
            "alg none",
            issuer.unsigned(&valid),
            401,
            "unsigned tokens (alg none) are not accepted",
        ),
        (
            "HMAC signed with the public key",
            issuer.hmac_with_public_key("rsa1", &valid),
            401,
            "the token's signature algorithm is not accepted",
        ),
        (
            "tampered payload",
            issuer.tampered(&good, &tampered_claims),
            401,
            "the token's signature does not verify",
        ),
        (
            "no exp",
            issuer.sign(
                "rsa1",
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
            401,
            "the token lacks exp, iss or aud",
        ),
        ("opaque garbage", "garbage".into(), 401, "malformed token"),
    ];
    let meta = metadata_url(&h);
    println!("| token | status | WWW-Authenticate |\n|---|---|---|");
    for (name, token, status, description) in &cases {
        for (method, path, body) in [("GET", "/sse", ""), ("POST", "/mcp", INIT)] {
            let auth = bearer(token);
            let r = send(
                h.local_addr(),
                method,
                path,
                &[("Authorization", &auth), ("Accept", ACCEPT)],
                body,
            )
            .await;
            assert_eq!(r.status, *status, "{name} on {method} {path}");
            let expected = format!(
                "Bearer error=\"invalid_token\", error_description=\"{description}\", scope=\"echo\", resource_metadata=\"{meta}\""
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some(expected.as_str()),
                "{name}"
            );
            if path == "/sse" {
                println!("| {name} | {} | `{expected}` |", r.status);
            }
        }
    }
    // Missing scope: 403 on the call.
    let noscope = issuer.sign("rsa1", &with(&|c| c["scope"] = "".into()));
    let session = mcp_session(&h, &noscope).await;
    let r = mcp_call(&h, &noscope, &session, &call(2, "echo", json!({}))).await;
    assert_eq!(r.status, 403);
    println!(
        "| missing scope (tools/call echo) | 403 | `{}` |",
        r.header("www-authenticate").unwrap()
    );
    // Token in the query string: refused even with a valid header.
    let q = format!("/sse?access_token={good}");
    let auth = bearer(&good);
    let r = send(h.local_addr(), "GET", &q, &[("Authorization", &auth)], "").await;
    assert_eq!(r.status, 400);
    let expected = format!(
        "Bearer error=\"invalid_request\", error_description=\"access tokens are not accepted in the query string; send Authorization: Bearer\", scope=\"echo\", resource_metadata=\"{meta}\""
    );
    assert_eq!(r.header("www-authenticate"), Some(expected.as_str()));
    println!("| token in the query string | 400 | `{expected}` |");
    let q = format!("/mcp?access_token={good}");
    let r = send(h.local_addr(), "POST", &q, &[("Accept", ACCEPT)], INIT).await;
    assert_eq!(r.status, 400);
    // Two Authorization headers, even both valid.
    let r = send(
        h.local_addr(),
        "GET",
        "/sse",
        &[("Authorization", &auth), ("Authorization", &auth)],
        "",
    )
    .await;
    assert!(r.status == 400 || r.status == 401, "{}", r.status);
    println!(
        "| two Authorization headers | {} | `{}` |",
        r.status,
        r.header("www-authenticate").unwrap_or("")
    );
    assert_eq!(
        h.session_count(),
        1,
        "only the missing-scope session opened"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn forged_kids_cause_at_most_one_fetch_per_interval() {
    let issuer = TestIssuer::start(0).await;
    let h = start(
        &issuer,
        |o| o.jwks_refresh_interval(Duration::from_secs(60)),
        |b| b,
    )
    .await;
    let claims = issuer.claims(&h.mcp_url(), "alice", "");
    let good = bearer(&issuer.sign("rsa1", &claims));
    let r = send(
        h.local_addr(),
        "POST",
        "/mcp",
        &[("Authorization", &good), ("Accept", ACCEPT)],
        INIT,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(issuer.jwks_fetches(), 1);
    for i in 0..20 {
        let mut header_claims = claims.clone();
        header_claims["jti"] = i.into();
        // rsa2 is not published: its kid is unknown.
        let forged = bearer(&issuer.sign("rsa2", &header_claims));
        let r = send(
            h.local_addr(),
            "GET",
            "/sse",
            &[("Authorization", &forged)],
            "",
        )
        .await;
        assert_eq!(r.status, 401);
    }
    assert_eq!(issuer.jwks_fetches(), 1, "refresh within the interval");
    h.shutdown().await;
}

/// Moves tokio's clock, which the key cache reads, forward by `by` without waiting. The clock is
/// paused only for the jump: the sockets of the issuer and the server need a running clock.
async fn skip_clock(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

#[tokio::test]
async fn rotated_keys_are_picked_up_and_retired_ones_refused() {
    let issuer = TestIssuer::start(0).await;
    let h = start(
        &issuer,
        |o| o.jwks_refresh_interval(Duration::from_millis(100)),
        |b| b,
    )
    .await;
    let claims = issuer.claims(&h.mcp_url(), "alice", "");
    let old = bearer(&issuer.sign("rsa1", &claims));
    let new = bearer(&issuer.sign("rsa2", &claims));
    let get = |auth: String| {
        let addr = h.local_addr();
        async move {
            send(
                addr,
                "POST",
                "/mcp",
                &[("Authorization", &auth), ("Accept", ACCEPT)],
                INIT,
            )
            .await
            .status
        }
    };
    assert_eq!(get(old.clone()).await, 200);
    issuer.publish(&["rsa2"]);
    skip_clock(Duration::from_millis(150)).await;
    assert_eq!(
        get(new.clone()).await,
        200,
        "unknown kid refetched the keys"
    );
    assert_eq!(issuer.jwks_fetches(), 2);
    skip_clock(Duration::from_millis(150)).await;
    assert_eq!(get(old).await, 401, "a retired key no longer verifies");
    assert_eq!(get(new).await, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn keys_expire_with_the_cache_lifetime() {
    let issuer = TestIssuer::start(0).await;
    let h = start(
        &issuer,
        |o| {
            o.jwks_cache_lifetime(Duration::from_millis(100))
                .jwks_refresh_interval(Duration::from_millis(10))
        },
        |b| b,
    )
    .await;
    let token = bearer(&issuer.sign("rsa1", &issuer.claims(&h.mcp_url(), "a", "")));
    for _ in 0..2 {
        let r = send(
            h.local_addr(),
            "GET",
            "/mcp",
            &[("Authorization", &token), ("Accept", ACCEPT)],
            "",
        )
        .await;
        assert_eq!(r.status, 400, "authenticated; no session id");
    }
    assert_eq!(issuer.jwks_fetches(), 1);
    skip_clock(Duration::from_millis(150)).await;
    let r = send(
        h.local_addr(),
        "GET",
        "/mcp",
        &[("Authorization", &token), ("Accept", ACCEPT)],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(issuer.jwks_fetches(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_issuer_is_503_not_401() {
    let issuer = TestIssuer::start(0).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let h = SseServer::builder(server())
        .bind("127.0.0.1:0".parse().unwrap())
        .oauth(OAuth::builder().authorization_server(format!("http://{closed}")))
        .start()
        .await
        .unwrap();
    let mut claims = issuer.claims(&h.mcp_url(), "a", "");
    claims["iss"] = format!("http://{closed}").into();
    let token = bearer(&issuer.sign("rsa1", &claims));
    let r = send(
        h.local_addr(),
        "GET",
        "/sse",
        &[("Authorization", &token)],
        "",
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("5"));
    h.shutdown().await;
}

#[tokio::test]
async fn sessions_stay_bound_to_issuer_and_subject() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o, |b| b).await;
    let aud = h.mcp_url();
    let alice = issuer.sign("rsa1", &issuer.claims(&aud, "alice", "echo"));
    let alice2 = issuer.sign("ec1", &issuer.claims(&aud, "alice", ""));
    let bob = issuer.sign("rsa1", &issuer.claims(&aud, "bob", "echo"));
    let auth = bearer(&alice);
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[("Authorization", &auth)])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let ping = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;
    let endpoint = c.endpoint().to_owned();
    let bob_auth = bearer(&bob);
    let r = send(
        h.local_addr(),
        "POST",
        &endpoint,
        &[("Authorization", &bob_auth)],
        ping,
    )
    .await;
    assert_eq!(r.status, 404, "another subject cannot use the session");
    let alice2_auth = bearer(&alice2);
    let r = send(
        h.local_addr(),
        "POST",
        &endpoint,
        &[("Authorization", &alice2_auth)],
        ping,
    )
    .await;
    assert_eq!(r.status, 202, "the same principal with another token");
    // Streamable HTTP likewise.
    let session = mcp_session(&h, &alice).await;
    let r = mcp_call(
        &h,
        &bob,
        &session,
        &json!({"jsonrpc":"2.0","id":2,"method":"ping"}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = mcp_call(
        &h,
        &alice2,
        &session,
        &json!({"jsonrpc":"2.0","id":2,"method":"ping"}),
    )
    .await;
    assert_eq!(r.status, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn opaque_tokens_are_introspected_and_cached() {
    let issuer = TestIssuer::start(0).await;
    let h = start(
        &issuer,
        |o| {
            o.introspection(
                None,
                Some(INTROSPECTION_CLIENT.0.into()),
                Some(INTROSPECTION_CLIENT.1.into()),
            )
        },
        |b| b,
    )
    .await;
    let aud = h.mcp_url();
    issuer.add_opaque(
        "opaque-good",
        json!({"active": true, "sub": "dave", "aud": aud, "scope": "echo", "iss": issuer.url(), "exp": now() + 300}),
    );
    issuer.add_opaque("opaque-revoked", json!({"active": false}));
    issuer.add_opaque(
        "opaque-elsewhere",
        json!({"active": true, "sub": "dave", "aud": "https://other.example.com", "exp": now() + 300}),
    );
    let session = mcp_session(&h, "opaque-good").await;
    let r = mcp_call(
        &h,
        "opaque-good",
        &session,
        &call(2, "echo", json!({"text":"o"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        issuer.introspections(),
        1,
        "the second request hit the cache"
    );
    for (token, description) in [
        ("opaque-revoked", "the token is not active"),
        (
            "opaque-elsewhere",
            "the token was issued for another resource",
        ),
        ("opaque-unknown", "the token is not active"),
    ] {
        let auth = bearer(token);
        for _ in 0..2 {
            let r = send(
                h.local_addr(),
                "GET",
                "/sse",
                &[("Authorization", &auth)],
                "",
            )
            .await;
            assert_eq!(r.status, 401, "{token}");
            assert!(
                r.header("www-authenticate").unwrap().contains(&format!(
                    "error=\"invalid_token\", error_description=\"{description}\""
                )),
                "{token}"
            );
        }
    }
    assert_eq!(issuer.introspections(), 4, "refusals are cached too");
    // JWTs still go to the signature check, not to introspection.
    let jwt = issuer.sign("rsa1", &issuer.claims(&aud, "erin", ""));
    let r = send(
        h.local_addr(),
        "GET",
        "/mcp",
        &[("Authorization", &bearer(&jwt)), ("Accept", ACCEPT)],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "authenticated; no session id");
    assert_eq!(issuer.introspections(), 4);
    h.shutdown().await;
}

fn tool_names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tools_list_shows_only_callable_tools_and_tools_see_the_claims() {
    let issuer = TestIssuer::start(0).await;
    let h = start(&issuer, |o| o.scope_implies("all", ["echo"]), |b| b).await;
    let aud = h.mcp_url();
    let list = json!({"jsonrpc":"2.0","id":5,"method":"tools/list"});
    let mut claims = issuer.claims(&aud, "alice", "other");
    claims["email"] = "alice@example.com".into();
    let without = issuer.sign("rsa1", &claims);
    let with = issuer.sign("rsa1", &issuer.claims(&aud, "alice", "all"));
    for (token, expected) in [
        (&without, vec!["add", "whoami"]),
        (&with, vec!["add", "echo", "whoami"]),
        // The cached full list is not served to a caller it would over-share with.
        (&without, vec!["add", "whoami"]),
    ] {
        let session = mcp_session(&h, token).await;
        let r = mcp_call(&h, token, &session, &list).await;
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(tool_names(&v), expected);
    }
    // Over HTTP+SSE too.
    let auth = bearer(&without);
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[("Authorization", &auth)])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let v = c.request(2, "tools/list", json!({})).await.unwrap();
    assert_eq!(tool_names(&v), ["add", "whoami"]);
    let r = c
        .request(3, "tools/call", json!({"name":"whoami"}))
        .await
        .unwrap();
    let text = r["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!text.contains(&without), "the token never reaches a tool");
    let who: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(who["subject"], "alice");
    assert_eq!(who["issuer"], issuer.url());
    assert_eq!(who["client_id"], "test-client");
    assert_eq!(who["scopes"], json!(["other"]));
    assert_eq!(who["claims"]["email"], "alice@example.com");
    // The implied scope is granted.
    let session = mcp_session(&h, &with).await;
    let r = mcp_call(&h, &with, &session, &call(2, "whoami", json!({}))).await;
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let who: Value =
        serde_json::from_str(v["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(who["scopes"], json!(["all", "echo"]));
    h.shutdown().await;
}

/// Without an authenticated caller (stdio, in-memory), tool scopes do not restrict; a caller
/// whose identity lacks them is refused by the dispatcher itself, where no transport checked.
#[tokio::test]
async fn the_dispatcher_holds_the_tool_scopes_too() {
    use mcp_core::jsonrpc::{Incoming, parse};
    use mcp_core::{Caller, Identity, Outbound, SessionOptions};

    let server = server();
    let client = server.connect_in_memory().await;
    client.initialize().await.unwrap();
    let tools = client.list_tools().await.unwrap();
    assert_eq!(tools["tools"].as_array().unwrap().len(), 3);
    let r = client
        .call_tool("echo", json!({"text": "free"}))
        .await
        .unwrap();
    assert_eq!(r["content"][0]["text"], "free");

    let (out, _rx) = Outbound::channel(16);
    let session = server.session(SessionOptions::new(out));
    let caller = Caller::new().with_identity(Identity::new("bob").with_scopes(["other"]));
    let ask = |msg: Value| {
        let session = session.clone();
        let caller = caller.clone();
        async move {
            let Ok(Incoming::Single(m)) =
                parse(msg.to_string().as_bytes(), &session.server().parse_limits())
            else {
                panic!("one message");
            };
            let (reply, mut rx) = Outbound::channel(16);
            if let Some(fut) = session.receive_from(m, &reply, &caller) {
                fut.await;
            }
            drop(reply);
            let out = rx.recv().await.expect("an answer");
            serde_json::from_slice::<Value>(&out.json).unwrap()
        }
    };
    ask(serde_json::from_str(INIT).unwrap()).await;
    let list = ask(json!({"jsonrpc":"2.0","id":2,"method":"tools/list"})).await;
    assert_eq!(tool_names(&list), ["add", "whoami"]);
    let r = ask(call(3, "echo", json!({"text": "x"}))).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requires the scopes echo"),
        "{r}"
    );
}
