//! Session ownership in Redis: which instance holds each session, bound to which credential.
//!
//! Keys (all under the configured prefix `P`):
//!
//! * `P:s:<session id>`: the owner record, `<instance>\n<transport>\n<credential hash>`, with a
//!   TTL the owner refreshes while the session lives. An owner that dies stops refreshing, so
//!   its ids are unknown everywhere once the TTL passes.
//! * `P:live`: a sorted set of live session ids scored by their expiry (Redis server time), for
//!   the cluster-wide session cap. Members past their expiry are dropped when a session opens;
//!   the set itself expires with its last member.
//!
//! The credential is never stored: only a SHA-256 of the identity a session is bound to.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::security::Identity;

/// Which transport a session belongs to, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Legacy,
    Streamable,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Legacy => "sse",
            Kind::Streamable => "mcp",
        }
    }
}

/// An owner record read back from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) instance: String,
    pub(crate) kind: Kind,
    pub(crate) credential: String,
}

impl Record {
    fn encode(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.instance,
            self.kind.as_str(),
            self.credential
        )
    }

    fn decode(text: &str) -> Option<Record> {
        let mut it = text.split('\n');
        let instance = it.next()?.to_owned();
        let kind = match it.next()? {
            "sse" => Kind::Legacy,
            "mcp" => Kind::Streamable,
            _ => return None,
        };
        let credential = it.next()?.to_owned();
        Some(Record {
            instance,
            kind,
            credential,
        })
    }
}

/// The hash of the identity a session is bound to (hex SHA-256 over a tagged form).
pub(crate) fn credential_hash(identity: &Identity) -> String {
    let mut h = Sha256::new();
    match identity {
        Identity::Anonymous => h.update(b"mcp-anonymous"),
        Identity::Token(i) => {
            h.update(b"mcp-token\0");
            h.update(i.to_be_bytes());
        }
        Identity::Principal { issuer, subject } => {
            h.update(b"mcp-principal\0");
            h.update(issuer.as_deref().unwrap_or("").as_bytes());
            h.update(b"\0");
            h.update(subject.as_bytes());
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Why a registration did not happen.
#[derive(Debug)]
pub(crate) enum RegisterError {
    /// The cluster-wide session cap is reached.
    Full,
    /// Redis could not be reached or answered with an error.
    Unavailable(redis::RedisError),
}

const OPEN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
return 1
";

const REFRESH: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('SET', ARGV[1] .. ':s:' .. ARGV[i], ARGV[i + 1], 'PX', ttl)
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
";

/// How many records one refresh script call carries (keeps each call short for Redis).
const REFRESH_BATCH: usize = 256;

/// The records this instance owns, and the Redis operations on records.
pub(crate) struct Registry {
    prefix: String,
    instance: String,
    ttl: Duration,
    open: redis::Script,
    refresh: redis::Script,
    /// Session id -> encoded record, for every session this instance owns.
    owned: Mutex<HashMap<String, String>>,
}

impl Registry {
    pub(crate) fn new(prefix: &str, instance: &str, ttl: Duration) -> Registry {
        Registry {
            prefix: prefix.to_owned(),
            instance: instance.to_owned(),
            ttl,
            open: redis::Script::new(OPEN),
            refresh: redis::Script::new(REFRESH),
            owned: Mutex::new(HashMap::new()),
        }
    }

    fn owned(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.owned.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record_key(&self, id: &str) -> String {
        format!("{}:s:{id}", self.prefix)
    }

    fn live_key(&self) -> String {
        format!("{}:live", self.prefix)
    }

    fn ttl_ms(&self) -> u64 {
        self.ttl.as_millis().max(1) as u64
    }

    /// Records that this instance owns session `id`, within the cluster-wide `cap`.
    pub(crate) async fn register(
        &self,
        conn: &mut ConnectionManager,
        id: &str,
        kind: Kind,
        identity: &Identity,
        cap: usize,
    ) -> Result<(), RegisterError> {
        let record = Record {
            instance: self.instance.clone(),
            kind,
            credential: credential_hash(identity),
        }
        .encode();
        let opened: i64 = self
            .open
            .key(self.live_key())
            .key(self.record_key(id))
            .arg(id)
            .arg(&record)
            .arg(self.ttl_ms())
            .arg(cap)
            .invoke_async(conn)
            .await
            .map_err(RegisterError::Unavailable)?;
        if opened == 0 {
            return Err(RegisterError::Full);
        }
        self.owned().insert(id.to_owned(), record);
        Ok(())
    }

    /// Forgets a session locally; true when this instance owned it (its keys are then deleted
    /// with [`Registry::delete`]).
    pub(crate) fn forget(&self, id: &str) -> bool {
        self.owned().remove(id).is_some()
    }

    /// Deletes the keys of sessions that ended.
    pub(crate) async fn delete(
        &self,
        conn: &mut ConnectionManager,
        ids: &[String],
    ) -> redis::RedisResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.del(self.record_key(id)).ignore();
        }
        pipe.zrem(self.live_key(), ids).ignore();
        pipe.query_async::<()>(conn).await
    }

    /// Renews every owned record (re-creating those Redis lost, e.g. after a restart).
    pub(crate) async fn refresh(&self, conn: &mut ConnectionManager) -> redis::RedisResult<()> {
        let all: Vec<(String, String)> = self
            .owned()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for chunk in all.chunks(REFRESH_BATCH) {
            let mut inv = self.refresh.key(self.live_key());
            inv.arg(&self.prefix).arg(self.ttl_ms());
            for (id, record) in chunk {
                inv.arg(id).arg(record);
            }
            inv.invoke_async::<i64>(conn).await?;
        }
        Ok(())
    }

    /// Who owns session `id`, if anyone.
    pub(crate) async fn locate(
        &self,
        conn: &mut ConnectionManager,
        id: &str,
    ) -> redis::RedisResult<Option<Record>> {
        // Ids are UUIDs; anything else cannot be a key we wrote.
        if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Ok(None);
        }
        let text: Option<String> = redis::cmd("GET")
            .arg(self.record_key(id))
            .query_async(conn)
            .await?;
        Ok(text.as_deref().and_then(Record::decode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let r = Record {
            instance: "i-1".into(),
            kind: Kind::Streamable,
            credential: credential_hash(&Identity::Token(2)),
        };
        assert_eq!(Record::decode(&r.encode()), Some(r));
        assert_eq!(Record::decode("i\nweird\nx"), None);
        assert_eq!(Record::decode("i"), None);
    }

    #[test]
    fn credential_hashes_differ_per_identity_and_hide_it() {
        let p = |s: &str| Identity::Principal {
            issuer: Some("https://issuer".into()),
            subject: s.into(),
        };
        let a = credential_hash(&p("alice"));
        let b = credential_hash(&p("bob"));
        assert_ne!(a, b);
        assert_ne!(
            credential_hash(&Identity::Token(0)),
            credential_hash(&Identity::Token(1))
        );
        assert_ne!(credential_hash(&Identity::Anonymous), a);
        assert_eq!(a.len(), 64);
        // Lower-case hex of SHA-256("mcp-anonymous"): what records in Redis hold.
        assert_eq!(
            credential_hash(&Identity::Anonymous),
            "e49e06dfad37d326f9b5fb835aae9cf06b05442b4c2e6ef1a70bd59658f5bac7"
        );
        assert!(!a.contains("alice"));
    }
}
