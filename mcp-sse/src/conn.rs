//! Connection control: what a connection's requests share, and the switch that drops the
//! connection from outside its task.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use futures_util::task::AtomicWaker;

use crate::shared::Shared;

/// What a connection's requests share: the server, and the switch that drops the connection.
pub(crate) struct Conn {
    pub(crate) shared: Arc<Shared>,
    pub(crate) kill: Arc<Kill>,
}

/// Drops a connection at once, from outside its task (a client that stopped reading its
/// stream leaves the task waiting on a full socket forever).
#[derive(Default)]
pub(crate) struct Kill {
    killed: AtomicBool,
    waker: AtomicWaker,
}

impl Kill {
    /// Ends the connection: its task stops polling it and drops it.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Resolves once [`Kill::kill`] was called.
    pub(crate) fn killed(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.killed.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.killed.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// Runs `conn` until it finishes or `kill` is triggered (`None`).
pub(crate) async fn until_killed<F: Future>(conn: F, kill: &Kill) -> Option<F::Output> {
    tokio::select! {
        biased;
        r = conn => Some(r),
        _ = kill.killed() => None,
    }
}
