//! Host and Origin validation (DNS-rebinding protection), bearer authentication and CORS.

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::body::ResponseBody;
use crate::config::{Auth, SseConfig};
use crate::error::plain;

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Splits `host[:port]` (with bracketed IPv6) into the host part, lowercased.
fn host_part(authority: &str) -> String {
    let a = authority.trim();
    let host = if a.starts_with('[') {
        match a.find(']') {
            Some(i) => &a[..=i],
            None => a,
        }
    } else {
        a.split(':').next().unwrap_or(a)
    };
    host.to_ascii_lowercase()
}

/// The request's security policy, derived once from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    loopback_default: bool,
    hosts: Option<Vec<String>>,
    origins: Option<Vec<String>>,
    cors: Vec<String>,
    allow_null: bool,
    auth: Option<Auth>,
}

/// The outcome of authentication: the credential a session is bound to.
pub(crate) type Credential = Option<String>;

impl Policy {
    pub(crate) fn new(config: &SseConfig, bound: std::net::SocketAddr) -> Self {
        let lower = |v: &Vec<String>| v.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        Policy {
            loopback_default: bound.ip().is_loopback(),
            hosts: config.allowed_hosts.as_ref().map(lower),
            origins: config.allowed_origins.as_ref().map(lower),
            cors: lower(&config.cors_origins),
            allow_null: config.allow_null_origin,
            auth: config.auth.clone(),
        }
    }

    fn host_ok(&self, headers: &HeaderMap, uri_host: Option<&str>) -> bool {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(uri_host);
        match (&self.hosts, host) {
            (Some(list), Some(h)) => {
                let h = h.trim().to_ascii_lowercase();
                let name = host_part(&h);
                list.iter().any(|a| *a == h || *a == name)
            }
            (Some(_), None) => false,
            (None, Some(h)) if self.loopback_default => LOOPBACK.contains(&host_part(h).as_str()),
            (None, None) => !self.loopback_default,
            (None, Some(_)) => true,
        }
    }

    fn origin_ok(&self, origin: &str) -> bool {
        let o = origin.trim().to_ascii_lowercase();
        if o == "null" {
            return self.allow_null;
        }
        if self.cors.contains(&o) {
            return true;
        }
        match &self.origins {
            Some(list) => list.contains(&o),
            None if self.loopback_default => match o.split_once("://") {
                Some(("http" | "https", rest)) => LOOPBACK.contains(&host_part(rest).as_str()),
                _ => false,
            },
            None => false,
        }
    }

    /// Host and Origin checks; `Err` is the 403 to send before anything else happens.
    pub(crate) fn check_request(
        &self,
        headers: &HeaderMap,
        uri_host: Option<&str>,
    ) -> Result<(), Box<Response<ResponseBody>>> {
        if !self.host_ok(headers, uri_host) {
            tracing::debug!(target: "mcp::sse", "rejected Host header");
            return Err(Box::new(plain(StatusCode::FORBIDDEN, "Host not allowed\n")));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().map(|o| self.origin_ok(o)).unwrap_or(false);
            if !ok {
                tracing::debug!(target: "mcp::sse", "rejected Origin header");
                return Err(Box::new(plain(
                    StatusCode::FORBIDDEN,
                    "Origin not allowed\n",
                )));
            }
        }
        Ok(())
    }

    /// Bearer authentication; `Err` is the 401 to send.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Credential, Box<Response<ResponseBody>>> {
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(Box::new(unauthorized(None)));
        };
        let valid = match auth {
            Auth::Tokens(list) => list.iter().fold(false, |ok, t| {
                constant_time_eq(t.as_bytes(), token.as_bytes()) | ok
            }),
            Auth::Validator(f) => f(token),
        };
        if valid {
            Ok(Some(token.to_owned()))
        } else {
            Err(Box::new(unauthorized(Some("invalid_token"))))
        }
    }

    /// The allowed CORS origin for this request, if any.
    pub(crate) fn cors_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let o = origin.to_str().ok()?.trim().to_ascii_lowercase();
        self.cors.contains(&o).then(|| origin.clone())
    }

    /// Answer to an `OPTIONS` preflight (after the Origin check passed).
    pub(crate) fn preflight(&self, headers: &HeaderMap) -> Response<ResponseBody> {
        let mut res = Response::new(crate::body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        if let Some(origin) = self.cors_origin(headers) {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        res
    }

    /// Adds CORS headers to a response for an allowed CORS origin.
    pub(crate) fn decorate(&self, headers: &HeaderMap, res: &mut Response<ResponseBody>) {
        if let Some(origin) = self.cors_origin(headers) {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("www-authenticate, mcp-session-id"),
            );
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

fn unauthorized(error: Option<&'static str>) -> Response<ResponseBody> {
    let mut res = plain(
        StatusCode::UNAUTHORIZED,
        "missing or invalid bearer token\n",
    );
    let v = match error {
        None => HeaderValue::from_static("Bearer"),
        Some(_) => HeaderValue::from_static("Bearer error=\"invalid_token\""),
    };
    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_part_handles_ports_and_ipv6() {
        assert_eq!(host_part("LocalHost:8000"), "localhost");
        assert_eq!(host_part("[::1]:80"), "[::1]");
        assert_eq!(host_part("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn default_loopback_origins() {
        let p = Policy::new(&SseConfig::default(), "127.0.0.1:1".parse().unwrap());
        assert!(p.origin_ok("http://localhost:6274"));
        assert!(p.origin_ok("http://[::1]"));
        assert!(!p.origin_ok("http://evil.example"));
        assert!(!p.origin_ok("http://localhost.evil.example"));
        assert!(!p.origin_ok("null"));
    }
}
