//! The one place where domain errors become HTTP: status + Logto's `{code, message, data?}`
//! for `/api`, RFC 6749 `{error, error_description}` (plus Logto's `code`/`message`) for
//! the OAuth endpoints. One file per feature maps that feature's domain errors.

mod account;
mod applications;
mod connectors;
mod experience;
mod mfa;
mod oauth;
mod one_time_tokens;
mod organizations;
mod resources;
mod roles;
mod sign_in_experience;
mod sso_connectors;
mod user_sessions;
mod users;

pub use oauth::OAuthError;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kido_core::storage::StorageError;
use kido_proto::ErrorBody;
use serde_json::Value;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub data: Option<Value>,
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (429 and 503 answers).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), data: None, details: None, retry_after: None }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// 400 `guard.invalid_input` for a request part (`body`, `query`, `params`).
    pub fn invalid_input(part: &str, details: impl Into<String>) -> Self {
        let details = details.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "guard.invalid_input",
            message: format!("The request {part} is invalid."),
            data: None,
            details: Some(Value::String(details)),
            retry_after: None,
        }
    }

    /// 404 `entity.not_exists_with_id` (Logto's answer for a missing id).
    pub fn not_exists_with_id(entity: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "entity.not_exists_with_id",
            format!("The {entity} with ID `{id}` does not exist."),
        )
    }

    /// 404 `entity.not_found` (Logto's answer when a relation or child row is missing).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "entity.not_found", "The resource does not exist.")
    }

    /// 404 `guard.route_not_found`: no route for the path.
    pub fn route_not_found(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "guard.route_not_found", format!("No route matches `{path}`."))
    }

    pub fn internal(what: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_error",
            "Internal server error. It has been logged; please try again.",
        )
    }
}

impl ApiError {
    /// 503 `storage.full`: the database's disk is full; nothing is wrong with the request.
    pub fn storage_full(what: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %what, "the database's disk is full: free disk space");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage.full", kido_core::STORAGE_FULL_MESSAGE)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { code: self.code.to_owned(), message: self.message, data: self.data, details: self.details };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub(super) fn store_error(e: impl Into<StorageError>) -> ApiError {
    match e.into() {
        StorageError::Conflict(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity.unique_integrity_violation",
            "The entity already exists. Please check the input and try again.",
        ),
        StorageError::MissingReference(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity.relation_foreign_key_not_found",
            "Cannot find one or more foreign keys. Please check the input and ensure that all referenced entities exist.",
        ),
        StorageError::Full(what) => ApiError::storage_full(&what),
        other => ApiError::internal(&other),
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        store_error(e)
    }
}

pub(super) const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
pub(super) const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
