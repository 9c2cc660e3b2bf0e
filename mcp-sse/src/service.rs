//! Request routing and the responses every endpoint shares (errors, CORS, health).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use mcp_core::jsonrpc::{self, ErrorObject};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::security::{Guard, Identity, Refusal, authenticate};
use crate::server::{Conn, Kill};
use crate::sessions::Sessions;

/// The response body type of every endpoint.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) server: mcp_core::Server,
    pub(crate) config: Config,
    pub(crate) guard: Guard,
    pub(crate) sessions: Sessions,
    /// Cancelled at shutdown: every Streamable HTTP stream ends (HTTP+SSE streams end when
    /// their sessions are closed).
    pub(crate) streams_stop: CancellationToken,
    /// Request handlers spawned from POSTs, awaited (bounded) at shutdown.
    pub(crate) tasks: TaskTracker,
}

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

/// A JSON-RPC error response body with an HTTP status.
pub(crate) fn rpc_error(
    status: StatusCode,
    id: Option<&jsonrpc::RequestId>,
    error: &ErrorObject,
) -> Response<Body> {
    let mut r = Response::new(full(jsonrpc::error_bytes(id, error)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn unauthorized() -> Response<Body> {
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

/// Strips the mount prefix; `None` when the path is outside it.
fn local_path<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// Handles one HTTP request.
pub(crate) async fn handle(
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let shared = &conn.shared;
    // CORS headers go on every answer to a configured CORS origin, errors included, so
    // browser clients can read them.
    let cors_origin = shared.guard.cors_origin(req.headers());
    let mut resp = route(shared, &conn.kill, req).await;
    if let Some(origin) = cors_origin {
        Guard::cors_headers(origin, resp.headers_mut());
    }
    Ok(resp)
}

async fn route(shared: &Arc<Shared>, kill: &Arc<Kill>, req: Request<Incoming>) -> Response<Body> {
    let cfg = &shared.config;
    let headers = req.headers();
    if let Err(refusal) = shared.guard.check(headers, req.uri()) {
        tracing::warn!(target: "mcp::sse", ?refusal, "request refused by DNS-rebinding protection");
        let msg = match refusal {
            Refusal::Host => "forbidden: Host header not allowed",
            Refusal::Origin => "forbidden: Origin not allowed",
        };
        return text(StatusCode::FORBIDDEN, msg);
    }
    let Some(path) = local_path(&cfg.prefix, req.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let path = path.to_owned();
    if req.method() == Method::OPTIONS {
        return preflight(shared, headers);
    }
    if path == cfg.health_path {
        return if req.method() == Method::GET {
            health(shared)
        } else {
            method_not_allowed("GET")
        };
    }
    let is_sse = path == cfg.sse_path;
    let is_messages = path == cfg.messages_path;
    let is_mcp = path == cfg.mcp_path;
    if !is_sse && !is_messages && !is_mcp {
        return text(StatusCode::NOT_FOUND, "not found");
    }
    let identity: Identity = match authenticate(&cfg.auth, req.headers()).await {
        Some(i) => i,
        None => return unauthorized(),
    };
    if is_mcp {
        return crate::streamable::handle(shared, identity, req).await;
    }
    match (is_sse, req.method()) {
        (true, &Method::GET) => crate::legacy::open_stream(shared, kill, identity),
        (true, _) => method_not_allowed("GET"),
        (false, &Method::POST) => crate::legacy::post_message(shared, identity, req).await,
        (false, _) => method_not_allowed("POST"),
    }
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn preflight(shared: &Shared, headers: &http::HeaderMap) -> Response<Body> {
    if !shared.guard.is_cors_origin(headers) {
        return method_not_allowed("GET, POST");
    }
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

fn health(shared: &Shared) -> Response<Body> {
    let info = shared.server.info();
    let body = serde_json::json!({
        "status": "ok",
        "name": info.name,
        "version": info.version,
        "sessions": shared.sessions.len(),
    });
    let mut r = Response::new(full(body.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Polls a request's work once here, and spawns it only if it has to wait: most calls finish
/// at once, and then no task is created for them. Used for Streamable HTTP POSTs, whose
/// response waits for the work anyway. The first poll uses a waker that does nothing; the
/// spawned task polls again at once and registers its own.
pub(crate) fn run_or_spawn<F>(shared: &Shared, fut: F)
where
    F: std::future::Future<Output = ()> + Send + Unpin + 'static,
{
    let mut fut = fut;
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    if std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending() {
        shared.tasks.spawn(fut);
    }
}

/// Reads a POSTed JSON-RPC body for either transport: the content type must be JSON (415),
/// the body within the size and time limits (413, 408), the JSON a JSON-RPC message or batch
/// (400 with the JSON-RPC error). The error is the response to send.
pub(crate) async fn read_rpc_body(
    shared: &Shared,
    headers: &http::HeaderMap,
    body: Incoming,
) -> Result<jsonrpc::Incoming, Response<Body>> {
    let cfg = &shared.config;
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
    let bytes = crate::body::read_limited(body, length, cfg.max_body, cfg.body_timeout)
        .await
        .map_err(|e| match e {
            crate::body::BodyError::TooLarge => text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body exceeds the limit of {} bytes", cfg.max_body),
            ),
            crate::body::BodyError::Timeout => text(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time",
            ),
            crate::body::BodyError::Broken => {
                text(StatusCode::BAD_REQUEST, "request body could not be read")
            }
        })?;
    let mut limits = shared.server.parse_limits();
    limits.max_bytes = limits.max_bytes.max(cfg.max_body);
    jsonrpc::parse(&bytes, &limits)
        .map_err(|e| rpc_error(StatusCode::BAD_REQUEST, e.id.as_ref(), &e.error))
}
