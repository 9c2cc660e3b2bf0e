//! Tool and prompt names: 1 to 128 characters of `A-Z a-z 0-9 _ - .` (the 2025-11-25
//! guidance).

/// The longest name, in characters.
pub const MAX_LEN: usize = 128;

/// Why a name is not valid. The `Display` text says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name has more than [`MAX_LEN`] characters.
    TooLong(usize),
    /// The name contains a character outside `A-Z a-z 0-9 _ - .`.
    BadChar(char),
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => f.write_str("a name cannot be empty"),
            NameError::TooLong(n) => {
                write!(
                    f,
                    "a name has at most {MAX_LEN} characters; this one has {n}"
                )
            }
            NameError::BadChar(c) => write!(
                f,
                "{c:?} is not allowed in a name; use A-Z, a-z, 0-9, '_', '-' or '.'"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks `name` against the rule.
///
/// ```
/// use mcp_syntax::name::{check, NameError};
/// assert!(check("get_weather.v2").is_ok());
/// assert_eq!(check("two words"), Err(NameError::BadChar(' ')));
/// ```
pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(NameError::BadChar(c));
    }
    // Only ASCII is left, so bytes are characters.
    if name.len() > MAX_LEN {
        return Err(NameError::TooLong(name.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert!(check("a").is_ok());
        assert!(check(&"x".repeat(128)).is_ok());
        assert_eq!(check(&"x".repeat(129)), Err(NameError::TooLong(129)));
        assert_eq!(check(""), Err(NameError::Empty));
        assert_eq!(check("é"), Err(NameError::BadChar('é')));
        assert_eq!(check("a/b"), Err(NameError::BadChar('/')));
    }
}
