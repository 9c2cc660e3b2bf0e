//! `GET` on the MCP endpoint: the standalone stream, or resuming a stream with
//! `Last-Event-ID`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::{HeaderMap, Response, StatusCode};

use super::headers::{
    LAST_EVENT_ID, accepts, check_version_header, lookup, session_header, single_str,
};
use super::state::AttachError;
use super::state::STANDALONE;
use super::stream::{Start, sse_response};
use crate::response::{Body, bad_request, text};
use crate::security::Identity;
use crate::shared::Shared;

pub(crate) fn get(shared: &Arc<Shared>, identity: Identity, h: &HeaderMap) -> Response<Body> {
    if !accepts(h).event_stream {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list text/event-stream",
        );
    }
    if let Err(r) = check_version_header(h) {
        return r;
    }
    let named = match session_header(h) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (_, entry, state) = match lookup(shared, named, &identity) {
        Ok(x) => x,
        Err(r) => return r,
    };
    state.touch();
    let last_event_id = match single_str(h, &LAST_EVENT_ID) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (stream, cursor) = match last_event_id {
        Some(last) => {
            let parsed = last
                .split_once('-')
                .and_then(|(s, n)| Some((s.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
            match parsed {
                Some((s, n)) => (s, n),
                _ => return bad_request(&format!("unknown Last-Event-ID {last:?}")),
            }
        }
        None => (STANDALONE, state.last_seq(STANDALONE)),
    };
    if stream == STANDALONE && state.standalone_open.swap(true, Ordering::AcqRel) {
        return text(
            StatusCode::CONFLICT,
            "this session already has an open standalone stream",
        );
    }
    let attached = match state.attach(stream, cursor) {
        Ok(a) => a,
        Err(e) => {
            if stream == STANDALONE {
                state.standalone_open.store(false, Ordering::Release);
            }
            return match e {
                AttachError::Unknown => {
                    bad_request(&format!("unknown Last-Event-ID {stream}-{cursor}"))
                }
                AttachError::Busy => text(
                    StatusCode::CONFLICT,
                    "this stream is being read on another connection",
                ),
                AttachError::Ahead => {
                    bad_request(&format!("unknown Last-Event-ID {stream}-{cursor}"))
                }
                AttachError::Gone { dropped } => gone(stream, cursor, dropped, shared),
                // Everything of that stream was written and it ended: an empty stream.
                AttachError::Ended => crate::response::event_stream(crate::response::empty()),
            };
        }
    };
    let start = Start {
        rx: attached.rx,
        first: None,
        replay: attached.replay,
        cursor,
        close: None,
        priming: false,
    };
    sse_response(shared, &entry, state, stream, start)
}

/// 410 for a resumption older than the stream's replay log: the events after the client's
/// cursor up to `dropped` are no longer held, and a stream never resumes with a gap.
fn gone(stream: u64, cursor: u64, dropped: u64, shared: &Shared) -> Response<Body> {
    let limit = shared.config.replay_bytes;
    let what = if stream == STANDALONE {
        "open the standalone stream again with a GET without Last-Event-ID"
    } else {
        "this request's stream has ended; send the request again"
    };
    text(
        StatusCode::GONE,
        &format!(
            "cannot resume after Last-Event-ID {stream}-{cursor}: events up to {stream}-{dropped} \
             left the stream's replay log (it keeps the last {limit} bytes written); {what}"
        ),
    )
}
