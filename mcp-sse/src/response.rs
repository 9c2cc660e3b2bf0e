//! The responses every endpoint shares: the body type, plain-text and JSON-RPC errors, and the
//! headers of an event stream.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use mcp_core::jsonrpc::{self, ErrorObject};

/// The response body type of every endpoint.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A body holding `body` whole.
pub(crate) fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// An empty body. `Empty` has no size, so boxing it allocates nothing.
pub(crate) fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// An empty response with `status`.
pub(crate) fn status(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(empty());
    *r.status_mut() = status;
    r
}

/// A plain-text error response.
pub(crate) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A JSON body with status 200.
pub(crate) fn json(body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A JSON-RPC error response body with an HTTP status.
pub(crate) fn rpc_error(
    status: StatusCode,
    id: Option<&jsonrpc::RequestId>,
    error: &ErrorObject,
) -> Response<Body> {
    let mut r = json(jsonrpc::error_bytes(id, error));
    *r.status_mut() = status;
    r
}

/// 400 with a JSON-RPC "invalid request" error carrying `msg`.
pub(crate) fn bad_request(msg: &str) -> Response<Body> {
    rpc_error(
        StatusCode::BAD_REQUEST,
        None,
        &mcp_core::McpError::invalid_request(msg).into_error_object(),
    )
}

/// 401 with the bearer challenge.
pub(crate) fn unauthorized() -> Response<Body> {
    let mut r = text(
        StatusCode::UNAUTHORIZED,
        "missing or invalid bearer token: send Authorization: Bearer <token>",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"mcp\""),
    );
    r
}

/// 405 naming the allowed methods.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// 503 for a new session past the session cap.
pub(crate) fn too_many_sessions() -> Response<Body> {
    let mut r = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many open sessions; try again later",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// A `text/event-stream` response carrying `body`, with the headers that keep proxies from
/// buffering or caching it.
pub(crate) fn event_stream(body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}
