//! HTTP/1 connections that carry one event stream, served without hyper's connection state.
//!
//! An event stream (the `GET` of the HTTP+SSE stream, or of the Streamable HTTP endpoint)
//! lives as long as its session and is idle most of that time. hyper keeps an 8 KiB read
//! buffer and an 8 KiB write buffer for the whole life of every HTTP/1 connection; an idle
//! stream needs neither. So a connection whose first request is a body-less HTTP/1.1 `GET` of
//! an event-stream path is served here: its head is read and parsed within the same limits
//! and timeout as hyper's, the request goes through the same service as every other request,
//! and the response is written here, ending the connection (`Connection: close`: it carries
//! that one response). While the stream is open, a small read watches the connection, so that
//! a client that leaves is noticed at once. Any other request, and every head that is
//! malformed or over a limit, goes to hyper with the bytes already read put back, so its
//! answers are hyper's, unchanged.
//!
//! On a current-thread runtime the connection's task also runs the requests whose answers its
//! stream carries (the session's [`JobRunner`]): a request handed over by its `POST` is
//! polled here, and its answer written in the same turn, instead of in a task of its own that
//! would then wake this one. It keeps running them while a write waits. On a multi-thread
//! runtime each request keeps its own task, so one session's requests still run in parallel.

use std::sync::Arc;
use std::task::Poll;
use std::time::SystemTime;

use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Version, header};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper_util::server::graceful::Watcher;
use mcp_core::{JobRunner, ReaderJobs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::body::RequestBody;
use crate::conn::Conn;
use crate::response::Body;
use crate::service::{Paths, answer};

/// The first bytes of every HTTP/2 connection (RFC 9113 §3.4); no HTTP/1 method starts so.
const H2_PREFACE: &[u8] = b"PRI ";

/// The method of the requests served here, with the space that ends it.
const GET: &[u8] = b"GET ";

/// The first read of a head: enough for the heads of the usual clients.
const FIRST_READ: usize = 1024;

/// Input taken (and dropped) at the end before closing: unread input makes the kernel reset
/// the connection, which can destroy the response's last bytes on their way.
const LINGER_BYTES: usize = 64 * 1024;

/// What a new connection speaks, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum First {
    /// HTTP/2 (prior knowledge).
    H2,
    /// HTTP/1, served by hyper.
    H1,
    /// HTTP/1 whose first request line is a `GET` of an event-stream path: served here.
    EventStream,
}

/// Which connections are served here, and the limits of the head read here: those of hyper's
/// HTTP/1 connections, so a head is refused alike on both paths.
pub(crate) struct Rules {
    /// The event-stream paths, with the mount prefix.
    paths: Vec<Vec<u8>>,
    /// The bytes peeked to classify a connection.
    peek_len: usize,
    /// The most bytes of a head read here: past that, hyper reads on and refuses it.
    max_bytes: usize,
    /// The most header fields parsed here: past that, hyper refuses the head.
    max_fields: usize,
}

impl Rules {
    /// The rules for a server at mount `prefix` whose event streams are at `paths`, with the
    /// head limits of its hyper connections.
    pub(crate) fn new(prefix: &str, paths: &[&str], max_bytes: usize, max_fields: usize) -> Self {
        let paths: Vec<Vec<u8>> = paths
            .iter()
            .map(|p| format!("{prefix}{p}").into_bytes())
            .collect();
        let longest = paths.iter().map(Vec::len).max().unwrap_or(0);
        Rules {
            paths,
            peek_len: (GET.len() + longest + 1).max(H2_PREFACE.len()),
            max_bytes,
            max_fields,
        }
    }

    /// Classifies a connection from its first bytes `b`; `None`: more bytes are needed.
    fn decide(&self, b: &[u8]) -> Option<First> {
        let is_prefix = |whole: &[u8]| b.len() < whole.len() && whole.starts_with(b);
        if b.is_empty() || is_prefix(H2_PREFACE) || is_prefix(GET) {
            return None;
        }
        if b.starts_with(H2_PREFACE) {
            return Some(First::H2);
        }
        let Some(target) = b.strip_prefix(GET) else {
            return Some(First::H1);
        };
        let mut undecided = false;
        for p in &self.paths {
            if target.len() <= p.len() {
                undecided |= p.starts_with(target);
            } else if target.starts_with(p) && matches!(target[p.len()], b' ' | b'?') {
                return Some(First::EventStream);
            }
        }
        (!undecided).then_some(First::H1)
    }
}

/// Which protocol a new connection speaks, from its first bytes (peeked, not consumed).
/// `None`: closed before a decision.
pub(crate) async fn classify(stream: &TcpStream, rules: &Rules) -> Option<First> {
    let mut buf = vec![0u8; rules.peek_len];
    loop {
        let n = stream.peek(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        if let Some(first) = rules.decide(&buf[..n]) {
            return Some(first);
        }
        // A prefix arrived alone: wait for the rest.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The first request's head, read here.
pub(crate) enum Head {
    /// A body-less HTTP/1.1 `GET`, to serve here.
    Ours(Box<Request<RequestBody>>),
    /// Anything else (a body, another version, a malformed head, a head over a limit): for
    /// hyper, with the bytes read so far.
    Hyper(Bytes),
    /// The connection ended before the head did.
    Closed,
}

/// Reads the head of the first request (the caller bounds the time).
pub(crate) async fn read_head(stream: &mut TcpStream, rules: &Rules) -> Head {
    let mut buf = Vec::with_capacity(FIRST_READ.min(rules.max_bytes.max(1)));
    loop {
        if buf.len() == buf.capacity() {
            if buf.len() >= rules.max_bytes {
                return Head::Hyper(buf.into());
            }
            buf.reserve(buf.len().min(rules.max_bytes - buf.len()));
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Head::Closed,
            Ok(_) => {}
        }
        match parse(&buf, rules.max_fields) {
            // What follows the head is dropped: the connection carries this one response.
            Parsed::Complete(Some(req)) => return Head::Ours(req),
            Parsed::Complete(None) | Parsed::Invalid => return Head::Hyper(buf.into()),
            Parsed::Partial => {}
        }
    }
}

/// A head parsed so far.
enum Parsed {
    /// Not complete yet.
    Partial,
    /// Complete: the request when it is one to serve here.
    Complete(Option<Box<Request<RequestBody>>>),
    /// Malformed, or with too many fields.
    Invalid,
}

fn parse(buf: &[u8], max_fields: usize) -> Parsed {
    let mut fields = vec![httparse::EMPTY_HEADER; max_fields];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Ok(httparse::Status::Complete(_)) => Parsed::Complete(to_request(&parsed)),
        Err(_) => Parsed::Invalid,
    }
}

/// The request of a parsed head, when it is a body-less HTTP/1.1 `GET`.
fn to_request(parsed: &httparse::Request<'_, '_>) -> Option<Box<Request<RequestBody>>> {
    if parsed.method? != "GET" || parsed.version? != 1 {
        return None;
    }
    let uri = http::Uri::try_from(parsed.path?).ok()?;
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for f in parsed.headers.iter() {
        let name = HeaderName::from_bytes(f.name.as_bytes()).ok()?;
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(f.value).ok()?);
    }
    let mut req = Request::new(RequestBody::new(http_body_util::Empty::<Bytes>::new()));
    *req.method_mut() = Method::GET;
    *req.uri_mut() = uri;
    *req.version_mut() = Version::HTTP_11;
    *req.headers_mut() = headers;
    Some(Box::new(req))
}

/// How a response's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// The status has no body.
    None,
    /// A body of known length.
    Length(u64),
    /// A stream: chunked.
    Chunked,
}

impl Framing {
    fn of(status: StatusCode, body: &Body) -> Self {
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Framing::None;
        }
        match body.size_hint().exact() {
            Some(n) => Framing::Length(n),
            None => Framing::Chunked,
        }
    }
}

/// The response head: status line, the service's fields, and the framing fields.
fn head(status: StatusCode, headers: &HeaderMap, framing: Framing) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == header::CONNECTION
            || name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
        {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n");
    match framing {
        Framing::None => {}
        Framing::Length(n) => out.extend_from_slice(format!("content-length: {n}\r\n").as_bytes()),
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    if !headers.contains_key(header::DATE) {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Appends `data` to `out`, framed.
fn push(out: &mut Vec<u8>, data: &[u8], framing: Framing) {
    match framing {
        Framing::None => {}
        Framing::Length(_) => out.extend_from_slice(data),
        Framing::Chunked if data.is_empty() => {}
        Framing::Chunked => {
            out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Writes `data` (not empty), framed, without copying it: one vectored write of the chunk
/// size line, the data and the chunk's end, as long as the socket takes it whole. While the
/// socket makes it wait, the stream's jobs keep running: a write held up by a client that
/// stopped reading must not hold back the requests (a send of theirs waiting past the stall
/// timeout is what ends such a session). One small future owning its buffer, so that an idle
/// stream's task keeps little room for it.
fn write_framed<'a>(
    stream: &'a mut TcpStream,
    data: Bytes,
    framing: Framing,
    jobs: &'a mut Option<JobRunner>,
) -> impl Future<Output = std::io::Result<()>> + 'a {
    use tokio::io::AsyncWrite;
    let mut line = [0u8; 18];
    let (line_len, data, end): (usize, Bytes, &[u8]) = match framing {
        Framing::Chunked => (chunk_size_line(&mut line, data.len()), data, b"\r\n"),
        Framing::Length(_) => (0, data, b""),
        Framing::None => (0, Bytes::new(), b""),
    };
    let mut buf = Buf::take(std::io::Cursor::new(line), line_len)
        .chain(data)
        .chain(end);
    std::future::poll_fn(move |cx| {
        while buf.has_remaining() {
            let mut slices = [std::io::IoSlice::new(&[]); 3];
            let n = buf.chunks_vectored(&mut slices);
            match std::pin::Pin::new(&mut *stream).poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => buf.advance(n),
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if let Some(j) = jobs.as_mut() {
                        j.poll_jobs(cx);
                    }
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    })
}

/// Writes the chunk size line of a chunk of `len` bytes (hex digits and CRLF) into `out`;
/// its length.
fn chunk_size_line(out: &mut [u8; 18], len: usize) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS as usize / 4 - len.leading_zeros() as usize / 4).max(1);
    for (i, slot) in out[..digits].iter_mut().enumerate() {
        *slot = HEX[(len >> (4 * (digits - 1 - i))) & 0xf];
    }
    out[digits] = b'\r';
    out[digits + 1] = b'\n';
    digits + 2
}

/// The next data of `body`, ready now: `Some(None)` when it ended.
fn ready_data(body: &mut Body) -> Option<Option<Bytes>> {
    loop {
        match body.frame().now_or_never()? {
            None => return Some(None),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Some(data));
                }
            }
            Some(Err(e)) => match e {},
        }
    }
}

/// The runner of the jobs of the stream in `extensions`, when this task is to run them: on a
/// current-thread runtime, where a task of their own buys them no parallelism.
fn job_runner(extensions: &mut http::Extensions) -> Option<JobRunner> {
    let jobs = extensions.remove::<ReaderJobs>()?;
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    (flavor == tokio::runtime::RuntimeFlavor::CurrentThread).then(|| jobs.attach())
}

/// Serves `req`, the one request of the connection, and closes it. `watcher` is held until
/// the connection ends, so a graceful shutdown waits for it. A client gone is noticed while
/// the body waits; the connection's kill switch is the caller's.
pub(crate) async fn serve(
    mut stream: TcpStream,
    conn: Arc<Conn>,
    req: Box<Request<RequestBody>>,
    watcher: Watcher,
) {
    let _watcher = watcher;
    // Boxed, so that an idle stream keeps no room for the request's future.
    let resp = Box::pin(answer(&conn.shared, Some(&conn.kill), Paths::Full, *req)).await;
    let (mut parts, mut body) = resp.into_parts();
    let mut jobs = job_runner(&mut parts.extensions);
    let framing = Framing::of(parts.status, &body);
    let mut out = head(parts.status, &parts.headers, framing);
    drop(parts);
    let mut ended = framing == Framing::None;
    // The first data, when ready, leaves with the head.
    if !ended {
        match ready_data(&mut body) {
            Some(Some(data)) => push(&mut out, &data, framing),
            Some(None) => ended = true,
            None => {}
        }
    }
    if stream.write_all(&out).await.is_err() {
        return;
    }
    drop(out);
    let mut scratch = [0u8; 64];
    while !ended {
        tokio::select! {
            biased;
            // First, so that an answer computed here is written in the same turn.
            never = std::future::poll_fn(|cx| {
                if let Some(j) = jobs.as_mut() {
                    j.poll_jobs(cx);
                }
                Poll::<std::convert::Infallible>::Pending
            }) => match never {},
            frame = body.frame() => match frame {
                None => ended = true,
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    if data.is_empty() {
                        continue;
                    }
                    if write_framed(&mut stream, data, framing, &mut jobs).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => match e {},
            },
            // Input after the head is not served (the connection ends with this response);
            // the read notices a client that left.
            read = stream.read(&mut scratch) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
        }
    }
    drop(body);
    if framing == Framing::Chunked && stream.write_all(b"0\r\n\r\n").await.is_err() {
        return;
    }
    let mut taken = 0;
    while taken < LINGER_BYTES {
        match stream.try_read(&mut scratch) {
            Ok(n) if n > 0 => taken += n,
            _ => break,
        }
    }
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::new("/api", &["/sse", "/mcp"], 1024, 8)
    }

    #[test]
    fn classifies_from_the_first_bytes() {
        let r = rules();
        let d = |b: &[u8]| r.decide(b);
        assert_eq!(d(b""), None);
        assert_eq!(d(b"P"), None);
        assert_eq!(d(b"PRI * HTTP/2.0"), Some(First::H2));
        assert_eq!(d(b"PO"), Some(First::H1));
        assert_eq!(d(b"GE"), None);
        assert_eq!(d(b"GET /api/ss"), None);
        assert_eq!(d(b"GET /api/sse"), None);
        assert_eq!(d(b"GET /api/sse HTTP/1.1\r\n"), Some(First::EventStream));
        assert_eq!(d(b"GET /api/mcp?x=1 HTTP/1.1"), Some(First::EventStream));
        assert_eq!(d(b"GET /api/sse2 HTTP/1.1"), Some(First::H1));
        assert_eq!(d(b"GET /sse HTTP/1.1"), Some(First::H1));
        assert_eq!(d(b"GET /api/health HTTP/1.1"), Some(First::H1));
        assert_eq!(d(b"HEAD /api/sse HTTP/1.1"), Some(First::H1));
        assert_eq!(d(b"POST /api/mcp HTTP/1.1"), Some(First::H1));
        // A full peek always decides.
        assert_eq!(
            d(&b"GET /api/ssexxxxxxxxxxxx"[..r.peek_len]),
            Some(First::H1)
        );
    }

    fn parse(head: &[u8]) -> Option<Box<Request<RequestBody>>> {
        match super::parse(head, 8) {
            Parsed::Complete(req) => req,
            _ => panic!("not a complete head"),
        }
    }

    #[test]
    fn only_bodyless_http11_gets_are_taken() {
        let req =
            parse(b"GET /sse?a=1 HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\n\r\n").unwrap();
        assert_eq!(req.uri(), "/sse?a=1");
        assert_eq!(req.version(), Version::HTTP_11);
        assert_eq!(req.headers().get_all("accept").iter().count(), 2);
        assert!(parse(b"GET /sse HTTP/1.0\r\nHost: x\r\n\r\n").is_none());
        assert!(parse(b"GET /sse HTTP/1.1\r\nContent-Length: 0\r\n\r\n").is_none());
        assert!(parse(b"GET /sse HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").is_none());
    }

    #[test]
    fn heads_and_frames() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        let out = String::from_utf8(head(StatusCode::OK, &h, Framing::Chunked)).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"));
        assert!(out.contains("\r\nconnection: close\r\ntransfer-encoding: chunked\r\ndate: "));
        assert!(out.ends_with("GMT\r\n\r\n"));
        let out = String::from_utf8(head(StatusCode::NOT_FOUND, &h, Framing::Length(3))).unwrap();
        assert!(out.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(out.contains("\r\ncontent-length: 3\r\n"));
        let mut out = Vec::new();
        push(&mut out, b"", Framing::Chunked);
        assert!(out.is_empty(), "an empty chunk would end the body");
        push(&mut out, &[b'x'; 26], Framing::Chunked);
        assert_eq!(&out[..4], b"1a\r\n");
        assert_eq!(&out[30..], b"\r\n");
        let mut line = [0u8; 18];
        for len in [1usize, 9, 10, 15, 16, 255, 256, 4096, 0xabcdef, usize::MAX] {
            let n = chunk_size_line(&mut line, len);
            assert_eq!(line[..n], *format!("{len:x}\r\n").as_bytes(), "{len}");
        }
    }
}
