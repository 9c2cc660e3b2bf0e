// Early returns carry a ready HTTP response; they are the rare path, so their size is fine.
#![allow(clippy::result_large_err)]

//! The headers of the MCP endpoint, and finding a request's session.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use mcp_core::ProtocolVersion;

use super::state::StreamState;
use crate::response::{Body, bad_request, text};
use crate::security::Identity;
use crate::sessions::Entry;
use crate::shared::Shared;

/// `Mcp-Session-Id`. Names are built once: a lookup by a string parses and hashes the name
/// on every request.
pub(crate) const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
/// `MCP-Protocol-Version`, named where the stateless revision checks it against the body.
pub(crate) use crate::stateless::VERSION as VERSION_HEADER;
/// `Last-Event-ID`.
pub(crate) const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// A field that must appear at most once: `Ok(None)` when absent, the 400 response when
/// repeated.
pub(crate) fn single_value<'a>(
    h: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a HeaderValue>, Response<Body>> {
    crate::fields::single(h, name)
        .map_err(|_| bad_request(&format!("the {name} header must be given once")))
}

/// A field that must appear at most once, as text: `Ok(None)` when absent or not text, the
/// 400 response when repeated.
pub(crate) fn single_str<'a>(
    h: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a str>, Response<Body>> {
    Ok(single_value(h, name)?.and_then(|v| v.to_str().ok()))
}

/// The media types of the MCP endpoint that `Accept` lists (all its field lines together;
/// `*/*` stands for both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Accepts {
    /// `application/json`.
    pub(crate) json: bool,
    /// `text/event-stream`.
    pub(crate) event_stream: bool,
}

/// Reads `Accept` once for both media types, without allocating. A field line that is not
/// visible ASCII text is skipped whole; parameters (`;q=...`) are ignored.
pub(crate) fn accepts(h: &HeaderMap) -> Accepts {
    let mut out = Accepts::default();
    for value in h.get_all(header::ACCEPT) {
        let bytes = value.as_bytes();
        // What the official SDKs' clients send, known without reading it apart.
        if bytes == b"application/json, text/event-stream" {
            out.json = true;
            out.event_stream = true;
            continue;
        }
        // What `HeaderValue::to_str` accepts (checked without an early exit, which lets the
        // loop run over whole words).
        let text = bytes.iter().fold(true, |ok, &b| {
            ok & (b == b'\t' || (0x20..0x7f).contains(&b))
        });
        if !text {
            continue;
        }
        for part in bytes.split(|&b| b == b',') {
            let end = part.iter().position(|&b| b == b';').unwrap_or(part.len());
            let media = part[..end].trim_ascii();
            if media.eq_ignore_ascii_case(b"application/json") {
                out.json = true;
            } else if media.eq_ignore_ascii_case(b"text/event-stream") {
                out.event_stream = true;
            } else if media == b"*/*" {
                out.json = true;
                out.event_stream = true;
            }
        }
    }
    out
}

/// Checks `MCP-Protocol-Version` when present: it must name a revision we serve.
pub(crate) fn check_version_header(h: &HeaderMap) -> Result<(), Response<Body>> {
    match single_str(h, &VERSION_HEADER)? {
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

/// `Mcp-Session-Id`: `Ok(None)` when absent, the 400 response when repeated.
pub(crate) fn session_header(h: &HeaderMap) -> Result<Option<&HeaderValue>, Response<Body>> {
    single_value(h, &SESSION_HEADER)
}

/// The live session named by `id` (the request's [`session_header`]), or the error response.
pub(crate) fn lookup<'h>(
    shared: &Shared,
    id: Option<&'h HeaderValue>,
    identity: &Identity,
) -> Result<(&'h str, Entry, Arc<StreamState>), Response<Body>> {
    let Some(id) = id.and_then(|v| v.to_str().ok()) else {
        return Err(bad_request(
            "missing Mcp-Session-Id header: send initialize first",
        ));
    };
    match shared.sessions.get(id, identity) {
        Some(entry) => match entry.streamable().cloned() {
            Some(state) => Ok((id, entry, state)),
            None => Err(text(StatusCode::NOT_FOUND, "unknown or ended session")),
        },
        None => Err(text(
            StatusCode::NOT_FOUND,
            "unknown or ended session: initialize a new one",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn accept_lists() {
        let both = Accepts {
            json: true,
            event_stream: true,
        };
        let json = Accepts {
            json: true,
            event_stream: false,
        };
        let sse = Accepts {
            json: false,
            event_stream: true,
        };
        assert_eq!(accepts(&HeaderMap::new()), Accepts::default());
        assert_eq!(
            accepts(&with_accept(&[b"application/json, text/event-stream"])),
            both
        );
        assert_eq!(
            accepts(&with_accept(&[
                b"Application/JSON;q=0.9 ,\ttext/event-stream ; q=1"
            ])),
            both
        );
        assert_eq!(
            accepts(&with_accept(&[b"application/json", b"text/event-stream"])),
            both
        );
        assert_eq!(accepts(&with_accept(&[b"*/*"])), both);
        assert_eq!(accepts(&with_accept(&[b"text/*, application/json"])), json);
        assert_eq!(accepts(&with_accept(&[b"text/event-stream"])), sse);
        assert_eq!(
            accepts(&with_accept(&[b"application/jsonx, text/event-streams"])),
            Accepts::default()
        );
        // A line that is not text counts for nothing; the other lines still count.
        assert_eq!(
            accepts(&with_accept(&[
                b"application/json, \xff",
                b"text/event-stream"
            ])),
            sse
        );
    }
}
