//! URI templates: RFC 6570 level 1 (`{var}` simple string expansion), restricted so that
//! matching a uri against a template is unambiguous.

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text matched and expanded as is.
    Literal(String),
    /// A `{name}` variable.
    Var(String),
}

/// Why a template does not parse. The `Display` text says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `}` with no `{` before it.
    UnmatchedClose,
    /// A `{` with no `}` after it.
    Unclosed,
    /// `{name}` where the name is empty or has characters other than letters, digits, `_`
    /// (operators such as `{+x}` and lists such as `{a,b}` are not supported).
    BadVariable(String),
    /// `{a}{b}`: two variables with no literal between them.
    Adjacent(String, String),
    /// `{a}/{a}`: a variable used twice.
    Repeated(String),
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::UnmatchedClose => f.write_str("unmatched '}'"),
            TemplateError::Unclosed => f.write_str("unclosed '{'"),
            TemplateError::BadVariable(v) => write!(
                f,
                "variable {{{v}}} must be a non-empty name of letters, digits and '_' (only simple {{var}} expansion is supported)"
            ),
            TemplateError::Adjacent(a, b) => write!(
                f,
                "variables {{{a}}} and {{{b}}} must be separated by literal text, or a uri cannot be split between them"
            ),
            TemplateError::Repeated(v) => write!(f, "variable {{{v}}} appears twice"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Parses `template` into literals and variables.
///
/// ```
/// use mcp_syntax::uri_template::{parse, Part, TemplateError};
/// assert_eq!(
///     parse("users://{id}/profile").unwrap(),
///     [Part::Literal("users://".into()), Part::Var("id".into()), Part::Literal("/profile".into())]
/// );
/// assert_eq!(parse("x://{a}{b}"), Err(TemplateError::Adjacent("a".into(), "b".into())));
/// ```
pub fn parse(template: &str) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(TemplateError::UnmatchedClose);
        }
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Unclosed)?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(TemplateError::BadVariable(name.to_owned()));
        }
        if let Some(Part::Var(prev)) = parts.last() {
            return Err(TemplateError::Adjacent(prev.clone(), name.to_owned()));
        }
        if parts.iter().any(|p| matches!(p, Part::Var(v) if v == name)) {
            return Err(TemplateError::Repeated(name.to_owned()));
        }
        parts.push(Part::Var(name.to_owned()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    Ok(parts)
}

/// The variable names of `template`, in order.
pub fn variables(template: &str) -> Result<Vec<String>, TemplateError> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Literal(_) => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_templates() {
        for (bad, err) in [
            ("x/{", TemplateError::Unclosed),
            ("x/}", TemplateError::UnmatchedClose),
            ("x/{}", TemplateError::BadVariable(String::new())),
            ("x/{a}{b}", TemplateError::Adjacent("a".into(), "b".into())),
            ("x/{a-b}", TemplateError::BadVariable("a-b".into())),
            ("x/{+a}", TemplateError::BadVariable("+a".into())),
            ("{a}/{a}", TemplateError::Repeated("a".into())),
        ] {
            assert_eq!(parse(bad), Err(err), "{bad}");
        }
    }

    #[test]
    fn variables_in_order() {
        assert_eq!(variables("a://{x}.{y}").unwrap(), ["x", "y"]);
        assert!(variables("a://static").unwrap().is_empty());
    }
}
