//! `GET /health`: liveness without secrets or session ids.

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::body::ResponseBody;
use crate::error::json;
use crate::server::App;

/// `{"status":"ok","server":{..},"sessions":N}`.
pub(crate) fn health(app: &App) -> Response<ResponseBody> {
    let body = serde_json::json!({
        "status": "ok",
        "server": { "name": app.server.info().name, "version": app.server.info().version },
        "sessions": app.sessions.len(),
    });
    json(StatusCode::OK, Bytes::from(body.to_string()))
}
