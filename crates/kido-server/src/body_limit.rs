//! One limit on request bodies for every route, answered with 413 in Kido's JSON error
//! format: hosted forms, OAuth endpoints and the Experience API take small bodies; the
//! Management API takes larger JSON documents (custom data, sign-in experience branding).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use kido_proto::oauth::OAuthErrorBody;

use crate::errors::ApiError;

/// Hosted pages' forms, `/oidc/*` and the Experience API.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;
/// Management API JSON bodies (`/api/*` outside `/api/experience`).
pub const MANAGEMENT_API_BODY_LIMIT: usize = 1024 * 1024;

fn limit_for(path: &str) -> usize {
    if path.starts_with("/api/") && !path.starts_with("/api/experience") {
        MANAGEMENT_API_BODY_LIMIT
    } else {
        FORM_BODY_LIMIT
    }
}

/// 413 for `path`: the OAuth error shape under `/oidc`, Logto's `{code, message}` elsewhere.
pub fn too_large(path: &str) -> Response {
    let limit = limit_for(path);
    let message = format!("The request body is too large (at most {limit} bytes).");
    if path.starts_with("/oidc") {
        let body = OAuthErrorBody {
            error: "invalid_request".into(),
            error_description: message.clone(),
            code: "oidc.invalid_request".into(),
            message,
        };
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    }
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request.entity_too_large", message).into_response()
}

/// Refuses a declared length over the limit before reading anything; caps the bytes read of
/// a body without one (chunked), and gives any 413 the JSON shape.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let limit = limit_for(&path);
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(&path);
    }
    let request = request.map(|body| Body::new(Limited::new(body, limit)));
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json { too_large(&path) } else { response }
}
