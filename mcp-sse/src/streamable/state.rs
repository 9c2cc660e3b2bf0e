//! The Streamable HTTP state of one session: one log per stream, holding the stream's queue
//! while no connection reads it and the events already written, for `Last-Event-ID`.
//!
//! A stream's messages wait in their own bounded [`OutboundReceiver`] (the stall policy of the
//! session queue applies); the SSE body reading the stream takes the receiver while it is
//! connected, and each event it writes is recorded in the stream's replay log, bounded in
//! bytes (oldest dropped first). When the stream ends cleanly (its response written, its
//! request gone, its session ended) the log is dropped; when its connection breaks first, the
//! receiver goes back into the log and a `GET` with `Last-Event-ID` resumes it. Nothing runs
//! while no connection is open: an idle session owns no task.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_core::OutboundReceiver;

/// The stream id of the standalone (GET) stream.
pub(crate) const STANDALONE: u64 = 0;

/// One stream's queue (while detached) and the events already written on it.
struct Log {
    rx: Option<OutboundReceiver>,
    written: VecDeque<(u64, Bytes)>,
    written_bytes: usize,
    last_seq: u64,
    /// The newest sequence number dropped from `written` (0 while none was).
    dropped: u64,
}

/// Why a stream cannot be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachError {
    /// Never issued in this session.
    Unknown,
    /// A connection is reading it now.
    Busy,
    /// It ended cleanly: nothing more will come.
    Ended,
    /// The cursor is older than what the replay log still holds: events after it were
    /// dropped past the byte bound, so the stream cannot resume without a gap. A request's
    /// stream is ended by this (nothing of it can be delivered whole any more); the
    /// standalone stream stays, for a `GET` without `Last-Event-ID`.
    Gone {
        /// The newest event no longer held.
        dropped: u64,
    },
    /// The cursor names an event this stream never wrote.
    Ahead,
}

/// A stream taken for reading: its queue and the written events after the cursor.
pub(crate) struct Attached {
    pub(crate) rx: OutboundReceiver,
    pub(crate) replay: Vec<(u64, Bytes)>,
}

/// The Streamable HTTP state of one session.
pub(crate) struct StreamState {
    logs: Mutex<HashMap<u64, Log>>,
    replay_bytes: usize,
    pub(super) next_stream: AtomicU64,
    pub(super) standalone_open: AtomicBool,
    pub(super) open_streams: AtomicUsize,
    last_active: Mutex<Instant>,
}

impl StreamState {
    /// A session's state; `standalone` is the session queue, dropped while no `GET` stream
    /// was ever opened (nobody would read it).
    pub(crate) fn new(replay_bytes: usize, mut standalone: OutboundReceiver) -> Self {
        standalone.set_discarding(true);
        let mut logs = HashMap::new();
        logs.insert(STANDALONE, Log::new(standalone));
        StreamState {
            logs: Mutex::new(logs),
            replay_bytes,
            next_stream: AtomicU64::new(STANDALONE + 1),
            standalone_open: AtomicBool::new(false),
            open_streams: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Log>> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// True when the session saw no request for `idle` and has no open stream.
    pub(crate) fn is_idle(&self, idle: Duration) -> bool {
        self.open_streams.load(Ordering::Relaxed) == 0
            && self
                .last_active
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .elapsed()
                > idle
    }

    /// A new stream for a POST's messages, already attached (its reader holds `rx`).
    pub(crate) fn new_stream(&self) -> u64 {
        let id = self.next_stream.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Log {
                rx: None,
                written: VecDeque::new(),
                written_bytes: 0,
                last_seq: 0,
                dropped: 0,
            },
        );
        id
    }

    /// Takes `stream` for reading, with the events written after `cursor`.
    pub(crate) fn attach(&self, stream: u64, cursor: u64) -> Result<Attached, AttachError> {
        let mut logs = self.lock();
        let Some(log) = logs.get_mut(&stream) else {
            return Err(if stream < self.next_stream.load(Ordering::Relaxed) {
                AttachError::Ended
            } else {
                AttachError::Unknown
            });
        };
        if log.rx.is_none() {
            return Err(AttachError::Busy);
        }
        if cursor > log.last_seq {
            return Err(AttachError::Ahead);
        }
        if cursor < log.dropped {
            let dropped = log.dropped;
            if stream != STANDALONE {
                logs.remove(&stream);
            }
            return Err(AttachError::Gone { dropped });
        }
        let Some(mut rx) = log.rx.take() else {
            return Err(AttachError::Busy);
        };
        rx.set_discarding(false);
        let replay = log
            .written
            .iter()
            .filter(|(seq, _)| *seq > cursor)
            .cloned()
            .collect();
        Ok(Attached { rx, replay })
    }

    /// The last sequence number written on `stream` (0 before its first event).
    pub(crate) fn last_seq(&self, stream: u64) -> u64 {
        self.lock().get(&stream).map_or(0, |l| l.last_seq)
    }

    /// Records an event written on `stream`; its sequence number. O(1) amortized: the log
    /// drops its oldest events past the byte bound.
    pub(crate) fn record(&self, stream: u64, json: &Bytes) -> u64 {
        let mut logs = self.lock();
        let Some(log) = logs.get_mut(&stream) else {
            return 0;
        };
        log.last_seq += 1;
        log.written.push_back((log.last_seq, json.clone()));
        log.written_bytes += json.len();
        while log.written_bytes > self.replay_bytes {
            match log.written.pop_front() {
                Some((seq, j)) => {
                    log.written_bytes -= j.len();
                    log.dropped = seq;
                }
                None => break,
            }
        }
        log.last_seq
    }

    /// A reader lets go of `stream`: ended cleanly (`rx` is `None`), its log goes; otherwise
    /// the queue waits in the log for a resumption.
    pub(crate) fn detach(&self, stream: u64, rx: Option<OutboundReceiver>) {
        let mut logs = self.lock();
        match rx {
            Some(rx) if !rx.is_stalled() => {
                if let Some(log) = logs.get_mut(&stream) {
                    log.rx = Some(rx);
                }
            }
            _ => {
                logs.remove(&stream);
            }
        }
    }
}

impl Log {
    fn new(rx: OutboundReceiver) -> Self {
        Log {
            rx: Some(rx),
            written: VecDeque::new(),
            written_bytes: 0,
            last_seq: 0,
            dropped: 0,
        }
    }
}
