//! Request routing: guard, mount prefix, preflight, health, authentication, then the transport.

use std::convert::Infallible;
use std::sync::Arc;

use crate::body::RequestBody;
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use mcp_core::Caller;

use crate::conn::{Conn, Kill};
use crate::fields::{section_size, single};
use crate::response::{Body, empty, full, method_not_allowed, text, unauthorized};
use crate::security::{Guard, HostRef, Refusal, authenticate, exposed_headers, split_host_port};
use crate::shared::Shared;

/// Strips the mount prefix; `None` when the path is outside it.
fn local_path<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// Handles one HTTP request of a connection the server accepted itself.
///
/// The request is split once, before the future is built: its head is held here and lent
/// to every layer below, so the future holds one copy of it rather than one per layer.
pub(crate) fn handle(
    conn: Arc<Conn>,
    req: Request<hyper::body::Incoming>,
) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send {
    let (parts, body) = req.into_parts();
    let body = RequestBody::hyper(body);
    async move {
        let mut resp =
            answer_parts(&conn.shared, Some(&conn.kill), Paths::Full, &parts, body).await;
        answer_in_request_map(parts, &mut resp);
        Ok(resp)
    }
}

/// The most header entries a request's map may have room for to carry the response (below).
const REUSED_MAP_ENTRIES: usize = 24;

/// Moves the response's headers into the request's map, emptied, when that one has more
/// room. hyper reads a connection's next request head into the map of the response it last
/// wrote, growing it (two allocations, of 1 KiB and more) whenever the request has more
/// header fields than the map has room for, which a response built from an empty map has for
/// six. Answered in the request's map, the map goes round from request to response to the
/// next request of the same size, grown once per connection. A map with room for more than
/// [`REUSED_MAP_ENTRIES`] is left to be freed, so an idle connection keeps no more than that.
/// Over HTTP/2 nothing reads a request into a response's map, so nothing is moved.
fn answer_in_request_map(request: Parts, resp: &mut Response<Body>) {
    if request.version >= http::Version::HTTP_2 {
        return;
    }
    let mut request = request.headers;
    let headers = resp.headers_mut();
    if request.capacity() <= headers.capacity() || request.capacity() > REUSED_MAP_ENTRIES {
        return;
    }
    request.clear();
    request.extend(std::mem::take(headers));
    *headers = request;
}

/// Whether request paths still carry the mount prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paths {
    /// They do: the prefix is stripped here (and a path outside it is 404).
    Full,
    /// The application's router stripped it already; URLs sent to clients still carry it.
    Stripped,
}

/// Handles one HTTP request. `kill` drops the request's connection (only when the server
/// owns its connections).
pub(crate) fn answer<'a>(
    shared: &'a Arc<Shared>,
    kill: Option<&'a Arc<Kill>>,
    paths: Paths,
    req: Request<RequestBody>,
) -> impl Future<Output = Response<Body>> + Send + 'a {
    let (parts, body) = req.into_parts();
    async move {
        let mut resp = answer_parts(shared, kill, paths, &parts, body).await;
        answer_in_request_map(parts, &mut resp);
        resp
    }
}

/// [`answer`] for a request split into its head and body.
async fn answer_parts(
    shared: &Arc<Shared>,
    kill: Option<&Arc<Kill>>,
    paths: Paths,
    parts: &Parts,
    body: RequestBody,
) -> Response<Body> {
    // CORS headers go on every answer to a configured CORS origin, errors included, so
    // browser clients can read them.
    let cors_origin = shared.guard.cors_origin(&parts.headers);
    let mut resp = route(shared, kill, paths, parts, body).await;
    if let Some(origin) = cors_origin {
        Guard::cors_headers(origin, resp.headers_mut());
    }
    resp
}

#[allow(clippy::result_large_err)] // the error is the response to send, on the rare path
/// The checks of the request head every endpoint shares: the header section within its
/// limits (431), and exactly one valid `Host` (400, RFC 9112 §3.2; HTTP/2 may carry it as
/// `:authority` instead). Returns the host, parsed once for the checks that follow (`None`:
/// an `:authority` that is not a `host[:port]`).
fn check_head<'r>(
    cfg: &crate::Config,
    req: &'r Parts,
) -> Result<Option<HostRef<'r>>, Response<Body>> {
    let headers = &req.headers;
    if headers.len() > cfg.max_headers {
        return Err(text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("too many header fields: the limit is {}", cfg.max_headers),
        ));
    }
    if section_size(headers) > cfg.max_header_bytes {
        return Err(text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!(
                "header fields too large: the limit is {} bytes of names and values",
                cfg.max_header_bytes
            ),
        ));
    }
    match single(headers, header::HOST) {
        Err(_) => Err(text(
            StatusCode::BAD_REQUEST,
            "Host header given more than once",
        )),
        Ok(Some(host)) => match host.to_str().ok().and_then(split_host_port) {
            Some(host) => Ok(Some(host)),
            None => Err(text(StatusCode::BAD_REQUEST, "invalid Host header")),
        },
        Ok(None) => match req.uri.authority() {
            Some(authority) => Ok(split_host_port(authority.as_str())),
            None => Err(text(StatusCode::BAD_REQUEST, "missing Host header")),
        },
    }
}

async fn route(
    shared: &Arc<Shared>,
    kill: Option<&Arc<Kill>>,
    paths: Paths,
    req: &Parts,
    body: RequestBody,
) -> Response<Body> {
    let cfg = &shared.config;
    let host = match check_head(cfg, req) {
        Ok(host) => host,
        Err(r) => return r,
    };
    let headers = &req.headers;
    if let Err(refusal) = shared.guard.check(host, headers) {
        tracing::warn!(target: "mcp::sse", ?refusal, "request refused by DNS-rebinding protection");
        let msg = match refusal {
            Refusal::Host => "forbidden: Host header not allowed",
            Refusal::Origin => "forbidden: Origin not allowed",
        };
        return text(StatusCode::FORBIDDEN, msg);
    }
    if req.method == Method::OPTIONS {
        // Preflight for any path, the metadata document (outside a mount prefix) included.
        return preflight(shared, headers);
    }
    #[cfg(feature = "oauth")]
    if let Some(oauth) = &cfg.oauth
        && let Some(r) = crate::oauth::route::metadata(oauth, &cfg.prefix, &cfg.mcp_path, req)
    {
        return r;
    }
    let prefix = match paths {
        Paths::Full => cfg.prefix.as_str(),
        Paths::Stripped => "",
    };
    let Some(path) = local_path(prefix, req.uri.path()) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    if path == cfg.health_path {
        return if req.method == Method::GET {
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
    if shared.streams_stop.is_cancelled() {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down: retry on another instance or later",
        );
    }
    #[cfg(feature = "oauth")]
    let authenticated = match &cfg.oauth {
        Some(oauth) => crate::oauth::route::authenticate(oauth, req).await,
        None => authenticate(&cfg.auth, &req.headers)
            .await
            .ok_or_else(unauthorized),
    };
    #[cfg(not(feature = "oauth"))]
    let authenticated = authenticate(&cfg.auth, &req.headers)
        .await
        .ok_or_else(unauthorized);
    let auth = match authenticated {
        Ok(a) => a,
        Err(r) => return r,
    };
    let identity = auth.identity;
    let mut caller = Caller::new();
    if let Some(p) = auth.principal {
        caller = caller.with_identity(p);
    }
    if !shared.exposed_headers.is_empty() {
        caller = caller.with_headers(exposed_headers(&shared.exposed_headers, &req.headers));
    }
    if is_mcp {
        return crate::streamable::handle(shared, identity, &caller, req, body).await;
    }
    match (is_sse, &req.method) {
        (true, &Method::GET) => {
            // Only an HTTP/1 connection is the session's own to drop.
            let own = kill
                .filter(|_| req.version < http::Version::HTTP_2)
                .cloned();
            crate::legacy::open_stream(shared, own, identity).await
        }
        (true, _) => method_not_allowed("GET"),
        (false, &Method::POST) => {
            crate::legacy::post_message(shared, identity, &caller, req, body).await
        }
        (false, _) => method_not_allowed("POST"),
    }
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
    const ALLOWED: &str = "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";
    // A tool's mirrored parameters travel in `Mcp-Param-*` headers named by the tool.
    let allowed = match crate::stateless::requested_param_headers(headers) {
        Some(params) => HeaderValue::from_str(&format!("{ALLOWED}, {params}"))
            .unwrap_or(HeaderValue::from_static(ALLOWED)),
        None => HeaderValue::from_static(ALLOWED),
    };
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

fn health(shared: &Shared) -> Response<Body> {
    let info = shared.server.info();
    #[allow(unused_mut)]
    let mut body = serde_json::json!({
        "status": "ok",
        "name": info.name,
        "version": info.version,
        "sessions": shared.sessions.len(),
    });
    // In cluster mode: which instance answered, and whether the others can reach it.
    #[cfg(feature = "cluster")]
    if let Some(c) = &shared.cluster {
        body["instance"] = c.instance().into();
        body["cluster"] = if c.is_connected() {
            "connected"
        } else {
            "disconnected"
        }
        .into();
    }
    let mut r = Response::new(full(body.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    /// The size of the future `f` returns, without calling it.
    fn future_size<A, B, F: Future>(_: impl Fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// hyper boxes each request's future and moves it while it runs: the request is held
    /// once and lent to the layers below, not moved into each of them (which took 3,728
    /// bytes without the optional features).
    #[test]
    fn the_request_future_holds_the_request_once() {
        let n = future_size(super::handle);
        let limit = if cfg!(any(feature = "oauth", feature = "cluster")) {
            2_560
        } else {
            2_048
        };
        assert!(
            n <= limit,
            "a request's future takes {n} bytes (limit {limit})"
        );
    }

    /// A response answered in the request's map carries the same headers in the same order,
    /// every value of a repeated one; a map with too much room is left alone.
    #[test]
    fn a_response_in_the_request_map_keeps_its_headers() {
        use http::{HeaderMap, HeaderValue, header};
        let response = || {
            let mut r = http::Response::new(super::full(bytes::Bytes::from_static(b"{}")));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.append(header::VARY, HeaderValue::from_static("Origin"));
            h.append(header::VARY, HeaderValue::from_static("Accept"));
            h.insert("mcp-session-id", HeaderValue::from_static("s"));
            r
        };
        let lines = |h: &HeaderMap| -> Vec<(String, String)> {
            h.iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect()
        };
        let request = |fields: usize| {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            for i in 0..fields {
                parts.headers.insert(
                    http::HeaderName::from_bytes(format!("x-field-{i}").as_bytes()).unwrap(),
                    HeaderValue::from_static("v"),
                );
            }
            parts
        };
        let expected = lines(response().headers());
        let req = request(10);
        let room = req.headers.capacity();
        let mut r = response();
        super::answer_in_request_map(req, &mut r);
        assert_eq!(lines(r.headers()), expected);
        assert_eq!(r.headers().capacity(), room);

        let req = request(40);
        let mut r = response();
        let before = r.headers().capacity();
        super::answer_in_request_map(req, &mut r);
        assert_eq!(lines(r.headers()), expected);
        assert_eq!(r.headers().capacity(), before);

        // Over HTTP/2 the response keeps its own map.
        let mut req = request(10);
        req.version = http::Version::HTTP_2;
        let mut r = response();
        super::answer_in_request_map(req, &mut r);
        assert_eq!(lines(r.headers()), expected);
        assert_eq!(r.headers().capacity(), before);
    }
}
