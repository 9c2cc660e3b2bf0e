//! The state every connection of one server shares.

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::security::Guard;
use crate::sessions::Sessions;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) server: mcp_core::Server,
    pub(crate) config: Config,
    pub(crate) guard: Guard,
    /// The request headers handlers may read, from [`Config`]'s list.
    pub(crate) exposed_headers: Vec<http::HeaderName>,
    pub(crate) sessions: Sessions,
    /// Cancelled at shutdown: every Streamable HTTP stream ends (HTTP+SSE streams end when
    /// their sessions are closed).
    pub(crate) streams_stop: CancellationToken,
    /// Request handlers spawned from POSTs, awaited (bounded) at shutdown.
    pub(crate) tasks: TaskTracker,
    /// Cluster mode: sessions shared with other instances through Redis.
    #[cfg(feature = "cluster")]
    pub(crate) cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
}

impl Shared {
    /// Polls a request's work once here, and spawns it only if it has to wait: most calls
    /// finish at once, and then no task is created for them. Used for Streamable HTTP POSTs,
    /// whose response waits for the work anyway. The first poll uses a waker that does
    /// nothing; the spawned task polls again at once and registers its own.
    pub(crate) fn run_or_spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + Unpin + 'static,
    {
        let mut fut = fut;
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        if std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending() {
            self.tasks.spawn(fut);
        }
    }
}
