//! The two error channels of the framework, and the one table that maps protocol failures to
//! JSON-RPC codes.
//!
//! * A *tool error* is a result: `isError: true` with readable content, so the model can correct
//!   itself. Tools produce it by returning `Err` (see [`ToolError`]).
//! * A *protocol error* ([`McpError`]) is a JSON-RPC error object with one code per cause.
//!
//! Configuration and registration problems are [`RegistrationError`]s, returned by the builder.

use serde_json::Value;

use crate::jsonrpc::{ECHO_MAX, ErrorObject, clip, code};

/// A protocol failure, answered as a JSON-RPC error object.
///
/// Constructed only through the named constructors, each of which fixes the code. The
/// `Display` text is meant for people and is not a stable contract.
#[derive(Debug, Clone, PartialEq)]
pub struct McpError {
    object: ErrorObject,
}

impl McpError {
    /// -32700: the input was not JSON.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::with_code(code::PARSE_ERROR, message)
    }

    /// -32600: the JSON is not a valid request, or the request is not valid now.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::with_code(code::INVALID_REQUEST, message)
    }

    /// -32601: no such method. The message repeats at most the first
    /// [`ECHO_MAX`](crate::jsonrpc::ECHO_MAX) bytes of the name.
    pub fn method_not_found(method: &str) -> Self {
        Self::with_code(
            code::METHOD_NOT_FOUND,
            format!("method not found: {}", clip(method, ECHO_MAX)),
        )
    }

    /// -32602: the parameters are wrong (unknown tool, bad cursor, missing prompt argument, ...).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::with_code(code::INVALID_PARAMS, message)
    }

    /// -32603: something failed inside the server.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_code(code::INTERNAL_ERROR, message)
    }

    /// -32002: the resource does not exist; `data` carries the uri (both cut to
    /// [`ECHO_MAX`](crate::jsonrpc::ECHO_MAX) bytes when longer).
    pub fn resource_not_found(uri: &str) -> Self {
        let uri = clip(uri, ECHO_MAX);
        Self::with_code(
            code::RESOURCE_NOT_FOUND,
            format!("resource not found: {uri}"),
        )
        .with_data(serde_json::json!({ "uri": uri }))
    }

    /// -32002 before 2026-07-28, -32602 from it: the resource does not exist; `data` carries
    /// the uri.
    pub fn resource_not_found_for(uri: &str, version: crate::ProtocolVersion) -> Self {
        let e = Self::resource_not_found(uri);
        if version.has_invalid_params_for_unknown_resource() {
            Self::with_code(code::INVALID_PARAMS, e.object.message)
                .with_data(serde_json::json!({ "uri": clip(uri, ECHO_MAX) }))
        } else {
            e
        }
    }

    /// -32020: the HTTP headers do not match the request body, or are missing or malformed.
    pub fn header_mismatch(message: impl Into<String>) -> Self {
        Self::with_code(code::HEADER_MISMATCH, message)
    }

    /// -32021: the request needs client capabilities the client did not declare;
    /// `data.requiredCapabilities` lists them (a `ClientCapabilities` object).
    pub fn missing_client_capability(required: serde_json::Map<String, Value>) -> Self {
        let names: Vec<&str> = required.keys().map(String::as_str).collect();
        Self::with_code(
            code::MISSING_REQUIRED_CLIENT_CAPABILITY,
            format!(
                "this request needs the client capabilities {names:?}: declare them in _meta[\"io.modelcontextprotocol/clientCapabilities\"]"
            ),
        )
        .with_data(serde_json::json!({ "requiredCapabilities": required }))
    }

    /// -32022: the requested protocol version is not served; `data` lists the supported ones.
    pub fn unsupported_protocol_version(requested: &str) -> Self {
        let requested = clip(requested, ECHO_MAX);
        let supported: Vec<&str> = crate::ProtocolVersion::ALL
            .iter()
            .rev()
            .map(|v| v.as_str())
            .collect();
        Self::with_code(
            code::UNSUPPORTED_PROTOCOL_VERSION,
            format!(
                "unsupported protocol version {requested:?}; supported: {}",
                supported.join(", ")
            ),
        )
        .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
    }

    /// An error with an explicit code, for codes defined by a revision or an extension.
    pub fn with_code(code: i32, message: impl Into<String>) -> Self {
        McpError {
            object: ErrorObject::new(code, message),
        }
    }

    /// Attaches structured data.
    pub fn with_data(mut self, data: Value) -> Self {
        self.object.data = Some(data);
        self
    }

    /// The JSON-RPC code.
    pub fn code(&self) -> i32 {
        self.object.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.object.message
    }

    /// The data, if any.
    pub fn data(&self) -> Option<&Value> {
        self.object.data.as_ref()
    }

    /// The wire error object.
    pub fn to_error_object(&self) -> ErrorObject {
        self.object.clone()
    }

    /// Consumes the error into its wire object.
    pub fn into_error_object(self) -> ErrorObject {
        self.object
    }
}

impl From<ErrorObject> for McpError {
    fn from(object: ErrorObject) -> Self {
        McpError { object }
    }
}

impl std::fmt::Display for McpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.object.message, self.object.code)
    }
}

impl std::error::Error for McpError {}

/// What a tool handler fails with.
#[derive(Debug)]
pub enum ToolError {
    /// A tool error: answered as a result with `isError: true` and this text.
    Tool(String),
    /// A protocol error: answered as a JSON-RPC error object.
    Protocol(McpError),
}

impl ToolError {
    /// A tool error with the given text.
    pub fn tool(message: impl Into<String>) -> Self {
        ToolError::Tool(message.into())
    }
}

impl From<McpError> for ToolError {
    fn from(e: McpError) -> Self {
        ToolError::Protocol(e)
    }
}

/// A problem with what was registered or configured; returned, never panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// Two items of one kind share a name (or uri).
    #[error("duplicate {kind} {name:?}: registered by {first} and by {second}")]
    Duplicate {
        /// "tool", "prompt", "resource" or "resource template".
        kind: &'static str,
        /// The shared name or uri.
        name: String,
        /// Where the first one came from (a Rust path or "builder").
        first: String,
        /// Where the second one came from.
        second: String,
    },
    /// A name that clients cannot use.
    #[error("invalid {kind} name {name:?}: {reason}")]
    InvalidName {
        /// The kind of item.
        kind: &'static str,
        /// The offending name.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A schema that is not a JSON object schema of type `object`.
    #[error("invalid schema for {item:?}: {reason}")]
    InvalidSchema {
        /// The item's name.
        item: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A required OAuth scope that is not a scope token (RFC 6749 §3.3: printable ASCII other
    /// than space, `"` and `\`).
    #[error(
        "invalid scope {scope:?} on tool {tool:?}: {}",
        mcp_syntax::scope::RULE
    )]
    InvalidScope {
        /// The tool.
        tool: String,
        /// The scope.
        scope: String,
    },
    /// A configuration value that cannot work.
    #[error("invalid {setting}: {reason}")]
    InvalidConfig {
        /// The builder method.
        setting: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A malformed uri template.
    #[error("invalid uri template {template:?}: {reason}")]
    InvalidTemplate {
        /// The template.
        template: String,
        /// Why it is invalid.
        reason: String,
    },
}
