//! The accept loop, request routing and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use mcp_core::Server;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::body::ResponseBody;
use crate::config::{ShutdownSignal, SseConfig};
use crate::error::{SseError, plain};
use crate::security::Policy;
use crate::sessions::SessionTable;

/// State shared by every connection of one running server.
pub(crate) struct App {
    pub(crate) server: Server,
    pub(crate) config: SseConfig,
    pub(crate) policy: Policy,
    pub(crate) sessions: SessionTable,
    pub(crate) shutting_down: AtomicBool,
}

/// A running server: its address, its sessions, and how to stop it.
#[derive(Debug)]
pub struct SseHandle {
    local_addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
    app: Arc<AppDebug>,
}

/// Read-only view of the shared state for [`SseHandle`].
struct AppDebug(Arc<App>);
impl std::fmt::Debug for AppDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl SseHandle {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<addr><prefix>/sse`, the URL clients connect to.
    pub fn sse_url(&self) -> String {
        let c = &self.app.0.config;
        format!("http://{}{}", self.local_addr, c.full_path(&c.sse_path))
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.app.0.sessions.len()
    }

    /// Starts graceful shutdown and waits for it to finish (bounded by the shutdown timeout).
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Waits until the server stops (after its shutdown signal).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SseHandle {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.stop.cancel();
        }
    }
}

/// Serves every item registered on a default server over HTTP+SSE at `addr` until Ctrl-C or
/// SIGTERM. The server is named after the executable.
pub async fn serve_sse(addr: impl Into<SocketAddr>) -> Result<(), SseError> {
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mcp-server".into());
    let server = Server::builder(name, env!("CARGO_PKG_VERSION")).build()?;
    let handle = crate::SseServer::builder(server)
        .bind(addr.into())
        .with_os_signals()
        .serve()
        .await?;
    tracing::info!(target: "mcp::sse", url = %handle.sse_url(), "serving");
    handle.wait().await;
    Ok(())
}

async fn os_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub(crate) async fn serve(
    server: Server,
    config: SseConfig,
    signal: Option<ShutdownSignal>,
    os_signals: bool,
) -> Result<SseHandle, SseError> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| SseError::Bind {
            addr: config.bind,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| SseError::Bind {
        addr: config.bind,
        source,
    })?;
    if !local_addr.ip().is_loopback() && config.allowed_hosts.is_none() && config.auth.is_none() {
        tracing::warn!(target: "mcp::sse", %local_addr,
            "bound to a non-loopback address without a Host allow-list or authentication");
    }
    let app = Arc::new(App {
        policy: Policy::new(&config, local_addr),
        sessions: SessionTable::new(config.max_sessions),
        server,
        config,
        shutting_down: AtomicBool::new(false),
    });
    let stop = CancellationToken::new();
    if let Some(sig) = signal {
        let s = stop.clone();
        tokio::spawn(async move {
            sig.await;
            s.cancel();
        });
    }
    if os_signals {
        let s = stop.clone();
        tokio::spawn(async move {
            os_signal().await;
            s.cancel();
        });
    }
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, app.clone(), stop.clone(), ready_tx));
    let _ = ready_rx.await;
    Ok(SseHandle {
        local_addr,
        stop,
        task: Some(task),
        app: Arc::new(AppDebug(app)),
    })
}

async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    stop: CancellationToken,
    ready: oneshot::Sender<()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(app.config.header_read_timeout)
        .max_buf_size(app.config.max_header_bytes)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024);
    let graceful = GracefulShutdown::new();
    let conns = Arc::new(Semaphore::new(app.config.max_connections));
    let _ = ready.send(());
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => break,
            p = conns.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(target: "mcp::sse", error = %e, "accept failed; backing off");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let kill = CancellationToken::new();
        let svc_app = app.clone();
        let svc_kill = kill.clone();
        let svc = service_fn(move |req| {
            let app = svc_app.clone();
            let kill = svc_kill.clone();
            async move { Ok::<_, Infallible>(route(app, req, kill).await) }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        let span = tracing::debug_span!(target: "mcp::sse", "connection", %peer);
        tokio::spawn(
            async move {
                tokio::select! {
                    r = conn => if let Err(e) = r {
                        tracing::debug!(target: "mcp::sse", error = %e, "connection error");
                    },
                    _ = kill.cancelled() => tracing::debug!(target: "mcp::sse", "connection dropped"),
                }
                drop(permit);
            }
            .instrument(span),
        );
    }
    drop(listener);
    shutdown(app, graceful).await;
}

/// Stop accepting (done by the caller), refuse new messages, let in-flight handlers finish
/// (their answers still go out on the open streams), end every SSE stream, then drain the
/// connections; the whole sequence is bounded by the shutdown timeout.
async fn shutdown(app: Arc<App>, graceful: GracefulShutdown) {
    tracing::info!(target: "mcp::sse", "shutting down");
    let deadline = tokio::time::Instant::now() + app.config.shutdown_timeout;
    app.shutting_down.store(true, Ordering::SeqCst);
    app.sessions.handlers.close();
    if tokio::time::timeout_at(deadline, app.sessions.handlers.wait())
        .await
        .is_err()
    {
        tracing::warn!(target: "mcp::sse", "in-flight handlers did not finish before the deadline");
    }
    app.sessions.end_all();
    if tokio::time::timeout_at(deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "mcp::sse", "connections did not close before the deadline");
    }
    tracing::info!(target: "mcp::sse", "stopped");
}

async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    connection: CancellationToken,
) -> Response<ResponseBody> {
    let headers = req.headers().clone();
    if let Err(res) = app.policy.check_request(&headers, req.uri().host()) {
        return *res;
    }
    let mut res = route_inner(&app, req, connection).await;
    app.policy.decorate(&headers, &mut res);
    res
}

async fn route_inner(
    app: &Arc<App>,
    req: Request<Incoming>,
    connection: CancellationToken,
) -> Response<ResponseBody> {
    let c = &app.config;
    let Some(path) = req.uri().path().strip_prefix(c.mount_prefix.as_str()) else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let known = path == c.sse_path || path == c.messages_path || path == c.health_path;
    if !known {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if req.method() == Method::OPTIONS {
        return app.policy.preflight(req.headers());
    }
    if path == c.health_path {
        return match *req.method() {
            Method::GET | Method::HEAD => crate::health::health(app),
            _ => not_allowed("GET, HEAD, OPTIONS"),
        };
    }
    if app.shutting_down.load(Ordering::SeqCst) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down\n");
    }
    let expected = if path == c.sse_path {
        Method::GET
    } else {
        Method::POST
    };
    if req.method() != expected {
        return not_allowed(if expected == Method::GET {
            "GET, OPTIONS"
        } else {
            "POST, OPTIONS"
        });
    }
    let credential = match app.policy.authenticate(req.headers()) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    if path == c.sse_path {
        crate::legacy::open_stream(app, credential, connection)
    } else {
        crate::legacy::post_message(app, req, credential).await
    }
}

fn not_allowed(allow: &'static str) -> Response<ResponseBody> {
    let mut res = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}
