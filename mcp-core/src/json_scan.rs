//! Walking the text of a JSON message for readers of a few fixed shapes, which would
//! otherwise pay for serde's visitors on every message.
//!
//! The walk checks the structure it passes (braces, colons, commas) and the strings it takes
//! whole (no escape, no control character). Every other value it hands out as text, which
//! the caller reads with serde, strictly, so nothing reaches the caller unchecked. Whatever it
//! cannot take as it is (an escaped string, for one) it reports as `None`, and the caller reads
//! the whole text with serde instead, which decides what it is.

/// A position in a text being walked as JSON; a copy is a place to come back to.
#[derive(Clone)]
pub(crate) struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    /// A walk from the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Scan { text, at: 0 }
    }

    fn skip_ws(&mut self) {
        let b = self.text.as_bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not taken.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.text.as_bytes().get(self.at).copied()
    }

    /// Takes `byte` when it comes next (after whitespace).
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            return true;
        }
        false
    }

    /// True when nothing but whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// True when the next value is an object.
    pub(crate) fn object_next(&mut self) -> bool {
        self.peek() == Some(b'{')
    }

    /// Takes `text` when the rest of the walk starts with it (after whitespace). When `text`
    /// is a whole JSON value, so is what is taken: a value's text ends where the value does.
    pub(crate) fn eat_text(&mut self, text: &str) -> bool {
        self.skip_ws();
        if self.text.as_bytes()[self.at..].starts_with(text.as_bytes()) {
            self.at += text.len();
            return true;
        }
        false
    }

    /// Opens an object: `Some(true)` when it is empty (`{}` taken whole), `Some(false)` when it
    /// has members (the `{` is taken); `None` when the next value is not an object.
    pub(crate) fn open_object(&mut self) -> Option<bool> {
        if !self.eat(b'{') {
            return None;
        }
        Some(self.eat(b'}'))
    }

    /// After a member's value: true when another member follows (the `,` is taken), false at
    /// the object's end (the `}` is taken); `None` for anything else.
    pub(crate) fn next_member(&mut self) -> Option<bool> {
        if self.eat(b',') {
            return Some(true);
        }
        self.eat(b'}').then_some(false)
    }

    /// A member's key and its `:`; `None` when the key is not a string taken whole.
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        let k = self.plain_str()?;
        self.eat(b':').then_some(k)
    }

    /// The next value when it is a string with no escape and no control character; `None`
    /// for anything else, and nothing is taken.
    pub(crate) fn plain_str(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.at + 1;
        let rest = &self.text.as_bytes()[start..];
        // JSON strings hold no raw control character (RFC 8259 §7): one ends the walk too.
        let len = stop(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Both ends are quotes (ASCII), so both are character boundaries.
        Some(&self.text[start..start + len])
    }

    /// The next value when it is an integer written plainly, as serde reads it: digits with no
    /// leading zero, no fraction or exponent, a `-` only before a non-zero value, within 64
    /// bits (an `i64` when negative). `None` for anything else (serde reads `-0` and integers
    /// past 64 bits as floats), and nothing is taken.
    pub(crate) fn plain_integer(&mut self) -> Option<serde_json::Number> {
        self.skip_ws();
        let b = self.text.as_bytes();
        let negative = b.get(self.at) == Some(&b'-');
        let first = self.at + usize::from(negative);
        let mut i = first;
        let mut n: u64 = 0;
        while let Some(&c) = b.get(i)
            && c.is_ascii_digit()
        {
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            i += 1;
        }
        let len = i - first;
        if len == 0 || (len > 1 && b[first] == b'0') || matches!(b.get(i), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let number = if negative {
            let n = i64::try_from(n).ok().filter(|&n| n != 0)?;
            serde_json::Number::from(-n)
        } else {
            serde_json::Number::from(n)
        };
        self.at = i;
        Some(number)
    }

    /// The text of the next value, found by its brackets and quotes; `None` when the text
    /// ends first. The text is not checked: the caller reads it with serde, which does.
    pub(crate) fn value_text(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.text.as_bytes();
        let start = self.at;
        let mut i = start;
        let mut depth = 0usize;
        loop {
            let Some(&c) = b.get(i) else {
                // The text ends: after a scalar, that is its end.
                if depth == 0 && i > start {
                    break;
                }
                return None;
            };
            match c {
                b'"' => {
                    // To the closing quote: past every escaped character.
                    i += 1;
                    loop {
                        i += stop(b.get(i..)?)?;
                        match b[i] {
                            b'"' => break,
                            b'\\' => i += 2,
                            // A control character: serde refuses the text.
                            _ => i += 1,
                        }
                    }
                    i += 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'{' | b'[' => {
                    depth += 1;
                    i += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        break;
                    }
                }
                // The end of a scalar: the enclosing container goes on or ends.
                b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => break,
                _ => i += 1,
            }
        }
        if i == start {
            return None;
        }
        self.at = i;
        // `i` is just past an ASCII byte, or at the end: a character boundary.
        Some(&self.text[start..i])
    }
}

/// The first byte of `b` that ends a plain run of string text: a quote, a backslash or a
/// control character. Eight bytes at a time, each word tested for the three at once.
fn stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte is zero in `v` where `v.wrapping_sub(ONES) & !v` has its high bit; below
        // 0x20 in `x` where `x.wrapping_sub(ONES * 0x20) & !x` has. The lowest such byte is
        // found exactly (the borrows only reach higher bytes).
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// `base` with `cut` bytes from `at` replaced by `with` (both ends moved back to character
/// boundaries): a text for the property tests that compare a walk with serde.
#[cfg(test)]
pub(crate) fn changed(base: &str, at: usize, cut: usize, with: &str) -> String {
    let boundary = |mut i: usize| {
        i = i.min(base.len());
        while !base.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let at = boundary(at);
    let end = boundary(at + cut);
    format!("{}{with}{}", &base[..at], &base[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_an_object_of_every_kind_of_value() {
        let text = r#" { "a" : "x" , "b":{"c":[1,{"d":"}"}]}, "e":-1.5e3,"f":true,"g":null,"h":"q\"","i":[] } "#;
        let mut s = Scan::new(text);
        assert_eq!(s.open_object(), Some(false));
        assert_eq!(s.key(), Some("a"));
        assert_eq!(s.plain_str(), Some("x"));
        assert_eq!(s.next_member(), Some(true));
        assert_eq!(s.key(), Some("b"));
        assert!(s.object_next());
        assert_eq!(s.value_text(), Some(r#"{"c":[1,{"d":"}"}]}"#));
        assert_eq!(s.next_member(), Some(true));
        let mut rest = vec![];
        loop {
            let k = s.key().unwrap();
            rest.push((k, s.value_text().unwrap()));
            if !s.next_member().unwrap() {
                break;
            }
        }
        assert_eq!(
            rest,
            [
                ("e", "-1.5e3"),
                ("f", "true"),
                ("g", "null"),
                ("h", r#""q\"""#),
                ("i", "[]")
            ]
        );
        assert!(s.at_end());
    }

    #[test]
    fn leaves_what_it_cannot_take_whole_to_the_caller() {
        let mut s = Scan::new(r#"{"a\/b":1}"#);
        assert_eq!(s.open_object(), Some(false));
        assert_eq!(s.key(), None);
        let mut s = Scan::new(r#""a\u0041""#);
        assert_eq!(s.plain_str(), None);
        assert_eq!(s.value_text(), Some(r#""a\u0041""#));
        assert_eq!(Scan::new("\"a\tb\"").plain_str(), None);
        assert_eq!(Scan::new("{ }").open_object(), Some(true));
        let mut s = Scan::new(r#" {"a":1},2"#);
        assert!(!s.eat_text(r#"{"a":2}"#));
        assert!(s.eat_text(r#"{"a":1}"#));
        assert_eq!(s.next_member(), Some(true));
        assert_eq!(Scan::new("[]").open_object(), None);
        assert_eq!(Scan::new(" 12").value_text(), Some("12"));
    }

    #[test]
    fn finds_the_first_quote_backslash_or_control_character() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut texts: Vec<Vec<u8>> = vec![];
        for len in 0..40 {
            for stop_at in 0..=len {
                for c in [b'"', b'\\', 0x00, 0x1f, b'!', 0x7f, 0x80, 0xff, b'#', b'['] {
                    let mut t: Vec<u8> = (0..len).map(|i| b"abz\xc3\xa9 ~0"[i % 8]).collect();
                    if stop_at < len {
                        t[stop_at] = c;
                    }
                    texts.push(t);
                }
            }
        }
        for t in &texts {
            assert_eq!(stop(t), naive(t), "{t:?}");
        }
    }

    #[test]
    fn never_runs_past_the_end() {
        for text in [
            "[1",
            "\"abc",
            "\"ab\\",
            "{\"a\":[\"]",
            "",
            " ",
            "\\",
            "{\"é\\",
        ] {
            let mut s = Scan::new(text);
            let _ = s.value_text();
            let mut s = Scan::new(text);
            let _ = s.plain_str();
            let _ = s.open_object();
            let _ = s.key();
            let _ = s.next_member();
        }
        assert_eq!(Scan::new("[1").value_text(), None);
        assert_eq!(Scan::new("\"ab\\").value_text(), None);
    }
}
