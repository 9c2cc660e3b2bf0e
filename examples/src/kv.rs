//! Typed application state shared by every client: an in-memory key-value store.
//!
//! The store is registered once with [`mcp_core::ServerBuilder::state`]; each tool call gets it
//! back with [`mcp_core::Context::state`]. A `RwLock` from std is enough: no lock is held across
//! an `.await`.

use std::collections::BTreeMap;
use std::sync::RwLock;

use mcp_core::{CallToolResult, Content, JsonObject, McpError, Tool, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::args::{parse, schema_of};
use crate::quickstart::json_result;

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

/// Arguments of `set`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetArgs {
    /// The key.
    pub key: String,
    /// The value to store.
    pub value: String,
}

/// Arguments of `get`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetArgs {
    /// The key to look up.
    pub key: String,
}

/// Arguments of `list` (none).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {}

fn store(ctx: &mcp_core::Context) -> Result<std::sync::Arc<KvStore>, ToolError> {
    ctx.state::<KvStore>()
        .ok_or_else(|| McpError::internal("the server was built without a KvStore").into())
}

/// The `set`, `get` and `list` tools over the [`KvStore`] in the server's state.
pub fn tools() -> Vec<Tool> {
    vec![
        Tool::new("set", |ctx, raw: JsonObject| async move {
            let a: SetArgs = parse(raw)?;
            let previous = store(&ctx)?
                .set(a.key.clone(), a.value)
                .map_err(ToolError::tool)?;
            Ok(json_result(json!({"key": a.key, "previous": previous})))
        })
        .description("Store a value under a key (shared by every client).")
        .input_schema(schema_of::<SetArgs>()),
        Tool::new("get", |ctx, raw: JsonObject| async move {
            let a: GetArgs = parse(raw)?;
            match store(&ctx)?.get(&a.key) {
                Some(v) => Ok(CallToolResult::success(vec![Content::text(v)])),
                None => Err(ToolError::tool(format!("no value under key {:?}", a.key))),
            }
        })
        .description("Read the value stored under a key.")
        .input_schema(schema_of::<GetArgs>()),
        Tool::new("list", |ctx, raw: JsonObject| async move {
            let _: ListArgs = parse(raw)?;
            Ok(json_result(json!({"keys": store(&ctx)?.keys()})))
        })
        .description("List every key, sorted.")
        .input_schema(schema_of::<ListArgs>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::Server;
    use mcp_core::transport::memory::MemoryClient;
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
        let server = Server::builder("t", "0")
            .state(KvStore::default())
            .auto_collect(false);
        let server = tools()
            .into_iter()
            .fold(server, |b, t| b.tool(t))
            .build()
            .unwrap();
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
