//! The test authorization server as a program, for the real-client interop tests: prints its
//! issuer URL on the first line of stdout, then serves metadata, JWKS, introspection and
//! `GET /token?aud=<resource>&scope=<scopes>` (mints a signed access token) until killed.
//!
//! ```text
//! mcp-test-issuer [PORT]      # default: any free port on 127.0.0.1
//! ```

use std::io::Write;

#[tokio::main]
async fn main() {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let issuer = mcp_tests::issuer::TestIssuer::start(port).await;
    println!("{}", issuer.url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
}
