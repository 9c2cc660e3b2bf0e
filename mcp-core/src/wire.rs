//! What each negotiated revision may see: the one place where listings and results are shaped
//! per [`ProtocolVersion`]. Fields a revision does not define are never sent to it.

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use bytes::Bytes;

use crate::cache::CachePolicy;
use crate::jsonrpc::{self, RequestId};
use crate::protocol::{CallToolResult, Content, GetPromptResult, JsonObject};
use crate::registry::{Prompt, Resource, ResourceTemplate, Tool};
use crate::version::ProtocolVersion;

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v);
    }
}

fn icons(v: ProtocolVersion, icons: &[JsonObject]) -> Option<Value> {
    (v.has_icons() && !icons.is_empty()).then(|| Value::from(icons.to_vec()))
}

fn meta(v: ProtocolVersion, meta: &Option<JsonObject>) -> Option<Value> {
    meta.as_ref()
        .filter(|_| v.has_item_meta())
        .map(|m| Value::Object(m.clone()))
}

/// A tool as listed to a client of revision `v`.
pub(crate) fn tool(t: &Tool, v: ProtocolVersion) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), t.name.clone().into());
    if v.has_titles() {
        put(&mut m, "title", t.title.clone().map(Value::from));
    }
    put(
        &mut m,
        "description",
        t.description.clone().map(Value::from),
    );
    m.insert(
        "inputSchema".into(),
        Value::Object((*t.input_schema).clone()),
    );
    if v.has_structured_output() {
        put(
            &mut m,
            "outputSchema",
            t.output_schema
                .as_ref()
                .map(|s| Value::Object((**s).clone())),
        );
    }
    if v.has_tool_annotations() {
        put(
            &mut m,
            "annotations",
            t.annotations
                .as_ref()
                .and_then(|a| serde_json::to_value(a).ok()),
        );
    }
    put(&mut m, "icons", icons(v, &t.icons));
    put(&mut m, "_meta", meta(v, &t.meta));
    Value::Object(m)
}

/// A static resource as listed to a client of revision `v`.
pub(crate) fn resource(r: &Resource, v: ProtocolVersion) -> Value {
    let mut info = r.info.clone();
    if !v.has_titles() {
        info.title = None;
    }
    if !v.has_item_meta() {
        info.meta = None;
        if let Some(a) = info.annotations.as_mut() {
            a.last_modified = None;
        }
    }
    if !v.has_icons() {
        info.icons.clear();
    }
    serde_json::to_value(info).unwrap_or(Value::Null)
}

/// A resource template as listed to a client of revision `v`.
pub(crate) fn template(t: &ResourceTemplate, v: ProtocolVersion) -> Value {
    let mut info = t.info.clone();
    if !v.has_titles() {
        info.title = None;
    }
    if !v.has_item_meta() {
        info.meta = None;
    }
    if !v.has_icons() {
        info.icons.clear();
    }
    serde_json::to_value(info).unwrap_or(Value::Null)
}

/// A prompt as listed to a client of revision `v`.
pub(crate) fn prompt(p: &Prompt, v: ProtocolVersion) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), p.name.clone().into());
    if v.has_titles() {
        put(&mut m, "title", p.title.clone().map(Value::from));
    }
    put(
        &mut m,
        "description",
        p.description.clone().map(Value::from),
    );
    let args: Vec<Value> = p
        .arguments
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if !v.has_titles() {
                a.title = None;
            }
            serde_json::to_value(a).unwrap_or(Value::Null)
        })
        .collect();
    if !args.is_empty() {
        m.insert("arguments".into(), args.into());
    }
    put(&mut m, "icons", icons(v, &p.icons));
    put(&mut m, "_meta", meta(v, &p.meta));
    Value::Object(m)
}

/// One content block as a client of revision `v` can read it: audio (before 2025-03-26) and
/// resource links (before 2025-06-18) become text that says what they were.
pub(crate) fn content(c: &Content, v: ProtocolVersion) -> Value {
    let downgraded = match c {
        Content::Audio { mime_type, .. } if !v.has_audio() => Some(format!(
            "[audio content ({mime_type}) omitted: this client's protocol version predates audio]"
        )),
        Content::ResourceLink { uri, name, .. } if !v.has_resource_links() => {
            Some(format!("[resource {name}: {uri}]"))
        }
        _ => None,
    };
    match downgraded {
        Some(text) => json!({ "type": "text", "text": text }),
        None => {
            let mut value = serde_json::to_value(c).unwrap_or(Value::Null);
            if !v.has_item_meta()
                && let Some(ann) = value.get_mut("annotations").and_then(Value::as_object_mut)
            {
                ann.remove("lastModified");
            }
            value
        }
    }
}

/// True when `c` cannot be sent to revision `v` as it is (see [`content`]).
fn needs_rewrite(c: &Content, v: ProtocolVersion) -> bool {
    let last_modified = |a: &Option<crate::protocol::Annotations>| {
        a.as_ref().is_some_and(|a| a.last_modified.is_some())
    };
    match c {
        Content::Audio { .. } => !v.has_audio(),
        Content::ResourceLink { .. } => !v.has_resource_links(),
        Content::Text { annotations, .. }
        | Content::Image { annotations, .. }
        | Content::Resource { annotations, .. } => !v.has_item_meta() && last_modified(annotations),
    }
}

struct ContentList<'a>(&'a [Content], ProtocolVersion);

impl serde::Serialize for ContentList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            if needs_rewrite(c, self.1) {
                seq.serialize_element(&content(c, self.1))?;
            } else {
                seq.serialize_element(c)?;
            }
        }
        seq.end()
    }
}

/// Completes a result of the stateless revision: `resultType: "complete"`, the server's
/// identity merged into `_meta`, and the caching hints where the method is cacheable.
pub(crate) fn complete_result(
    map: &mut Map<String, Value>,
    server_info_meta: &RawValue,
    cache: Option<CachePolicy>,
) {
    map.insert("resultType".into(), "complete".into());
    if let Ok(Value::Object(info)) = serde_json::from_str::<Value>(server_info_meta.get()) {
        match map.get_mut("_meta") {
            Some(Value::Object(meta)) => meta.extend(info),
            _ => {
                map.insert("_meta".into(), Value::Object(info));
            }
        }
    }
    if let Some(c) = cache {
        map.insert("ttlMs".into(), c.ttl_ms().into());
        map.insert(
            "cacheScope".into(),
            serde_json::to_value(c.scope).unwrap_or_default(),
        );
    }
}

/// A `tools/call` result as a client of revision `v` sees it, serialized directly (no
/// intermediate JSON tree): the hot path of every tool call.
pub(crate) struct CallResult {
    pub(crate) result: CallToolResult,
    pub(crate) version: ProtocolVersion,
    /// On the stateless revision: the `_meta` naming the server (the result is complete).
    pub(crate) server_info_meta: Option<Arc<RawValue>>,
}

impl CallResult {
    /// The whole response answering request `id` with this result, written directly: the
    /// member names as text, the values through serde, and a text block's type and member
    /// names as text too (the common case). The bytes are those this result's serialization
    /// gives inside [`jsonrpc::result_bytes`].
    pub(crate) fn response_bytes(&self, id: &RequestId) -> Bytes {
        jsonrpc::result_bytes_written(id, |out| self.write(out))
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let (r, v) = (&self.result, self.version);
        out.extend_from_slice(br#"{"content":["#);
        for (i, c) in r.content.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match c {
                _ if needs_rewrite(c, v) => serde_json::to_writer(&mut *out, &content(c, v))?,
                Content::Text {
                    text,
                    annotations: None,
                } => {
                    out.extend_from_slice(br#"{"type":"text","text":"#);
                    serde_json::to_writer(&mut *out, text)?;
                    out.push(b'}');
                }
                _ => serde_json::to_writer(&mut *out, c)?,
            }
        }
        out.push(b']');
        if v.has_structured_output()
            && let Some(sc) = &r.structured_content
        {
            out.extend_from_slice(br#","structuredContent":"#);
            serde_json::to_writer(&mut *out, sc)?;
        }
        if r.is_error() {
            out.extend_from_slice(br#","isError":true"#);
        }
        match (&self.server_info_meta, &r.meta) {
            (Some(info), None) => {
                out.extend_from_slice(br#","_meta":"#);
                out.extend_from_slice(info.get().as_bytes());
            }
            (Some(info), Some(meta)) => {
                out.extend_from_slice(br#","_meta":"#);
                serde_json::to_writer(&mut *out, &merged_meta(meta, info))?;
            }
            (None, Some(meta)) if v.has_item_meta() => {
                out.extend_from_slice(br#","_meta":"#);
                serde_json::to_writer(&mut *out, meta)?;
            }
            (None, _) => {}
        }
        if self.server_info_meta.is_some() {
            out.extend_from_slice(br#","resultType":"complete""#);
        }
        out.push(b'}');
        Ok(())
    }
}

/// A tool's own result `_meta` with the server's identity merged in.
fn merged_meta(meta: &JsonObject, info: &RawValue) -> JsonObject {
    let mut merged = meta.clone();
    if let Ok(Value::Object(info)) = serde_json::from_str::<Value>(info.get()) {
        merged.extend(info);
    }
    merged
}

impl serde::Serialize for CallResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (r, v) = (&self.result, self.version);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("content", &ContentList(&r.content, v))?;
        if v.has_structured_output()
            && let Some(sc) = &r.structured_content
        {
            m.serialize_entry("structuredContent", sc)?;
        }
        if r.is_error() {
            m.serialize_entry("isError", &true)?;
        }
        match (&self.server_info_meta, &r.meta) {
            (Some(info), None) => m.serialize_entry("_meta", &**info)?,
            (Some(info), Some(meta)) => m.serialize_entry("_meta", &merged_meta(meta, info))?,
            (None, Some(meta)) if v.has_item_meta() => m.serialize_entry("_meta", meta)?,
            (None, _) => {}
        }
        if self.server_info_meta.is_some() {
            m.serialize_entry("resultType", "complete")?;
        }
        m.end()
    }
}

/// A `tools/call` result for a client of revision `v`, as a JSON tree (tests compare it
/// with [`CallResult`]).
#[cfg(test)]
pub(crate) fn call_result(r: &CallToolResult, v: ProtocolVersion) -> Value {
    let mut m = Map::new();
    m.insert(
        "content".into(),
        r.content
            .iter()
            .map(|c| content(c, v))
            .collect::<Vec<_>>()
            .into(),
    );
    if v.has_structured_output() {
        put(&mut m, "structuredContent", r.structured_content.clone());
    }
    if r.is_error() {
        m.insert("isError".into(), true.into());
    }
    put(&mut m, "_meta", meta(v, &r.meta));
    Value::Object(m)
}

/// A `prompts/get` result for a client of revision `v`.
pub(crate) fn prompt_result(r: &GetPromptResult, v: ProtocolVersion) -> Value {
    let messages: Vec<Value> = r
        .messages
        .iter()
        .map(|msg| json!({ "role": msg.role, "content": content(&msg.content, v) }))
        .collect();
    let mut m = Map::new();
    put(
        &mut m,
        "description",
        r.description.clone().map(Value::from),
    );
    m.insert("messages".into(), messages.into());
    put(&mut m, "_meta", meta(v, &r.meta));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ToolAnnotations;

    #[test]
    fn tool_fields_follow_the_revision() {
        let mut out = JsonObject::new();
        out.insert("type".into(), "object".into());
        let t = Tool::new("t", |_, _| async { Ok(CallToolResult::default()) })
            .title("T")
            .description("d")
            .output_schema(out)
            .annotations(ToolAnnotations {
                read_only_hint: Some(true),
                ..Default::default()
            });
        let old = tool(&t, ProtocolVersion::V2024_11_05);
        assert!(old.get("title").is_none());
        assert!(old.get("outputSchema").is_none());
        assert!(old.get("annotations").is_none());
        let mid = tool(&t, ProtocolVersion::V2025_03_26);
        assert!(mid.get("annotations").is_some());
        assert!(mid.get("outputSchema").is_none());
        let new = tool(&t, ProtocolVersion::V2025_06_18);
        assert_eq!(new["title"], "T");
        assert!(new.get("outputSchema").is_some());
    }

    #[test]
    fn content_is_downgraded_for_old_clients() {
        let audio = Content::audio("AAAA", "audio/wav");
        assert_eq!(
            content(&audio, ProtocolVersion::V2024_11_05)["type"],
            "text"
        );
        assert_eq!(
            content(&audio, ProtocolVersion::V2025_03_26)["type"],
            "audio"
        );
        let link = Content::resource_link("a://b", "b");
        assert_eq!(content(&link, ProtocolVersion::V2025_03_26)["type"], "text");
        assert_eq!(
            content(&link, ProtocolVersion::V2025_06_18)["type"],
            "resource_link"
        );
        let r = CallToolResult {
            structured_content: Some(json!({"a": 1})),
            ..CallToolResult::default()
        };
        assert!(
            call_result(&r, ProtocolVersion::V2025_03_26)
                .get("structuredContent")
                .is_none()
        );
    }

    #[test]
    fn response_bytes_are_those_serde_writes() {
        let info: Arc<RawValue> = serde_json::value::to_raw_value(&json!({
            "io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}
        }))
        .unwrap()
        .into();
        let mut tool_meta = JsonObject::new();
        tool_meta.insert("k".into(), "v".into());
        let annotated = Content::Text {
            text: "x".into(),
            annotations: Some(crate::protocol::Annotations {
                last_modified: Some("2025-01-01T00:00:00Z".into()),
                ..Default::default()
            }),
        };
        let results = [
            CallToolResult::default(),
            CallToolResult {
                content: vec![Content::text("a \"quoted\"\n text\u{1} é")],
                structured_content: Some(json!({"a": 1})),
                is_error: Some(true),
                meta: None,
            },
            CallToolResult {
                content: vec![Content::text("t"), Content::text("")],
                meta: Some(tool_meta),
                ..CallToolResult::default()
            },
            CallToolResult {
                content: vec![
                    annotated,
                    Content::audio("AAAA", "audio/wav"),
                    Content::resource_link("a://b", "b"),
                    Content::text("last"),
                ],
                is_error: Some(false),
                meta: Some(JsonObject::new()),
                ..CallToolResult::default()
            },
        ];
        let ids = [RequestId::Int(-7), RequestId::Str("a\"b".into())];
        for r in &results {
            for info in [None, Some(info.clone())] {
                for v in ProtocolVersion::ALL.iter().copied() {
                    for id in &ids {
                        let c = CallResult {
                            result: r.clone(),
                            version: v,
                            server_info_meta: info.clone(),
                        };
                        let expected = format!(
                            r#"{{"jsonrpc":"2.0","id":{},"result":{}}}"#,
                            serde_json::to_string(id).unwrap(),
                            serde_json::to_string(&c).unwrap()
                        );
                        let got = c.response_bytes(id);
                        assert_eq!(std::str::from_utf8(&got).unwrap(), expected);
                    }
                }
            }
        }
    }

    #[test]
    fn direct_serialization_matches_the_tree() {
        let ann = crate::protocol::Annotations {
            last_modified: Some("2025-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let r = CallToolResult {
            content: vec![
                Content::text("t"),
                Content::audio("AAAA", "audio/wav"),
                Content::resource_link("a://b", "b"),
                Content::Text {
                    text: "x".into(),
                    annotations: Some(ann),
                },
            ],
            structured_content: Some(json!({"a": 1})),
            is_error: Some(true),
            meta: Some(JsonObject::new()),
        };
        for v in ProtocolVersion::ALL {
            let direct = serde_json::to_value(CallResult {
                result: r.clone(),
                version: *v,
                server_info_meta: None,
            })
            .unwrap();
            assert_eq!(direct, call_result(&r, *v), "{v}");
        }
    }
}
