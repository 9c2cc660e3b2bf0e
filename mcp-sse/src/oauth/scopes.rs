//! Scopes: what a token grants, what an operation needs, and the owner's hierarchy (a broader
//! scope implies narrower ones).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

pub(crate) use mcp_syntax::scope::is_valid as is_valid_scope;

/// The scopes a token carries: `scope` (space-separated, RFC 9068 / RFC 7662) or `scp` (a
/// string or an array, as some identity providers send).
pub(crate) fn from_claims(claims: &serde_json::Map<String, Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(Value::String(s)) => out.extend(
                s.split(' ')
                    .filter(|s| is_valid_scope(s))
                    .map(str::to_owned),
            ),
            Some(Value::Array(items)) => out.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| is_valid_scope(s))
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    out
}

/// The owner's scope hierarchy.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopeRules {
    implies: HashMap<String, Vec<String>>,
}

impl ScopeRules {
    pub(crate) fn new(rules: Vec<(String, Vec<String>)>) -> Self {
        let mut implies: HashMap<String, Vec<String>> = HashMap::new();
        for (broad, narrower) in rules {
            implies.entry(broad).or_default().extend(narrower);
        }
        ScopeRules { implies }
    }

    /// `scopes` plus everything they imply, transitively (each scope visited once, so cycles
    /// end).
    pub(crate) fn expand(&self, scopes: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = scopes.clone();
        if self.implies.is_empty() {
            return out;
        }
        let mut todo: Vec<&str> = scopes.iter().map(String::as_str).collect();
        while let Some(s) = todo.pop() {
            for n in self.implies.get(s).into_iter().flatten() {
                if out.insert(n.clone()) {
                    todo.push(n);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_claims_and_hierarchy() {
        let claims = json!({"scope": "a b  c", "scp": ["d", "bad scope", 3]});
        let got = from_claims(claims.as_object().unwrap());
        assert_eq!(got.into_iter().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert!(!is_valid_scope("x\"y"));
        assert!(!is_valid_scope(""));
        assert!(is_valid_scope("files:read"));
        let rules = ScopeRules::new(vec![
            (
                "files".into(),
                vec!["files:read".into(), "files:write".into()],
            ),
            ("admin".into(), vec!["files".into(), "admin".into()]),
        ]);
        let got = rules.expand(&BTreeSet::from(["admin".to_owned()]));
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            ["admin", "files", "files:read", "files:write"]
        );
    }
}
