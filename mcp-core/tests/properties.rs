//! Property tests: the JSON-RPC parser and URI-template matching take any input without
//! panicking, in bounded time, and answer within their contract.

use std::time::{Duration, Instant};

use mcp_core::jsonrpc::{Incoming, ParseLimits, code, parse};
use mcp_core::registry::{TemplateVars, UriTemplate};
use proptest::prelude::*;

/// A few hundred cases per property keeps each one to a few seconds on a debug build.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// JSON-ish text: fragments of JSON-RPC glued together, so that cases reach past the tokenizer
/// (valid messages, wrong types, duplicate keys, batches, deep nesting) and not only noise.
fn jsonish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("\"jsonrpc\"".to_owned()),
        Just("\"2.0\"".to_owned()),
        Just("\"id\"".to_owned()),
        Just("\"method\"".to_owned()),
        Just("\"params\"".to_owned()),
        Just("\"result\"".to_owned()),
        Just("\"error\"".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("1e400".to_owned()),
        Just("-0".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[a-z/]{0,8}\"",
        Just(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_owned()),
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
}

fn check_parse(input: &[u8]) -> Result<(), TestCaseError> {
    let limits = ParseLimits {
        max_bytes: 4096,
        max_depth: 16,
        max_batch: 8,
    };
    let started = Instant::now();
    let outcome = parse(input, &limits);
    prop_assert!(
        started.elapsed() < Duration::from_secs(1),
        "parse took {:?}",
        started.elapsed()
    );
    match outcome {
        Ok(Incoming::Single(_)) => {}
        Ok(Incoming::Batch(items)) => {
            prop_assert!(!items.is_empty() && items.len() <= limits.max_batch);
            for item in items {
                if let Err(response) = item {
                    let error = response
                        .outcome
                        .expect_err("an invalid element carries an error");
                    prop_assert_eq!(error.code, code::INVALID_REQUEST);
                }
            }
        }
        Err(e) => {
            prop_assert!(
                e.error.code == code::PARSE_ERROR || e.error.code == code::INVALID_REQUEST,
                "unexpected code {}",
                e.error.code
            );
            prop_assert!(!e.error.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_parser_answers_any_bytes(input in prop::collection::vec(any::<u8>(), 0..512)) {
        check_parse(&input)?;
    }

    #[test]
    fn the_parser_answers_any_jsonish_text(input in jsonish()) {
        check_parse(input.as_bytes())?;
    }

    #[test]
    fn the_parser_answers_deep_nesting(depth in 0usize..200, open in prop_oneof![Just('['), Just('{')]) {
        let close = if open == '[' { ']' } else { '}' };
        let body = if open == '[' { "1".to_owned() } else { String::new() };
        let text = format!("{}{body}{}", open.to_string().repeat(depth), close.to_string().repeat(depth));
        check_parse(text.as_bytes())?;
    }

    #[test]
    fn any_template_parses_or_is_refused(template in "[a-z:/{}_.-]{0,24}") {
        // Either a template or a registration error, never a panic.
        let _ = UriTemplate::parse(&template);
    }

    #[test]
    fn matching_any_uri_binds_only_what_the_template_allows(
        template in "[a-z:/]{0,6}(\\{[a-z]{1,3}\\}[a-z./:-]{1,4}){0,4}\\{?",
        uri in "[a-z0-9%./:{}-]{0,64}",
    ) {
        if let Ok(t) = UriTemplate::parse(&template) {
            let started = Instant::now();
            let vars = t.matches(&uri);
            prop_assert!(started.elapsed() < Duration::from_secs(1));
            if let Some(vars) = vars {
                for name in t.variables() {
                    let value = vars.get(name);
                    prop_assert!(value.is_some_and(|v| !v.is_empty() && !v.contains('/')),
                        "{name} bound to {value:?}");
                }
            }
        }
    }

    #[test]
    fn an_expanded_template_matches_with_the_same_values(
        names in prop::collection::btree_set("[a-z]{1,4}", 1..4),
        values in prop::collection::vec("[A-Za-z0-9 ?#&=+%\u{e9}]{1,12}", 4),
    ) {
        // Variables separated by a literal no value can contain once encoded.
        let names: Vec<String> = names.into_iter().collect();
        let template = format!(
            "test://x/{}",
            names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join("/")
        );
        let t = UriTemplate::parse(&template).unwrap();
        let vars: TemplateVars = names.iter().cloned().zip(values.iter().cloned()).collect();
        let uri = t.expand(&vars);
        prop_assert_eq!(t.matches(&uri), Some(vars));
    }
}
