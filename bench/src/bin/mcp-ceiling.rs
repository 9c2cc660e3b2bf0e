//! The ceiling for the load benchmark: a minimal raw hyper server with the same wire behaviour
//! as the MCP server for the requests the load generator sends (`GET /sse` with the endpoint
//! event, `POST /messages` answered 202 with the result on the stream; `POST /mcp` answered with
//! JSON and an `Mcp-Session-Id`), doing the same JSON work (parse the request, build and
//! serialize the `tools/call` result) and nothing else: no sessions' protocol state, no
//! security layers, no limits. `mcp-ceiling 127.0.0.1:0` prints its address.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::sync::mpsc;

type Out = UnsyncBoxBody<Bytes, Infallible>;
type Sessions = Arc<Mutex<HashMap<String, mpsc::Sender<Bytes>>>>;

struct Stream(mpsc::Receiver<Bytes>);

impl Body for Stream {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

fn full(b: impl Into<Bytes>) -> Out {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

/// The result the MCP server's `add` tool produces, built the same way.
fn answer(msg: &Value) -> Option<Bytes> {
    let id = msg.get("id")?;
    let result = match msg.get("method").and_then(Value::as_str) {
        Some("initialize") => {
            json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "ceiling", "version": "0"}})
        }
        Some("tools/call") => {
            let args = &msg["params"]["arguments"];
            let sum = args["a"].as_i64().unwrap_or(0) + args["b"].as_i64().unwrap_or(0);
            json!({"content": [{"type": "text", "text": sum.to_string()}]})
        }
        _ => json!({}),
    };
    Some(Bytes::from(
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "result": result})).ok()?,
    ))
}

async fn handle(sessions: Sessions, req: Request<Incoming>) -> Result<Response<Out>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let method = req.method().clone();
    let mut resp = Response::new(full(Bytes::new()));
    match (method, path.as_str()) {
        (Method::GET, "/sse") => {
            let id = uuid::Uuid::new_v4().to_string();
            let (tx, rx) = mpsc::channel(64);
            let _ = tx.try_send(Bytes::from(format!(
                "event: endpoint\ndata: /messages?sessionId={id}\n\n"
            )));
            sessions.lock().unwrap().insert(id, tx);
            *resp.body_mut() = Stream(rx).boxed_unsync();
            resp.headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
        }
        (Method::POST, "/messages") => {
            let id = query.strip_prefix("sessionId=").unwrap_or("").to_owned();
            let tx = sessions.lock().unwrap().get(&id).cloned();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match (tx, serde_json::from_slice::<Value>(&body)) {
                (Some(tx), Ok(msg)) => {
                    if let Some(out) = answer(&msg) {
                        let mut frame = Vec::with_capacity(out.len() + 24);
                        frame.extend_from_slice(b"event: message\ndata: ");
                        frame.extend_from_slice(&out);
                        frame.extend_from_slice(b"\n\n");
                        let _ = tx.send(Bytes::from(frame)).await;
                    }
                    *resp.status_mut() = StatusCode::ACCEPTED;
                }
                _ => *resp.status_mut() = StatusCode::NOT_FOUND,
            }
        }
        (Method::POST, "/mcp") => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match answer(&msg) {
                Some(out) => {
                    *resp.body_mut() = full(out);
                    resp.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    if msg.get("method").and_then(Value::as_str) == Some("initialize") {
                        let id = uuid::Uuid::new_v4().to_string();
                        resp.headers_mut()
                            .insert("mcp-session-id", id.parse().unwrap());
                    }
                }
                None => *resp.status_mut() = StatusCode::ACCEPTED,
            }
        }
        _ => *resp.status_mut() = StatusCode::NOT_FOUND,
    }
    Ok(resp)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("http://{}/sse", listener.local_addr()?);
    let sessions: Sessions = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let sessions = sessions.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(sessions.clone(), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
