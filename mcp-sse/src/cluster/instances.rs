//! What the instances of a cluster share beyond sessions: each one's liveness, and one
//! `requestState` key.
//!
//! Keys (under the configured prefix `P`):
//!
//! * `P:i:<instance>`: exists while the instance runs (TTL the owner TTL, renewed every third
//!   of it). Requests addressed to an instance rather than to a session (a task's methods: its
//!   id names the instance running it) check it to tell a dead instance from a slow one.
//! * `P:state-key`: the key authenticating the `requestState` of multi round-trip requests on
//!   the stateless revision, so a retry may land on any instance. The first instance to find
//!   it missing writes its own; every beat renews its TTL and adopts what is there (after a
//!   Redis restart, the first instance to beat writes back the key in use). Instances whose
//!   server was given a key (`ServerBuilder::request_state_key`) keep theirs and write none.
//!
//! The key is a secret held in Redis: whoever can write to that Redis can already send any
//! instance requests in any caller's name, so Redis is trusted as much as the instances are.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::ConnectionManager;

/// Renews the liveness key and, given a candidate, the shared state key; returns the state
/// key in Redis (nil when none is asked for).
const BEAT: &str = r"
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
if ARGV[1] == '' then return false end
local v = redis.call('GET', KEYS[2])
if not v then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return v
";

/// The shortest state key adopted from Redis.
const MIN_KEY_BYTES: usize = 32;

/// This instance's side of the cluster-wide keys.
pub(crate) struct Instances {
    prefix: String,
    instance: String,
    ttl: Duration,
    beat: redis::Script,
    /// The state key this instance adopted, offered back when Redis lost it.
    adopted: Mutex<Option<Vec<u8>>>,
}

impl Instances {
    pub(crate) fn new(prefix: &str, instance: &str, ttl: Duration) -> Instances {
        Instances {
            prefix: prefix.to_owned(),
            instance: instance.to_owned(),
            ttl,
            beat: redis::Script::new(BEAT),
            adopted: Mutex::new(None),
        }
    }

    fn live_key(&self, instance: &str) -> String {
        format!("{}:i:{instance}", self.prefix)
    }

    /// Renews this instance's liveness and, unless `server` has a configured key, shares the
    /// `requestState` key through Redis.
    pub(crate) async fn beat(
        &self,
        conn: &mut ConnectionManager,
        server: &mcp_core::Server,
    ) -> redis::RedisResult<()> {
        let share = !server.has_configured_request_state_key();
        let candidate = if share {
            let adopted = self
                .adopted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            // Two random UUIDs: 244 random bits from the operating system's generator.
            adopted.unwrap_or_else(|| {
                let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
                [a.as_bytes().as_slice(), b.as_bytes().as_slice()].concat()
            })
        } else {
            Vec::new()
        };
        let in_redis: Option<Vec<u8>> = self
            .beat
            .key(self.live_key(&self.instance))
            .key(format!("{}:state-key", self.prefix))
            .arg(candidate)
            .arg(self.ttl.as_millis().max(1) as u64)
            .invoke_async(conn)
            .await?;
        if let Some(key) = in_redis.filter(|k| k.len() >= MIN_KEY_BYTES) {
            let mut adopted = self.adopted.lock().unwrap_or_else(|e| e.into_inner());
            if adopted.as_deref() != Some(&key) && server.adopt_request_state_key(&key) {
                if adopted.is_some() {
                    tracing::info!(target: "mcp::cluster", "the shared requestState key changed (Redis lost it); states sealed before fail verification");
                }
                *adopted = Some(key);
            }
        }
        Ok(())
    }

    /// Removes this instance's liveness key (at shutdown).
    pub(crate) async fn forget(&self, conn: &mut ConnectionManager) -> redis::RedisResult<()> {
        redis::cmd("DEL")
            .arg(self.live_key(&self.instance))
            .query_async(conn)
            .await
    }

    /// True while `instance` runs (its liveness key exists).
    pub(crate) async fn is_alive(
        &self,
        conn: &mut ConnectionManager,
        instance: &str,
    ) -> redis::RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(self.live_key(instance))
            .query_async(conn)
            .await
    }
}
