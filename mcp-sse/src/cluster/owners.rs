//! A bounded cache of the owner records this instance looked up, so a request forwarded to a
//! session's owner goes out without first asking Redis who that is.
//!
//! A record never changes while its session lives (a session stays on the instance that opened
//! it, bound to one credential and one transport), so a cached record is only ever *stale*:
//! its session ended, or its owner died. Both are learned from the forward itself and the
//! entry is dropped then: an owner that no longer holds the session answers that it is gone,
//! and one that died (or is cut off from Redis) has no subscriber on its inbox, which
//! `PUBLISH` reports; the request is then decided on a fresh lookup, exactly as without the
//! cache. So the cache changes no answer, and an instance killed with SIGKILL still has its ids
//! answer 404 everywhere once the owner TTL has passed.
//!
//! Bounded by [`super::ClusterOptions::owner_cache`] entries (about 250 bytes each); past it,
//! an arbitrary entry makes room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::registry::Record;

/// Session id -> its owner record, at most `capacity` entries.
pub(crate) struct Owners {
    capacity: usize,
    map: Mutex<HashMap<Box<str>, Arc<Record>>>,
}

impl Owners {
    pub(crate) fn new(capacity: usize) -> Owners {
        Owners {
            capacity,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Record>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached owner record of `session`.
    pub(crate) fn get(&self, session: &str) -> Option<Arc<Record>> {
        self.map().get(session).cloned()
    }

    /// Remembers `record` for `session`, making room when full (nothing with capacity 0).
    pub(crate) fn insert(&self, session: &str, record: Arc<Record>) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.map();
        if map.len() >= self.capacity
            && !map.contains_key(session)
            && let Some(victim) = map.keys().next().cloned()
        {
            map.remove(&victim);
        }
        map.insert(session.into(), record);
    }

    /// Forgets `session`'s record (its session ended, or its owner is not reachable).
    pub(crate) fn remove(&self, session: &str) {
        self.map().remove(session);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry::Kind;
    use super::*;

    fn record(instance: &str) -> Arc<Record> {
        Arc::new(Record {
            instance: instance.into(),
            kind: Kind::Legacy,
            credential: "c".into(),
        })
    }

    #[test]
    fn holds_at_most_its_capacity() {
        let owners = Owners::new(3);
        for i in 0..10 {
            owners.insert(&format!("s-{i}"), record("a"));
            assert!(owners.len() <= 3);
        }
        // The newest entry is always kept; replacing one does not evict another.
        assert_eq!(owners.get("s-9").unwrap().instance, "a");
        owners.insert("s-9", record("b"));
        assert_eq!(owners.len(), 3);
        assert_eq!(owners.get("s-9").unwrap().instance, "b");
        owners.remove("s-9");
        assert!(owners.get("s-9").is_none());
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let owners = Owners::new(0);
        owners.insert("s", record("a"));
        assert!(owners.get("s").is_none());
    }
}
