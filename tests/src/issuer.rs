//! A test authorization server on loopback: its metadata (RFC 8414), its key set (JWKS) and
//! token introspection (RFC 7662), with keys committed in `tests/keys/` (test-only keys,
//! generated for this repository and used nowhere else). Tests sign their own tokens with
//! [`TestIssuer::sign`]; the `mcp-test-issuer` binary also mints them over HTTP for the
//! real-client interop tests.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The client the introspection endpoint accepts (HTTP Basic).
pub const INTROSPECTION_CLIENT: (&str, &str) = ("mcp-resource", "introspection-secret");

/// One signing key of the issuer.
pub struct SigningKey {
    /// Its `kid`.
    pub kid: &'static str,
    /// Its algorithm.
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// Its public key, PEM (for forging HMAC tokens with it).
    pub public_pem: &'static [u8],
    jwk: Value,
}

impl SigningKey {
    fn new(kid: &'static str, alg: Algorithm, private: &[u8], public_pem: &'static [u8]) -> Self {
        let encoding = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(private),
            _ => EncodingKey::from_rsa_pem(private),
        }
        .expect("test key");
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("jwk");
        jwk.common.key_id = Some(kid.to_owned());
        let mut jwk = serde_json::to_value(jwk).expect("jwk json");
        jwk["use"] = "sig".into();
        SigningKey {
            kid,
            alg,
            encoding,
            public_pem,
            jwk,
        }
    }
}

struct State {
    issuer: String,
    keys: Vec<SigningKey>,
    published: Mutex<Vec<&'static str>>,
    opaque: Mutex<HashMap<String, Value>>,
    jwks_fetches: AtomicUsize,
    introspections: AtomicUsize,
}

/// A running test issuer; stops when dropped.
pub struct TestIssuer {
    state: Arc<State>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TestIssuer {
    /// Starts an issuer on `127.0.0.1:port` (0: any free port) publishing keys `rsa1` and `ec1`.
    pub async fn start(port: u16) -> TestIssuer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let keys = vec![
            SigningKey::new(
                "rsa1",
                Algorithm::RS256,
                include_bytes!("../keys/rsa1.pem"),
                include_bytes!("../keys/rsa1.pub.pem"),
            ),
            SigningKey::new(
                "rsa2",
                Algorithm::RS256,
                include_bytes!("../keys/rsa2.pem"),
                include_bytes!("../keys/rsa2.pub.pem"),
            ),
            SigningKey::new(
                "ec1",
                Algorithm::ES256,
                include_bytes!("../keys/ec1.pem"),
                include_bytes!("../keys/ec1.pub.pem"),
            ),
        ];
        let state = Arc::new(State {
            issuer: format!("http://{addr}"),
            keys,
            published: Mutex::new(vec!["rsa1", "ec1"]),
            opaque: Mutex::new(HashMap::new()),
            jwks_fetches: AtomicUsize::new(0),
            introspections: AtomicUsize::new(0),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(serve(&st, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        TestIssuer { state, addr, task }
    }

    /// The issuer identifier, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.state.issuer
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Publishes exactly these keys in the JWKS (key rotation).
    pub fn publish(&self, kids: &[&'static str]) {
        *self.state.published.lock().unwrap() = kids.to_vec();
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many introspection requests were answered.
    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// Makes the introspection endpoint answer `response` for the opaque `token`.
    pub fn add_opaque(&self, token: &str, response: Value) {
        self.state
            .opaque
            .lock()
            .unwrap()
            .insert(token.to_owned(), response);
    }

    /// The key `kid`.
    pub fn key(&self, kid: &str) -> &SigningKey {
        self.state.keys.iter().find(|k| k.kid == kid).expect("kid")
    }

    /// Valid claims for `audience`: this issuer, subject `sub`, `scope`, valid for 5 minutes.
    pub fn claims(&self, audience: &str, sub: &str, scope: &str) -> Value {
        json!({
            "iss": self.state.issuer,
            "sub": sub,
            "aud": audience,
            "scope": scope,
            "iat": now(),
            "exp": now() + 300,
            "client_id": "test-client",
        })
    }

    /// A JWT with `claims`, signed with key `kid`.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let key = self.key(kid);
        let mut header = Header::new(key.alg);
        header.kid = Some(kid.to_owned());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("sign")
    }

    /// A JWT with `claims` and header `alg: none` (no signature).
    pub fn unsigned(&self, claims: &Value) -> String {
        let header = json!({"alg": "none", "typ": "JWT", "kid": "rsa1"});
        format!(
            "{}.{}.",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    /// A JWT with `claims` "signed" with HS256 using the public key of `kid` as the secret
    /// (the algorithm-confusion attack).
    pub fn hmac_with_public_key(&self, kid: &str, claims: &Value) -> String {
        let key = self.key(kid);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let secret = EncodingKey::from_secret(key.public_pem).expect("hmac key");
        jsonwebtoken::encode(&header, claims, &secret).expect("sign")
    }

    /// `token` with its payload replaced by `claims` and the original signature kept.
    pub fn tampered(&self, token: &str, claims: &Value) -> String {
        let mut parts = token.split('.');
        let header = parts.next().unwrap_or("");
        let _ = parts.next();
        let sig = parts.next().unwrap_or("");
        format!("{header}.{}.{sig}", b64(claims.to_string().as_bytes()))
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve(st: &State, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/.well-known/oauth-authorization-server") => json_response(
            StatusCode::OK,
            &json!({
                "issuer": st.issuer,
                "authorization_endpoint": format!("{}/authorize", st.issuer),
                "token_endpoint": format!("{}/token", st.issuer),
                "jwks_uri": format!("{}/jwks", st.issuer),
                "introspection_endpoint": format!("{}/introspect", st.issuer),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
            }),
        ),
        ("GET", "/jwks") => {
            st.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            let published = st.published.lock().unwrap().clone();
            let keys: Vec<Value> = st
                .keys
                .iter()
                .filter(|k| published.contains(&k.kid))
                .map(|k| k.jwk.clone())
                .collect();
            json_response(StatusCode::OK, &json!({ "keys": keys }))
        }
        ("POST", "/introspect") => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    INTROSPECTION_CLIENT.0, INTROSPECTION_CLIENT.1
                ))
            );
            let authorized = req
                .headers()
                .get(hyper::header::AUTHORIZATION)
                .is_some_and(|v| v.as_bytes() == expected.as_bytes());
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
            if !authorized {
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"error": "invalid_client"}),
                );
            }
            st.introspections.fetch_add(1, Ordering::SeqCst);
            let token = form_value(&body, "token").unwrap_or_default();
            let answer = st
                .opaque
                .lock()
                .unwrap()
                .get(&token)
                .cloned()
                .unwrap_or_else(|| json!({"active": false}));
            json_response(StatusCode::OK, &answer)
        }
        // Mints a token for the interop tests: `/token?aud=...&scope=...&sub=...` (a test
        // convenience, not an OAuth endpoint).
        ("GET", "/token") => {
            let aud = form_value(&query, "aud").unwrap_or_default();
            let scope = form_value(&query, "scope").unwrap_or_default();
            let sub = form_value(&query, "sub").unwrap_or_else(|| "interop-user".into());
            let claims = json!({
                "iss": st.issuer, "sub": sub, "aud": aud, "scope": scope,
                "iat": now(), "exp": now() + 600,
            });
            let key = &st.keys[0];
            let mut header = Header::new(key.alg);
            header.kid = Some(key.kid.to_owned());
            let token = jsonwebtoken::encode(&header, &claims, &key.encoding).expect("sign");
            json_response(
                StatusCode::OK,
                &json!({"access_token": token, "token_type": "Bearer"}),
            )
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}
