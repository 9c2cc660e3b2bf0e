//! Requests to the authorization server: metadata, key sets, introspection. Every response is
//! bounded in time and size; redirects are not followed.

use std::time::Duration;

use serde_json::Value;

use super::OAuthError;

/// Why a fetch failed (logged without secrets; never shown to clients beyond "unreachable").
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed: {0}")]
    Http(String),
    #[error("status {0}")]
    Status(u16),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("response is not a JSON object")]
    NotJson,
}

/// The shared HTTP client.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").finish_non_exhaustive()
    }
}

/// True for hosts on this machine, the only ones allowed over plain `http`.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks an absolute URL: `https`, or `http` to a loopback host; no fragment. The resource
/// URL (`remote == false`) may use `http` anywhere, since it is only compared, never fetched.
pub(crate) fn check_url(what: &'static str, url: &str, remote: bool) -> Result<(), OAuthError> {
    let bad = |reason| OAuthError::InvalidUrl {
        what,
        url: url.to_owned(),
        reason,
    };
    let (scheme, rest) = url.split_once("://").ok_or(bad("not an absolute URL"))?;
    if url.contains('#') {
        return Err(bad("a fragment is not allowed"));
    }
    if url
        .bytes()
        .any(|b| b <= b' ' || b == b'"' || b == b'\\' || b >= 0x7f)
    {
        return Err(bad(
            "spaces, quotes, backslashes and non-ASCII must be percent-encoded",
        ));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("expected scheme://host[:port]/path without user info"));
    }
    let host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    match scheme {
        "https" => Ok(()),
        "http" if !remote || is_loopback_host(host) => Ok(()),
        "http" => Err(bad(
            "authorization server URLs must use https (http only for loopback)",
        )),
        _ => Err(bad("the scheme must be https")),
    }
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration, max_bytes: usize) -> Result<Fetcher, OAuthError> {
        // reqwest is built without a default TLS provider: use ring unless the application
        // installed one (a second install is refused, which is fine).
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcp-sse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OAuthError::Client(e.to_string()))?;
        Ok(Fetcher { client, max_bytes })
    }

    async fn read(&self, resp: reqwest::Response) -> Result<Value, FetchError> {
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let mut resp = resp;
        let mut buf = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Http(e.without_url().to_string()))?
        {
            if buf.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            buf.extend_from_slice(&chunk);
        }
        match serde_json::from_slice::<Value>(&buf) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(FetchError::NotJson),
        }
    }

    /// `GET url`, expecting a JSON object.
    pub(crate) async fn get_json(&self, url: &str) -> Result<Value, FetchError> {
        let resp = self
            .client
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| FetchError::Http(e.without_url().to_string()))?;
        self.read(resp).await
    }

    /// `POST url` with a form body, optionally with HTTP Basic client authentication.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, Option<&str>)>,
    ) -> Result<Value, FetchError> {
        let mut req = self
            .client
            .post(url)
            .header(http::header::ACCEPT, "application/json")
            .form(form);
        if let Some((user, password)) = basic {
            // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic.
            req = req.basic_auth(form_encode(user), password.map(form_encode));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| FetchError::Http(e.without_url().to_string()))?;
        self.read(resp).await
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The metadata URLs to try for `issuer`, in the order the MCP specification gives: RFC 8414
/// with path insertion, OpenID Connect with path insertion, OpenID Connect appended.
pub(crate) fn discovery_urls(issuer: &str) -> Vec<String> {
    let issuer = issuer.trim_end_matches('/');
    let Some((origin, path)) = super::metadata::split_url(issuer) else {
        return Vec::new();
    };
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{issuer}/.well-known/openid-configuration"),
        ]
    }
}

/// Fetches the authorization server's metadata; its `issuer` must be exactly `issuer`
/// (RFC 8414 §3.3).
pub(crate) async fn issuer_metadata(
    fetcher: &Fetcher,
    issuer: &str,
) -> Result<serde_json::Map<String, Value>, FetchError> {
    let mut last = FetchError::Status(404);
    for url in discovery_urls(issuer) {
        match fetcher.get_json(&url).await {
            Ok(Value::Object(m)) => {
                if m.get("issuer").and_then(Value::as_str) == Some(issuer) {
                    return Ok(m);
                }
                tracing::warn!(target: "mcp::oauth", %url, "authorization server metadata names another issuer; ignored");
                last = FetchError::NotJson;
            }
            Ok(_) => last = FetchError::NotJson,
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("x", "https://login.example.com/t1", true).is_ok());
        assert!(check_url("x", "http://127.0.0.1:9/t1", true).is_ok());
        assert!(check_url("x", "http://[::1]:9", true).is_ok());
        assert!(check_url("x", "http://localhost", true).is_ok());
        assert!(check_url("x", "http://login.example.com", true).is_err());
        assert!(check_url("x", "http://mcp.example.com/mcp", false).is_ok());
        assert!(check_url("x", "ftp://x", false).is_err());
        assert!(check_url("x", "https://a@b", true).is_err());
        assert!(check_url("x", "https://b/#x", true).is_err());
        assert!(check_url("x", "/relative", true).is_err());
        assert_eq!(form_encode("a b:c%é"), "a+b%3Ac%25%C3%A9");
        assert_eq!(
            discovery_urls("https://auth.example.com/tenant1"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            discovery_urls("https://auth.example.com/"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }
}
