//! The `key`, `key = value` and `key(...)` arguments of an attribute, parsed without knowing
//! what they mean, then read into a typed model by one `match` arm per key.
//!
//! A value of the wrong kind is reported on the value and parsing goes on, so every mistake in
//! one attribute is reported at once. Repeated keys are reported here; unknown keys by
//! [`Arg::unknown`], with a suggestion when the key looks like a misspelling.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use crate::errors::Errors;

/// One attribute argument.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    name: String,
    value: Value,
}

enum Value {
    /// `key`
    Flag,
    /// `key = expr`
    Expr(Expr),
    /// `key(tokens)`
    List(TokenStream, Span),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Value::Expr(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            Value::List(content.parse()?, paren.span.join())
        } else {
            Value::Flag
        };
        Ok(Arg {
            name: key.to_string(),
            key,
            value,
        })
    }
}

/// Parses `tokens` as comma-separated arguments, reporting syntax errors and repeated keys.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Vec<Arg> {
    let parsed = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(p) => p,
        Err(e) => {
            errors.push_err(e);
            return Vec::new();
        }
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for arg in parsed {
        if seen.contains(&arg.name) {
            errors.push(
                arg.key.span(),
                format!("duplicate attribute key `{}`", arg.name),
            );
            continue;
        }
        seen.push(arg.name.clone());
        out.push(arg);
    }
    out
}

impl Arg {
    /// The key, for matching.
    pub(crate) fn key(&self) -> &str {
        &self.name
    }

    /// True for a bare `key`.
    pub(crate) fn is_flag(&self) -> bool {
        matches!(self.value, Value::Flag)
    }

    fn value_span(&self) -> Span {
        match &self.value {
            Value::Flag => self.key.span(),
            Value::Expr(e) => e.span(),
            Value::List(_, s) => *s,
        }
    }

    /// `key = "text"`.
    pub(crate) fn string(&self, errors: &mut Errors) -> Option<LitStr> {
        match &self.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Some(s.clone()),
            _ => {
                let key = &self.name;
                errors.push(
                    self.value_span(),
                    format!("`{key}` takes a string literal: {key} = \"...\""),
                );
                None
            }
        }
    }

    /// `key`, `key = true` or `key = false`.
    pub(crate) fn flag(&self, errors: &mut Errors) -> Option<bool> {
        match &self.value {
            Value::Flag => Some(true),
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            })) => Some(b.value),
            _ => {
                let key = &self.name;
                errors.push(
                    self.value_span(),
                    format!("`{key}` is a flag: write `{key}` or `{key} = false`"),
                );
                None
            }
        }
    }

    /// `key = 123`: an integer literal of type `T`; `what` says what the key takes, for the
    /// error (`"a positive integer: key = 10"`).
    pub(crate) fn int<T>(&self, what: &str, errors: &mut Errors) -> Option<(T, Span)>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let key = &self.name;
        match &self.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => match i.base10_parse::<T>() {
                Ok(v) => Some((v, i.span())),
                Err(e) => {
                    errors.push(i.span(), format!("`{key}` takes {what} ({e})"));
                    None
                }
            },
            _ => {
                errors.push(self.value_span(), format!("`{key}` takes {what}"));
                None
            }
        }
    }

    /// `key = 0.5`: a number (integer or float literal).
    pub(crate) fn float(&self, errors: &mut Errors) -> Option<(f64, Span)> {
        let parsed = match &self.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Float(f), ..
            })) => Some((f.base10_parse::<f64>(), f.span())),
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => Some((i.base10_parse::<f64>(), i.span())),
            _ => None,
        };
        match parsed {
            Some((Ok(v), span)) => Some((v, span)),
            Some((Err(e), _)) => {
                errors.push_err(e);
                None
            }
            None => {
                let key = &self.name;
                errors.push(
                    self.value_span(),
                    format!("`{key}` takes a number: {key} = 0.5"),
                );
                None
            }
        }
    }

    /// `key = ["a", "b"]`: a list of string literals.
    pub(crate) fn strings(&self, errors: &mut Errors) -> Option<Vec<LitStr>> {
        let msg = || format!("`{0}` takes a list of strings: {0} = [\"...\"]", self.name);
        let Value::Expr(Expr::Array(array)) = &self.value else {
            errors.push(self.value_span(), msg());
            return None;
        };
        let mut out = Vec::new();
        for elem in &array.elems {
            match elem {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => out.push(s.clone()),
                other => errors.push(other.span(), msg()),
            }
        }
        Some(out)
    }

    /// `key = expr`: any expression.
    pub(crate) fn expr(&self, errors: &mut Errors) -> Option<Expr> {
        match &self.value {
            Value::Expr(e) => Some(e.clone()),
            _ => {
                let key = &self.name;
                errors.push(
                    self.value_span(),
                    format!("`{key}` takes a value: {key} = <expression>"),
                );
                None
            }
        }
    }

    /// `key = "path::to::item"`: a path written as a string.
    pub(crate) fn path_str(&self, errors: &mut Errors) -> Option<Path> {
        let lit = self.string(errors)?;
        match lit.parse::<Path>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(
                    lit.span(),
                    format!(
                        "`{}` takes a Rust path such as \"::mcp_core\" or \"my_crate::mcp\"",
                        self.name
                    ),
                );
                None
            }
        }
    }

    /// `key(name = path, ...)`: names bound to function paths.
    pub(crate) fn bindings(&self, errors: &mut Errors) -> Option<Vec<(Ident, Path)>> {
        let key = &self.name;
        let msg = format!("`{key}` takes a list: {key}(argument = completer_fn, ...)");
        let Value::List(tokens, _) = &self.value else {
            errors.push(self.value_span(), msg);
            return None;
        };
        let parser = Punctuated::<Binding, Token![,]>::parse_terminated;
        match parser.parse2(tokens.clone()) {
            Ok(list) => Some(list.into_iter().map(|b| (b.name, b.path)).collect()),
            Err(e) => {
                errors.push(e.span(), msg);
                None
            }
        }
    }

    /// Reports this key as unknown, listing `keys` and suggesting the closest one.
    pub(crate) fn unknown(&self, keys: &[&str], errors: &mut Errors) {
        let key = &self.name;
        let mut msg = format!("unknown attribute key `{key}`; ");
        if let Some(best) = closest(key, keys) {
            msg.push_str(&format!("did you mean `{best}`? "));
        }
        msg.push_str(&format!("expected one of: {}", keys.join(", ")));
        errors.push(self.key.span(), msg);
    }
}

struct Binding {
    name: Ident,
    path: Path,
}

impl Parse for Binding {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![=]>()?;
        Ok(Binding {
            name,
            path: input.parse()?,
        })
    }
}

/// The key within edit distance 2 of `key` (and closer than its own length), if any, or else
/// the one key that is `key` with a `_suffix` (`timeout` for `timeout_ms`).
fn closest<'a>(key: &str, keys: &[&'a str]) -> Option<&'a str> {
    let near = keys
        .iter()
        .map(|k| (distance(key, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len().min(key.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k);
    near.or_else(|| {
        let mut longer = keys.iter().filter(|k| {
            k.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('_'))
        });
        match (longer.next(), longer.next()) {
            (Some(k), None) => Some(*k),
            _ => None,
        }
    })
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["name", "description", "title", "read_only"];
        assert_eq!(closest("descripton", &keys), Some("description"));
        assert_eq!(closest("nmae", &keys), Some("name"));
        assert_eq!(closest("readonly", &keys), Some("read_only"));
        assert_eq!(closest("xyz", &keys), None);
        assert_eq!(
            closest("timeout", &["task", "timeout_ms"]),
            Some("timeout_ms")
        );
        assert_eq!(closest("read", &keys), Some("read_only"));
    }

    fn one(tokens: TokenStream) -> (Arg, Errors) {
        let mut errors = Errors::default();
        let mut args = parse(tokens, &mut errors);
        assert_eq!(args.len(), 1);
        (args.remove(0), errors)
    }

    #[test]
    fn typed_readers() {
        let (a, mut e) = one(quote::quote!(timeout_ms = 1500));
        assert_eq!(a.int::<u64>("a number", &mut e).map(|(v, _)| v), Some(1500));
        let (a, mut e) = one(quote::quote!(scopes = ["read", "write"]));
        let list = a.strings(&mut e).unwrap();
        assert_eq!(
            list.iter().map(LitStr::value).collect::<Vec<_>>(),
            ["read", "write"]
        );
        let (a, mut e) = one(quote::quote!(open_world = false));
        assert_eq!(a.flag(&mut e), Some(false));
        assert!(e.is_empty());
        let (a, mut e) = one(quote::quote!(timeout_ms = "soon"));
        assert!(a.int::<u64>("a number", &mut e).is_none());
        assert!(a.strings(&mut e).is_none());
        assert!(!e.is_empty());
    }
}
