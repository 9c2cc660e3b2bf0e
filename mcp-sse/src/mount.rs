//! The MCP endpoints as a [`tower_service::Service`], for mounting in an application's own
//! HTTP server (hyper, axum, or anything that speaks `http` and `http-body`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use crate::config::Builder;
use crate::error::ServeError;
use crate::service::{Paths, answer};
use crate::shared::Shared;

/// The response body of [`McpService`]: whole bodies and event streams, boxed.
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// Every MCP endpoint of one server (Streamable HTTP, HTTP+SSE, health, the OAuth metadata
/// document when OAuth is on) with its security checks and limits, as a
/// [`tower_service::Service`] over [`http::Request<B>`] for any body `B` (hyper's `Incoming`,
/// axum's `Body`, ...). Built by [`Builder::into_service`]; cheap to clone, every clone serves
/// the same sessions.
///
/// The application keeps its own listener, TLS and connection handling. Requests are routed by
/// path under the builder's [`prefix`](Builder::mount_prefix); any other path is answered 404, so
/// the service also works as a router's fallback. When the router strips the prefix itself
/// (axum's `Router::nest_service`), use [`McpService::nested`]. Either way the URLs sent to
/// clients (the HTTP+SSE `endpoint` event) carry the prefix.
///
/// Host and Origin are checked as when serving: by default only loopback names are allowed,
/// because the default [`bind`](Builder::bind) address is loopback; an application reachable
/// under another name lists it with [`Builder::allowed_hosts`]. With OAuth, set the resource
/// URL explicitly ([`crate::oauth::OAuthBuilder::resource`]): the service does not know the
/// application's address.
///
/// At shutdown, call [`McpService::shutdown`] before (or while) the application drains its
/// connections: event streams are long-lived and only end when the service ends them.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use http_body_util::{BodyExt, Empty};
/// use tower_service::Service;
///
/// let server = mcp_core::Server::builder("demo", "1.0").auto_collect(false).build().unwrap();
/// let mut mcp = mcp_sse::SseServer::builder(server)
///     .mount_prefix("/mcp-api")
///     .into_service()
///     .await
///     .unwrap();
/// let req = http::Request::get("/mcp-api/health")
///     .header("host", "localhost")
///     .body(Empty::<bytes::Bytes>::new())
///     .unwrap();
/// let resp = mcp.call(req).await.unwrap();
/// assert_eq!(resp.status(), 200);
/// let body = resp.into_body().collect().await.unwrap().to_bytes();
/// assert!(std::str::from_utf8(&body).unwrap().contains("\"name\":\"demo\""));
/// mcp.shutdown().await;
/// # });
/// ```
#[derive(Clone)]
pub struct McpService {
    shared: Arc<Shared>,
    paths: Paths,
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpService")
            .field("prefix", &self.shared.config.prefix)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The endpoints as a service to mount in an application's own HTTP server, instead of
    /// [`Builder::serve`] binding a listener. Checks the settings and runs the server's start-up
    /// hooks ([`mcp_core::ServerBuilder::on_startup`]); a failing hook is returned as
    /// [`ServeError::Startup`]. The bind address is not bound: it only decides the Host and
    /// Origin defaults. See [`McpService`].
    pub async fn into_service(mut self) -> Result<McpService, ServeError> {
        let exposed = self.prepare().await?;
        let server = self.server.clone();
        let addr = self.config.addr;
        match self.into_shared(addr, exposed, None) {
            Ok(shared) => Ok(McpService {
                shared,
                paths: Paths::Full,
            }),
            Err(e) => {
                server.shutdown().await;
                Err(e)
            }
        }
    }
}

impl McpService {
    /// The service for a router that strips the mount prefix before calling it (axum's
    /// `Router::nest_service("/mcp-api", mcp.nested())`): it answers `/sse`, `/mcp`, ... and
    /// still announces URLs under the prefix. The OAuth metadata document lives outside the
    /// prefix, so with OAuth route it to the full-path service as well (e.g. as the fallback).
    pub fn nested(mut self) -> Self {
        self.paths = Paths::Stripped;
        self
    }

    /// The path of the HTTP+SSE endpoint, prefix included (`/mcp-api/sse`).
    pub fn sse_path(&self) -> String {
        let c = &self.shared.config;
        format!("{}{}", c.prefix, c.sse_path)
    }

    /// The path of the Streamable HTTP endpoint, prefix included (`/mcp-api/mcp`).
    pub fn mcp_path(&self) -> String {
        let c = &self.shared.config;
        format!("{}{}", c.prefix, c.mcp_path)
    }

    /// The number of live sessions (both transports).
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// Shuts the MCP endpoints down gracefully: open `subscriptions/listen` streams end with
    /// their result, in-flight requests finish (within [`Builder::shutdown_grace`]), then every
    /// event stream ends and every session closes, and the server's shutdown hooks run
    /// ([`mcp_core::ServerBuilder::on_shutdown`], once). Requests arriving afterwards are
    /// answered 503. Call it from the application's graceful-shutdown signal, so the
    /// connections carrying event streams can finish; calling it again does nothing more.
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            crate::server::drain(&shared).await;
            shared.server.shutdown().await;
        }
    }
}

impl<B> tower_service::Service<Request<B>> for McpService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        let paths = self.paths;
        let req = req.map(crate::body::RequestBody::new);
        Box::pin(async move { Ok(answer(&shared, None, paths, req).await) })
    }
}
