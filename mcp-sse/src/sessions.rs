//! The live-session table: session id → MCP session, its outbound queue, the credential that
//! opened it and the tokens that end it. Removing an entry leaves nothing of the session behind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mcp_core::{Outbound, Session};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

/// One live session.
#[derive(Debug)]
pub struct SessionEntry {
    /// The MCP session (protocol state).
    pub session: Session,
    /// Its bounded outbound queue; the receiver feeds the session's stream.
    pub outbound: Outbound,
    /// The bearer token that opened it (`None` without auth). Never logged.
    pub(crate) credential: Option<String>,
    /// Cancelled when the session ends: ends the stream and cancels in-flight handlers.
    pub ended: CancellationToken,
}

impl SessionEntry {
    /// Ends the session: closes it, cancels its handlers and its stream.
    pub fn end(&self) {
        self.session.close();
        self.ended.cancel();
    }
}

/// Why a session could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// The session cap is reached.
    Full,
}

/// Live sessions, shared by the transports (one cap for all).
#[derive(Debug)]
pub struct SessionTable {
    map: Mutex<HashMap<Uuid, Arc<SessionEntry>>>,
    cap: usize,
    /// Tracks every spawned request handler, for the graceful-shutdown drain.
    pub(crate) handlers: TaskTracker,
}

impl SessionTable {
    /// An empty table holding at most `cap` sessions.
    pub fn new(cap: usize) -> Self {
        SessionTable {
            map: Mutex::new(HashMap::new()),
            cap,
            handlers: TaskTracker::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<SessionEntry>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts a session built by `make` under a fresh UUID v4, unless the cap is reached.
    pub fn open(
        &self,
        make: impl FnOnce(Uuid) -> SessionEntry,
    ) -> Result<(Uuid, Arc<SessionEntry>), OpenError> {
        let mut map = self.lock();
        if map.len() >= self.cap {
            return Err(OpenError::Full);
        }
        let mut id = Uuid::new_v4();
        while map.contains_key(&id) {
            id = Uuid::new_v4();
        }
        let entry = Arc::new(make(id));
        map.insert(id, entry.clone());
        Ok((id, entry))
    }

    /// The live session `id`, if `credential` is the one that opened it (constant-time compare).
    pub fn get(&self, id: &Uuid, credential: Option<&str>) -> Option<Arc<SessionEntry>> {
        let entry = self.lock().get(id).cloned()?;
        let same = match (&entry.credential, credential) {
            (None, None) => true,
            (Some(a), Some(b)) => crate::security::constant_time_eq(a.as_bytes(), b.as_bytes()),
            _ => false,
        };
        (same && !entry.ended.is_cancelled()).then_some(entry)
    }

    /// Removes and ends session `id` (idempotent).
    pub fn remove(&self, id: &Uuid) {
        let removed = self.lock().remove(id);
        if let Some(e) = removed {
            e.end();
        }
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends and removes every session (shutdown).
    pub fn end_all(&self) {
        let all: Vec<_> = self.lock().drain().map(|(_, e)| e).collect();
        for e in all {
            e.end();
        }
    }
}
