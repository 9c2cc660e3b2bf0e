//! Reading request bodies within a size limit and a time limit.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{Response, StatusCode, header};
use http_body::Body as _;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use mcp_core::jsonrpc;

use crate::response::{Body, rpc_error, text};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body every endpoint reads: hyper's own (as it is, on the connections the
/// server accepted itself), or any body an application's server hands to the mounted service,
/// boxed once. The mutex makes it `Sync` (so a request may be borrowed across an await)
/// without a cost: polling reaches it through `&mut`, unlocked.
pub(crate) struct RequestBody(std::sync::Mutex<Inner>);

enum Inner {
    /// hyper's body: no box.
    Hyper(hyper::body::Incoming),
    /// Any other body.
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl RequestBody {
    /// Boxes `body`, its chunks as [`Bytes`] (without a copy when they are already).
    pub(crate) fn new<B>(body: B) -> Self
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        RequestBody(std::sync::Mutex::new(Inner::Boxed(
            body.map_frame(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))
                .map_err(Into::into)
                .boxed_unsync(),
        )))
    }

    /// hyper's body, unboxed.
    pub(crate) fn hyper(body: hyper::body::Incoming) -> Self {
        RequestBody(std::sync::Mutex::new(Inner::Hyper(body)))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        use std::pin::Pin;
        use std::task::Poll;
        let inner = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        match inner {
            Inner::Hyper(b) => match Pin::new(b).poll_frame(cx) {
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Inner::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &*self.inner() {
            Inner::Hyper(b) => b.is_end_stream(),
            Inner::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &*self.inner() {
            Inner::Hyper(b) => b.size_hint(),
            Inner::Boxed(b) => b.size_hint(),
        }
    }
}
use crate::shared::Shared;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit (413).
    TooLarge,
    /// Not finished in time (408).
    Timeout,
    /// The connection failed while reading (400).
    Broken,
}

/// Reads the whole body, refusing before reading when `Content-Length` is over `limit`, and
/// stopping as soon as the bytes read pass it. A body that arrives in one chunk is returned
/// as that chunk, without a copy; a body that is all there when the read starts arms no
/// timer.
pub(crate) async fn read_limited(
    body: &mut RequestBody,
    content_length: Option<u64>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        // The first chunk, kept as it is until a second one comes.
        let mut first = Bytes::new();
        let mut buf: Option<BytesMut> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let len = buf.as_ref().map_or(first.len(), BytesMut::len);
            if len + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            match &mut buf {
                None if first.is_empty() => first = data,
                None => {
                    let room = content_length.map_or(2 * (len + data.len()), |n| n as usize);
                    let mut joined = BytesMut::with_capacity(room.max(len + data.len()));
                    joined.extend_from_slice(&first);
                    joined.extend_from_slice(&data);
                    first = Bytes::new();
                    buf = Some(joined);
                }
                Some(b) => b.extend_from_slice(&data),
            }
        }
        Ok(buf.map_or(first, BytesMut::freeze))
    };
    let mut read = std::pin::pin!(read);
    // The body is usually all there: no timer is armed for it then.
    if let Some(done) = futures_util::FutureExt::now_or_never(read.as_mut()) {
        return done;
    }
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(BodyError::Timeout))
}

/// Reads and throws away what is left of a refused body, up to `max` bytes within `timeout`,
/// so the client finishes sending and reads the answer (a close with unread bytes would
/// reset the connection under it). Past either bound the connection is closed.
fn discard(mut body: RequestBody, max: usize, timeout: Duration) {
    if max == 0 || body.is_end_stream() {
        return;
    }
    tokio::spawn(async move {
        let drain = async {
            let mut seen = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    seen += data.len();
                    if seen > max {
                        return;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(timeout, drain).await;
    });
}

/// 413; over HTTP/1 the connection closes after it.
fn too_large(limit: usize, version: http::Version) -> Response<Body> {
    let mut r = text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("request body exceeds the limit of {limit} bytes"),
    );
    if version <= http::Version::HTTP_11 {
        r.headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    r
}

/// Reads a POSTed JSON-RPC body for either transport: the content type must be JSON (415),
/// the body within the size and time limits (413, 408), the JSON a JSON-RPC message or batch
/// (400 with the JSON-RPC error), and, on an OAuth resource server, every tool it calls one the
/// caller's scopes allow (403 `insufficient_scope`). The message comes with the body's length;
/// the error is the response to send.
///
/// A body over the limit is answered 413 and the rest of it is read and discarded (up to
/// [`crate::Builder::max_discard_bytes`]; a `Content-Length` past the limit plus that is not
/// waited for). With `Expect: 100-continue` and a `Content-Length` over the limit nothing is
/// read: the client is told before it sends the body.
pub(crate) async fn read_rpc(
    shared: &Shared,
    caller: &mcp_core::Caller,
    parts: &http::request::Parts,
    body: RequestBody,
) -> Result<(jsonrpc::Incoming, usize), Response<Body>> {
    read_rpc_raw(shared, caller, parts, body)
        .await
        .map(|(bytes, m)| (m, bytes.len()))
}

/// [`read_rpc`], returning the body's bytes (to forward them to another instance).
pub(crate) async fn read_rpc_raw(
    shared: &Shared,
    caller: &mcp_core::Caller,
    parts: &http::request::Parts,
    body: RequestBody,
) -> Result<(Bytes, jsonrpc::Incoming), Response<Body>> {
    read_rpc_split(shared, caller, parts, body, false)
        .await
        .map(|(bytes, incoming, _)| (bytes, incoming))
}

/// [`read_rpc_raw`]; with `split`, a single request's `params._meta` comes out of its params
/// as text ([`jsonrpc::parse_stateless`], for the stateless revision).
pub(crate) async fn read_rpc_split(
    shared: &Shared,
    caller: &mcp_core::Caller,
    parts: &http::request::Parts,
    mut body: RequestBody,
    split: bool,
) -> Result<
    (
        Bytes,
        jsonrpc::Incoming,
        Option<mcp_core::envelope::RequestMeta>,
    ),
    Response<Body>,
> {
    let cfg = &shared.config;
    let headers = &parts.headers;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ));
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let read = read_limited(&mut body, length, cfg.max_body, cfg.body_timeout).await;
    if read == Err(BodyError::TooLarge) {
        // Told before sending (100-continue), or declared longer than could be discarded:
        // nothing to wait for, the connection closes after the answer.
        let wait_for_body = match length {
            Some(n) => {
                !expects_continue && n <= cfg.max_body.saturating_add(cfg.max_discard) as u64
            }
            None => true,
        };
        if wait_for_body {
            discard(body, cfg.max_discard, cfg.body_timeout);
        }
        return Err(too_large(cfg.max_body, parts.version));
    }
    let bytes = read.map_err(|e| match e {
        BodyError::TooLarge => too_large(cfg.max_body, parts.version),
        BodyError::Timeout => text(
            StatusCode::REQUEST_TIMEOUT,
            "request body not received in time",
        ),
        BodyError::Broken => text(StatusCode::BAD_REQUEST, "request body could not be read"),
    })?;
    let (incoming, meta) = if split {
        parse_rpc_stateless(shared, &bytes)?
    } else {
        (parse_rpc(shared, &bytes)?, None)
    };
    #[cfg(feature = "oauth")]
    if let Some(oauth) = &cfg.oauth {
        crate::oauth::route::check_calls(oauth, &shared.server, caller, &incoming)?;
    }
    #[cfg(not(feature = "oauth"))]
    let _ = caller;
    Ok((bytes, incoming, meta))
}

/// Parses a JSON-RPC message or batch within the server's limits (400 with the JSON-RPC error).
#[allow(clippy::result_large_err)] // the error is the rare path's ready response
pub(crate) fn parse_rpc(
    shared: &Shared,
    bytes: &[u8],
) -> Result<jsonrpc::Incoming, Response<Body>> {
    let mut limits = shared.server.parse_limits();
    limits.max_bytes = limits.max_bytes.max(shared.config.max_body);
    jsonrpc::parse(bytes, &limits)
        .map_err(|e| rpc_error(StatusCode::BAD_REQUEST, e.id.as_ref(), &e.error))
}

/// [`parse_rpc`] for the stateless revision: a single request's `params._meta` comes out of
/// its params as text ([`jsonrpc::parse_stateless`]).
#[allow(clippy::result_large_err)] // the error is the rare path's ready response
fn parse_rpc_stateless(
    shared: &Shared,
    bytes: &Bytes,
) -> Result<(jsonrpc::Incoming, Option<mcp_core::envelope::RequestMeta>), Response<Body>> {
    let mut limits = shared.server.parse_limits();
    limits.max_bytes = limits.max_bytes.max(shared.config.max_body);
    jsonrpc::parse_stateless(bytes, &limits)
        .map_err(|e| rpc_error(StatusCode::BAD_REQUEST, e.id.as_ref(), &e.error))
}

/// Whether `session` takes a parsed body at all ([`mcp_core::Session::check_incoming`]): a
/// body it refuses as a whole (a batch on a revision without batches, `initialize` inside a
/// batch) is answered like one that did not parse, 400 with the JSON-RPC error, on both
/// transports; nothing of it runs.
#[allow(clippy::result_large_err)] // the error is the rare path's ready response
pub(crate) fn check_session(
    session: &mcp_core::Session,
    incoming: &jsonrpc::Incoming,
) -> Result<(), Response<Body>> {
    session
        .check_incoming(incoming)
        .map_err(|e| rpc_error(StatusCode::BAD_REQUEST, None, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Frame;
    use http_body_util::StreamBody;

    fn chunked(chunks: &[&'static [u8]]) -> RequestBody {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from_static(c))))
            .collect();
        RequestBody::new(StreamBody::new(futures_util::stream::iter(frames)))
    }

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn reads_one_chunk_or_many_within_the_limit() {
        let mut one = chunked(&[b"{\"a\":1}"]);
        assert_eq!(
            read_limited(&mut one, Some(7), 7, T).await.unwrap(),
            "{\"a\":1}"
        );
        let mut many = chunked(&[b"", b"{\"a\"", b"", b":1", b"}"]);
        assert_eq!(
            read_limited(&mut many, None, 7, T).await.unwrap(),
            "{\"a\":1}"
        );
        let mut declared = chunked(&[b"ab", b"cd", b"ef"]);
        assert_eq!(
            read_limited(&mut declared, Some(6), 6, T).await.unwrap(),
            "abcdef"
        );
        let mut none = chunked(&[]);
        assert_eq!(read_limited(&mut none, None, 6, T).await.unwrap(), "");
    }

    #[tokio::test]
    async fn refuses_past_the_limit() {
        let mut declared = chunked(&[b"abc"]);
        assert_eq!(
            read_limited(&mut declared, Some(8), 7, T).await,
            Err(BodyError::TooLarge)
        );
        let mut first = chunked(&[b"abcdefgh"]);
        assert_eq!(
            read_limited(&mut first, None, 7, T).await,
            Err(BodyError::TooLarge)
        );
        let mut later = chunked(&[b"abcd", b"efg", b"h"]);
        assert_eq!(
            read_limited(&mut later, None, 7, T).await,
            Err(BodyError::TooLarge)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_coming_times_out() {
        use futures_util::StreamExt;
        let first: Result<Frame<Bytes>, std::io::Error> = Ok(Frame::data(Bytes::from_static(b"{")));
        let stalled = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
        let mut body = RequestBody::new(StreamBody::new(stalled));
        assert_eq!(
            read_limited(&mut body, Some(10), 10, Duration::from_millis(200)).await,
            Err(BodyError::Timeout)
        );
    }
}
