//! DNS-rebinding protection (Origin and Host validation), bearer-token auth and CORS.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use mcp_core::caller::RequestHeaders;

/// Checks a token and returns the principal it stands for.
pub(crate) type TokenValidator = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = Option<mcp_core::Identity>> + Send>>
        + Send
        + Sync,
>;

/// How requests are authenticated.
#[derive(Clone)]
pub(crate) enum Auth {
    Static(Vec<Vec<u8>>),
    Validator(TokenValidator),
}

/// Who a request was authenticated as; a session is bound to the identity that opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    Anonymous,
    /// Static tokens: the index of the matching token.
    Token(usize),
    /// A validator's identity, by issuer and subject: a refreshed token with other scopes
    /// or claims still reaches the same sessions.
    Principal {
        /// The identity's issuer.
        issuer: Option<String>,
        /// The identity's subject.
        subject: String,
    },
}

/// The outcome of authenticating a request.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    /// What sessions are bound to.
    pub(crate) identity: Identity,
    /// What the validator returned, handed to the request's handlers.
    pub(crate) principal: Option<mcp_core::Identity>,
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// The bearer token; `None` when missing, malformed, or when `Authorization` is given more
/// than once (which credential would count is ambiguous).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = crate::fields::single(headers, header::AUTHORIZATION)
        .ok()??
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates a request; `None` means 401.
pub(crate) async fn authenticate(
    auth: &Option<Auth>,
    headers: &HeaderMap,
) -> Option<Authenticated> {
    let Some(auth) = auth else {
        return Some(Authenticated {
            identity: Identity::Anonymous,
            principal: None,
        });
    };
    let token = bearer(headers)?;
    match auth {
        Auth::Static(tokens) => {
            // Check every token so timing does not reveal which one matched.
            let mut found = None;
            for (i, t) in tokens.iter().enumerate() {
                if constant_time_eq(t, token.as_bytes()) && found.is_none() {
                    found = Some(i);
                }
            }
            found.map(|i| Authenticated {
                identity: Identity::Token(i),
                principal: None,
            })
        }
        Auth::Validator(v) => {
            let principal = v(token.to_owned()).await?;
            Some(Authenticated {
                identity: Identity::Principal {
                    issuer: principal.issuer().map(str::to_owned),
                    subject: principal.subject().to_owned(),
                },
                principal: Some(principal),
            })
        }
    }
}

/// Headers that carry credentials: never exposed to handlers.
const CREDENTIAL_HEADERS: [HeaderName; 2] = [header::AUTHORIZATION, header::PROXY_AUTHORIZATION];

/// Parses the names of the headers exposed to handlers, refusing credential headers.
pub(crate) fn exposed_header_names(names: &[String]) -> Result<Vec<HeaderName>, crate::ServeError> {
    names
        .iter()
        .map(|n| {
            let bad = |reason| crate::ServeError::InvalidHeaderName {
                name: n.clone(),
                reason,
            };
            let name = HeaderName::from_bytes(n.trim().as_bytes())
                .map_err(|_| bad("not a valid HTTP header name"))?;
            if CREDENTIAL_HEADERS.contains(&name) {
                return Err(bad("it carries the credential, which handlers never see"));
            }
            Ok(name)
        })
        .collect()
}

/// The values of the `exposed` headers of a request, in the order listed, skipping values
/// that are not UTF-8.
pub(crate) fn exposed_headers(exposed: &[HeaderName], headers: &HeaderMap) -> RequestHeaders {
    let mut out = RequestHeaders::new();
    for name in exposed {
        for value in headers.get_all(name) {
            if let Ok(v) = std::str::from_utf8(value.as_bytes()) {
                out.append(name.as_str(), v);
            }
        }
    }
    out
}

/// Allow-lists derived from the configuration and the bound address.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    hosts: Option<Vec<HostPattern>>,
    origins: Vec<OriginPattern>,
    cors: Vec<OriginPattern>,
}

#[derive(Debug, Clone, PartialEq)]
struct HostPattern {
    host: String,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
struct OriginPattern {
    scheme: Option<String>,
    host: HostPattern,
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// A `host[:port]` as it appears in a request, borrowed (requests are checked without
/// allocating).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HostRef<'a> {
    host: &'a str,
    port: Option<u16>,
}

/// A `scheme://host[:port]` origin as it appears in a request.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OriginRef<'a> {
    scheme: Option<&'a str>,
    host: HostRef<'a>,
}

/// Splits `host[:port]`; `None` when it is not one.
pub(crate) fn split_host_port(s: &str) -> Option<HostRef<'_>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.starts_with('[') {
        let end = s.find(']')?;
        let after = &s[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some(HostRef {
            host: &s[..=end],
            port,
        });
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some(HostRef {
            host: h,
            port: Some(p.parse().ok()?),
        }),
        None => Some(HostRef {
            host: s,
            port: None,
        }),
    }
}

fn parse_origin(s: &str) -> Option<OriginRef<'_>> {
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, s),
    };
    if rest.contains('/') {
        return None;
    }
    Some(OriginRef {
        scheme,
        host: split_host_port(rest)?,
    })
}

impl HostRef<'_> {
    fn to_pattern(self) -> HostPattern {
        HostPattern {
            host: self.host.to_ascii_lowercase(),
            port: self.port,
        }
    }
}

impl OriginRef<'_> {
    fn to_pattern(self) -> OriginPattern {
        OriginPattern {
            scheme: self.scheme.map(str::to_ascii_lowercase),
            host: self.host.to_pattern(),
        }
    }
}

impl HostPattern {
    fn matches(&self, other: &HostRef<'_>) -> bool {
        self.host.eq_ignore_ascii_case(other.host)
            && (self.port.is_none() || self.port == other.port)
    }
}

impl OriginPattern {
    fn matches(&self, other: &OriginRef<'_>) -> bool {
        let scheme = match (&self.scheme, other.scheme) {
            (None, _) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (Some(_), None) => false,
        };
        scheme && self.host.matches(&other.host)
    }
}

/// Why a request was refused before any processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Host,
    Origin,
}

impl Guard {
    pub(crate) fn new(
        bound: SocketAddr,
        hosts: &Option<Vec<String>>,
        origins: &Option<Vec<String>>,
        cors: &[String],
    ) -> Result<Guard, crate::ServeError> {
        let bad = |kind, value: &str| crate::ServeError::InvalidAllowList {
            kind,
            value: value.to_owned(),
            reason: "expected host[:port] (hosts) or scheme://host[:port] (origins)",
        };
        let loopback = bound.ip().is_loopback();
        let hosts = match hosts {
            Some(list) => Some(
                list.iter()
                    .map(|h| {
                        split_host_port(h)
                            .map(HostRef::to_pattern)
                            .ok_or_else(|| bad("host", h))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None if loopback => Some(
                LOOPBACK_NAMES
                    .iter()
                    .map(|h| HostPattern {
                        host: (*h).to_owned(),
                        port: None,
                    })
                    .collect(),
            ),
            None => None,
        };
        let cors = cors
            .iter()
            .map(|o| {
                parse_origin(o)
                    .map(OriginRef::to_pattern)
                    .ok_or_else(|| bad("origin", o))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut origins = match origins {
            Some(list) => list
                .iter()
                .map(|o| {
                    parse_origin(o)
                        .map(OriginRef::to_pattern)
                        .ok_or_else(|| bad("origin", o))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None if loopback => LOOPBACK_NAMES
                .iter()
                .map(|h| OriginPattern {
                    scheme: None,
                    host: HostPattern {
                        host: (*h).to_owned(),
                        port: None,
                    },
                })
                .collect(),
            None => Vec::new(),
        };
        origins.extend(cors.iter().cloned());
        Ok(Guard {
            hosts,
            origins,
            cors,
        })
    }

    /// Validates Host and Origin (DNS-rebinding protection). `host` is the request's, parsed
    /// from its one `Host` header or, without one, its `:authority` (HTTP/2 carries the host
    /// there); `None` when it has none that parses.
    pub(crate) fn check(
        &self,
        host: Option<HostRef<'_>>,
        headers: &HeaderMap,
    ) -> Result<(), Refusal> {
        if let Some(allowed) = &self.hosts {
            let host = host.ok_or(Refusal::Host)?;
            if !allowed.iter().any(|a| a.matches(&host)) {
                return Err(Refusal::Host);
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin
                .to_str()
                .ok()
                .and_then(parse_origin)
                .ok_or(Refusal::Origin)?;
            if !self.origins.iter().any(|a| a.matches(&origin)) {
                return Err(Refusal::Origin);
            }
        }
        Ok(())
    }

    /// The request's `Origin` when it is a configured CORS origin.
    pub(crate) fn cors_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        if self.cors.is_empty() {
            return None;
        }
        let raw = headers.get(header::ORIGIN)?;
        let origin = raw.to_str().ok().and_then(parse_origin)?;
        self.cors
            .iter()
            .any(|c| c.matches(&origin))
            .then(|| raw.clone())
    }

    /// The CORS headers for an answer to `origin` (from [`Guard::cors_origin`]).
    pub(crate) fn cors_headers(origin: HeaderValue, out: &mut HeaderMap) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.insert(header::VARY, HeaderValue::from_static("Origin"));
        out.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Mcp-Session-Id, WWW-Authenticate"),
        );
    }

    /// True when preflight should be answered for this origin.
    pub(crate) fn is_cors_origin(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .and_then(parse_origin)
            .is_some_and(|o| self.cors.iter().any(|c| c.matches(&o)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Guard {
        fn check_headers(&self, h: &HeaderMap) -> Result<(), Refusal> {
            let host = h
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(split_host_port);
            self.check(host, h)
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_defaults() {
        let g = Guard::new("127.0.0.1:8000".parse().unwrap(), &None, &None, &[]).unwrap();
        assert!(
            g.check_headers(&headers(&[("host", "localhost:8000")]))
                .is_ok()
        );
        assert!(
            g.check_headers(&headers(&[("host", "127.0.0.1:9")]))
                .is_ok()
        );
        assert!(g.check_headers(&headers(&[("host", "[::1]:8000")])).is_ok());
        assert_eq!(
            g.check_headers(&headers(&[("host", "evil.example.com")])),
            Err(Refusal::Host)
        );
        assert_eq!(g.check_headers(&headers(&[])), Err(Refusal::Host));
        assert!(
            g.check_headers(&headers(&[
                ("host", "localhost"),
                ("origin", "http://localhost:6274")
            ]))
            .is_ok()
        );
        for bad in [
            "http://evil.example.com",
            "null",
            "http://localhost.evil.com",
        ] {
            assert_eq!(
                g.check_headers(&headers(&[("host", "localhost"), ("origin", bad)])),
                Err(Refusal::Origin),
                "{bad}"
            );
        }
    }

    #[test]
    fn configured_lists_and_cors() {
        let g = Guard::new(
            "0.0.0.0:8000".parse().unwrap(),
            &Some(vec!["api.example.com".into()]),
            &None,
            &["https://app.example.com".into()],
        )
        .unwrap();
        let h = headers(&[
            ("host", "api.example.com:443"),
            ("origin", "https://app.example.com"),
        ]);
        assert!(g.check_headers(&h).is_ok());
        let mut out = HeaderMap::new();
        Guard::cors_headers(g.cors_origin(&h).unwrap(), &mut out);
        assert_eq!(
            out[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        let h = headers(&[
            ("host", "api.example.com"),
            ("origin", "http://app.example.com"),
        ]);
        assert_eq!(g.check_headers(&h), Err(Refusal::Origin));
        assert_eq!(g.cors_origin(&h), None);
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
