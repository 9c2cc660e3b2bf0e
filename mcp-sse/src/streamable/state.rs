//! The Streamable HTTP state of one session: its event store and stream bookkeeping.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_core::{OutboundReceiver, OutgoingKind};
use tokio::sync::Notify;

/// The stream id of the standalone (GET) stream.
pub(crate) const STANDALONE: u64 = 0;

struct Event {
    stream: u64,
    seq: u64,
    json: Bytes,
    is_response: bool,
}

#[derive(Default)]
struct Store {
    events: VecDeque<Event>,
    seqs: HashMap<u64, u64>,
}

/// The Streamable HTTP state of one session: its event store and stream bookkeeping.
pub(crate) struct StreamState {
    store: Mutex<Store>,
    capacity: usize,
    pub(super) notify: Notify,
    pub(super) next_stream: AtomicU64,
    pub(super) standalone_open: AtomicBool,
    pub(super) open_streams: AtomicUsize,
    last_active: Mutex<Instant>,
}

impl StreamState {
    pub(crate) fn new(capacity: usize) -> Self {
        StreamState {
            store: Mutex::new(Store::default()),
            capacity: capacity.max(1),
            notify: Notify::new(),
            next_stream: AtomicU64::new(STANDALONE + 1),
            standalone_open: AtomicBool::new(false),
            open_streams: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
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

    pub(crate) fn push(&self, stream: u64, json: Bytes, is_response: bool) {
        {
            let mut store = self.lock();
            let seq = store.seqs.entry(stream).or_insert(0);
            *seq += 1;
            let seq = *seq;
            if store.events.len() >= self.capacity {
                store.events.pop_front();
            }
            store.events.push_back(Event {
                stream,
                seq,
                json,
                is_response,
            });
        }
        self.notify.notify_waiters();
    }

    /// The next event of `stream` after `cursor`.
    pub(crate) fn next_after(&self, stream: u64, cursor: u64) -> Option<(u64, Bytes, bool)> {
        self.lock()
            .events
            .iter()
            .find(|e| e.stream == stream && e.seq > cursor)
            .map(|e| (e.seq, e.json.clone(), e.is_response))
    }

    /// The last sequence number given out on `stream` (0 before its first event).
    pub(crate) fn last_seq(&self, stream: u64) -> u64 {
        self.lock().seqs.get(&stream).copied().unwrap_or(0)
    }

    pub(crate) fn knows(&self, stream: u64) -> bool {
        stream < self.next_stream.load(Ordering::Relaxed)
    }
}

/// Moves every message of `rx` into the store under `stream`.
pub(crate) fn pump(state: Arc<StreamState>, stream: u64, mut rx: OutboundReceiver) {
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            state.push(stream, msg.json, msg.kind == OutgoingKind::Response);
        }
        // Nothing more can arrive on this stream: forget its counter (its events stay
        // replayable until the bounded store drops them).
        if stream != STANDALONE {
            state.lock().seqs.remove(&stream);
        }
    });
}
