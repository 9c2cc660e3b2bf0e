//! The session table: which transport sessions are live, bounded by a cap.
//!
//! A *session* here is one client's transport state: its id (a random UUID v4), the identity
//! that opened it, its bounded outbound queue, the `mcp_core::Session` that holds its protocol
//! state, and which transport it belongs to. It lives until its stream closes (HTTP+SSE: client
//! gone, stalled, shutdown) or it is deleted or expires (Streamable HTTP); then it is removed
//! and its id answers 404.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcp_core::{Outbound, Session};
use tokio::sync::watch;

use crate::security::Identity;
use crate::streamable::state::StreamState;

/// The transport a session belongs to, with that transport's own state.
#[derive(Clone)]
pub(crate) enum Transport {
    /// HTTP+SSE (`GET /sse` + `POST /messages`): the session is its one event stream.
    Legacy,
    /// Streamable HTTP (`/mcp`): streams come and go; their bookkeeping lives here.
    Streamable(Arc<StreamState>),
}

/// One live session.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) session: Session,
    pub(crate) outbound: Outbound,
    pub(crate) identity: Identity,
    pub(crate) transport: Transport,
}

impl Entry {
    /// The Streamable HTTP state, for a Streamable HTTP session.
    pub(crate) fn streamable(&self) -> Option<&Arc<StreamState>> {
        match &self.transport {
            Transport::Streamable(s) => Some(s),
            Transport::Legacy => None,
        }
    }

    /// True for an HTTP+SSE session.
    pub(crate) fn is_legacy(&self) -> bool {
        matches!(self.transport, Transport::Legacy)
    }

    /// Ends the session: cancels its in-flight requests and ends its stream once what is
    /// queued was sent.
    fn close(&self) {
        self.session.close();
        self.outbound.close();
    }
}

/// Called with the id of every session removed from the table.
pub(crate) type OnRemove = Arc<dyn Fn(&str) + Send + Sync>;

/// Live sessions by id.
#[derive(Clone)]
pub(crate) struct Sessions {
    map: Arc<Mutex<HashMap<String, Entry>>>,
    on_remove: Option<OnRemove>,
    /// The number of live sessions, published on every change (under the map's lock, so the
    /// values seen follow the table's order).
    count: Arc<watch::Sender<usize>>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions {
            map: Arc::default(),
            on_remove: None,
            count: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Sessions {
    /// An empty table that calls `on_remove` for each session it removes.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn with_on_remove(on_remove: OnRemove) -> Sessions {
        Sessions {
            on_remove: Some(on_remove),
            ..Sessions::default()
        }
    }

    /// A receiver of the number of live sessions, updated as sessions open and close.
    pub(crate) fn watch_count(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts unless `cap` sessions are live; false when full.
    pub(crate) fn insert(&self, id: String, entry: Entry, cap: usize) -> bool {
        let mut map = self.lock();
        if map.len() >= cap {
            return false;
        }
        map.insert(id, entry);
        self.count.send_replace(map.len());
        true
    }

    /// The session with `id`, if it is live and was opened by `identity`.
    pub(crate) fn get(&self, id: &str, identity: &Identity) -> Option<Entry> {
        self.lock()
            .get(id)
            .filter(|e| &e.identity == identity)
            .cloned()
    }

    /// The session with `id`, whoever opened it: for a request another instance already
    /// checked against the session's credential.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn get_owned(&self, id: &str) -> Option<Entry> {
        self.lock().get(id).cloned()
    }

    /// Removes a session and closes it (cancelling its in-flight requests).
    pub(crate) fn remove(&self, id: &str) {
        let entry = {
            let mut map = self.lock();
            let entry = map.remove(id);
            if entry.is_some() {
                self.count.send_replace(map.len());
            }
            entry
        };
        if let Some(e) = entry {
            e.close();
            if let Some(f) = &self.on_remove {
                f(id);
            }
        }
    }

    /// Streamable sessions idle for longer than `idle` with no open stream.
    pub(crate) fn idle_streamable(&self, idle: std::time::Duration) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.streamable().is_some_and(|s| s.is_idle(idle)))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// How many sessions are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Closes every session (at shutdown).
    pub(crate) fn close_all(&self) {
        let all: Vec<(String, Entry)> = {
            let mut map = self.lock();
            let all = map.drain().collect();
            self.count.send_replace(0);
            all
        };
        for (id, e) in all {
            e.close();
            if let Some(f) = &self.on_remove {
                f(&id);
            }
        }
    }
}
