//! `GET /api/status` (liveness) and `GET /api/status/ready` (readiness), no authentication.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::errors::ApiError;
use crate::state::AppState;

const STATUS_API_KEY: HeaderName = HeaderName::from_static("logto-status-api-key");
const TENANT_ID: HeaderName = HeaderName::from_static("logto-tenant-id");

/// Answers 204 when the server is up; with the operator's `STATUS_API_KEY` in
/// `logto-status-api-key`, also names the tenant in `logto-tenant-id` (as Logto).
#[utoipa::path(get, path = "/api/status", operation_id = "GetStatus", tag = "Status", security(()),
    params(("logto-status-api-key" = Option<String>, Header, description = "The server's STATUS_API_KEY.")),
    responses((status = 204, description = "The server is running.")))]
pub async fn status(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let presented = headers.get(&STATUS_API_KEY).map(HeaderValue::as_bytes);
    let knows_key = match (&app.tenant.status_api_key, presented) {
        (Some(key), Some(presented)) => bool::from(key.as_bytes().ct_eq(presented)),
        _ => false,
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    if knows_key && let Ok(tenant) = HeaderValue::from_str(app.tenant.id().as_str()) {
        response.headers_mut().insert(TENANT_ID, tenant);
    }
    response
}

/// Answers 204 when this node can serve requests: the database answers a cheap query within
/// `READINESS_TIMEOUT` and has every migration this build needs; 503 otherwise (a load
/// balancer then sends traffic elsewhere; `/api/status` still says the process is alive).
#[utoipa::path(get, path = "/api/status/ready", operation_id = "GetReadiness", tag = "Status", security(()),
    responses(
        (status = 204, description = "The server is ready: its database answers and is migrated."),
        (status = 503, description = "The database cannot be reached, answers too slowly, or lacks migrations."),
    ))]
pub async fn ready(State(app): State<AppState>) -> Response {
    match app.core.readiness().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(why) => {
            tracing::warn!(reason = %why, "not ready");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "status.not_ready", format!("Not ready: {why}."))
                .into_response()
        }
    }
}
