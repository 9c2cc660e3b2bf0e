//! The protected-resource metadata document (RFC 9728) and where it is served.
//!
//! The document is built once. It is served at `/.well-known/oauth-protected-resource`, at that
//! path followed by the resource URL's path (RFC 9728 §3.1: for `https://host/api/mcp`,
//! `/.well-known/oauth-protected-resource/api/mcp`), and followed by the server's local MCP
//! path with its mount prefix (the same one when no proxy rewrites paths). Challenges name the
//! path-suffixed URL.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What the document says.
pub(crate) struct Document<'a> {
    pub(crate) resource: &'a str,
    pub(crate) authorization_servers: &'a [String],
    pub(crate) scopes_supported: &'a [String],
    pub(crate) resource_name: Option<&'a str>,
    pub(crate) documentation: Option<&'a str>,
}

/// The serialized document and its URL.
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub(crate) json: Bytes,
    /// The URL challenges announce.
    pub(crate) url: String,
    /// The resource URL's path (`/mcp`), empty for a resource at the root.
    resource_path: String,
    pub(crate) scopes_supported: Vec<String>,
}

/// `(scheme://authority, path)` of an absolute URL.
pub(crate) fn split_url(url: &str) -> Option<(&str, &str)> {
    let after = url.find("://")? + 3;
    match url[after..].find(['/', '?', '#']) {
        Some(i) => Some((&url[..after + i], &url[after + i..])),
        None => Some((url, "")),
    }
}

impl Metadata {
    pub(crate) fn new(doc: Document<'_>) -> Metadata {
        let mut m = serde_json::Map::new();
        m.insert("resource".into(), doc.resource.into());
        m.insert(
            "authorization_servers".into(),
            doc.authorization_servers.into(),
        );
        if !doc.scopes_supported.is_empty() {
            m.insert("scopes_supported".into(), doc.scopes_supported.into());
        }
        m.insert("bearer_methods_supported".into(), vec!["header"].into());
        if let Some(n) = doc.resource_name {
            m.insert("resource_name".into(), n.into());
        }
        if let Some(d) = doc.documentation {
            m.insert("resource_documentation".into(), d.into());
        }
        let (origin, path) = split_url(doc.resource).unwrap_or((doc.resource, ""));
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path.trim_end_matches('/').to_owned();
        Metadata {
            json: Bytes::from(serde_json::Value::Object(m).to_string()),
            url: format!("{origin}{WELL_KNOWN}{path}"),
            resource_path: path,
            scopes_supported: doc.scopes_supported.to_vec(),
        }
    }

    /// True when `path` (the request's full path) is the well-known path itself or followed by
    /// the resource URL's path.
    pub(crate) fn is_metadata_path(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix(WELL_KNOWN) else {
            return false;
        };
        let rest = rest.trim_end_matches('/');
        rest.is_empty() || rest == self.resource_path
    }

    /// The answer to a request for the document.
    pub(crate) fn response(&self, method: &Method) -> Response<crate::response::Body> {
        if method != Method::GET && method != Method::HEAD {
            let mut r = crate::response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let body = if method == Method::HEAD {
            crate::response::empty()
        } else {
            crate::response::full(self.json.clone())
        };
        let mut r = Response::new(body);
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(resource: &str) -> Metadata {
        Metadata::new(Document {
            resource,
            authorization_servers: &["https://login.example.com".into()],
            scopes_supported: &["echo".into()],
            resource_name: None,
            documentation: None,
        })
    }

    #[test]
    fn paths_and_document() {
        let m = meta("https://mcp.example.com/api/mcp");
        assert_eq!(
            m.url,
            "https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp"
        );
        assert!(m.is_metadata_path("/.well-known/oauth-protected-resource"));
        assert!(m.is_metadata_path("/.well-known/oauth-protected-resource/api/mcp"));
        assert!(!m.is_metadata_path("/.well-known/oauth-protected-resource/mcp"));
        assert!(!m.is_metadata_path("/.well-known/oauth-protected-resource/other"));
        assert!(!m.is_metadata_path("/.well-known/oauth-protected-resourcex"));
        let doc: serde_json::Value = serde_json::from_slice(&m.json).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "resource": "https://mcp.example.com/api/mcp",
                "authorization_servers": ["https://login.example.com"],
                "scopes_supported": ["echo"],
                "bearer_methods_supported": ["header"],
            })
        );
        let root = meta("https://mcp.example.com");
        assert_eq!(
            root.url,
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }
}
