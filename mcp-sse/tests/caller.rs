//! What a handler learns about its caller over HTTP: the validator's identity and the exposed
//! request headers, on both transports; never the token.

use mcp_core::{CallToolResult, Content, Context, Identity, Server, Tool};
use mcp_sse::client::{SseClient, raw_request};
use mcp_sse::{ServeError, ServerHandle, SseServer};
use serde_json::{Value, json};

/// A tool answering with what its context knows about the caller.
fn server() -> Server {
    Server::builder("t", "1")
        .auto_collect(false)
        .tool(Tool::new("whoami", |ctx: Context, _| async move {
            let p = ctx.identity();
            let seen = json!({
                "subject": p.map(Identity::subject),
                "issuer": p.and_then(Identity::issuer),
                "scopes": p.map(Identity::scopes),
                "email": p.and_then(|p| p.claim("email")),
                "request_id": ctx.header("X-Request-Id"),
                "headers": ctx.headers().iter().map(|(n, _)| n).collect::<Vec<_>>(),
            });
            Ok(CallToolResult::success(vec![Content::text(
                seen.to_string(),
            )]))
        }))
        .build()
        .unwrap()
}

/// Tokens `alice-read` and `alice-write` stand for the same subject with other scopes (a
/// refreshed token); `bob` for another subject.
async fn validator(token: String) -> Option<Identity> {
    let mut claims = mcp_core::JsonObject::new();
    claims.insert("email".into(), "someone@example.com".into());
    let p = |sub: &str| {
        Identity::new(sub)
            .with_issuer("https://issuer.example")
            .with_claims(claims.clone())
    };
    match token.as_str() {
        "alice-read" => Some(p("alice").with_scope("read")),
        "alice-write" => Some(p("alice").with_scopes(["read", "write"])),
        "bob" => Some(p("bob")),
        _ => None,
    }
}

async fn start() -> ServerHandle {
    SseServer::builder(server())
        .bind("127.0.0.1:0".parse().unwrap())
        .bearer_validator(validator)
        .expose_headers(["x-request-id", "User-Agent"])
        .start()
        .await
        .unwrap()
}

fn seen(response: &Value) -> Value {
    let text = response["result"]["content"][0]["text"].as_str().unwrap();
    serde_json::from_str(text).unwrap()
}

const WHOAMI: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;

#[tokio::test]
async fn legacy_sse_handlers_see_the_principal_of_each_post() {
    let h = start().await;
    let mut c = SseClient::connect(
        h.local_addr(),
        "/sse",
        &[
            ("Authorization", "Bearer alice-read"),
            ("X-Request-Id", "req-7"),
            ("X-Other", "hidden"),
        ],
    )
    .await
    .unwrap();
    c.initialize().await.unwrap();
    let r = c
        .request(1, "tools/call", json!({"name":"whoami","arguments":{}}))
        .await
        .unwrap();
    let s = seen(&r);
    assert_eq!(s["subject"], "alice");
    assert_eq!(s["issuer"], "https://issuer.example");
    assert_eq!(s["scopes"], json!(["read"]));
    assert_eq!(s["email"], "someone@example.com");
    assert_eq!(s["request_id"], "req-7");
    // Only the listed headers, never the credential.
    assert_eq!(s["headers"], json!(["x-request-id"]));

    // A refreshed token of the same subject reaches the session, and its scopes are the ones
    // the handler sees.
    let endpoint = c.endpoint().to_owned();
    let post = |token: &str| {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n{WHOAMI}",
            endpoint,
            h.local_addr(),
            WHOAMI.len()
        )
    };
    let r = raw_request(h.local_addr(), post("alice-write").as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    let s = seen(&c.next_message().await.unwrap());
    assert_eq!(s["scopes"], json!(["read", "write"]));
    assert_eq!(s["headers"], json!([]));
    // Another subject cannot reach it.
    let r = raw_request(h.local_addr(), post("bob").as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn streamable_http_handlers_see_the_principal_and_exposed_headers() {
    let h = start().await;
    let addr = h.local_addr();
    let send = |extra: String, body: String| {
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer bob\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
            addr,
            body.len()
        );
        async move { raw_request(addr, req.as_bytes()).await.unwrap() }
    };
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let r = send(String::new(), init.to_string()).await;
    assert_eq!(r.status, 200);
    let sid = r.header("mcp-session-id").unwrap().to_owned();
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string();
    let r = send(format!("Mcp-Session-Id: {sid}\r\n"), note).await;
    assert_eq!(r.status, 202);
    let r = send(
        format!(
            "Mcp-Session-Id: {sid}\r\nUser-Agent: probe/1\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n"
        ),
        WHOAMI.to_owned(),
    )
    .await;
    assert_eq!(r.status, 200);
    let s = seen(&serde_json::from_slice(&r.body).unwrap());
    assert_eq!(s["subject"], "bob");
    assert_eq!(s["scopes"], json!([]));
    assert_eq!(s["request_id"], "a");
    // In the order listed, repeats kept.
    assert_eq!(
        s["headers"],
        json!(["x-request-id", "x-request-id", "user-agent"])
    );
    h.shutdown().await;
}

#[tokio::test]
async fn credential_headers_cannot_be_exposed() {
    for name in ["Authorization", "proxy-authorization", "bad name"] {
        let err = SseServer::builder(server())
            .bind("127.0.0.1:0".parse().unwrap())
            .expose_headers([name])
            .start()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ServeError::InvalidHeaderName { name: n, .. } if n == name),
            "{err}"
        );
    }
}

#[tokio::test]
async fn without_a_validator_there_is_no_principal() {
    let h = SseServer::builder(server())
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let r = c
        .request(1, "tools/call", json!({"name":"whoami","arguments":{}}))
        .await
        .unwrap();
    assert_eq!(seen(&r)["subject"], Value::Null);
    h.shutdown().await;
}
