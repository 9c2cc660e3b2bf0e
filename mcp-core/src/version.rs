//! Protocol revisions served, and the one place where version-dependent behaviour is decided.

use std::fmt;
use std::str::FromStr;

/// A dated MCP protocol revision.
///
/// Variants are ordered by date. Every behaviour that differs between revisions is decided by
/// one predicate below, named for its feature (`version.has_titles()`); nothing else in the
/// workspace compares revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: the HTTP+SSE era.
    V2024_11_05,
    /// 2025-03-26: Streamable HTTP, batches, audio content, tool annotations.
    V2025_03_26,
    /// 2025-06-18: structured tool output, elicitation, titles, resource links; batches removed.
    V2025_06_18,
    /// 2025-11-25: icons, SSE polling, elicitation enums and defaults.
    V2025_11_25,
    /// 2026-07-28: stateless; every request carries its revision, client capabilities and
    /// client info in `_meta`; results carry `resultType`; server-to-client requests become
    /// multi round-trip requests.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision this crate serves, oldest first.
    pub const ALL: &'static [ProtocolVersion] = &[
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2026_07_28,
    ];

    /// The newest revision served.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;

    /// The newest revision negotiated by an `initialize` handshake; the answer to an
    /// `initialize` asking for a revision we do not serve.
    pub const LATEST_SESSION: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The revision assumed on Streamable HTTP when no `MCP-Protocol-Version` header is sent.
    pub const STREAMABLE_HTTP_DEFAULT: ProtocolVersion = ProtocolVersion::V2025_03_26;

    /// The wire string, e.g. `"2025-06-18"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// `initialize` negotiation: the client's revision if it is served and uses sessions,
    /// else [`ProtocolVersion::LATEST_SESSION`].
    pub fn negotiate(requested: &str) -> ProtocolVersion {
        requested
            .parse()
            .ok()
            .filter(|v: &ProtocolVersion| v.has_sessions())
            .unwrap_or(ProtocolVersion::LATEST_SESSION)
    }

    /// The revisions answering one request at a time with the client's state in `_meta`.
    pub fn stateless() -> impl Iterator<Item = ProtocolVersion> {
        ProtocolVersion::ALL
            .iter()
            .copied()
            .filter(|v| !v.has_sessions())
    }

    /// JSON-RPC batches are accepted (2025-03-26 only).
    pub fn allows_batches(self) -> bool {
        self == ProtocolVersion::V2025_03_26
    }

    /// Audio content exists (2025-03-26 and later).
    pub fn has_audio(self) -> bool {
        self >= ProtocolVersion::V2025_03_26
    }

    /// Tools carry `annotations` (2025-03-26 and later).
    pub fn has_tool_annotations(self) -> bool {
        self >= ProtocolVersion::V2025_03_26
    }

    /// Progress notifications carry a `message` (2025-03-26 and later).
    pub fn has_progress_message(self) -> bool {
        self >= ProtocolVersion::V2025_03_26
    }

    /// `completion/complete` and the `completions` capability exist (2025-03-26 and later).
    pub fn has_completions(self) -> bool {
        self >= ProtocolVersion::V2025_03_26
    }

    /// Tools carry `outputSchema` and results `structuredContent` (2025-06-18 and later).
    pub fn has_structured_output(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// Items and implementations carry a human-readable `title` (2025-06-18 and later).
    pub fn has_titles(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// `resource_link` content exists (2025-06-18 and later).
    pub fn has_resource_links(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// Listed items, results and annotations carry `_meta` and `lastModified`
    /// (2025-06-18 and later).
    pub fn has_item_meta(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// `elicitation/create` exists (2025-06-18 and later).
    pub fn has_elicitation(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// Elicitation requests carry a `mode` (2025-11-25 and later).
    pub fn has_elicitation_mode(self) -> bool {
        self >= ProtocolVersion::V2025_11_25
    }

    /// Icons exist (2025-11-25 and later).
    pub fn has_icons(self) -> bool {
        self >= ProtocolVersion::V2025_11_25
    }

    /// Streamable HTTP opens SSE streams with a priming event the client can resume from
    /// (2025-11-25 only: 2026-07-28 removed resumption).
    pub fn has_sse_priming(self) -> bool {
        self == ProtocolVersion::V2025_11_25
    }

    /// A connection opens with `initialize` and keeps the client's state in a session; `ping`,
    /// `logging/setLevel` and `resources/subscribe` exist (until 2025-11-25).
    pub fn has_sessions(self) -> bool {
        self < ProtocolVersion::V2026_07_28
    }

    /// Every result carries `resultType` (2026-07-28 and later).
    pub fn has_result_type(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// Results name the server in `_meta["io.modelcontextprotocol/serverInfo"]`
    /// (2026-07-28 and later).
    pub fn has_server_info_meta(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// List and read results carry `ttlMs` and `cacheScope` (2026-07-28 and later).
    pub fn has_cacheable_results(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// The server asks the client for input (elicitation, sampling, roots) by answering with an
    /// `InputRequiredResult` the client retries, instead of sending it requests
    /// (2026-07-28 and later).
    pub fn has_input_required(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// Log messages are sent only for requests carrying `_meta["io.modelcontextprotocol/logLevel"]`
    /// (2026-07-28 and later); before, the session's level (default `info`) applies.
    pub fn has_request_log_level(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// An unknown resource is answered with -32602 invalid params (2026-07-28 and later)
    /// instead of -32002.
    pub fn has_invalid_params_for_unknown_resource(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// Capabilities carry `extensions` (2026-07-28 and later).
    pub fn has_extensions_capability(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// `subscriptions/listen` and `server/discover` exist (2026-07-28 and later).
    pub fn has_subscriptions_listen(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a revision string that is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported MCP protocol version {0:?}")]
pub struct UnsupportedVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Newest first: the revisions clients send most.
        ProtocolVersion::ALL
            .iter()
            .rev()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnsupportedVersion(s.to_owned()))
    }
}

impl serde::Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_date_and_round_trips() {
        for w in ProtocolVersion::ALL.windows(2) {
            assert!(w[0] < w[1]);
        }
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>().unwrap(), *v);
        }
    }

    #[test]
    fn negotiation_falls_back_to_latest() {
        assert_eq!(
            ProtocolVersion::negotiate("2025-03-26"),
            ProtocolVersion::V2025_03_26
        );
        assert_eq!(
            ProtocolVersion::negotiate("1999-01-01"),
            ProtocolVersion::LATEST_SESSION
        );
        // 2026-07-28 has no handshake: `initialize` never negotiates it.
        assert_eq!(
            ProtocolVersion::negotiate("2026-07-28"),
            ProtocolVersion::LATEST_SESSION
        );
        assert_eq!(
            ProtocolVersion::stateless().collect::<Vec<_>>(),
            [ProtocolVersion::V2026_07_28]
        );
    }

    #[test]
    fn batches_only_in_2025_03_26() {
        let allowed: Vec<_> = ProtocolVersion::ALL
            .iter()
            .filter(|v| v.allows_batches())
            .collect();
        assert_eq!(allowed, [&ProtocolVersion::V2025_03_26]);
    }
}
