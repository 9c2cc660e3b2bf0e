//! Requests from the server to the client on a session-based revision: their ids, the table
//! of requests waiting for an answer, and the timeout. The client's answers arrive as JSON-RPC
//! responses on the session ([`PendingRequests::resolve`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use crate::error::McpError;
use crate::jsonrpc::{self, ErrorObject, RequestId};
use crate::outbound::{Outbound, Outgoing};

type Pending = oneshot::Sender<Result<Value, ErrorObject>>;

/// The server-to-client requests of one session that wait for an answer.
pub(crate) struct PendingRequests {
    pending: Mutex<HashMap<RequestId, Pending>>,
    next_id: AtomicI64,
    timeout: Duration,
}

impl PendingRequests {
    pub(crate) fn new(timeout: Duration) -> Self {
        PendingRequests {
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(1),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `method` on `reply` and waits (at most the timeout) for the client's answer.
    pub(crate) async fn request(
        &self,
        method: &str,
        params: Value,
        reply: &Outbound,
    ) -> Result<Value, McpError> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = RequestId::Str(format!("srv-{n}").into());
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id.clone(), tx);
        let json = jsonrpc::request_bytes(&id, method, Some(&params));
        if reply.send(Outgoing::request(json)).await.is_err() {
            self.lock().remove(&id);
            return Err(McpError::internal("the client's stream is closed"));
        }
        let timeout = self.timeout;
        let result = tokio::select! {
            r = rx => r.map_err(|_| McpError::internal("the session ended before the client answered")),
            _ = tokio::time::sleep(timeout) => Err(McpError::internal(format!(
                "the client did not answer {method} within {} ms", timeout.as_millis()
            ))),
        };
        self.lock().remove(&id);
        result?.map_err(McpError::from)
    }

    /// Hands the client's answer to the request waiting for it; false when none waits.
    pub(crate) fn resolve(&self, id: &RequestId, outcome: Result<Value, ErrorObject>) -> bool {
        match self.lock().remove(id) {
            Some(tx) => {
                let _ = tx.send(outcome);
                true
            }
            None => false,
        }
    }

    /// Fails every waiting request (the session ended).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}
