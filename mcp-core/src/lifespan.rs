//! Start-up and shutdown hooks: code that runs once when a transport starts serving (open a
//! database pool, whose value becomes typed state) and once when it shuts down gracefully.
//!
//! Hooks are registered on the [`ServerBuilder`](crate::ServerBuilder) with
//! [`on_startup`](crate::ServerBuilder::on_startup) and
//! [`on_shutdown`](crate::ServerBuilder::on_shutdown). Every transport of this workspace
//! calls [`Server::start`] before it accepts anything and [`Server::shutdown`] when it stops;
//! a program that drives a [`Session`](crate::Session) itself calls them too.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::server::Server;
use crate::state::StateMap;

/// The error a start-up hook returned.
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A start-up hook: produces a value to store as typed state.
pub(crate) type StartupHook =
    Box<dyn FnOnce() -> BoxFuture<Result<Box<dyn FnOnce(&mut StateMap) + Send>, HookError>> + Send>;

/// A shutdown hook: runs once with the server.
pub(crate) type ShutdownHook = Box<dyn FnOnce(Server) -> BoxFuture<()> + Send>;

/// Why a server did not start: a start-up hook failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("start-up hook {index} of {count} failed: {message}")]
pub struct StartupError {
    index: usize,
    count: usize,
    message: String,
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StartupError {
    /// The position of the failed hook in registration order (1 for the first).
    pub fn index(&self) -> usize {
        self.index
    }

    /// What the hook's error said.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The hooks of one server, and whether they ran.
#[derive(Default)]
pub(crate) struct Lifespan {
    startup: Mutex<Vec<StartupHook>>,
    shutdown: Mutex<Option<Vec<ShutdownHook>>>,
    /// The outcome of the start-up hooks, once they ran (every later `start` returns it).
    started: tokio::sync::OnceCell<Result<(), StartupError>>,
}

impl Lifespan {
    pub(crate) fn new(startup: Vec<StartupHook>, shutdown: Vec<ShutdownHook>) -> Self {
        Lifespan {
            startup: Mutex::new(startup),
            shutdown: Mutex::new(Some(shutdown)),
            started: tokio::sync::OnceCell::new(),
        }
    }
}

impl Server {
    /// Runs the start-up hooks, once, in registration order, and adds their values to the typed
    /// state handlers see. The first failing hook stops the rest and its error is returned;
    /// every later call returns the same outcome at once, and the server must not serve.
    /// Transports call this before they accept anything.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// struct Pool(u32);
    /// let server = mcp_core::Server::builder("demo", "1.0")
    ///     .auto_collect(false)
    ///     .on_startup(|| async { Ok::<_, std::io::Error>(Pool(4)) })
    ///     .build()
    ///     .unwrap();
    /// server.start().await.unwrap();
    /// assert_eq!(server.state::<Pool>().unwrap().0, 4);
    /// # });
    /// ```
    pub async fn start(&self) -> Result<(), StartupError> {
        let lifespan = &self.inner.lifespan;
        lifespan
            .started
            .get_or_init(|| async {
                let hooks = std::mem::take(
                    &mut *lifespan.startup.lock().unwrap_or_else(|e| e.into_inner()),
                );
                let count = hooks.len();
                if count == 0 {
                    return Ok(());
                }
                let mut state = (*self.state_map()).clone();
                for (i, hook) in hooks.into_iter().enumerate() {
                    match hook().await {
                        Ok(store) => store(&mut state),
                        Err(e) => {
                            let err = StartupError {
                                index: i + 1,
                                count,
                                message: e.to_string(),
                                source: Some(Arc::from(e)),
                            };
                            tracing::error!(target: "mcp::server", error = %err, "server did not start");
                            // A server that did not start does not shut down either.
                            lifespan
                                .shutdown
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .take();
                            return Err(err);
                        }
                    }
                }
                self.replace_state(state);
                Ok(())
            })
            .await
            .clone()
    }

    /// Runs the shutdown hooks, in registration order, the first time it is called on a
    /// server whose start-up succeeded (or had no hooks); later calls do nothing. Transports
    /// call it at the end of a graceful shutdown, after in-flight requests finished.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static CLOSED: AtomicUsize = AtomicUsize::new(0);
    /// let server = mcp_core::Server::builder("demo", "1.0")
    ///     .auto_collect(false)
    ///     .on_shutdown(|_server| async { CLOSED.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// server.start().await.unwrap();
    /// server.shutdown().await;
    /// server.shutdown().await;
    /// assert_eq!(CLOSED.load(Ordering::SeqCst), 1);
    /// # });
    /// ```
    pub async fn shutdown(&self) {
        let lifespan = &self.inner.lifespan;
        if matches!(lifespan.started.get(), Some(Err(_))) {
            return;
        }
        let hooks = lifespan
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for hook in hooks.into_iter().flatten() {
            hook(self.clone()).await;
        }
    }
}
