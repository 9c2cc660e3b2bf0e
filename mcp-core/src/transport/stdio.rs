//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout, both eras on one stream.
//!
//! A client that opens with `initialize` gets a session for the life of the process
//! (2024-11-05 .. 2025-11-25). Before that, a request carrying the stateless revision's
//! `_meta` (2026-07-28) is served on its own, and `notifications/cancelled` cancels it.
//!
//! Nothing but MCP messages is written to stdout; diagnostics belong on stderr (configure your
//! `tracing` subscriber to write there).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::cancel::Cancel;
use crate::envelope::is_stateless_request;
use crate::error::McpError;
use crate::jsonrpc::{self, Incoming, Message, RequestId};
use crate::outbound::{Outbound, Outgoing};
use crate::session::{RequestFuture, Session, SessionOptions};
use crate::shared::Server;
use crate::stateless::StatelessOptions;

/// How many outgoing messages may wait for stdout.
const QUEUE: usize = 256;

/// How long requests already read may run after stdin closes.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves one session over the process's stdin and stdout until stdin closes.
pub async fn serve_stdio(server: Server) -> std::io::Result<()> {
    serve_io(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves one connection over any reader/writer pair of newline-delimited JSON.
///
/// Runs the server's start-up hooks first ([`Server::start`]; a failure is returned as an
/// error of kind `Other` and nothing is read) and its shutdown hooks once the connection
/// ended ([`Server::shutdown`]).
pub async fn serve_io<R, W>(server: Server, reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    server.start().await.map_err(std::io::Error::other)?;
    let result = serve_started(&server, reader, writer).await;
    server.shutdown().await;
    result
}

async fn serve_started<R, W>(server: &Server, reader: R, mut writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (outbound, mut rx) = Outbound::channel(QUEUE);
    let session = server.session(SessionOptions::new(outbound.clone()).transport("stdio"));
    let writer_task = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            writer.write_all(&msg.json).await?;
            writer.write_all(b"\n").await?;
            writer.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let limits = server.parse_limits();
    let mut lines = BufReader::new(reader);
    let mut line = Vec::new();
    let mut in_flight = tokio::task::JoinSet::new();
    let stateless = Stateless::default();
    loop {
        line.clear();
        // Read at most one byte past the limit, so an endless line cannot exhaust memory.
        let n = (&mut lines)
            .take(limits.max_bytes as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && n as u64 > limits.max_bytes as u64 {
            let err = jsonrpc::ParseError {
                id: None,
                error: jsonrpc::ErrorObject::new(
                    jsonrpc::code::PARSE_ERROR,
                    format!("message exceeds the limit of {} bytes", limits.max_bytes),
                ),
            };
            let _ = outbound
                .send(Outgoing::orphan_error(jsonrpc::response_bytes(
                    &err.response(),
                )))
                .await;
            // Skip the rest of the oversized line.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                let m = (&mut lines)
                    .take(64 * 1024)
                    .read_until(b'\n', &mut sink)
                    .await?;
                if m == 0 || sink.last() == Some(&b'\n') {
                    break;
                }
            }
            continue;
        }
        let text = trim_line(&line);
        if text.is_empty() {
            continue;
        }
        match jsonrpc::parse(text, &limits) {
            Ok(incoming) => {
                if let Some(fut) = route(server, &session, &stateless, incoming, &outbound) {
                    in_flight.spawn(fut);
                }
                while in_flight.try_join_next().is_some() {}
            }
            Err(e) => {
                let _ = outbound
                    .send(Outgoing::orphan_error(jsonrpc::response_bytes(
                        &e.response(),
                    )))
                    .await;
            }
        }
    }
    // stdin closed: let requests already read finish (bounded), then end the session.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    session.close();
    drop(session);
    drop(outbound);
    writer_task.await.unwrap_or(Ok(()))
}

/// The stateless requests running on this connection, by id, so `notifications/cancelled`
/// finds them.
#[derive(Clone, Default)]
struct Stateless(Arc<Mutex<HashMap<RequestId, Cancel>>>);

impl Stateless {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Cancel>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cancels the stateless request `id`; false when none runs.
    fn cancel(&self, id: &RequestId) -> bool {
        match self.lock().remove(id) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }
}

/// Sends one message to the session, or serves it statelessly: before `initialize`, a request
/// carrying the stateless `_meta` (or `server/discover`) is served on its own.
fn route(
    server: &Server,
    session: &Session,
    stateless: &Stateless,
    incoming: Incoming,
    outbound: &Outbound,
) -> Option<RequestFuture> {
    let message = match incoming {
        Incoming::Single(m) => m,
        batch => return session.receive_incoming(batch, outbound),
    };
    match message {
        Message::Request(req)
            if !session.is_initialized()
                && (req.method == "server/discover"
                    || is_stateless_request(req.params.as_ref())) =>
        {
            let id = req.id.clone();
            let cancel = Cancel::default();
            {
                let mut running = stateless.lock();
                let refusal = if running.contains_key(&id) {
                    Some(format!(
                        "request id {id} is already in use by a request in flight"
                    ))
                } else if running.len() >= server.max_in_flight() {
                    Some(format!(
                        "too many requests in flight (limit {}): wait for answers before sending more",
                        server.max_in_flight()
                    ))
                } else {
                    running.insert(id.clone(), cancel.clone());
                    None
                };
                if let Some(message) = refusal {
                    let json = jsonrpc::error_bytes(
                        Some(&id),
                        &McpError::invalid_request(message).into_error_object(),
                    );
                    let out = outbound.clone();
                    return Some(Box::pin(async move {
                        let _ = out.send(Outgoing::response(id, json)).await;
                    }));
                }
            }
            let work = server.serve_stateless_with(
                req,
                StatelessOptions::new("stdio"),
                outbound.clone(),
                cancel.clone(),
            );
            let stateless = stateless.clone();
            let out = outbound.clone();
            Some(Box::pin(async move {
                match work {
                    Ok(work) => work.await,
                    Err(rejection) => {
                        let _ = out.send(rejection.outgoing()).await;
                    }
                }
                let mut running = stateless.lock();
                if running.get(&id).is_some_and(|c| c.same(&cancel)) {
                    running.remove(&id);
                }
            }))
        }
        Message::Notification(n) if n.method == "notifications/cancelled" => {
            let id = crate::cancel::cancelled_request(&n);
            if id.as_ref().is_some_and(|id| stateless.cancel(id)) {
                return None;
            }
            session.receive(Message::Notification(n), outbound)
        }
        other => session.receive(other, outbound),
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallToolResult, Content, Tool};

    #[tokio::test]
    async fn answers_each_line_with_one_line() {
        let server = Server::builder("t", "1")
            .tool(Tool::new("hi", |_, _| async {
                Ok(CallToolResult::success(vec![Content::text("hello")]))
            }))
            .build()
            .unwrap();
        let input = concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
            "\n",
            "not json\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hi"}}"#,
            "\n"
        );
        let (w_tx, mut w_rx) = tokio::io::duplex(64 * 1024);
        serve_io(server, input.as_bytes(), w_tx).await.unwrap();
        let mut output = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut w_rx, &mut output)
            .await
            .unwrap();
        let text = String::from_utf8(output).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines.iter().any(|l| l.contains("-32700")));
        assert!(lines.iter().any(|l| l.contains("\"hello\"")));
    }

    #[tokio::test]
    async fn serves_the_stateless_revision_and_cancels_it() {
        let server = Server::builder("t", "1")
            .auto_collect(false)
            .tool(Tool::new("hi", |_, _| async {
                Ok(CallToolResult::success(vec![Content::text("hello")]))
            }))
            .tool(Tool::new("wait", |ctx, _| async move {
                ctx.cancelled().await;
                Ok(CallToolResult::default())
            }))
            .build()
            .unwrap();
        let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
        let (mut client, server_end) = tokio::io::duplex(64 * 1024);
        let (read, write) = tokio::io::split(server_end);
        let serving = tokio::spawn(serve_io(server, read, write));
        let send = format!(
            concat!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{{{m}}}}}"#,
                "\n",
                r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"wait",{m}}}}}"#,
                "\n",
                r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"hi",{m}}}}}"#,
                "\n",
                r#"{{"jsonrpc":"2.0","id":4,"method":"ping","params":{{{m}}}}}"#,
                "\n",
                r#"{{"jsonrpc":"2.0","id":5,"method":"tools/list"}}"#,
                "\n",
            ),
            m = meta
        );
        tokio::io::AsyncWriteExt::write_all(&mut client, send.as_bytes())
            .await
            .unwrap();
        let mut lines = BufReader::new(client);
        let mut got = std::collections::HashMap::new();
        while got.len() < 4 {
            let mut line = String::new();
            lines.read_line(&mut line).await.unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            got.insert(v["id"].as_i64().unwrap(), v);
        }
        assert_eq!(got[&1]["result"]["supportedVersions"][0], "2026-07-28");
        assert_eq!(got[&3]["result"]["content"][0]["text"], "hello");
        assert_eq!(got[&3]["result"]["resultType"], "complete");
        assert_eq!(got[&4]["error"]["code"], -32601);
        // Without the stateless `_meta` and before `initialize`: the session answers.
        assert_eq!(got[&5]["error"]["code"], -32600);
        assert!(!got.contains_key(&2), "the waiting call has not answered");
        let (mut rest, mut client) = tokio::io::split(lines.into_inner());
        tokio::io::AsyncWriteExt::write_all(
            &mut client,
            b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":2}}\n",
        )
        .await
        .unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut client)
            .await
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), serving)
            .await
            .expect("the cancelled call ends and the server stops with stdin")
            .unwrap()
            .unwrap();
        let mut after = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut rest, &mut after)
            .await
            .unwrap();
        assert_eq!(after, "", "nothing is sent for a cancelled request");
    }
}
