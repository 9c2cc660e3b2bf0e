//! Cluster mode's glue between the transports and the cluster: serving the requests other
//! instances forward here, sending a task's requests to the instance running it, and passing
//! server-wide notifications between instances.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use mcp_core::jsonrpc::{Incoming, Message};
use mcp_core::{Broadcast, Caller, ListChanged};

use crate::cluster::{Forward, Op};
use crate::response::Body;
use crate::shared::Shared;

/// Connects `shared`'s cluster (if any) to its transports and its MCP server.
pub(crate) fn install(shared: &Arc<Shared>) {
    let Some(cluster) = &shared.cluster else {
        return;
    };
    let weak = Arc::downgrade(shared);
    cluster.set_handler(Arc::new(move |forward| {
        let weak = weak.clone();
        Box::pin(async move {
            let shared = weak.upgrade()?;
            serve(&shared, forward).await
        })
    }));
    let publisher = cluster.clone();
    shared
        .server
        .on_broadcast(move |b| publisher.publish_notification(encode(b)));
    let weak = Arc::downgrade(shared);
    cluster.set_notify_handler(Arc::new(move |payload: &[u8]| {
        let (Some(shared), Some(b)) = (weak.upgrade(), decode(payload)) else {
            return;
        };
        tokio::spawn(async move { shared.server.deliver_broadcast(&b).await });
    }));
}

/// The methods of the tasks extension that name a task, which one instance holds.
const TASK_METHODS: [&str; 3] = ["tasks/get", "tasks/update", "tasks/cancel"];

/// The request headers a stateless request is checked against, forwarded with it.
const STATELESS_HEADERS: [&str; 5] = [
    "accept",
    "content-type",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
];

/// Cluster mode: a stateless request for a task another instance runs is sent there (it was
/// authenticated, limited and parsed here), and its answer comes back. `None`: served here (no
/// cluster, not a task's request, a task of this instance, or of one that is gone).
pub(crate) async fn task_elsewhere(
    shared: &Arc<Shared>,
    caller: &Caller,
    h: &HeaderMap,
    incoming: &Incoming,
    bytes: &Bytes,
) -> Option<Response<Body>> {
    let cluster = shared.cluster.as_ref()?;
    let Incoming::Single(Message::Request(req)) = incoming else {
        return None;
    };
    if !TASK_METHODS.contains(&req.method.as_str()) {
        return None;
    }
    let task = req.params.as_ref()?.get("taskId")?.as_str()?;
    let owner = cluster.task_owner(task)?;
    let headers = STATELESS_HEADERS
        .iter()
        .filter_map(|n| {
            h.get(*n)
                .map(|v| ((*n).to_owned(), Bytes::copy_from_slice(v.as_bytes())))
        })
        .collect();
    cluster
        .route_to_instance(owner, caller, headers, bytes.clone())
        .await
}

fn header_map(headers: Vec<(String, Bytes)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_maybe_shared(value),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// Serves a forwarded request for a session (or task) held here; `None` when it is not.
async fn serve(shared: &Arc<Shared>, forward: Forward) -> Option<Response<Body>> {
    let caller = crate::cluster::caller::decode(&forward.caller);
    if forward.op == Op::StatelessPost {
        let headers = header_map(forward.headers);
        return Some(match crate::body::parse_rpc(shared, &forward.body) {
            Ok(incoming) => crate::stateless::post(shared, &caller, &headers, incoming, None).await,
            Err(r) => r,
        });
    }
    let entry = shared.sessions.get_owned(&forward.session)?;
    match forward.op {
        // Handled before the first await: the message reaches its session in arrival order.
        Op::LegacyPost => crate::legacy::deliver_forwarded(shared, &entry, &forward.body, &caller),
        op => {
            let headers = header_map(forward.headers);
            crate::streamable::serve_forwarded(shared, entry, &caller, op, headers, forward.body)
                .await
        }
    }
}

fn encode(b: &Broadcast) -> Bytes {
    let text = match b {
        Broadcast::ListChanged(ListChanged::Tools) => "Ltools".to_owned(),
        Broadcast::ListChanged(ListChanged::Resources) => "Lresources".to_owned(),
        Broadcast::ListChanged(ListChanged::Prompts) => "Lprompts".to_owned(),
        Broadcast::ResourceUpdated(uri) => format!("R{uri}"),
        _ => String::new(),
    };
    Bytes::from(text)
}

fn decode(payload: &[u8]) -> Option<Broadcast> {
    let text = std::str::from_utf8(payload).ok()?;
    Some(match text {
        "Ltools" => Broadcast::ListChanged(ListChanged::Tools),
        "Lresources" => Broadcast::ListChanged(ListChanged::Resources),
        "Lprompts" => Broadcast::ListChanged(ListChanged::Prompts),
        _ => Broadcast::ResourceUpdated(text.strip_prefix('R')?.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_round_trip() {
        for b in [
            Broadcast::ListChanged(ListChanged::Tools),
            Broadcast::ListChanged(ListChanged::Resources),
            Broadcast::ListChanged(ListChanged::Prompts),
            Broadcast::ResourceUpdated("file:///a b".into()),
        ] {
            assert_eq!(decode(&encode(&b)), Some(b));
        }
        assert_eq!(decode(b"X"), None);
        assert_eq!(decode(b""), None);
    }
}
