//! The answers to requests whose credentials fall short, with the `WWW-Authenticate: Bearer`
//! challenge of RFC 6750 §3 that points the client at the protected-resource metadata.

use http::{HeaderValue, StatusCode, header};

/// Why a request's credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// No bearer token: 401 without an error code.
    Missing,
    /// The token is not valid (malformed, bad signature, expired, wrong issuer or audience,
    /// unknown key, inactive): 401 `invalid_token`.
    InvalidToken(&'static str),
    /// The request carries credentials in a way the server does not accept (query string, two
    /// `Authorization` headers): 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// The token is valid but lacks scopes: 403 `insufficient_scope` naming all of them.
    InsufficientScope {
        /// Every scope the operation needs.
        scopes: Vec<String>,
        /// A short reason.
        description: &'static str,
    },
    /// The authorization server could not be reached to check the token: 503.
    Unavailable,
}

impl Challenge {
    pub(crate) fn invalid_token(description: &'static str) -> Challenge {
        Challenge::InvalidToken(description)
    }

    /// The HTTP status of the answer.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Challenge::Missing | Challenge::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Challenge::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Challenge::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Challenge::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message of the plain-text body.
    pub(crate) fn message(&self) -> String {
        match self {
            Challenge::Missing => {
                "missing bearer token: send Authorization: Bearer <access token> (the authorization server is named by the resource metadata)".into()
            }
            Challenge::InvalidToken(d) => format!("invalid access token: {d}"),
            Challenge::InvalidRequest(d) => format!("malformed authorization: {d}"),
            Challenge::InsufficientScope {
                scopes,
                description,
            } => format!("{description}; needed scopes: {}", scopes.join(" ")),
            Challenge::Unavailable => {
                "the authorization server could not be reached to check the token; try again later"
                    .into()
            }
        }
    }

    /// The `WWW-Authenticate` value; `default_scopes` is announced when the challenge names
    /// none of its own.
    pub(crate) fn header(&self, metadata_url: &str, default_scopes: &[String]) -> HeaderValue {
        let mut v = String::from("Bearer ");
        let (error, description, scopes): (Option<&str>, Option<&str>, &[String]) = match self {
            Challenge::Missing | Challenge::Unavailable => (None, None, default_scopes),
            Challenge::InvalidToken(d) => (Some("invalid_token"), Some(d), default_scopes),
            Challenge::InvalidRequest(d) => (Some("invalid_request"), Some(d), default_scopes),
            Challenge::InsufficientScope {
                scopes,
                description,
            } => (Some("insufficient_scope"), Some(description), scopes),
        };
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(e) = error {
            params.push(("error", e.to_owned()));
        }
        if let Some(d) = description {
            params.push(("error_description", d.to_owned()));
        }
        if !scopes.is_empty() {
            params.push(("scope", scopes.join(" ")));
        }
        params.push(("resource_metadata", metadata_url.to_owned()));
        for (i, (k, val)) in params.iter().enumerate() {
            if i > 0 {
                v.push_str(", ");
            }
            v.push_str(k);
            v.push_str("=\"");
            // Values are ours (static descriptions, validated scopes, a checked URL); quote
            // and backslash are escaped all the same.
            for c in val.chars() {
                if c == '"' || c == '\\' {
                    v.push('\\');
                }
                v.push(c);
            }
            v.push('"');
        }
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }

    /// The complete answer.
    pub(crate) fn response(
        &self,
        metadata_url: &str,
        default_scopes: &[String],
    ) -> http::Response<crate::response::Body> {
        let mut r = crate::response::text(self.status(), &self.message());
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            self.header(metadata_url, default_scopes),
        );
        if matches!(self, Challenge::Unavailable) {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn challenge_headers() {
        let scopes = vec!["mcp".to_owned()];
        assert_eq!(
            Challenge::Missing.header(URL, &scopes),
            format!("Bearer scope=\"mcp\", resource_metadata=\"{URL}\"")
        );
        assert_eq!(
            Challenge::Missing.header(URL, &[]),
            format!("Bearer resource_metadata=\"{URL}\"")
        );
        assert_eq!(
            Challenge::invalid_token("the token has expired").header(URL, &[]),
            format!(
                "Bearer error=\"invalid_token\", error_description=\"the token has expired\", resource_metadata=\"{URL}\""
            )
        );
        let c = Challenge::InsufficientScope {
            scopes: vec!["files:read".into(), "files:write".into()],
            description: "more",
        };
        assert_eq!(c.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            c.header(URL, &scopes),
            format!(
                "Bearer error=\"insufficient_scope\", error_description=\"more\", scope=\"files:read files:write\", resource_metadata=\"{URL}\""
            )
        );
        assert_eq!(
            Challenge::InvalidRequest("x").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
