//! One JSON value read into a tree ([`Value`]) by walking its text, for the values a request
//! of the common shape carries (a tool's `arguments`, above all): small objects and arrays of
//! plain strings, integers and literals. serde's visitors would otherwise take each apart on
//! every call.
//!
//! The tree is the one serde reads strictly from the same text ([`Strict`]): a number that is
//! not a plain integer, a string with an escape or any other value the walk does not take
//! whole is read by serde from its own text. When the walk meets what it cannot walk (a key
//! with an escape, a key given twice, a broken structure), the whole value is read by serde
//! from its text instead, which gives the tree or refuses it; so a text is walked once and
//! read by serde at most twice, however deep.

use serde_json::Value;

use crate::json_scan::Scan;
use crate::protocol::JsonObject;
use crate::strict::Strict;

/// How many levels of objects and arrays the walk takes itself; deeper ones are read by
/// serde from their text. The message's nesting was bounded before the walk began.
const WALKED_LEVELS: usize = 16;

/// The next value, read strictly: walked where it can be, by serde where it cannot. `None`
/// when serde refuses it too.
pub(crate) fn value(s: &mut Scan<'_>) -> Option<Value> {
    let start = s.clone();
    if let Some(v) = walked(s, WALKED_LEVELS) {
        return Some(v);
    }
    *s = start;
    let text = s.value_text()?;
    by_serde(text)
}

fn by_serde(text: &str) -> Option<Value> {
    serde_json::from_str::<Strict>(text).ok().map(|Strict(v)| v)
}

/// The next value with its objects and arrays walked `levels` deep; `None` when the walk
/// cannot go on (the caller then reads the whole value by serde).
fn walked(s: &mut Scan<'_>, levels: usize) -> Option<Value> {
    match s.peek()? {
        b'"' => {
            if let Some(v) = s.plain_str() {
                return Some(Value::String(v.to_owned()));
            }
        }
        b'{' if levels > 0 => {
            s.eat(b'{');
            return object(s, levels - 1);
        }
        b'[' if levels > 0 => {
            s.eat(b'[');
            return array(s, levels - 1);
        }
        // What follows a literal is checked by the structure around it, as after any value.
        b't' if s.eat_text("true") => return Some(Value::Bool(true)),
        b'f' if s.eat_text("false") => return Some(Value::Bool(false)),
        b'n' if s.eat_text("null") => return Some(Value::Null),
        b'-' | b'0'..=b'9' => {
            if let Some(n) = s.plain_integer() {
                return Some(Value::Number(n));
            }
        }
        _ => {}
    }
    by_serde(s.value_text()?)
}

/// An object's members, its `{` taken.
fn object(s: &mut Scan<'_>, levels: usize) -> Option<Value> {
    let mut object = JsonObject::new();
    if s.eat(b'}') {
        return Some(Value::Object(object));
    }
    loop {
        let serde_json::map::Entry::Vacant(slot) = object.entry(s.key()?) else {
            return None;
        };
        slot.insert(walked(s, levels)?);
        if !s.next_member()? {
            return Some(Value::Object(object));
        }
    }
}

/// An array's items, its `[` taken.
fn array(s: &mut Scan<'_>, levels: usize) -> Option<Value> {
    let mut items = Vec::new();
    if s.eat(b']') {
        return Some(Value::Array(items));
    }
    loop {
        items.push(walked(s, levels)?);
        if s.eat(b',') {
            continue;
        }
        return s.eat(b']').then_some(Value::Array(items));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walked_and_serde(text: &str) -> (Option<String>, Option<String>) {
        let mut s = Scan::new(text);
        let w = value(&mut s).filter(|_| s.at_end());
        let d = by_serde(text);
        (w.map(|v| format!("{v:?}")), d.map(|v| format!("{v:?}")))
    }

    #[test]
    fn reads_every_kind_of_value_as_serde_does() {
        for text in [
            r#"{"a":1,"b":"x"}"#,
            r#" { "a" : [ 1 , -2 , 0 , -0 , 1.5 , 1e3 , 18446744073709551615 , 18446744073709551616 ] } "#,
            r#"{"s":"caf\u00e9","t":"tab\there","k":{"nested":{"deeper":[[],{},[{}]]}}}"#,
            r#"[true,false,null,"",-9223372036854775808,-922337203685477580,00,-01]"#,
            r#"{"a\u0062":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":2}}"#,
            r#"{"a":[1,2,]}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex,"b":nul,"c":falsey}"#,
            r#"[true1,2]"#,
            r#"[12a]"#,
            r#"[-9223372036854775808,9223372036854775808,-9223372036854775809,1.0e5,-0.0]"#,
            r#"[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]"#,
            r#"[[[[[[[[[[[[[[[[[[[[[{"a":1,"a":1}]]]]]]]]]]]]]]]]]]]]]"#,
            "\"é\"",
            "12",
            "-",
            "",
        ] {
            let (w, d) = walked_and_serde(text);
            assert_eq!(w, d, "{text}");
        }
    }

    #[test]
    fn plain_integers_only() {
        let int = |t: &str| Scan::new(t).plain_integer().map(Value::Number);
        assert_eq!(int(" 0"), Some(Value::from(0u64)));
        assert_eq!(int("-5,"), Some(Value::from(-5i64)));
        assert_eq!(int("18446744073709551615]"), Some(Value::from(u64::MAX)));
        assert_eq!(int("-9223372036854775807"), Some(Value::from(-i64::MAX)));
        for text in [
            "-0",
            "01",
            "1.0",
            "1e2",
            "1E2",
            "+1",
            "-",
            "",
            "18446744073709551616",
            "-9223372036854775808",
        ] {
            assert_eq!(int(text), None, "{text}");
        }
    }

    proptest::proptest! {
        /// Any text, however broken, reads the same walked as by serde.
        #[test]
        fn a_changed_value_reads_what_serde_reads(
            at in 0usize..90,
            cut in 0usize..6,
            with in "[ -~\t\u{1}é\\\\\"{}\\[\\]:,0-9-]{0,6}",
        ) {
            let base = r#"{"a":1,"b":[true,null,-12,{"c":"d","e":[]}],"f":"g","h":{"i":0.5}}"#;
            let text = crate::json_scan::changed(base, at, cut, &with);
            let (w, d) = walked_and_serde(&text);
            proptest::prop_assert_eq!(w, d, "{}", text);
        }
    }
}
