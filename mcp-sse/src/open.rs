//! Opening a session, the same way for both transports: a fresh random id, a bounded outbound
//! queue with the stall timeout, the protocol session, and a place in the session table within
//! the cap (503 past it).

// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

use http::Response;
use mcp_core::{Outbound, OutboundReceiver, SessionOptions};

use crate::response::{Body, too_many_sessions};
use crate::security::Identity;
use crate::sessions::{Entry, Transport};
use crate::shared::Shared;

/// Opens a session for `identity` and registers it; the 503 response when the session cap is
/// reached. `make` turns the receiving end of the session's outbound queue into the
/// transport's state (and whatever else the transport keeps of it).
pub(crate) fn open_session<T>(
    shared: &Shared,
    identity: Identity,
    make: impl FnOnce(OutboundReceiver) -> (Transport, T),
) -> Result<(String, Entry, T), Response<Body>> {
    let cfg = &shared.config;
    let id = uuid::Uuid::new_v4().to_string();
    let (outbound, rx) = Outbound::bounded(
        cfg.queue,
        cfg.pending_bytes,
        cfg.pending_messages,
        cfg.pending_bytes,
    );
    let outbound = outbound.with_stall_timeout(cfg.stall_timeout);
    let (transport, kept) = make(rx);
    let label = match transport {
        Transport::Legacy => "sse",
        Transport::Streamable(_) => "streamable-http",
    };
    let session = shared.server.session(
        SessionOptions::new(outbound.clone())
            .id(id.clone())
            .transport(label),
    );
    let entry = Entry {
        session,
        outbound,
        identity,
        transport,
    };
    if !shared
        .sessions
        .insert(id.clone(), entry.clone(), cfg.max_sessions)
    {
        tracing::warn!(target: "mcp::sse", max = cfg.max_sessions, "session cap reached");
        return Err(too_many_sessions());
    }
    tracing::info!(target: "mcp::sse", session_id = %id, transport = label, "session opened");
    Ok((id, entry, kept))
}
