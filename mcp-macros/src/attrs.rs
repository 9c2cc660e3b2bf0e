//! Parsing of the macros' own attribute arguments (`name = "..."`, flags), collecting every
//! error with its span.

use proc_macro2::Span;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

/// Collects errors so all of them are reported at once, each on its own token.
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, msg));
    }

    pub(crate) fn push_err(&mut self, e: syn::Error) {
        self.0.push(e);
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        let mut it = self.0.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in it {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

/// One attribute argument value.
pub(crate) enum Value {
    Flag(Span),
    Str(LitStr),
    Bool(bool, Span),
    Expr(Expr),
    Completers(Vec<(syn::Ident, Path)>),
}

/// The `key = value` arguments of an attribute, in order.
pub(crate) struct Args {
    pub(crate) items: Vec<(syn::Ident, Value)>,
}

impl Args {
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Args {
        let mut items = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let Some(ident) = meta.path.get_ident().cloned() else {
                return Err(meta.error("expected an identifier key"));
            };
            if ident == "complete" {
                let mut list = Vec::new();
                meta.parse_nested_meta(|inner| {
                    let Some(arg) = inner.path.get_ident().cloned() else {
                        return Err(inner.error("expected `argument = completer_fn`"));
                    };
                    let path: Path = inner.value()?.parse()?;
                    list.push((arg, path));
                    Ok(())
                })?;
                items.push((ident, Value::Completers(list)));
                return Ok(());
            }
            if meta.input.peek(syn::Token![=]) {
                let expr: Expr = meta.value()?.parse()?;
                let v = match expr {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Value::Str(s),
                    Expr::Lit(ExprLit {
                        lit: Lit::Bool(b), ..
                    }) => Value::Bool(b.value, b.span()),
                    other => Value::Expr(other),
                };
                items.push((ident, v));
            } else {
                let span = ident.span();
                items.push((ident, Value::Flag(span)));
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(tokens) {
            errors.push_err(e);
        }
        Args { items }
    }

    /// Checks keys against `allowed`, reporting unknown and repeated keys.
    pub(crate) fn check(&self, allowed: &[&str], errors: &mut Errors) {
        let mut seen: Vec<String> = Vec::new();
        for (k, _) in &self.items {
            let key = k.to_string();
            if !allowed.contains(&key.as_str()) {
                errors.push(
                    k.span(),
                    format!(
                        "unknown attribute key `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            } else if seen.contains(&key) {
                errors.push(k.span(), format!("duplicate attribute key `{key}`"));
            }
            seen.push(key);
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn string(&self, key: &str, errors: &mut Errors) -> Option<LitStr> {
        match self.get(key)? {
            Value::Str(s) => Some(s.clone()),
            other => {
                errors.push(
                    span_of(other),
                    format!("`{key}` takes a string literal: {key} = \"...\""),
                );
                None
            }
        }
    }

    /// A hint flag: `key`, `key = true` or `key = false`.
    pub(crate) fn flag(&self, key: &str, errors: &mut Errors) -> Option<bool> {
        match self.get(key)? {
            Value::Flag(_) => Some(true),
            Value::Bool(b, _) => Some(*b),
            other => {
                errors.push(
                    span_of(other),
                    format!("`{key}` is a flag: write `{key}` or `{key} = false`"),
                );
                None
            }
        }
    }

    pub(crate) fn crate_path(&self, errors: &mut Errors) -> Path {
        match self.string("crate", errors) {
            Some(s) => s.parse().unwrap_or_else(|e| {
                errors.push_err(e);
                syn::parse_quote!(::mcp_core)
            }),
            None => syn::parse_quote!(::mcp_core),
        }
    }

    pub(crate) fn completers(&self) -> Vec<(syn::Ident, Path)> {
        match self.get("complete") {
            Some(Value::Completers(v)) => v.clone(),
            _ => Vec::new(),
        }
    }
}

fn span_of(v: &Value) -> Span {
    match v {
        Value::Flag(s) | Value::Bool(_, s) => *s,
        Value::Str(s) => s.span(),
        Value::Expr(e) => e.span(),
        Value::Completers(c) => c.first().map_or_else(Span::call_site, |(i, _)| i.span()),
    }
}
