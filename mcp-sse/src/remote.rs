//! Cluster mode's glue between the transports and the cluster: serving the requests other
//! instances forward here, and passing server-wide notifications between instances.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use mcp_core::{Broadcast, ListChanged};

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

/// Serves a forwarded request for a session held here; `None` when it is not.
async fn serve(shared: &Arc<Shared>, forward: Forward) -> Option<Response<Body>> {
    let entry = shared.sessions.get_owned(&forward.session)?;
    let caller = crate::cluster::caller::decode(&forward.caller);
    match forward.op {
        // Handled before the first await: the message reaches its session in arrival order.
        Op::LegacyPost => crate::legacy::deliver_forwarded(shared, &entry, &forward.body, &caller),
        op => {
            let mut headers = HeaderMap::new();
            for (name, value) in forward.headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_maybe_shared(value),
                ) {
                    headers.append(n, v);
                }
            }
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
