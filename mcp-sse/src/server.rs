//! The accept loop, per-connection tasks, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::Builder;
use crate::conn::{Conn, until_killed};
use crate::error::ServeError;
use crate::event_conn::{self, First, Head, Rules, classify, read_head};
use crate::rewind::Rewind;
use crate::security::Guard;
use crate::service::handle;
use crate::sessions::Sessions;
use crate::shared::Shared;

/// A running server: its address, and a way to stop it.
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: CancellationToken,
    done: oneshot::Receiver<()>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL of the SSE endpoint, e.g. `http://127.0.0.1:8000/sse`.
    pub fn sse_url(&self) -> String {
        let c = &self.shared.config;
        format!("http://{}{}{}", self.local_addr, c.prefix, c.sse_path)
    }

    /// The URL of the Streamable HTTP endpoint, e.g. `http://127.0.0.1:8000/mcp`.
    pub fn mcp_url(&self) -> String {
        let c = &self.shared.config;
        format!("http://{}{}{}", self.local_addr, c.prefix, c.mcp_path)
    }

    /// The number of live sessions (both transports).
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// The number of live sessions (both transports) as a [`watch::Receiver`], updated as
    /// sessions open and close: wait for a count rather than polling [`session_count`].
    ///
    /// ```no_run
    /// # async fn f(handle: mcp_sse::ServerHandle) {
    /// // Wait until every client has gone.
    /// let mut sessions = handle.watch_session_count();
    /// sessions.wait_for(|n| *n == 0).await.unwrap();
    /// # }
    /// ```
    ///
    /// [`watch::Receiver`]: tokio::sync::watch::Receiver
    /// [`session_count`]: ServerHandle::session_count
    pub fn watch_session_count(&self) -> tokio::sync::watch::Receiver<usize> {
        self.shared.sessions.watch_count()
    }

    /// Starts a graceful shutdown and waits for it to finish.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.done.await;
    }

    /// Waits until the server stops (after a shutdown signal).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

impl Builder {
    fn has_oauth(&self) -> bool {
        #[cfg(feature = "oauth")]
        return self.config.oauth.is_some();
        #[cfg(not(feature = "oauth"))]
        false
    }

    /// Checks the paths and the exposed headers, and runs the server's start-up hooks.
    pub(crate) async fn prepare(&mut self) -> Result<Vec<http::HeaderName>, ServeError> {
        for p in [
            &self.config.sse_path,
            &self.config.messages_path,
            &self.config.health_path,
            &self.config.mcp_path,
        ] {
            if !p.starts_with('/') {
                return Err(ServeError::InvalidPath {
                    path: p.clone(),
                    reason: "paths must start with '/'",
                });
            }
        }
        if !self.config.prefix.is_empty()
            && (!self.config.prefix.starts_with('/') || self.config.prefix.ends_with('/'))
        {
            return Err(ServeError::InvalidPath {
                path: self.config.prefix.clone(),
                reason: "a mount prefix starts with '/' and does not end with '/'",
            });
        }
        let exposed_headers = crate::security::exposed_header_names(&self.config.expose_headers)?;
        self.server.start().await?;
        Ok(exposed_headers)
    }

    /// The state every request shares, for a server reachable at `addr` (the bound address,
    /// or the configured one when mounted in an application); `default_resource` is the
    /// OAuth resource URL when none is configured. Starts the idle-session reaper.
    #[cfg_attr(not(feature = "oauth"), allow(unused_mut))]
    pub(crate) fn into_shared(
        mut self,
        addr: SocketAddr,
        exposed_headers: Vec<http::HeaderName>,
        default_resource: Option<String>,
    ) -> Result<Arc<Shared>, ServeError> {
        #[cfg(feature = "oauth")]
        if let Some(oauth) = self.oauth.take() {
            self.config.oauth = Some(oauth.build_with_default(default_resource.as_deref())?);
        }
        #[cfg(not(feature = "oauth"))]
        let _ = default_resource;
        let guard = Guard::new(
            addr,
            &self.config.allowed_hosts,
            &self.config.allowed_origins,
            &self.config.cors_origins,
        )?;
        if !addr.ip().is_loopback()
            && self.config.allowed_hosts.is_none()
            && self.config.auth.is_none()
            && !self.has_oauth()
        {
            tracing::warn!(
                target: "mcp::sse",
                %addr,
                "listening beyond loopback with no auth and no allowed-host list"
            );
        }
        #[cfg(feature = "cluster")]
        let cluster = match &self.config.cluster {
            Some(opts) => Some(crate::cluster::Cluster::start(opts)?),
            None => None,
        };
        #[cfg(feature = "cluster")]
        let sessions = match &cluster {
            Some(c) => {
                let c = c.clone();
                Sessions::with_on_remove(Arc::new(move |id: &str| c.forget(id)))
            }
            None => Sessions::default(),
        };
        #[cfg(not(feature = "cluster"))]
        let sessions = Sessions::default();
        let shared = Arc::new(Shared {
            server: self.server,
            config: self.config,
            guard,
            exposed_headers,
            sessions,
            streams_stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            #[cfg(feature = "cluster")]
            cluster,
        });
        #[cfg(feature = "cluster")]
        crate::remote::install(&shared);
        #[cfg(feature = "cluster")]
        if let Some(c) = &shared.cluster {
            c.attach(&shared.server);
        }
        tokio::spawn(crate::streamable::idle::reap_idle(shared.clone()));
        Ok(shared)
    }

    /// Binds the listener and starts serving in a background task. The server's start-up
    /// hooks run first ([`mcp_core::ServerBuilder::on_startup`]): when one fails, nothing is
    /// bound and its error is returned ([`ServeError::Startup`]). The shutdown hooks run once
    /// the graceful shutdown finished.
    pub async fn start(mut self) -> Result<ServerHandle, ServeError> {
        if let Some(text) = self.addr_text.take() {
            self.config.addr = resolve(&text).await?;
        }
        let exposed_headers = self.prepare().await?;
        let listener = match TcpListener::bind(self.config.addr).await {
            Ok(l) => l,
            Err(source) => {
                // Started, so it shuts down: what the start-up hooks opened is closed.
                self.server.shutdown().await;
                return Err(ServeError::Bind {
                    addr: self.config.addr,
                    source,
                });
            }
        };
        let local_addr = listener.local_addr()?;
        let c = &self.config;
        let default = format!("http://{local_addr}{}{}", c.prefix, c.mcp_path);
        let external = self.shutdown.take();
        let os_signals = self.os_signals;
        let server = self.server.clone();
        let shared = match self.into_shared(local_addr, exposed_headers, Some(default)) {
            Ok(s) => s,
            Err(e) => {
                server.shutdown().await;
                return Err(e);
            }
        };
        // A Redis already up gives the cluster's shared keys before the first request.
        #[cfg(feature = "cluster")]
        if let Some(c) = &shared.cluster {
            c.first_beat().await;
        }
        let stop = CancellationToken::new();
        let (done_tx, done) = oneshot::channel();
        let stop2 = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop2.cancelled() => {}
                _ = async { match external { Some(f) => f.await, None => std::future::pending().await } } => {}
                _ = async { if os_signals { os_signal().await } else { std::future::pending().await } } => {}
            }
            stop2.cancel();
        });
        let handle_stop = stop.clone();
        let handle_shared = shared.clone();
        tokio::spawn(async move {
            accept_loop(listener, shared, stop).await;
            let _ = done_tx.send(());
        });
        Ok(ServerHandle {
            local_addr,
            stop: handle_stop,
            done,
            shared: handle_shared,
        })
    }

    /// Serves until shut down (a shutdown signal, or Ctrl-C/SIGTERM when enabled).
    pub async fn serve(self) -> Result<(), ServeError> {
        self.start().await?.wait().await;
        Ok(())
    }
}

async fn resolve(text: &str) -> Result<SocketAddr, ServeError> {
    if let Ok(a) = text.parse() {
        return Ok(a);
    }
    tokio::net::lookup_host(text)
        .await
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| ServeError::InvalidAddress(text.to_owned()))
}

async fn os_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves one connection until it ends, the server drains it, or it is killed.
async fn serve(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    rules: Arc<Rules>,
    protocols: Arc<Protocols>,
    watcher: Watcher,
    stop: CancellationToken,
) {
    // The protocol and, for an event stream, the first request's head, within the header
    // timeout; a connection still silent when shutdown starts is not served at all.
    let deadline = tokio::time::Instant::now() + shared.config.header_timeout;
    let first = async {
        match classify(&stream, &rules).await? {
            First::H2 => Some((Head::Hyper(Bytes::new()), true)),
            First::H1 => Some((Head::Hyper(Bytes::new()), false)),
            First::EventStream => Some((read_head(&mut stream, &rules).await, false)),
        }
    };
    let first = tokio::select! {
        first = tokio::time::timeout_at(deadline, first) => first.ok().flatten(),
        _ = stop.cancelled() => None,
    };
    drop(stop);
    let (replay, is_h2) = match first {
        None | Some((Head::Closed, _)) => return,
        Some((Head::Hyper(replay), is_h2)) => (replay, is_h2),
        Some((Head::Ours(req), _)) => {
            let ctx = Arc::new(Conn {
                shared,
                kill: Arc::default(),
            });
            let kill = ctx.kill.clone();
            // Inline rather than through `until_killed`, whose parameter would keep a second
            // copy of the stream's future in this task.
            tokio::select! {
                biased;
                _ = event_conn::serve(stream, ctx, req, watcher) => {}
                _ = kill.killed() => {}
            }
            return;
        }
    };
    let ctx = Arc::new(Conn {
        shared,
        kill: Arc::default(),
    });
    let kill = ctx.kill.clone();
    // Boxed, so that an idle connection keeps no room for a request future it is not running.
    let svc = service_fn(move |req| Box::pin(handle(ctx.clone(), req)));
    // Both connection futures are boxed: the task of a connection served by `event_conn`
    // then keeps no room for them.
    let result = if is_h2 {
        let io = TokioIo::new(stream);
        until_killed(
            Box::pin(watcher.watch(protocols.h2.serve_connection(io, svc))),
            &kill,
        )
        .await
    } else {
        let io = TokioIo::new(Rewind::new(stream, replay));
        until_killed(
            Box::pin(watcher.watch(protocols.h1.serve_connection(io, svc))),
            &kill,
        )
        .await
    };
    if let Some(Err(e)) = result {
        tracing::debug!(target: "mcp::sse", error = %e, "connection ended with an error");
    }
}

/// The configured hyper connection builders, shared by every connection (each connection's
/// task then holds a pointer instead of its own copy).
struct Protocols {
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
}

/// How long a request line may be beyond the header limit.
const REQUEST_LINE_ROOM: usize = 16 * 1024;

/// The header count hyper's HTTP/1 parser takes without being configured. Up to it, hyper
/// parses a head into arrays on the stack; a configured count above it makes hyper allocate
/// two arrays of that length on the heap for every request it reads.
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;

/// The header count hyper's HTTP/1 connections accept for a configured limit of `max`: at
/// least `max`, so `service` sees every head within the limit. Above the limit `service`
/// refuses the head with its 431 and message; a head hyper cannot take gets hyper's own 431.
/// Up to hyper's default that default is kept (the service enforces the smaller limit
/// exactly), so the usual configuration costs no allocation per request; past it, one field
/// line more than `max`, so the service answers the first head over the limit.
fn hyper_max_headers(max: usize) -> usize {
    if max <= HYPER_DEFAULT_MAX_HEADERS {
        HYPER_DEFAULT_MAX_HEADERS
    } else {
        max + 1
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    let mut h1 = http1::Builder::new();
    let cfg = &shared.config;
    let max_buf = cfg.max_header_bytes + 4 * cfg.max_headers + REQUEST_LINE_ROOM;
    let max_fields = hyper_max_headers(cfg.max_headers);
    // Event streams are read within hyper's limits.
    let rules = Arc::new(Rules::new(
        &cfg.prefix,
        &[&cfg.sse_path, &cfg.mcp_path],
        max_buf,
        max_fields,
    ));
    // hyper's own limits sit at or above ours, so the exact limits of `service` decide: room
    // for the request line and the line framing (HTTP/1), or HPACK's per-field overhead
    // (HTTP/2).
    h1.timer(TokioTimer::new())
        .header_read_timeout(cfg.header_timeout)
        .max_buf_size(max_buf);
    if max_fields != HYPER_DEFAULT_MAX_HEADERS {
        h1.max_headers(max_fields);
    }
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .max_concurrent_streams(200)
        .max_header_list_size(
            u32::try_from(cfg.max_header_bytes + 32 * (cfg.max_headers + 1) + REQUEST_LINE_ROOM)
                .unwrap_or(u32::MAX),
        );
    let protocols = Arc::new(Protocols { h1, h2 });
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(target: "mcp::sse", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let span = tracing::debug_span!(target: "mcp::sse", "connection", %remote);
        tokio::spawn(
            serve(
                stream,
                shared.clone(),
                rules.clone(),
                protocols.clone(),
                graceful.watcher(),
                stop.clone(),
            )
            .instrument(span),
        );
    }
    drop(listener);
    drain(&shared).await;
    let _ = tokio::time::timeout(shared.config.shutdown_grace, graceful.shutdown()).await;
    shared.server.shutdown().await;
    tracing::info!(target: "mcp::sse", "shut down");
}

/// The graceful shutdown of everything but the connections: open subscription streams end
/// with their closing result, in-flight requests finish (within the grace period), then every
/// SSE stream ends and every session closes.
pub(crate) async fn drain(shared: &Shared) {
    tracing::info!(target: "mcp::sse", "shutting down: finishing in-flight requests");
    let grace = shared.config.shutdown_grace;
    shared.server.end_subscriptions();
    shared.tasks.close();
    let _ = tokio::time::timeout(grace, shared.tasks.wait()).await;
    shared.streams_stop.cancel();
    shared.sessions.close_all();
    #[cfg(feature = "cluster")]
    if let Some(c) = &shared.cluster {
        c.shutdown().await;
    }
}
