//! The status of every request the transport refuses, and what it forwards (nothing).

use mcp_sse::client::SseClient;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn bad_posts_get_the_documented_status() {
    let h = start(|b| b.max_body_bytes(1024)).await;
    let addr = h.local_addr();
    let c = SseClient::connect(addr, "/sse", &[]).await.unwrap();
    let ep = c.endpoint().to_owned();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let status = async |req: Vec<u8>| send(&h, &req).await.status;

    // A missing or repeated sessionId is 400; an unknown one (a UUID or not) is 404.
    assert_eq!(
        status(post("/messages", "application/json", ping, "")).await,
        400
    );
    let twice = format!("{ep}&sessionId={}", c.session_id());
    assert_eq!(
        status(post(&twice, "application/json", ping, "")).await,
        400
    );
    let unknown = format!("/messages?sessionId={}", uuid::Uuid::new_v4());
    assert_eq!(
        status(post(&unknown, "application/json", ping, "")).await,
        404
    );
    let not_uuid = "/messages?sessionId=nope";
    assert_eq!(
        status(post(not_uuid, "application/json", ping, "")).await,
        404
    );
    // Content types: a charset is fine, text/plain is not.
    let charset = "application/json; charset=utf-8";
    assert_eq!(status(post(&ep, charset, ping, "")).await, 202);
    assert_eq!(status(post(&ep, "text/plain", ping, "")).await, 415);

    // Over the limit: refused from Content-Length before the body is sent, with or without
    // `Expect: 100-continue`, and counted on a chunked body.
    let declared = |extra: &str| {
        format!(
            "POST {ep} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n{extra}\r\n"
        )
        .into_bytes()
    };
    assert_eq!(status(declared("")).await, 413);
    assert_eq!(
        status(declared("Expect: 100-continue\r\nConnection: close\r\n")).await,
        413
    );
    let big = "x".repeat(2000);
    let chunked = format!(
        "POST {ep} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    assert_eq!(status(chunked.into_bytes()).await, 413);

    // Malformed JSON: 400 with a JSON-RPC parse error and a null id.
    let r = send(&h, &post(&ep, "application/json", "{not json", "")).await;
    assert_eq!(r.status, 400);
    let v = json_body(&r);
    assert_eq!(v["error"]["code"], -32700);
    assert_eq!(v["id"], Value::Null);

    // Wrong methods and paths.
    assert_eq!(status(get("/messages", "")).await, 405);
    assert_eq!(status(get("/nothing", "")).await, 404);
    h.shutdown().await;
}

#[tokio::test]
async fn a_parse_error_forwards_nothing() {
    let h = start(|b| b).await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    assert_eq!(c.post(b"[").await.unwrap().status, 400);
    // The next message on the stream is the answer to the following valid request.
    let r = c.request(5, "ping", json!({})).await.unwrap();
    assert_eq!(r, json!({"jsonrpc":"2.0","id":5,"result":{}}));
    h.shutdown().await;
}

#[tokio::test]
async fn batches_on_a_2024_11_05_session_get_one_invalid_request_error() {
    let h = start(|b| b).await;
    let mut c = SseClient::connect(h.local_addr(), "/sse", &[])
        .await
        .unwrap();
    let init = c.initialize().await.unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    let r = c
        .post(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#)
        .await
        .unwrap();
    // Refused as a whole like a body that does not parse (batches belong to revision
    // 2025-03-26 only): 400 with the error, none of its elements run, nothing on the stream.
    assert_eq!(r.status, 400);
    let m = json_body(&r);
    assert_eq!(m["error"]["code"], -32600);
    assert_eq!(m["id"], Value::Null);
    let r = c.request(3, "ping", json!({})).await.unwrap();
    assert_eq!(r, json!({"jsonrpc":"2.0","id":3,"result":{}}));
    h.shutdown().await;
}

#[tokio::test]
async fn a_head_over_the_limit_is_431() {
    let h = start(|b| b.max_header_bytes(8192)).await;
    let big = "a".repeat(20_000);
    let extra = format!("X-Big: {big}\r\n");
    assert_eq!(send(&h, &get("/health", &extra)).await.status, 431);
    h.shutdown().await;
}
