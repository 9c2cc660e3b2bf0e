//! Routing of client requests to the registry: one function per method.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::FutureExt;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::cancel::Cancel;
use crate::context::Context;
use crate::error::{McpError, ToolError};
use crate::jsonrpc::Request;
use crate::outbound::Outbound;
use crate::protocol::{CallToolResult, Completion, JsonObject, LoggingLevel};
use crate::registry::CompletionRequest;
use crate::server::ListKind;
use crate::session::Session;
use crate::version::ProtocolVersion;
use crate::wire;

/// A result body: a fresh value, or a cached serialization.
pub(crate) enum Body {
    Value(Value),
    Raw(Arc<RawValue>),
    Call(wire::CallResult),
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Value(v) => v.serialize(s),
            Body::Raw(r) => r.serialize(s),
            Body::Call(c) => c.serialize(s),
        }
    }
}

type Outcome = Result<Body, McpError>;

/// Checks done in arrival order, before the request runs: initialization and its ordering.
/// Returns the answer when the request is settled here.
pub(crate) fn precheck(session: &Session, req: &Request) -> Option<Outcome> {
    match req.method.as_str() {
        "initialize" => Some(initialize(session, req.params.as_ref())),
        "ping" => None,
        _ if !session.is_initialized() => Some(Err(McpError::invalid_request(format!(
            "received {} before initialization: send initialize first",
            req.method
        )))),
        _ => None,
    }
}

fn params_object(params: Option<Value>) -> Result<JsonObject, McpError> {
    match params {
        None | Some(Value::Null) => Ok(JsonObject::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(McpError::invalid_params("params must be an object")),
    }
}

fn str_param<'a>(p: &'a JsonObject, key: &str) -> Result<&'a str, McpError> {
    p.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("missing string parameter {key:?}")))
}

fn request_meta(p: &JsonObject) -> Option<JsonObject> {
    p.get("_meta").and_then(Value::as_object).cloned()
}

fn initialize(session: &Session, params: Option<&Value>) -> Outcome {
    let params = params.and_then(Value::as_object).ok_or_else(|| {
        McpError::invalid_params(
            "initialize needs params with protocolVersion, capabilities and clientInfo",
        )
    })?;
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            McpError::invalid_params("initialize: missing string \"protocolVersion\"")
        })?;
    let version = ProtocolVersion::negotiate(requested);
    let client_info = params
        .get("clientInfo")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok());
    {
        let mut st = session
            .inner
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if st.version.is_some() {
            return Err(McpError::invalid_request(
                "the session is already initialized; open a new session to initialize again",
            ));
        }
        st.version = Some(version);
        st.client_info = client_info;
        st.client_capabilities = params.get("capabilities").cloned();
    }
    let server = session.server();
    let reg = server.read();
    let mut caps = serde_json::Map::new();
    caps.insert("logging".into(), json!({}));
    caps.insert("tools".into(), json!({ "listChanged": true }));
    if !reg.resources.is_empty() || !reg.templates.is_empty() {
        caps.insert(
            "resources".into(),
            json!({ "subscribe": true, "listChanged": true }),
        );
    }
    if !reg.prompts.is_empty() {
        caps.insert("prompts".into(), json!({ "listChanged": true }));
    }
    if version >= ProtocolVersion::V2025_03_26
        && (!reg.prompts.is_empty() || !reg.templates.is_empty())
    {
        caps.insert("completions".into(), json!({}));
    }
    let info = server.info();
    let mut server_info = json!({ "name": info.name, "version": info.version });
    if version.has_structured_output()
        && let Some(t) = &info.title
    {
        server_info["title"] = t.clone().into();
    }
    let mut result = json!({
        "protocolVersion": version,
        "capabilities": caps,
        "serverInfo": server_info,
    });
    if let Some(i) = &server.inner.instructions {
        result["instructions"] = i.clone().into();
    }
    Ok(Body::Value(result))
}

/// Runs one request that passed [`precheck`].
pub(crate) async fn dispatch(
    session: &Session,
    req: Request,
    reply: &Outbound,
    token: &Cancel,
) -> Outcome {
    let version = session
        .protocol_version()
        .unwrap_or(ProtocolVersion::LATEST);
    let method = req.method.as_str();
    match method {
        "ping" => Ok(Body::Value(json!({}))),
        "tools/list" => list(session, ListKind::Tools, req.params, version),
        "resources/list" => list(session, ListKind::Resources, req.params, version),
        "resources/templates/list" => list(session, ListKind::Templates, req.params, version),
        "prompts/list" => list(session, ListKind::Prompts, req.params, version),
        "tools/call" => call_tool(session, req, reply, token, version).await,
        "resources/read" => read_resource(session, req, reply, token, version).await,
        "resources/subscribe" | "resources/unsubscribe" => {
            let p = params_object(req.params)?;
            let uri = str_param(&p, "uri")?.to_owned();
            let mut st = session
                .inner
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if method == "resources/subscribe" {
                st.subscriptions.insert(uri);
            } else {
                st.subscriptions.remove(&uri);
            }
            Ok(Body::Value(json!({})))
        }
        "prompts/get" => get_prompt(session, req, reply, token, version).await,
        "completion/complete" => complete(session, req, reply, token).await,
        "logging/setLevel" => {
            let p = params_object(req.params)?;
            let level: LoggingLevel = p
                .get("level")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .ok_or_else(|| {
                    McpError::invalid_params(
                        "logging/setLevel needs \"level\": one of debug, info, notice, warning, error, critical, alert, emergency",
                    )
                })?;
            session
                .inner
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .log_level = Some(level);
            Ok(Body::Value(json!({})))
        }
        other => Err(McpError::method_not_found(other)),
    }
}

/// Serves one page of a list from the cache, building and caching it on a miss.
fn list(session: &Session, kind: ListKind, params: Option<Value>, v: ProtocolVersion) -> Outcome {
    let p = params_object(params)?;
    let start = match p.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => decode_cursor(c)
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor {c:?}")))?,
        Some(_) => return Err(McpError::invalid_params("cursor must be a string")),
    };
    let server = session.server();
    let key = (kind, v, start);
    if let Some(hit) = server
        .inner
        .list_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(Body::Raw(hit.clone()));
    }
    let page = server.inner.page_size;
    let (field, items, total): (&str, Vec<Value>, usize) = {
        let reg = server.read();
        match kind {
            ListKind::Tools => page_of("tools", reg.tools.values(), start, page, |t| {
                wire::tool(t, v)
            }),
            ListKind::Resources => page_of("resources", reg.resources.values(), start, page, |r| {
                wire::resource(r, v)
            }),
            ListKind::Templates => page_of(
                "resourceTemplates",
                reg.templates.iter(),
                start,
                page,
                |t| wire::template(t, v),
            ),
            ListKind::Prompts => page_of("prompts", reg.prompts.values(), start, page, |p| {
                wire::prompt(p, v)
            }),
        }
    };
    if start > total {
        return Err(McpError::invalid_params(
            "cursor is past the end of the list",
        ));
    }
    let mut result = serde_json::Map::new();
    result.insert(field.into(), items.into());
    if start + page < total {
        result.insert("nextCursor".into(), encode_cursor(start + page).into());
    }
    let raw: Arc<RawValue> = serde_json::value::to_raw_value(&result)
        .map_err(|e| McpError::internal(e.to_string()))?
        .into();
    server
        .inner
        .list_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, raw.clone());
    Ok(Body::Raw(raw))
}

/// One page of a list: its field name, the items from `start` (at most `page`), and how many
/// there are in all.
fn page_of<'a, T: 'a>(
    field: &'static str,
    items: impl ExactSizeIterator<Item = &'a T>,
    start: usize,
    page: usize,
    wire: impl Fn(&T) -> Value,
) -> (&'static str, Vec<Value>, usize) {
    let total = items.len();
    (
        field,
        items.skip(start).take(page).map(wire).collect(),
        total,
    )
}

const CURSOR_PREFIX: &str = "mcp-page-";

fn encode_cursor(offset: usize) -> String {
    format!("{CURSOR_PREFIX}{offset:x}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix(CURSOR_PREFIX)?, 16).ok()
}

fn context(
    session: &Session,
    req: &Request,
    p: &JsonObject,
    reply: &Outbound,
    token: &Cancel,
) -> Context {
    Context::new(
        session.clone(),
        req.id.clone(),
        reply.clone(),
        request_meta(p),
        token.clone(),
    )
}

/// Runs user code, turning a panic into an error instead of taking the server down.
async fn guarded<T>(
    what: &str,
    fut: impl std::future::Future<Output = T> + Send,
) -> Result<T, String> {
    std::panic::AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(target: "mcp::rpc", what, panic = %msg, "handler panicked");
            msg
        })
}

async fn call_tool(
    session: &Session,
    mut req: Request,
    reply: &Outbound,
    token: &Cancel,
    v: ProtocolVersion,
) -> Outcome {
    let mut p = params_object(req.params.take())?;
    let name = str_param(&p, "name")?.to_owned();
    tracing::Span::current().record("tool", name.as_str());
    let args = match p.remove("arguments") {
        None | Some(Value::Null) => JsonObject::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(McpError::invalid_params(
                "tools/call: \"arguments\" must be an object",
            ));
        }
    };
    let tool = session
        .server()
        .read()
        .tools
        .get(&name)
        .cloned()
        .ok_or_else(|| McpError::invalid_params(format!("unknown tool: {name}")))?;
    let ctx = context(session, &req, &p, reply, token);
    let result = match guarded(&name, tool.call(ctx, args)).await {
        Ok(Ok(r)) => r,
        Ok(Err(ToolError::Tool(text))) => CallToolResult::error(text),
        Ok(Err(ToolError::Protocol(e))) => return Err(e),
        Err(panic) => CallToolResult::error(format!("tool {name:?} failed: it panicked ({panic})")),
    };
    Ok(Body::Call(wire::CallResult { result, version: v }))
}

async fn read_resource(
    session: &Session,
    mut req: Request,
    reply: &Outbound,
    token: &Cancel,
    _v: ProtocolVersion,
) -> Outcome {
    let p = params_object(req.params.take())?;
    let uri = str_param(&p, "uri")?.to_owned();
    let ctx = context(session, &req, &p, reply, token).with_resource_uri(&uri);
    let fut = {
        let reg = session.server().read();
        if let Some(r) = reg.resources.get(&uri) {
            r.read(ctx)
        } else if let Some((t, vars)) = reg
            .templates
            .iter()
            .find_map(|t| t.template.matches(&uri).map(|vars| (t, vars)))
        {
            t.read(ctx, vars)
        } else {
            return Err(McpError::resource_not_found(&uri));
        }
    };
    match guarded(&uri, fut).await {
        Ok(Ok(r)) => Ok(Body::Value(
            serde_json::to_value(r).map_err(|e| McpError::internal(e.to_string()))?,
        )),
        Ok(Err(e)) => Err(e),
        Err(panic) => Err(McpError::internal(format!(
            "reading {uri} failed: the handler panicked ({panic})"
        ))),
    }
}

async fn get_prompt(
    session: &Session,
    mut req: Request,
    reply: &Outbound,
    token: &Cancel,
    v: ProtocolVersion,
) -> Outcome {
    let p = params_object(req.params.take())?;
    let name = str_param(&p, "name")?.to_owned();
    let prompt = session
        .server()
        .read()
        .prompts
        .get(&name)
        .cloned()
        .ok_or_else(|| McpError::invalid_params(format!("unknown prompt: {name}")))?;
    let mut args = HashMap::new();
    match p.get("arguments") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, val) in m {
                let s = match val {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                args.insert(k.clone(), s);
            }
        }
        Some(_) => {
            return Err(McpError::invalid_params(
                "prompts/get: \"arguments\" must be an object",
            ));
        }
    }
    if let Some(missing) = prompt
        .arguments
        .iter()
        .find(|a| a.required == Some(true) && !args.contains_key(&a.name))
    {
        return Err(McpError::invalid_params(format!(
            "prompt {name:?} needs the argument {:?}",
            missing.name
        )));
    }
    let ctx = context(session, &req, &p, reply, token);
    match guarded(&name, prompt.get(ctx, args)).await {
        Ok(Ok(r)) => Ok(Body::Value(wire::prompt_result(&r, v))),
        Ok(Err(e)) => Err(e),
        Err(panic) => Err(McpError::internal(format!(
            "prompt {name:?} failed: the handler panicked ({panic})"
        ))),
    }
}

async fn complete(
    session: &Session,
    mut req: Request,
    reply: &Outbound,
    token: &Cancel,
) -> Outcome {
    let p = params_object(req.params.take())?;
    let reference = p
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| McpError::invalid_params("completion/complete needs \"ref\""))?;
    let argument = p
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| McpError::invalid_params("completion/complete needs \"argument\""))?;
    let arg_name = str_param(argument, "name")?.to_owned();
    let value = str_param(argument, "value")?.to_owned();
    let context_args = p
        .get("context")
        .and_then(|c| c.get("arguments"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let provider = {
        let reg = session.server().read();
        match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = str_param(reference, "name")?;
                let prompt = reg
                    .prompts
                    .get(name)
                    .ok_or_else(|| McpError::invalid_params(format!("unknown prompt: {name}")))?;
                prompt.completions.get(&arg_name).cloned()
            }
            Some("ref/resource") => {
                let uri = str_param(reference, "uri")?;
                let t = reg
                    .templates
                    .iter()
                    .find(|t| t.info.uri_template == uri)
                    .ok_or_else(|| {
                        McpError::invalid_params(format!("unknown resource template: {uri}"))
                    })?;
                t.completions.get(&arg_name).cloned()
            }
            _ => {
                return Err(McpError::invalid_params(
                    "ref.type must be \"ref/prompt\" or \"ref/resource\"",
                ));
            }
        }
    };
    let completion = match provider {
        None => Completion::default(),
        Some(f) => {
            let ctx = context(session, &req, &p, reply, token);
            let request = CompletionRequest {
                argument: arg_name,
                value,
                context: context_args,
            };
            match guarded("completion", f(ctx, request)).await {
                Ok(r) => r?,
                Err(panic) => {
                    return Err(McpError::internal(format!(
                        "completion failed: the provider panicked ({panic})"
                    )));
                }
            }
        }
    };
    let completion = Completion::from_values(completion.values);
    Ok(Body::Value(json!({ "completion": completion })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(250)), Some(250));
        assert_eq!(decode_cursor("250"), None);
        assert_eq!(decode_cursor("mcp-page-zz"), None);
    }
}
