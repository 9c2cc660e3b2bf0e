//! Change notifications (a list changed, a resource was updated) fanned out to whoever
//! listens: sessions of the session-based revisions and `subscriptions/listen` streams. The
//! server announces changes here without knowing who listens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::outbound::{Outbound, Outgoing};

/// Which list a cached page, or a change, belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ListKind {
    Tools,
    Resources,
    Templates,
    Prompts,
}

/// One change announced by the server.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// A list's items changed.
    List(ListKind),
    /// The resource with this uri changed.
    ResourceUpdated(&'a str),
}

impl Change<'_> {
    /// The notification method announcing the change.
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Change::List(ListKind::Tools) => "notifications/tools/list_changed",
            Change::List(ListKind::Resources | ListKind::Templates) => {
                "notifications/resources/list_changed"
            }
            Change::List(ListKind::Prompts) => "notifications/prompts/list_changed",
            Change::ResourceUpdated(_) => "notifications/resources/updated",
        }
    }
}

/// Someone who wants to hear of some changes.
pub(crate) trait Listener: Send + Sync {
    /// The route and message announcing `change` to this listener, or `None` when it does not
    /// want it.
    fn message(&self, change: &Change<'_>) -> Option<(Outbound, Outgoing)>;
}

/// The listeners of one server.
#[derive(Default)]
pub(crate) struct Listeners {
    map: Mutex<HashMap<u64, Weak<dyn Listener>>>,
    next: AtomicU64,
}

/// Keeps a listener registered; dropping it unregisters.
pub(crate) struct Registration {
    listeners: Weak<Listeners>,
    key: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(l) = self.listeners.upgrade() {
            l.lock().remove(&self.key);
        }
    }
}

impl Listeners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Weak<dyn Listener>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `listener` until the returned registration is dropped.
    pub(crate) fn register(self: &Arc<Self>, listener: Weak<dyn Listener>) -> Registration {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, listener);
        Registration {
            listeners: Arc::downgrade(self),
            key,
        }
    }

    fn messages(&self, change: &Change<'_>) -> Vec<(Outbound, Outgoing)> {
        self.lock()
            .values()
            .filter_map(Weak::upgrade)
            .filter_map(|l| l.message(change))
            .collect()
    }

    /// Announces `change` without waiting: a listener whose queue is full misses the hint and
    /// sees the change on its next list call.
    pub(crate) fn announce(&self, change: Change<'_>) {
        for (out, msg) in self.messages(&change) {
            let _ = out.try_send(msg);
        }
    }

    /// Announces `change`, waiting for room in each listener's queue.
    pub(crate) async fn deliver(&self, change: Change<'_>) {
        for (out, msg) in self.messages(&change) {
            let _ = out.send(msg).await;
        }
    }
}
