//! A minimal `text/event-stream` reader over a hyper response body.
//!
//! Lines end in `\n` or `\r\n`; an empty line dispatches the event; comment lines (`:`) such as
//! keep-alives are skipped; `data` lines are joined with `\n` as the SSE specification says.

use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// One dispatched server-sent event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// Incremental SSE parser: feed bytes, take events.
#[derive(Debug, Default)]
pub struct Parser {
    buf: BytesMut,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
}

impl Parser {
    /// Appends raw bytes from the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event in the buffered bytes, if any.
    pub fn next_event(&mut self) -> Option<Event> {
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line = &self.buf[..pos];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let dispatched = if line.is_empty() {
                self.dispatch()
            } else {
                let line = String::from_utf8_lossy(line).into_owned();
                self.field(&line);
                None
            };
            self.buf.advance(pos + 1);
            if dispatched.is_some() {
                return dispatched;
            }
        }
        None
    }

    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match name {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" => self.id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = self.event.take();
        let id = self.id.take();
        let data = self.data.take()?;
        Some(Event {
            event: event.unwrap_or_else(|| "message".to_owned()),
            data,
            id,
        })
    }
}

/// Reads events from a streaming response body.
#[derive(Debug)]
pub struct Reader {
    body: Incoming,
    parser: Parser,
}

impl Reader {
    /// Wraps the body of a `text/event-stream` response.
    pub fn new(body: Incoming) -> Self {
        Reader {
            body,
            parser: Parser::default(),
        }
    }

    /// The next event; `Ok(None)` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<Event>, hyper::Error> {
        loop {
            if let Some(ev) = self.parser.next_event() {
                return Ok(Some(ev));
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        self.parser.feed(&data);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_split_frames_crlf_and_comments() {
        let mut p = Parser::default();
        p.feed(
            b"event: endpoint\r\ndata: /messages?sessionId=abc\r\n\r\n: keep-alive\n\nevent: mess",
        );
        assert_eq!(
            p.next_event(),
            Some(Event {
                event: "endpoint".into(),
                data: "/messages?sessionId=abc".into(),
                id: None
            })
        );
        assert_eq!(p.next_event(), None);
        p.feed(b"age\nid: 7\ndata: {\"a\":1}\ndata: x\n\n");
        assert_eq!(
            p.next_event(),
            Some(Event {
                event: "message".into(),
                data: "{\"a\":1}\nx".into(),
                id: Some("7".into())
            })
        );
        assert_eq!(p.next_event(), None);
    }

    #[test]
    fn event_without_name_defaults_to_message() {
        let mut p = Parser::default();
        p.feed(b"data:x\n\n");
        assert_eq!(p.next_event().map(|e| e.event), Some("message".into()));
    }
}
