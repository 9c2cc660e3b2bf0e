//! Expiring idle Streamable HTTP sessions.

use std::sync::Arc;
use std::time::Duration;

use crate::shared::Shared;

/// Ends Streamable HTTP sessions that stayed idle past the timeout.
pub(crate) async fn reap_idle(shared: Arc<Shared>) {
    let idle = shared.config.idle_timeout;
    let period = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shared.streams_stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        for id in shared.sessions.idle_streamable(idle) {
            tracing::info!(target: "mcp::http", session_id = %id, "idle session expired");
            shared.sessions.remove(&id);
        }
    }
}
