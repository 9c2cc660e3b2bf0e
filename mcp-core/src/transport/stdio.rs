//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout.
//!
//! Nothing but MCP messages is written to stdout; diagnostics belong on stderr (configure your
//! `tracing` subscriber to write there).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::jsonrpc;
use crate::outbound::{Outbound, Outgoing};
use crate::server::Server;
use crate::session::SessionOptions;

/// How many outgoing messages may wait for stdout.
const QUEUE: usize = 256;

/// How long requests already read may run after stdin closes.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves one session over the process's stdin and stdout until stdin closes.
pub async fn serve_stdio(server: Server) -> std::io::Result<()> {
    serve_io(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves one session over any reader/writer pair of newline-delimited JSON.
pub async fn serve_io<R, W>(server: Server, reader: R, mut writer: W) -> std::io::Result<()>
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
                if let Some(fut) = session.receive_incoming(incoming, &outbound) {
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
}
