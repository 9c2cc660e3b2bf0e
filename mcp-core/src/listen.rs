//! `subscriptions/listen` (the stateless revision): one request whose answer is a stream of
//! change notifications. The server acknowledges the filter, then sends the notifications the
//! client opted in to, each tagged with the subscription id (the request's id), until the
//! client goes away or the server ends the subscriptions ([`Server::end_subscriptions`]); a
//! graceful end is answered with a complete result.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::changes::{Backlog, Change, ListKind, Listener};
use crate::envelope::META_SUBSCRIPTION_ID;
use crate::error::McpError;
use crate::jsonrpc::{self, RequestId};
use crate::outbound::{Outbound, Outgoing};
use crate::protocol::JsonObject;
use crate::shared::Server;

/// What one subscription asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: HashSet<String>,
    /// The uris in the order the client sent them, for the acknowledgment.
    ordered: Vec<String>,
}

impl Filter {
    /// Reads `params.notifications`; at most `max_uris` resource subscriptions.
    pub(crate) fn parse(params: &JsonObject, max_uris: usize) -> Result<Filter, McpError> {
        let n = match params.get("notifications") {
            Some(Value::Object(n)) => n,
            None => {
                return Err(McpError::invalid_params(
                    "subscriptions/listen needs params.notifications: which notifications to receive",
                ));
            }
            Some(_) => {
                return Err(McpError::invalid_params(
                    "subscriptions/listen: params.notifications must be an object",
                ));
            }
        };
        let flag = |k: &str| match n.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(McpError::invalid_params(format!(
                "subscriptions/listen: notifications.{k} must be a boolean"
            ))),
        };
        let mut f = Filter {
            tools: flag("toolsListChanged")?,
            prompts: flag("promptsListChanged")?,
            resources: flag("resourcesListChanged")?,
            ..Filter::default()
        };
        match n.get("resourceSubscriptions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(uris)) => {
                if uris.len() > max_uris {
                    return Err(McpError::invalid_params(format!(
                        "subscriptions/listen: at most {max_uris} resourceSubscriptions per subscription"
                    )));
                }
                for u in uris {
                    let Some(u) = u.as_str() else {
                        return Err(McpError::invalid_params(
                            "subscriptions/listen: resourceSubscriptions must be strings (uris)",
                        ));
                    };
                    if f.uris.insert(u.to_owned()) {
                        f.ordered.push(u.to_owned());
                    }
                }
            }
            Some(_) => {
                return Err(McpError::invalid_params(
                    "subscriptions/listen: resourceSubscriptions must be an array of uris",
                ));
            }
        }
        Ok(f)
    }

    /// The filter honoured, as acknowledged: only what was asked for.
    fn acknowledged(&self) -> Value {
        let mut m = JsonObject::new();
        for (on, key) in [
            (self.tools, "toolsListChanged"),
            (self.prompts, "promptsListChanged"),
            (self.resources, "resourcesListChanged"),
        ] {
            if on {
                m.insert(key.into(), true.into());
            }
        }
        if !self.ordered.is_empty() {
            m.insert("resourceSubscriptions".into(), self.ordered.clone().into());
        }
        Value::Object(m)
    }

    fn wants(&self, change: &Change<'_>) -> bool {
        match change {
            Change::List(ListKind::Tools) => self.tools,
            Change::List(ListKind::Prompts) => self.prompts,
            Change::List(ListKind::Resources | ListKind::Templates) => self.resources,
            Change::ResourceUpdated(uri) => self.uris.contains(*uri),
        }
    }
}

/// One open subscription, registered with the server's listeners.
struct Subscription {
    id: RequestId,
    filter: Filter,
    reply: Outbound,
    /// Resource updates waiting for room in `reply`.
    backlog: Arc<Backlog>,
}

impl Listener for Subscription {
    fn message(&self, change: &Change<'_>) -> Option<(Outbound, Outgoing)> {
        if !self.filter.wants(change) {
            return None;
        }
        let mut params = json!({ "_meta": { META_SUBSCRIPTION_ID: self.id } });
        if let Change::ResourceUpdated(uri) = change {
            params["uri"] = (*uri).into();
        }
        let json = jsonrpc::notification_bytes(change.method(), Some(&params));
        Some((self.reply.clone(), Outgoing::notification(json)))
    }

    fn backlog(&self) -> Option<&Arc<Backlog>> {
        Some(&self.backlog)
    }
}

/// Serves one subscription until the server ends it (the complete result's `_meta`), or the
/// request is cancelled (the caller drops this future).
pub(crate) async fn listen(
    server: &Server,
    id: &RequestId,
    params: &JsonObject,
    reply: &Outbound,
) -> Result<Value, McpError> {
    let filter = Filter::parse(params, server.max_listen_resources())?;
    let _slot = server.listen_slot().ok_or_else(|| {
        McpError::invalid_request(format!(
            "too many open subscriptions on this server (limit {}): close one first",
            server.max_listen_streams()
        ))
    })?;
    let ack = json!({
        "_meta": { META_SUBSCRIPTION_ID: id },
        "notifications": filter.acknowledged(),
    });
    reply
        .send(Outgoing::notification(jsonrpc::notification_bytes(
            "notifications/subscriptions/acknowledged",
            Some(&ack),
        )))
        .await
        .map_err(|_| McpError::internal("the client's stream is closed"))?;
    let subscription: Arc<dyn Listener> = Arc::new(Subscription {
        id: id.clone(),
        filter,
        reply: reply.clone(),
        backlog: Arc::new(Backlog::new(server.max_listen_resources())),
    });
    let _registration = server.listeners().register(Arc::downgrade(&subscription));
    server.subscriptions_ended().await;
    Ok(json!({ "_meta": { META_SUBSCRIPTION_ID: id } }))
}
