//! What a client may subscribe to: uris a resource or template resolves, within a count and a
//! length limit per session.

use std::collections::HashSet;

use crate::error::McpError;

/// How many subscriptions a session may hold, and how long a subscribed uri may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubscriptionLimits {
    pub(crate) max_count: usize,
    pub(crate) max_uri_bytes: usize,
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        SubscriptionLimits {
            max_count: 100,
            max_uri_bytes: 2048,
        }
    }
}

/// Checks that `uri` may join `held`: not longer than the limit (-32602), one that `resolves`
/// says a resource or a template serves (else -32002, or -32602 on 2026-07-28 as for reads),
/// and, when new, within the count limit (-32600).
pub(crate) fn check(
    limits: SubscriptionLimits,
    resolves: impl FnOnce(&str) -> bool,
    held: &HashSet<String>,
    uri: &str,
    version: crate::ProtocolVersion,
) -> Result<(), McpError> {
    if uri.len() > limits.max_uri_bytes {
        return Err(McpError::invalid_params(format!(
            "uri of {} bytes exceeds the subscription limit of {} bytes",
            uri.len(),
            limits.max_uri_bytes
        )));
    }
    if !resolves(uri) {
        return Err(McpError::resource_not_found_for(uri, version));
    }
    if !held.contains(uri) && held.len() >= limits.max_count {
        return Err(McpError::invalid_request(format!(
            "too many subscriptions on this session (limit {}): unsubscribe from one first",
            limits.max_count
        )));
    }
    Ok(())
}
