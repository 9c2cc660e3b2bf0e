//! The caller of a forwarded request (the validator's identity, the exposed request headers),
//! carried to the owner so its handlers see what they would have seen where it landed.
//!
//! Encoded as JSON. Identity details of an arbitrary Rust type (`Identity::with_details`) do
//! not cross processes; subject, issuer, client id, scopes and claims do.

use bytes::Bytes;
use mcp_core::{Caller, Identity, RequestHeaders};
use serde_json::{Value, json};

/// The caller as bytes; empty for a caller without identity or headers.
pub(crate) fn encode(caller: &Caller) -> Bytes {
    if caller.identity().is_none() && caller.headers().is_empty() {
        return Bytes::new();
    }
    let identity = caller.identity().map(|i| {
        json!({
            "sub": i.subject(),
            "iss": i.issuer(),
            "cid": i.client_id(),
            "scopes": i.scopes(),
            "claims": i.claims(),
        })
    });
    let headers: Vec<[&str; 2]> = caller.headers().iter().map(|(k, v)| [k, v]).collect();
    Bytes::from(json!({"identity": identity, "headers": headers}).to_string())
}

/// The caller from [`encode`]'s bytes (an anonymous caller for empty or malformed bytes).
pub(crate) fn decode(bytes: &[u8]) -> Caller {
    let mut caller = Caller::new();
    let Ok(Value::Object(v)) = serde_json::from_slice::<Value>(bytes) else {
        return caller;
    };
    if let Some(Value::Object(i)) = v.get("identity") {
        let text = |k: &str| i.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(sub) = text("sub") {
            let mut id = Identity::new(sub);
            if let Some(iss) = text("iss") {
                id = id.with_issuer(iss);
            }
            if let Some(cid) = text("cid") {
                id = id.with_client_id(cid);
            }
            let scopes = i
                .get("scopes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            id = id.with_scopes(scopes.filter_map(Value::as_str).map(str::to_owned));
            if let Some(Value::Object(claims)) = i.get("claims") {
                id = id.with_claims(claims.clone());
            }
            caller = caller.with_identity(id);
        }
    }
    let mut headers = RequestHeaders::new();
    for pair in v
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(k), Some(val)) = (
            pair.get(0).and_then(Value::as_str),
            pair.get(1).and_then(Value::as_str),
        ) {
            headers.append(k, val);
        }
    }
    if !headers.is_empty() {
        caller = caller.with_headers(headers);
    }
    caller
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn callers_cross_instances() {
        let mut headers = RequestHeaders::new();
        headers.append("x-request-id", "r-1");
        let mut claims = Map::new();
        claims.insert("tenant".into(), "acme".into());
        let caller = Caller::new()
            .with_identity(
                Identity::new("alice")
                    .with_issuer("https://issuer")
                    .with_client_id("c")
                    .with_scopes(["a", "b"])
                    .with_claims(claims),
            )
            .with_headers(headers);
        let back = decode(&encode(&caller));
        let id = back.identity().unwrap();
        assert_eq!(id.subject(), "alice");
        assert_eq!(id.issuer(), Some("https://issuer"));
        assert_eq!(id.client_id(), Some("c"));
        assert!(id.has_scope("b"));
        assert_eq!(id.claim("tenant"), Some(&Value::from("acme")));
        assert_eq!(back.headers().get("x-request-id"), Some("r-1"));
        assert!(encode(&Caller::new()).is_empty());
        assert!(decode(b"").identity().is_none());
        assert!(decode(b"{\"identity\":{\"sub\":5}}").identity().is_none());
    }
}
