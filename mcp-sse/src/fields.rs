//! Request header fields: the size and count limits of a request's header section, and
//! fields that must appear at most once.

use http::{HeaderMap, HeaderValue};

/// The size of a header section as the limit counts it: the name and value bytes of every
/// field line, the same over HTTP/1.1 and HTTP/2.
pub(crate) fn section_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// The field was given more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repeated;

/// The one value of `name`: `Ok(None)` when absent, `Err(Repeated)` when given twice or more
/// (first-wins or last-wins would let two parties read one request two ways).
pub(crate) fn single(
    headers: &HeaderMap,
    name: impl http::header::AsHeaderName,
) -> Result<Option<&HeaderValue>, Repeated> {
    let mut all = headers.get_all(name).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(Repeated);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_size() {
        let mut h = HeaderMap::new();
        assert_eq!(single(&h, "host"), Ok(None));
        h.append("host", HeaderValue::from_static("a"));
        assert_eq!(single(&h, "host").unwrap().unwrap(), "a");
        h.append("host", HeaderValue::from_static("b"));
        assert_eq!(single(&h, "host"), Err(Repeated));
        assert_eq!(section_size(&h), 10);
    }
}
