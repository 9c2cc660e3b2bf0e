//! RFC 6570 level-1 URI templates (`{var}` simple string expansion): expansion and matching in
//! linear time on any input. The grammar is `mcp_syntax::uri_template`, shared with the macros.

use std::collections::HashMap;

use mcp_syntax::uri_template::{self, Part};

use crate::error::RegistrationError;

/// A parsed URI template such as `file:///logs/{date}.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

/// The variables bound by matching a uri against a template.
pub type TemplateVars = HashMap<String, String>;

impl UriTemplate {
    /// Parses a template. Variables are `{name}` with names of `[A-Za-z0-9_]`; two variables must
    /// be separated by a literal, so that matching is unambiguous.
    pub fn parse(template: &str) -> Result<Self, RegistrationError> {
        // The grammar `#[mcp_resource]` checks at compile time, so both accept the same templates.
        let parts =
            uri_template::parse(template).map_err(|e| RegistrationError::InvalidTemplate {
                template: template.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(UriTemplate {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Expands the template, percent-encoding values (unreserved characters kept).
    pub fn expand(&self, vars: &TemplateVars) -> String {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Var(v) => {
                    if let Some(value) = vars.get(v) {
                        percent_encode(value, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Matches `uri` against the template, binding each variable to a non-empty value that
    /// contains no `/` (percent-decoded). Runs in time linear in `uri.len()`.
    pub fn matches(&self, uri: &str) -> Option<TemplateVars> {
        let mut vars = TemplateVars::new();
        let mut rest = uri;
        let mut i = 0;
        while i < self.parts.len() {
            match &self.parts[i] {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Var(name) => {
                    // The value runs to the first occurrence of the next literal (or to the end),
                    // and may not cross a '/'. Each variable scans `uri` at most twice, and the
                    // template is fixed, so matching is linear in the uri's length.
                    let segment_end = rest.find('/').unwrap_or(rest.len());
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => {
                            if segment_end != rest.len() {
                                return None;
                            }
                            rest.len()
                        }
                    };
                    if end == 0 || end > segment_end {
                        return None;
                    }
                    vars.insert(name.clone(), percent_decode(&rest[..end]));
                    rest = &rest[end..];
                }
            }
            i += 1;
        }
        rest.is_empty().then_some(vars)
    }
}

fn percent_encode(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_and_expands() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        let vars = t.matches("test://template/123/data").unwrap();
        assert_eq!(vars["id"], "123");
        assert_eq!(t.expand(&vars), "test://template/123/data");
        assert!(t.matches("test://template//data").is_none());
        assert!(t.matches("test://template/1/2/data").is_none());
        assert!(t.matches("test://template/123/datax").is_none());
        let t = UriTemplate::parse("file:///logs/{date}.txt").unwrap();
        assert_eq!(
            t.matches("file:///logs/2024-01-01.txt").unwrap()["date"],
            "2024-01-01"
        );
        let t = UriTemplate::parse("users://{user}").unwrap();
        assert_eq!(t.matches("users://a%20b").unwrap()["user"], "a b");
        assert!(t.matches("users://a/b").is_none());
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "x/{", "x/}", "x/{}", "x/{a}{b}", "x/{a-b}", "x/{+a}", "{a}/{a}",
        ] {
            assert!(UriTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn adversarial_input_is_linear() {
        let t = UriTemplate::parse("a://{x}.{y}.z").unwrap();
        let uri = format!("a://{}", ".".repeat(200_000));
        let start = std::time::Instant::now();
        assert!(t.matches(&uri).is_none());
        // Generous bound: a quadratic matcher takes seconds here.
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
