// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

//! The headers of the MCP endpoint, and finding a request's session.

use std::sync::Arc;

use http::{HeaderMap, Response, StatusCode, header};
use mcp_core::ProtocolVersion;

use super::state::StreamState;
use crate::response::{Body, bad_request, text};
use crate::security::Identity;
use crate::sessions::Entry;
use crate::shared::Shared;

pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
pub(crate) const VERSION_HEADER: &str = "mcp-protocol-version";

/// A field that must appear at most once, as text: `Ok(None)` when absent or not text, the
/// 400 response when repeated.
pub(crate) fn single_str<'a>(
    h: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, Response<Body>> {
    match crate::fields::single(h, name) {
        Ok(v) => Ok(v.and_then(|v| v.to_str().ok())),
        Err(_) => Err(bad_request(&format!(
            "the {name} header must be given once"
        ))),
    }
}

/// True when the request names a session (a repeated header is caught by [`lookup`]).
pub(crate) fn has_session_header(h: &HeaderMap) -> bool {
    h.contains_key(SESSION_HEADER)
}

/// True when `Accept` (all its field lines together) lists `mime` or `*/*`.
pub(crate) fn accepts(h: &HeaderMap, mime: &str) -> bool {
    h.get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|a| a.split(','))
        .any(|part| {
            let m = part.split(';').next().unwrap_or("").trim();
            m.eq_ignore_ascii_case(mime) || m == "*/*"
        })
}

/// Checks `MCP-Protocol-Version` when present: it must name a revision we serve.
pub(crate) fn check_version_header(h: &HeaderMap) -> Result<(), Response<Body>> {
    match single_str(h, VERSION_HEADER)? {
        None => Ok(()),
        Some(v) => v.parse::<ProtocolVersion>().map(|_| ()).map_err(|_| {
            bad_request(&format!(
                "unsupported MCP-Protocol-Version {v:?}; supported: {}",
                ProtocolVersion::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

/// The live session named by `Mcp-Session-Id`, or the error response.
pub(crate) fn lookup(
    shared: &Shared,
    h: &HeaderMap,
    identity: &Identity,
) -> Result<(String, Entry, Arc<StreamState>), Response<Body>> {
    let Some(id) = single_str(h, SESSION_HEADER)? else {
        return Err(bad_request(
            "missing Mcp-Session-Id header: send initialize first",
        ));
    };
    match shared.sessions.get(id, identity) {
        Some(entry) => match entry.streamable().cloned() {
            Some(state) => Ok((id.to_owned(), entry, state)),
            None => Err(text(StatusCode::NOT_FOUND, "unknown or ended session")),
        },
        None => Err(text(
            StatusCode::NOT_FOUND,
            "unknown or ended session: initialize a new one",
        )),
    }
}
