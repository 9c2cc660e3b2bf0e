//! Response body type and bounded request-body reading.

use std::convert::Infallible;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

/// The body type of every response the transports send.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// A complete body.
pub(crate) fn full(bytes: Bytes) -> ResponseBody {
    Full::new(bytes).boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> ResponseBody {
    full(Bytes::new())
}

/// Why a request body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the limit (declared or counted): 413.
    TooLarge,
    /// Not complete within the body read timeout: 408.
    Timeout,
    /// The connection failed while reading: 400.
    Aborted,
}

impl BodyError {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Timeout => StatusCode::REQUEST_TIMEOUT,
            BodyError::Aborted => StatusCode::BAD_REQUEST,
        }
    }
    pub(crate) fn message(self) -> &'static str {
        match self {
            BodyError::TooLarge => "request body exceeds the configured limit\n",
            BodyError::Timeout => "request body not received within the read timeout\n",
            BodyError::Aborted => "request body could not be read\n",
        }
    }
}

/// Refuses up front (without reading) when `Content-Length` declares more than `limit`.
pub(crate) fn precheck(headers: &HeaderMap, limit: usize) -> Result<(), BodyError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(()),
        Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(n) if n <= limit as u64 => Ok(()),
            Some(_) => Err(BodyError::TooLarge),
            None => Err(BodyError::Aborted),
        },
    }
}

/// Reads the whole body, counting as it goes (chunked bodies have no declared length), and
/// stops at `limit` bytes or when `timeout` passes.
pub(crate) async fn read_bounded(
    body: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let read = async move {
        let mut body = body;
        let mut buf = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Aborted)?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(BodyError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn precheck_compares_the_declared_length() {
        let mut h = HeaderMap::new();
        assert_eq!(precheck(&h, 10), Ok(()));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert_eq!(precheck(&h, 10), Ok(()));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert_eq!(precheck(&h, 10), Err(BodyError::TooLarge));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("x"));
        assert_eq!(precheck(&h, 10), Err(BodyError::Aborted));
    }
}
