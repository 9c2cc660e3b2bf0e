//! Host and origin checks, bearer tokens and the sessions they bind, CORS, and what the health
//! endpoint reveals.

use mcp_sse::client::SseClient;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn host_and_origin_are_checked_before_anything_else() {
    let h = start(|b| b).await;
    let req = |host: &str, extra: &str| {
        format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n")
            .into_bytes()
    };
    let cases = [
        ("localhost:1234", "", 200),
        ("[::1]", "", 200),
        ("evil.example", "", 403),
        ("localhost", "Origin: http://localhost:6274\r\n", 200),
        ("localhost", "Origin: https://evil.example\r\n", 403),
        ("localhost", "Origin: null\r\n", 403),
    ];
    for (host, extra, status) in cases {
        let got = send(&h, &req(host, extra)).await.status;
        assert_eq!(got, status, "Host {host:?}, {extra:?}");
    }
    // The stream is guarded the same way.
    let stream = b"GET /sse HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    assert_eq!(send(&h, stream).await.status, 403);
    // A foreign origin POST never reaches the session lookup (which would answer 400).
    let foreign = post(
        "/messages",
        "application/json",
        "{}",
        "Origin: http://evil.example\r\n",
    );
    assert_eq!(send(&h, &foreign).await.status, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn bearer_tokens_guard_streams_and_posts_and_bind_sessions() {
    let h = start(|b| b.bearer_tokens(["alpha", "beta"])).await;
    let challenged = |r: &mcp_sse::client::RawResponse| {
        assert_eq!(r.status, 401);
        let challenge = r.header("www-authenticate").expect("a challenge");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    };
    challenged(&send(&h, &get("/sse", "")).await);
    challenged(&send(&h, &get("/sse", "Authorization: Bearer gamma\r\n")).await);
    let anonymous = post("/messages?sessionId=x", "application/json", "{}", "");
    assert_eq!(send(&h, &anonymous).await.status, 401);

    let mut c = SseClient::connect(h.local_addr(), "/sse", &[("Authorization", "Bearer alpha")])
        .await
        .unwrap();
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    // The session's own endpoint needs the token too.
    challenged(&send(&h, &post(c.endpoint(), "application/json", ping, "")).await);
    // Another valid token cannot reach the session.
    let other = post(
        c.endpoint(),
        "application/json",
        ping,
        "Authorization: Bearer beta\r\n",
    );
    assert_eq!(send(&h, &other).await.status, 404);
    // Its own token does.
    assert_eq!(
        c.request(1, "ping", json!({})).await.unwrap()["result"],
        json!({})
    );
    h.shutdown().await;
}

#[tokio::test]
async fn cors_preflights_are_answered_for_configured_origins_only() {
    let h = start(|b| b.cors_origins(["http://inspector.example:6274"])).await;
    let preflight = |path: &str, origin: &str, method: &str| {
        format!(
            "OPTIONS {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: {method}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
    };
    for (path, method) in [("/messages", "POST"), ("/sse", "GET")] {
        let r = send(
            &h,
            &preflight(path, "http://inspector.example:6274", method),
        )
        .await;
        assert_eq!(r.status, 204, "{path}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("http://inspector.example:6274")
        );
        let methods = r.header("access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{methods}");
        let headers = r.header("access-control-allow-headers").unwrap();
        assert!(
            headers.to_ascii_lowercase().contains("content-type"),
            "{headers}"
        );
        let r = send(&h, &preflight(path, "http://other.example:6274", method)).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), None);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn health_counts_sessions_and_reveals_no_session_id() {
    let h = start(|b| b).await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    c.initialize().await.unwrap();
    let r = send(&h, &get("/health", "")).await;
    assert_eq!(r.status, 200);
    let v = json_body(&r);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["sessions"], 1);
    assert!(!String::from_utf8_lossy(&r.body).contains(c.session_id()));
    assert!(!r.head.contains(c.session_id()));
    h.shutdown().await;
}
