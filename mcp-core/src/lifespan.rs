//! Start-up and shutdown hooks: code that runs once when a transport starts serving (open a
//! database pool, whose value becomes typed state) and once when it shuts down gracefully.
//!
//! Hooks are registered on the [`ServerBuilder`](crate::ServerBuilder) with
//! [`on_startup`](crate::ServerBuilder::on_startup) and
//! [`on_shutdown`](crate::ServerBuilder::on_shutdown). Every transport of this workspace
//! calls [`Server::start`](crate::Server::start) before it accepts anything and [`Server::shutdown`](crate::Server::shutdown) when it stops;
//! a program that drives a [`Session`](crate::Session) itself calls them too.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::state::StateMap;

/// The error a start-up hook returned.
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A start-up hook: produces a value to store as typed state.
pub(crate) type StartupHook =
    Box<dyn FnOnce() -> BoxFuture<Result<Box<dyn FnOnce(&mut StateMap) + Send>, HookError>> + Send>;

/// A shutdown hook: runs once with the server (`S`).
pub(crate) type ShutdownHook<S> = Box<dyn FnOnce(S) -> BoxFuture<()> + Send>;

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

/// The hooks of one server (`S`), and whether they ran.
pub(crate) struct Lifespan<S> {
    startup: Mutex<Vec<StartupHook>>,
    shutdown: Mutex<Option<Vec<ShutdownHook<S>>>>,
    /// The outcome of the start-up hooks, once they ran (every later `start` returns it).
    started: tokio::sync::OnceCell<Result<(), StartupError>>,
}

impl<S: Clone> Lifespan<S> {
    /// Hooks that have not run yet.
    pub(crate) fn new(startup: Vec<StartupHook>, shutdown: Vec<ShutdownHook<S>>) -> Self {
        Lifespan {
            startup: Mutex::new(startup),
            shutdown: Mutex::new(Some(shutdown)),
            started: tokio::sync::OnceCell::new(),
        }
    }

    /// Runs the start-up hooks once, in registration order, on a copy of the `current` typed
    /// state, and hands the result to `store`; the first failing hook stops the rest (and
    /// the shutdown hooks), and every later call returns the same outcome at once.
    pub(crate) async fn start(
        &self,
        current: impl FnOnce() -> StateMap,
        store: impl FnOnce(StateMap),
    ) -> Result<(), StartupError> {
        self
            .started
            .get_or_init(|| async {
                let hooks = std::mem::take(
                    &mut *self.startup.lock().unwrap_or_else(|e| e.into_inner()),
                );
                let count = hooks.len();
                if count == 0 {
                    return Ok(());
                }
                let mut state = current();
                for (i, hook) in hooks.into_iter().enumerate() {
                    match hook().await {
                        Ok(put) => put(&mut state),
                        Err(e) => {
                            let err = StartupError {
                                index: i + 1,
                                count,
                                message: e.to_string(),
                                source: Some(Arc::from(e)),
                            };
                            tracing::error!(target: "mcp::server", error = %err, "server did not start");
                            // A server that did not start does not shut down either.
                            self.shutdown
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .take();
                            return Err(err);
                        }
                    }
                }
                store(state);
                Ok(())
            })
            .await
            .clone()
    }

    /// Runs the shutdown hooks with `server`, in registration order, the first time it is
    /// called after a successful (or hook-less) start-up; later calls do nothing.
    pub(crate) async fn shutdown(&self, server: &S) {
        if matches!(self.started.get(), Some(Err(_))) {
            return;
        }
        let hooks = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for hook in hooks.into_iter().flatten() {
            hook(server.clone()).await;
        }
    }
}
