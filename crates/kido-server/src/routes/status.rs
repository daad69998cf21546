//! `GET /api/status`: liveness, no authentication.

use axum::http::StatusCode;

/// Answers 204 when the server is up.
#[utoipa::path(get, path = "/api/status", operation_id = "GetStatus", tag = "Status", security(()),
    responses((status = 204, description = "The server is running.")))]
pub async fn status() -> StatusCode {
    StatusCode::NO_CONTENT
}
