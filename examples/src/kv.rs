//! Typed application state shared by every client: an in-memory key-value store.
//!
//! The store is registered once with [`mcp_core::ServerBuilder::state`]; a tool parameter of
//! type [`State<KvStore>`] receives it. A `RwLock` from std is enough: no lock is held across
//! an `.await`.

use std::collections::BTreeMap;
use std::sync::RwLock;

use mcp_core::{Json, Server, ServerBuilder, State};
use mcp_macros::mcp_tool;
use serde::Serialize;

/// Most keys the store holds (every buffer is bounded, this one too).
pub const MAX_KEYS: usize = 10_000;
/// Longest key or value, in bytes.
pub const MAX_LEN: usize = 64 * 1024;

/// A bounded, thread-safe string-to-string map.
#[derive(Debug, Default)]
pub struct KvStore {
    map: RwLock<BTreeMap<String, String>>,
}

impl KvStore {
    /// Stores `value` under `key`; returns the previous value. Fails when the store is full
    /// or the key/value is too long.
    pub fn set(&self, key: String, value: String) -> Result<Option<String>, String> {
        if key.len() > MAX_LEN || value.len() > MAX_LEN {
            return Err(format!("keys and values are limited to {MAX_LEN} bytes"));
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(&key) {
            return Err(format!("the store is full ({MAX_KEYS} keys)"));
        }
        Ok(map.insert(key, value))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.keys().cloned().collect()
    }
}

/// Store a value under a key (shared by every client).
#[mcp_tool]
pub fn set(
    store: State<KvStore>,
    /// The key
    key: String,
    /// The value to store
    value: String,
) -> Result<Json<SetResult>, String> {
    let previous = store.0.set(key.clone(), value)?;
    Ok(Json(SetResult { key, previous }))
}

/// What `set` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SetResult {
    /// The key written.
    pub key: String,
    /// The value it replaced, if any.
    pub previous: Option<String>,
}

/// Read the value stored under a key.
#[mcp_tool(read_only)]
pub fn get(
    store: State<KvStore>,
    /// The key to look up
    key: String,
) -> Result<String, String> {
    store
        .0
        .get(&key)
        .ok_or_else(|| format!("no value under key {key:?}"))
}

/// Every key of the store.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Keys {
    /// The keys, sorted.
    pub keys: Vec<String>,
}

/// List every key, sorted.
#[mcp_tool(read_only)]
pub fn list(store: State<KvStore>) -> Json<Keys> {
    Json(Keys {
        keys: store.0.keys(),
    })
}

/// A server named `name` holding a fresh [`KvStore`] and the `set`, `get`, `list` tools.
pub fn builder(name: &str) -> ServerBuilder {
    Server::builder(name, env!("CARGO_PKG_VERSION"))
        .auto_collect(false)
        .state(KvStore::default())
        .item::<set>()
        .item::<get>()
        .item::<list>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::transport::memory::MemoryClient;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn store_is_bounded() {
        let s = KvStore::default();
        assert_eq!(s.set("k".into(), "v".into()), Ok(None));
        assert_eq!(s.set("k".into(), "w".into()), Ok(Some("v".into())));
        assert!(s.set("k".into(), "x".repeat(MAX_LEN + 1)).is_err());
        assert_eq!(s.get("k").as_deref(), Some("w"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sessions_share_one_store() {
        let server = builder("t").build().unwrap();
        let mut tasks = Vec::new();
        for c in 0..8 {
            let server = server.clone();
            tasks.push(tokio::spawn(async move {
                let client = Arc::new(MemoryClient::connect(&server));
                client.initialize().await.unwrap();
                for i in 0..25 {
                    let r = client
                        .call_tool("set", json!({"key": format!("c{c}-{i}"), "value": "x"}))
                        .await
                        .unwrap();
                    assert!(r.get("isError").is_none(), "{r}");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let client = MemoryClient::connect(&server);
        client.initialize().await.unwrap();
        let r = client.call_tool("list", json!({})).await.unwrap();
        assert_eq!(
            r["structuredContent"]["keys"].as_array().unwrap().len(),
            200
        );
        let r = client
            .call_tool("get", json!({"key": "c3-7"}))
            .await
            .unwrap();
        assert_eq!(r["content"][0]["text"], "x");
        let r = client
            .call_tool("get", json!({"key": "nope"}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true);
    }
}
