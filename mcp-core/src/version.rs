//! Protocol revisions served, and the one place where version-dependent behaviour is decided.

use std::fmt;
use std::str::FromStr;

/// A dated MCP protocol revision.
///
/// Variants are ordered by date, so version gates are written as comparisons:
/// `if version >= ProtocolVersion::V2025_06_18 { /* structured output */ }`.
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
}

impl ProtocolVersion {
    /// Every revision this crate serves, oldest first.
    pub const ALL: &'static [ProtocolVersion] = &[
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
    ];

    /// The newest revision served; the answer to a client asking for one we do not serve.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The revision assumed on Streamable HTTP when no `MCP-Protocol-Version` header is sent.
    pub const STREAMABLE_HTTP_DEFAULT: ProtocolVersion = ProtocolVersion::V2025_03_26;

    /// The wire string, e.g. `"2025-06-18"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
        }
    }

    /// Negotiation: the client's revision if served, else the latest served.
    pub fn negotiate(requested: &str) -> ProtocolVersion {
        requested.parse().unwrap_or(ProtocolVersion::LATEST)
    }

    /// JSON-RPC batches are accepted (2025-03-26 only).
    pub fn allows_batches(self) -> bool {
        self == ProtocolVersion::V2025_03_26
    }

    /// Audio content and tool annotations exist (2025-03-26 and later).
    pub fn has_audio_and_annotations(self) -> bool {
        self >= ProtocolVersion::V2025_03_26
    }

    /// Structured tool output, `title`, resource links and elicitation exist (2025-06-18 and later).
    pub fn has_structured_output(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// Icons and the SSE priming event exist (2025-11-25 and later).
    pub fn has_icons(self) -> bool {
        self >= ProtocolVersion::V2025_11_25
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
        ProtocolVersion::ALL
            .iter()
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
            ProtocolVersion::LATEST
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
