//! A request of the stateless revision read from its text in one walk ([`Scan`]): its
//! members and its `params._meta` found where they stand, the values serde would read into
//! trees (the arguments, above all) read by serde from their own text, strictly. A request
//! carries about two hundred bytes of `_meta` on this revision, which serde's visitors would
//! otherwise take apart key by key on every call.
//!
//! Only the common shape is read this way: an object with `jsonrpc`, `id`, `method` and
//! `params`, none twice, keys without escapes, `params` an object. Anything else is `None`,
//! and the message is read by serde as before, which gives the same result or the error.

use serde_json::Value;

use crate::json_scan::Scan;
use crate::json_tree;
use crate::protocol::JsonObject;
use crate::request_meta::{self, RequestMeta};

/// The members of one message, as serde's reading of it gives them.
pub(crate) struct Fields {
    /// `jsonrpc`, when present: whether it is `"2.0"`.
    pub(crate) jsonrpc: Option<bool>,
    pub(crate) id: Option<Value>,
    pub(crate) method: Option<Value>,
    /// The params without `_meta`, when `_meta` is an object (it is then in `meta`).
    pub(crate) params: Option<Value>,
    pub(crate) meta: Option<RequestMeta>,
}

/// Reads `text` when it is a message of the common shape; `None` otherwise.
pub(crate) fn read(text: &str) -> Option<Fields> {
    let mut s = Scan::new(text);
    let mut f = Fields {
        jsonrpc: None,
        id: None,
        method: None,
        params: None,
        meta: None,
    };
    if s.open_object()? {
        return None;
    }
    loop {
        match s.key()? {
            "jsonrpc" if f.jsonrpc.is_none() => f.jsonrpc = Some(s.plain_str()? == "2.0"),
            "id" if f.id.is_none() => f.id = Some(json_tree::value(&mut s)?),
            "method" if f.method.is_none() => f.method = Some(json_tree::value(&mut s)?),
            "params" if f.params.is_none() => {
                let (params, meta) = params(&mut s)?;
                f.params = Some(params);
                f.meta = meta;
            }
            _ => return None,
        }
        if !s.next_member()? {
            break;
        }
    }
    s.at_end().then_some(f)
}

/// The params object, its `_meta` apart when that is an object.
fn params(s: &mut Scan<'_>) -> Option<(Value, Option<RequestMeta>)> {
    let mut object = JsonObject::new();
    let mut meta = None;
    if s.open_object()? {
        return Some((Value::Object(object), None));
    }
    loop {
        let key = s.key()?;
        if object.contains_key(key) || (key == "_meta" && meta.is_some()) {
            return None;
        }
        if key == "_meta" && s.object_next() {
            meta = Some(request_meta::walk(s)?);
        } else {
            let v = json_tree::value(s)?;
            object.insert(key.to_owned(), v);
        }
        if !s.next_member()? {
            return Some((Value::Object(object), meta));
        }
    }
}
