//! A request's `params._meta` read straight into the stateless revision's envelope fields,
//! in the same pass as the rest of the message: no JSON tree of the whole `_meta` is built
//! (`Context::meta` builds one only when asked).

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Visitor};
use serde_json::Value;

use crate::json_scan::Scan;
use crate::json_tree::value;
use crate::protocol::{Implementation, JsonObject, LoggingLevel};
use crate::strict::{Key, Strict, StrictVisitor, duplicate};
use crate::version::ProtocolVersion;

/// `_meta` key: the request's protocol version (2026-07-28, required).
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

/// `_meta` key: the client's capabilities for this request (2026-07-28, required).
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// `_meta` key: the client's name and version (2026-07-28, optional).
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";

/// `_meta` key: the lowest log level to send for this request (2026-07-28, optional).
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// A request's `params._meta`, taken out of its params by
/// [`jsonrpc::parse_stateless`](crate::jsonrpc::parse_stateless) and read into the fields of
/// the stateless revision's envelope ([`Envelope::from_request_meta`](crate::envelope::Envelope::from_request_meta));
/// everything else it holds is kept aside. It was checked like any other part of the message:
/// valid JSON, no key twice in any object.
///
/// ```
/// use mcp_core::envelope::Envelope;
/// use mcp_core::jsonrpc::{self, Incoming, Message, ParseLimits};
///
/// let body = bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{
///     "io.modelcontextprotocol/protocolVersion":"2026-07-28",
///     "io.modelcontextprotocol/clientCapabilities":{},"trace":"abc"}}}"#);
/// let (incoming, meta) = jsonrpc::parse_stateless(&body, &ParseLimits::default()).unwrap();
/// let Incoming::Single(Message::Request(request)) = incoming else { unreachable!() };
/// assert!(request.params.unwrap().get("_meta").is_none());
/// let meta = meta.unwrap();
/// assert_eq!(meta.protocol_version(), Some("2026-07-28"));
/// assert_eq!(meta.to_object()["trace"], "abc");
/// let envelope = Envelope::from_request_meta(meta).unwrap();
/// assert_eq!(envelope.protocol_version().as_str(), "2026-07-28");
/// ```
#[derive(Clone, Default)]
pub struct RequestMeta {
    /// Boxed: the meta is handed through several futures, which then stay small.
    pub(crate) fields: Box<MetaFields>,
}

/// What a [`RequestMeta`] read.
#[derive(Clone, Default)]
pub(crate) struct MetaFields {
    pub(crate) version: Option<Known<ProtocolVersion>>,
    pub(crate) capabilities: Option<Value>,
    pub(crate) client_info: Option<ClientInfo>,
    pub(crate) log_level: Option<Known<LoggingLevel>>,
    pub(crate) rest: MetaRest,
    /// The whole message, when the `_meta` came from one.
    pub(crate) body: Option<Bytes>,
}

/// A field read as what it should be, or kept as the JSON it is (for the error naming it).
#[derive(Clone, Debug)]
pub(crate) enum Known<T> {
    Is(T),
    Other(Value),
}

/// `clientInfo` when it is an object: the members an `Implementation` has, and the others.
/// A valid one read by walking the text comes as `valid` alone, shared with the requests
/// before it that sent the same text ([`LAST_CLIENT_INFO`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientInfo {
    pub(crate) valid: Option<Arc<Implementation>>,
    pub(crate) name: Option<Value>,
    pub(crate) version: Option<Value>,
    pub(crate) title: Option<Value>,
    pub(crate) extra: JsonObject,
    /// Not an object: kept whole.
    pub(crate) other: Option<Value>,
}

/// What `_meta` holds beside the envelope's fields.
#[derive(Clone, Debug, Default)]
pub(crate) struct MetaRest {
    pub(crate) progress_token: Option<Value>,
    pub(crate) others: JsonObject,
    /// `clientInfo` members an `Implementation` does not keep (including a null title).
    pub(crate) client_info_extra: JsonObject,
}

impl MetaRest {
    pub(crate) fn is_empty(&self) -> bool {
        self.progress_token.is_none() && self.others.is_empty() && self.client_info_extra.is_empty()
    }
}

impl fmt::Debug for RequestMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values are the client's: only the revision is shown.
        f.debug_struct("RequestMeta")
            .field("protocol_version", &self.protocol_version())
            .finish_non_exhaustive()
    }
}

impl<T: serde::Serialize> Known<T> {
    fn to_value(&self) -> Value {
        match self {
            Known::Is(t) => serde_json::to_value(t).unwrap_or(Value::Null),
            Known::Other(v) => v.clone(),
        }
    }
}

impl ClientInfo {
    fn to_value(&self) -> Value {
        if let Some(v) = &self.other {
            return v.clone();
        }
        if let Some(i) = &self.valid {
            return serde_json::to_value(&**i).unwrap_or(Value::Null);
        }
        let mut m = self.extra.clone();
        for (k, v) in [
            ("name", &self.name),
            ("version", &self.version),
            ("title", &self.title),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone());
            }
        }
        Value::Object(m)
    }
}

impl RequestMeta {
    /// `_meta["io.modelcontextprotocol/protocolVersion"]`, when it is a string.
    pub fn protocol_version(&self) -> Option<&str> {
        match self.fields.version.as_ref()? {
            Known::Is(v) => Some(v.as_str()),
            Known::Other(v) => v.as_str(),
        }
    }

    /// The whole `_meta` as a JSON object.
    pub fn to_object(&self) -> JsonObject {
        let f = &self.fields;
        let mut m = f.rest.others.clone();
        if let Some(v) = &f.version {
            m.insert(META_PROTOCOL_VERSION.into(), v.to_value());
        }
        if let Some(v) = &f.capabilities {
            m.insert(META_CLIENT_CAPABILITIES.into(), v.clone());
        }
        if let Some(v) = &f.client_info {
            m.insert(META_CLIENT_INFO.into(), v.to_value());
        }
        if let Some(v) = &f.log_level {
            m.insert(META_LOG_LEVEL.into(), v.to_value());
        }
        if let Some(v) = &f.rest.progress_token {
            m.insert("progressToken".into(), v.clone());
        }
        m
    }
}

/// Sets `slot` once; a second value for the same key is refused like any repeated key.
fn once<T, E: de::Error>(slot: &mut Option<T>, key: &str, v: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(duplicate(key));
    }
    *slot = Some(v);
    Ok(())
}

/// Inserts into an object, refusing a key given twice.
fn insert<E: de::Error>(m: &mut JsonObject, key: String, v: Value) -> Result<(), E> {
    match m.entry(key) {
        serde_json::map::Entry::Occupied(e) => Err(duplicate(e.key())),
        serde_json::map::Entry::Vacant(e) => {
            e.insert(v);
            Ok(())
        }
    }
}

/// A `_meta` value: read into a [`RequestMeta`] when it is an object, kept as JSON otherwise.
pub(crate) enum MetaValue {
    Meta(RequestMeta),
    Other(Value),
}

impl<'de> Deserialize<'de> for MetaValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MetaVisitor)
    }
}

/// Reads a value as a known type `T` from a string, anything else kept as JSON.
struct KnownSeed<T>(fn(&str) -> Option<T>);

impl<'de, T> DeserializeSeed<'de> for KnownSeed<T> {
    type Value = Known<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Known<T>, D::Error> {
        struct V<T>(fn(&str) -> Option<T>);
        impl<'de, T> Visitor<'de> for V<T> {
            type Value = Known<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Known<T>, E> {
                Ok(match (self.0)(v) {
                    Some(t) => Known::Is(t),
                    None => Known::Other(Value::String(v.to_owned())),
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Known<T>, E> {
                Ok(Known::Other(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Known<T>, E> {
                Ok(Known::Other(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Known<T>, E> {
                Ok(Known::Other(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Known<T>, E> {
                Ok(Known::Other(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Known<T>, E> {
                Ok(Known::Other(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Known<T>, A::Error> {
                StrictVisitor.visit_seq(seq).map(Known::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Known<T>, A::Error> {
                StrictVisitor.visit_map(map).map(Known::Other)
            }
        }
        d.deserialize_any(V(self.0))
    }
}

fn protocol_version(s: &str) -> Option<ProtocolVersion> {
    s.parse().ok()
}

fn log_level(s: &str) -> Option<LoggingLevel> {
    LoggingLevel::deserialize(de::value::StrDeserializer::<de::value::Error>::new(s)).ok()
}

/// Reads `clientInfo`: an object's members apart, anything else kept as JSON.
struct ClientInfoValue(ClientInfo);

impl<'de> Deserialize<'de> for ClientInfoValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClientInfoValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut info = ClientInfo::default();
                while let Some(Key(key)) = map.next_key()? {
                    let Strict(v) = map.next_value()?;
                    match &*key {
                        "name" => once(&mut info.name, &key, v)?,
                        "version" => once(&mut info.version, &key, v)?,
                        "title" => once(&mut info.title, &key, v)?,
                        _ => insert(&mut info.extra, key.into_owned(), v)?,
                    }
                }
                Ok(ClientInfoValue(info))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(other(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(other(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(other(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(other(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(other(v.into()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(other(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                StrictVisitor.visit_seq(seq).map(other)
            }
        }
        fn other(v: Value) -> ClientInfoValue {
            ClientInfoValue(ClientInfo {
                other: Some(v),
                ..ClientInfo::default()
            })
        }
        d.deserialize_any(V)
    }
}

impl RequestMeta {
    /// A `_meta` already read as a JSON object, taken apart the same way as one read from a
    /// message's text.
    pub(crate) fn of_object(meta: &JsonObject) -> RequestMeta {
        use serde::Deserializer as _;
        // An object holds no key twice and every value is JSON, so this cannot fail.
        match meta.deserialize_any(MetaVisitor) {
            Ok(MetaValue::Meta(m)) => m,
            _ => RequestMeta::default(),
        }
    }
}

/// The longest `_meta` text [`LAST_META`] keeps.
const META_KEPT: usize = 1024;

thread_local! {
    /// The last `_meta` read on this thread that holds the envelope's fields and nothing else,
    /// with its text. A client sends the same one with every request, so the next request
    /// that sends the same text takes a copy of what it read (its parts are shared) instead of
    /// reading it again. One entry, at most [`META_KEPT`] bytes.
    static LAST_META: RefCell<Option<(Box<str>, MetaFields)>> = const { RefCell::new(None) };
}

/// Reads a `_meta` object from where `s` stands, by walking its text: what [`MetaValue`]'s
/// serde reading gives when the object is of the common shape (keys and the revision's string
/// fields without escapes, no key twice, `clientInfo` an object). Every other value is read by
/// serde from its own text, strictly. `None` for anything else, or any error: the caller then
/// reads the whole message with serde, which decides.
pub(crate) fn walk(s: &mut Scan<'_>) -> Option<RequestMeta> {
    let kept = LAST_META.with_borrow(|last| match last {
        Some((t, fields)) if s.eat_text(t) => Some(fields.clone()),
        _ => None,
    });
    if let Some(fields) = kept {
        return Some(RequestMeta {
            fields: Box::new(fields),
        });
    }
    let text = s.value_text()?;
    let mut own = Scan::new(text);
    let meta = walk_fields(&mut own)?;
    if !own.at_end() {
        return None;
    }
    let f = &meta.fields;
    if f.rest.is_empty() && f.body.is_none() && text.len() <= META_KEPT {
        LAST_META.set(Some((text.into(), (**f).clone())));
    }
    Some(meta)
}

/// [`walk`] of a `_meta` not seen just before.
fn walk_fields(s: &mut Scan<'_>) -> Option<RequestMeta> {
    let mut meta = RequestMeta::default();
    let m = &mut *meta.fields;
    if s.open_object()? {
        return Some(meta);
    }
    loop {
        let key = s.key()?;
        match key {
            META_PROTOCOL_VERSION if m.version.is_none() => {
                let v = s.plain_str()?;
                m.version = Some(match protocol_version(v) {
                    Some(p) => Known::Is(p),
                    None => Known::Other(Value::String(v.to_owned())),
                });
            }
            META_CLIENT_CAPABILITIES if m.capabilities.is_none() => {
                m.capabilities = Some(value(s)?);
            }
            META_CLIENT_INFO if m.client_info.is_none() => {
                m.client_info = Some(shared_client_info(s)?);
            }
            META_LOG_LEVEL if m.log_level.is_none() => {
                let v = s.plain_str()?;
                m.log_level = Some(match log_level(v) {
                    Some(l) => Known::Is(l),
                    None => Known::Other(Value::String(v.to_owned())),
                });
            }
            "progressToken" if m.rest.progress_token.is_none() => {
                m.rest.progress_token = Some(value(s)?);
            }
            META_PROTOCOL_VERSION
            | META_CLIENT_CAPABILITIES
            | META_CLIENT_INFO
            | META_LOG_LEVEL
            | "progressToken" => return None,
            _ if m.rest.others.contains_key(key) => return None,
            _ => {
                let v = value(s)?;
                m.rest.others.insert(key.to_owned(), v);
            }
        }
        if !s.next_member()? {
            return Some(meta);
        }
    }
}

/// The longest `clientInfo` text [`LAST_CLIENT_INFO`] keeps.
const CLIENT_INFO_KEPT: usize = 512;

thread_local! {
    /// The last valid `clientInfo` read on this thread, with its text. A client sends the same
    /// one with every request, so the next request that sends the same text shares it instead
    /// of reading and allocating it again. One entry, at most [`CLIENT_INFO_KEPT`] bytes.
    static LAST_CLIENT_INFO: RefCell<Option<(Box<str>, Arc<Implementation>)>> =
        const { RefCell::new(None) };
}

/// `clientInfo` as [`client_info`] reads it, a valid one shared with the requests before it
/// that sent the same text.
fn shared_client_info(s: &mut Scan<'_>) -> Option<ClientInfo> {
    let kept = LAST_CLIENT_INFO.with_borrow(|last| match last {
        Some((t, info)) if s.eat_text(t) => Some(info.clone()),
        _ => None,
    });
    if let Some(info) = kept {
        return Some(ClientInfo {
            valid: Some(info),
            ..ClientInfo::default()
        });
    }
    let text = s.value_text()?;
    let mut own = Scan::new(text);
    let info = client_info(&mut own)?;
    if !own.at_end() {
        return None;
    }
    // Valid as an `Implementation`, with nothing else: kept and shared from now on.
    let plain = |v: &Option<Value>| matches!(v, Some(Value::String(_)));
    if !(plain(&info.name)
        && plain(&info.version)
        && (info.title.is_none() || plain(&info.title))
        && info.extra.is_empty()
        && info.other.is_none())
    {
        return Some(info);
    }
    let string = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let valid = Arc::new(Implementation {
        name: string(info.name)?,
        version: string(info.version)?,
        title: string(info.title),
    });
    if text.len() <= CLIENT_INFO_KEPT {
        LAST_CLIENT_INFO.set(Some((text.into(), valid.clone())));
    }
    Some(ClientInfo {
        valid: Some(valid),
        ..ClientInfo::default()
    })
}

/// `clientInfo` when it is an object whose keys have no escapes, none twice.
fn client_info(s: &mut Scan<'_>) -> Option<ClientInfo> {
    let mut info = ClientInfo::default();
    if s.open_object()? {
        return Some(info);
    }
    loop {
        let key = s.key()?;
        let slot = match key {
            "name" => &mut info.name,
            "version" => &mut info.version,
            "title" => &mut info.title,
            _ if info.extra.contains_key(key) => return None,
            _ => {
                let v = value(s)?;
                info.extra.insert(key.to_owned(), v);
                if !s.next_member()? {
                    return Some(info);
                }
                continue;
            }
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value(s)?);
        if !s.next_member()? {
            return Some(info);
        }
    }
}

struct MetaVisitor;

impl<'de> Visitor<'de> for MetaVisitor {
    type Value = MetaValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<MetaValue, A::Error> {
        let mut meta = RequestMeta::default();
        let m = &mut *meta.fields;
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                META_PROTOCOL_VERSION => {
                    let v = map.next_value_seed(KnownSeed(protocol_version))?;
                    once(&mut m.version, &key, v)?;
                }
                META_CLIENT_CAPABILITIES => {
                    let Strict(v) = map.next_value()?;
                    once(&mut m.capabilities, &key, v)?;
                }
                META_CLIENT_INFO => {
                    let ClientInfoValue(v) = map.next_value()?;
                    once(&mut m.client_info, &key, v)?;
                }
                META_LOG_LEVEL => {
                    let v = map.next_value_seed(KnownSeed(log_level))?;
                    once(&mut m.log_level, &key, v)?;
                }
                "progressToken" => {
                    let Strict(v) = map.next_value()?;
                    once(&mut m.rest.progress_token, &key, v)?;
                }
                _ => {
                    let Strict(v) = map.next_value()?;
                    insert(&mut m.rest.others, key.into_owned(), v)?;
                }
            }
        }
        Ok(MetaValue::Meta(meta))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(v.into()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<MetaValue, E> {
        Ok(MetaValue::Other(Value::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<MetaValue, A::Error> {
        StrictVisitor.visit_seq(seq).map(MetaValue::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(meta: &str) -> Result<RequestMeta, serde_json::Error> {
        match serde_json::from_str::<MetaValue>(meta)? {
            MetaValue::Meta(m) => Ok(m),
            MetaValue::Other(v) => panic!("not an object: {v}"),
        }
    }

    #[test]
    fn reads_the_envelope_fields_and_keeps_the_rest() {
        let text = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","x":[1,{"a":null}],"progressToken":7,"io.modelcontextprotocol/logLevel":"warning","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","title":null,"icons":[]},"io.modelcontextprotocol/clientCapabilities":{"sampling":{}}}"#;
        let m = read(text).unwrap();
        assert_eq!(m.protocol_version(), Some("2026-07-28"));
        assert!(matches!(
            m.fields.log_level,
            Some(Known::Is(LoggingLevel::Warning))
        ));
        // The tree it gives back is the one it read.
        let tree: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::Object(m.to_object()), tree);
    }

    #[test]
    fn keeps_fields_of_the_wrong_kind_as_they_are() {
        let text = r#"{"io.modelcontextprotocol/protocolVersion":20260728,"io.modelcontextprotocol/logLevel":"loud","io.modelcontextprotocol/clientInfo":"me","io.modelcontextprotocol/clientCapabilities":[]}"#;
        let m = read(text).unwrap();
        assert_eq!(m.protocol_version(), None);
        let tree: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::Object(m.to_object()), tree);
        let unknown = read(r#"{"io.modelcontextprotocol/protocolVersion":"v9"}"#).unwrap();
        assert_eq!(unknown.protocol_version(), Some("v9"));
        let escaped =
            read(r#"{"io.modelcontextprotocol\/protocolVersion":"2026\u002d07-28"}"#).unwrap();
        assert_eq!(escaped.protocol_version(), Some("2026-07-28"));
    }

    fn walked(meta: &str) -> RequestMeta {
        walk(&mut Scan::new(meta)).unwrap_or_else(|| panic!("not walked: {meta}"))
    }

    #[test]
    fn a_client_info_sent_again_is_shared_and_reads_the_same() {
        let info = |m: &RequestMeta| m.fields.client_info.as_ref().and_then(|c| c.valid.clone());
        let text =
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","title":"C"}}"#;
        let (a, b) = (walked(text), walked(text));
        assert!(Arc::ptr_eq(&info(&a).unwrap(), &info(&b).unwrap()));
        let tree: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::Object(b.to_object()), tree);
        assert_eq!(Value::Object(read(text).unwrap().to_object()), tree);
        // Another client's is its own.
        let other = walked(r#"{"io.modelcontextprotocol/clientInfo":{"name":"d","version":"1"}}"#);
        assert_eq!(info(&other).unwrap().name, "d");
        assert!(!Arc::ptr_eq(&info(&a).unwrap(), &info(&other).unwrap()));
        // One that is not a plain `Implementation` is read member by member, every time.
        for text in [
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","title":null}}"#,
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1","icons":[]}}"#,
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"c"}}"#,
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"c","version":2}}"#,
        ] {
            for _ in 0..2 {
                let m = walked(text);
                assert!(info(&m).is_none(), "{text}");
                let tree: Value = serde_json::from_str(text).unwrap();
                assert_eq!(Value::Object(m.to_object()), tree, "{text}");
            }
        }
    }

    #[test]
    fn a_meta_sent_again_reads_the_same() {
        let envelope = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/logLevel":"info"}"#;
        let with_token = |t: u32| {
            format!(
                r#"{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":{t}}}"#
            )
        };
        for text in [
            envelope.to_owned(),
            envelope.to_owned(),
            with_token(1),
            with_token(2),
            with_token(2),
            envelope.to_owned(),
        ] {
            let tree: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(Value::Object(walked(&text).to_object()), tree, "{text}");
        }
    }

    #[test]
    fn refuses_a_key_given_twice_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"progressToken":1,"progressToken":1}"#,
            r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#,
            r#"{"io.modelcontextprotocol/clientInfo":{"name":"a","name":"b"}}"#,
            r#"{"io.modelcontextprotocol/clientInfo":{"x":{"k":1,"k":2}}}"#,
            r#"{"io.modelcontextprotocol/clientCapabilities":{"s":{},"s":{}}}"#,
            r#"{"io.modelcontextprotocol/logLevel":{"k":1,"k":2}}"#,
            r#"{"x":[{"c":1,"c":1}]}"#,
        ] {
            let e = read(text)
                .err()
                .unwrap_or_else(|| panic!("accepted {text}"));
            assert!(e.to_string().contains("duplicate key"), "{text}: {e}");
        }
        assert!(read(&json!({"a": {"b": 1}, "c": 2}).to_string()).is_ok());
    }
}
