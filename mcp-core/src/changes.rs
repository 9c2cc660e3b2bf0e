//! Change notifications (a list changed, a resource was updated) fanned out to whoever
//! listens: sessions of the session-based revisions and `subscriptions/listen` streams. The
//! server announces changes here without knowing who listens.
//!
//! Nothing here waits on a listener. A list change that finds a listener's queue full is
//! dropped (a hint: the next list call shows it). A resource update that finds it full waits in
//! that listener's [`Backlog`], each uri at most once (an update says "read it again", so two
//! say no more than one), and the listener's one backlog task sends it as room appears.

use std::collections::{HashMap, VecDeque};
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

    /// Where this listener's resource updates wait while its queue is full; without one they
    /// are dropped like list changes.
    fn backlog(&self) -> Option<&Arc<Backlog>> {
        None
    }
}

/// One listener's resource updates waiting for room in its queue: each uri at most once, at
/// most `capacity` uris, sent in order by at most one task.
pub(crate) struct Backlog {
    state: Mutex<BacklogState>,
    capacity: usize,
}

#[derive(Default)]
struct BacklogState {
    waiting: VecDeque<(String, Outgoing)>,
    /// A task is sending `waiting`.
    flushing: bool,
}

impl Backlog {
    /// A backlog holding at most `capacity` uris (a listener's subscription limit).
    pub(crate) fn new(capacity: usize) -> Backlog {
        Backlog {
            state: Mutex::new(BacklogState::default()),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BacklogState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `uri`'s update unless one is already waiting; true when a task must be started.
    fn push(&self, uri: &str, msg: Outgoing) -> bool {
        let mut st = self.lock();
        if !st.waiting.iter().any(|(u, _)| u == uri) {
            if st.waiting.len() < self.capacity {
                st.waiting.push_back((uri.to_owned(), msg));
            } else {
                tracing::debug!(target: "mcp::rpc", "resource update dropped: backlog full");
            }
        }
        !std::mem::replace(&mut st.flushing, true)
    }

    /// Offers `msg`, the update of `uri`, to `out` without waiting.
    fn offer(self: &Arc<Self>, uri: &str, out: Outbound, msg: Outgoing) {
        // Behind updates already waiting, so they keep their order.
        if self.lock().flushing {
            self.push(uri, msg);
            return;
        }
        if out.try_send(msg.clone()).is_ok() || out.is_closed() {
            return;
        }
        if self.push(uri, msg) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(self.clone().flush(out));
                }
                Err(_) => {
                    let mut st = self.lock();
                    st.waiting.clear();
                    st.flushing = false;
                    tracing::warn!(target: "mcp::rpc", "resource updates dropped: no async runtime to deliver them");
                }
            }
        }
    }

    /// Sends the waiting updates one by one as `out` makes room; ends when none is left or the
    /// stream is gone (then the rest is dropped with it).
    async fn flush(self: Arc<Self>, out: Outbound) {
        loop {
            let next = {
                let mut st = self.lock();
                match st.waiting.pop_front() {
                    Some((_, msg)) => msg,
                    None => {
                        st.flushing = false;
                        return;
                    }
                }
            };
            if out.send(next).await.is_err() {
                let mut st = self.lock();
                st.waiting.clear();
                st.flushing = false;
                return;
            }
        }
    }

    /// Forgets a waiting update of `uri` (the listener no longer wants it).
    pub(crate) fn forget(&self, uri: &str) {
        self.lock().waiting.retain(|(u, _)| u != uri);
    }
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

    /// Delivers a resource update without waiting: to each listener's queue, or, when that is
    /// full, to its [`Backlog`].
    pub(crate) fn deliver(&self, change: Change<'_>) {
        let Change::ResourceUpdated(uri) = change else {
            return self.announce(change);
        };
        let listeners: Vec<Arc<dyn Listener>> =
            self.lock().values().filter_map(Weak::upgrade).collect();
        for l in listeners {
            let Some((out, msg)) = l.message(&change) else {
                continue;
            };
            match l.backlog() {
                Some(backlog) => backlog.offer(uri, out, msg),
                None => {
                    let _ = out.try_send(msg);
                }
            }
        }
    }
}
