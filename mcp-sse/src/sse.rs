//! Server-Sent Events framing, and the streaming body that carries a session's messages.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use mcp_core::{OutboundReceiver, OutgoingKind};
use tokio::time::{Instant, Sleep};

/// Builds one SSE event frame: optional `id:` and `event:` lines, one `data:` line per line of
/// `data`, and the blank line that ends the event.
///
/// # Panics
///
/// Panics if `event` or `id` contains a line break: they are always our own constants or
/// generated ids, so that would be a bug here, never bad input.
pub fn frame(event: Option<&str>, id: Option<&str>, data: &[u8]) -> Bytes {
    // One line (every message serialized as compact JSON, which has no raw line break): one
    // data line, found with one `memchr` pass instead of splitting.
    if !data.contains(&b'\n') {
        let len = head_len(event, id) + 6 + data.len() + 2;
        let mut buf = Vec::with_capacity(len);
        head(&mut buf, event, id);
        buf.extend_from_slice(b"data: ");
        buf.extend_from_slice(data);
        buf.extend_from_slice(b"\n\n");
        debug_assert_eq!(buf.len(), len);
        return Bytes::from(buf);
    }
    let lines = || data.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    // An event without a data line is dropped by EventSource: data that is empty, or only line
    // breaks, still gets one empty data line.
    let no_lines = lines().next().is_none();
    // The exact size, so the buffer becomes `Bytes` without another allocation.
    let len = head_len(event, id)
        + if no_lines { 7 } else { 0 }
        + lines().map(|l| 7 + l.len()).sum::<usize>()
        + 1;
    let mut buf = Vec::with_capacity(len);
    head(&mut buf, event, id);
    if no_lines {
        buf.extend_from_slice(b"data: \n");
    }
    for line in lines() {
        buf.extend_from_slice(b"data: ");
        buf.extend_from_slice(line);
        buf.push(b'\n');
    }
    buf.push(b'\n');
    debug_assert_eq!(buf.len(), len);
    Bytes::from(buf)
}

/// The length of the `id:` and `event:` lines of a frame.
fn head_len(event: Option<&str>, id: Option<&str>) -> usize {
    id.map_or(0, |id| 5 + id.len()) + event.map_or(0, |e| 8 + e.len())
}

/// Writes the `id:` and `event:` lines of a frame.
fn head(buf: &mut Vec<u8>, event: Option<&str>, id: Option<&str>) {
    if let Some(id) = id {
        assert!(!id.contains(['\r', '\n']), "SSE id must be one line");
        buf.extend_from_slice(b"id: ");
        buf.extend_from_slice(id.as_bytes());
        buf.push(b'\n');
    }
    if let Some(event) = event {
        assert!(
            !event.contains(['\r', '\n']),
            "SSE event name must be one line"
        );
        buf.extend_from_slice(b"event: ");
        buf.extend_from_slice(event.as_bytes());
        buf.push(b'\n');
    }
}

/// The keep-alive comment frame.
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Something to run when the stream ends, however it ends (client gone, stall, shutdown).
pub(crate) type OnClose = Box<dyn FnOnce() + Send + Sync>;

/// A streaming SSE body: a first frame, then one `event: message` frame per outgoing message,
/// with keep-alive comments while idle. Ends when the message channel ends (its session was
/// closed, or the server shuts down), or, when built with [`SseBody::until_response`], right
/// after the first response (the stream of one request).
pub(crate) struct SseBody {
    first: Option<Bytes>,
    rx: OutboundReceiver,
    /// Fires when a keep-alive may be due; see [`SseBody::poll_keep_alive`].
    keep_alive: Pin<Box<Sleep>>,
    /// The keep-alive interval: the longest the stream stays silent.
    period: Duration,
    /// When the last message was sent: a message pushes the next keep-alive back without
    /// touching the timer.
    last_sent: Instant,
    done: bool,
    end_after_response: bool,
    on_close: Option<OnClose>,
}

impl SseBody {
    /// A body sending `first` (already framed), then what `rx` receives.
    pub(crate) fn new(first: Option<Bytes>, rx: OutboundReceiver, keep_alive: Duration) -> Self {
        let now = Instant::now();
        SseBody {
            first,
            rx,
            keep_alive: Box::pin(tokio::time::sleep_until(now + keep_alive)),
            period: keep_alive,
            last_sent: now,
            done: false,
            end_after_response: false,
            on_close: None,
        }
    }

    /// Runs `f` when the stream ends, however it ends (channel closed, client gone).
    pub(crate) fn on_close(mut self, f: OnClose) -> Self {
        self.on_close = Some(f);
        self
    }

    /// Ends the stream with the first response it carries.
    pub(crate) fn until_response(mut self) -> Self {
        self.end_after_response = true;
        self
    }

    /// True when a keep-alive is due now: the timer fired and nothing was sent for a whole
    /// period. When something was, the timer is moved to a period after it.
    fn poll_keep_alive(&mut self, cx: &mut Context<'_>) -> bool {
        while self.keep_alive.as_mut().poll(cx).is_ready() {
            let due = self.last_sent + self.period;
            let now = Instant::now();
            if due > now {
                self.keep_alive.as_mut().reset(due);
                continue;
            }
            self.last_sent = now;
            self.keep_alive.as_mut().reset(now + self.period);
            return true;
        }
        false
    }

    fn finish(&mut self) {
        self.done = true;
        if let Some(f) = self.on_close.take() {
            f();
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if let Some(f) = self.on_close.take() {
            f();
        }
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(msg)) => {
                this.last_sent = Instant::now();
                let data = frame(Some("message"), None, &msg.json);
                if this.end_after_response && msg.kind == OutgoingKind::Response {
                    this.finish();
                }
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Poll::Ready(None) => {
                this.finish();
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.poll_keep_alive(cx) {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use mcp_core::{Outbound, Outgoing};

    async fn next(body: &mut SseBody) -> Bytes {
        body.frame().await.unwrap().unwrap().into_data().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alives_come_a_period_after_the_last_frame() {
        let period = Duration::from_secs(10);
        let (out, rx) = Outbound::channel(4);
        let mut body = SseBody::new(None, rx, period);
        let start = Instant::now();
        assert_eq!(&next(&mut body).await[..], KEEP_ALIVE);
        assert_eq!(start.elapsed(), period);
        // A message 4 s in pushes the next keep-alive to 10 s after it.
        tokio::time::sleep(Duration::from_secs(4)).await;
        out.try_send(Outgoing::notification(Bytes::from_static(b"{}")))
            .unwrap();
        assert_eq!(&next(&mut body).await[..], b"event: message\ndata: {}\n\n");
        let sent = Instant::now();
        assert_eq!(&next(&mut body).await[..], KEEP_ALIVE);
        assert_eq!(sent.elapsed(), period);
        // Keep-alives repeat every period while idle.
        let last = Instant::now();
        assert_eq!(&next(&mut body).await[..], KEEP_ALIVE);
        assert_eq!(last.elapsed(), period);
        drop(out);
        assert!(body.frame().await.is_none());
    }

    #[test]
    fn frames_are_exact() {
        assert_eq!(
            &frame(Some("endpoint"), None, b"/messages?sessionId=1")[..],
            b"event: endpoint\ndata: /messages?sessionId=1\n\n"
        );
        assert_eq!(&frame(None, Some("7"), b"")[..], b"id: 7\ndata: \n\n");
        assert_eq!(
            &frame(Some("message"), None, b"a\nb")[..],
            b"event: message\ndata: a\ndata: b\n\n"
        );
        // Only line breaks: still one (empty) data line, so the event is not dropped.
        assert_eq!(&frame(None, None, b"\n\n")[..], b"data: \n\n");
        assert_eq!(&frame(None, None, b"")[..], b"data: \n\n");
        assert_eq!(
            &frame(Some("message"), Some("3"), br#"{"a":1}"#)[..],
            b"id: 3\nevent: message\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(&frame(None, None, b"a\n")[..], b"data: a\n\n");
    }
}
