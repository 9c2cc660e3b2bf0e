//! The cancellation of one request in flight: set by the client's `notifications/cancelled`
//! or by the end of its session, observed by the dispatcher and through `Context`.
//!
//! One small allocation per request, and nothing is registered anywhere unless somebody
//! actually waits for it.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use tokio::sync::Notify;

use crate::jsonrpc::{Notification, RequestId};

/// The request a `notifications/cancelled` names (`params.requestId`), when it names one.
pub(crate) fn cancelled_request(n: &Notification) -> Option<RequestId> {
    let id = n.params.as_ref()?.get("requestId")?;
    RequestId::deserialize(id).ok()
}

/// A cancellation flag shared by a request's handler and its session. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<Inner>);

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// Cancels the request; every waiter wakes. Idempotent.
    pub(crate) fn cancel(&self) {
        if !self.0.cancelled.swap(true, Ordering::AcqRel) {
            self.0.notify.notify_waiters();
        }
    }

    /// True when both handles are the same flag.
    pub(crate) fn same(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// True once cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Acquire)
    }

    /// Resolves once cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            let mut notified = pin!(self.0.notify.notified());
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_on_cancel() {
        let c = Cancel::default();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { c.cancelled().await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(!c.is_cancelled());
        c.cancel();
        c.cancel();
        for w in waiters {
            w.await.unwrap();
        }
        assert!(c.is_cancelled());
        // Already cancelled: resolves at once.
        c.cancelled().await;
    }
}
