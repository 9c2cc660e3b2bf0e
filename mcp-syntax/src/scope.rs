//! OAuth scope tokens (RFC 6749 §3.3): one or more printable ASCII characters other than
//! space, `"` and `\` (`%x21 / %x23-5B / %x5D-7E`).

/// What a scope token is, for error messages.
pub const RULE: &str = "an OAuth scope is one or more printable ASCII characters other than space, '\"' and '\\' (RFC 6749 §3.3)";

/// True when `scope` is a scope token.
///
/// ```
/// assert!(mcp_syntax::scope::is_valid("files:read"));
/// assert!(!mcp_syntax::scope::is_valid("files read"));
/// assert!(!mcp_syntax::scope::is_valid(""));
/// ```
pub fn is_valid(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens() {
        for ok in ["a", "files:read", "https://api.example.com/read", "!#[]~"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb", "\u{7f}"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}
