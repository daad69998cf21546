//! The OpenAPI 3.0 description of the API, generated from the route definitions
//! (`utoipa` attributes next to each handler) and served at `/api/swagger.json` and
//! `/api/.well-known/management.openapi.json`. Built on the first request for it
//! (`state::OpenApiDocument`), not at start: an idle process does not hold it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kido_proto::ErrorBody;
use serde_json::json;
use utoipa::{IntoParams, IntoResponses, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kido Management API", description = "Management API of Kido, wire-compatible with Logto's. \
        Authenticate with a bearer token from `POST /oidc/token` (client_credentials, \
        resource `https://default.logto.app/api`, scope `all`)."),
    tags(
        (name = "Applications", description = "OIDC clients: apps that sign users in and machine-to-machine apps."),
        (name = "Resources", description = "API resources (RFC 8707 resource indicators) and their scopes."),
        (name = "Roles", description = "Global roles bundling API-resource scopes."),
        (name = "Users", description = "Users: identifiers, profile, password, suspension, roles."),
        (name = "Audit logs", description = "What happened, when, to whom."),
        (name = "Sign-in experience", description = "Sign-in and sign-up methods, branding, password policy."),
        (name = "Status", description = "Service health."),
        (name = "OpenAPI", description = "This document."),
    )
)]
pub struct ApiDoc;

/// The error answers every Management API operation may give.
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(IntoResponses)]
pub enum ErrorResponses {
    /// The input is invalid (`guard.invalid_input`, `guard.invalid_pagination`, …).
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// No valid bearer token (`auth.authorization_header_missing`, `auth.unauthorized`, …).
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorBody),
    /// The token lacks the `all` scope (`auth.forbidden`).
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorBody),
    /// An entity does not exist (`entity.not_exists_with_id`, `entity.not_found`).
    #[response(status = 404)]
    NotFound(#[to_schema] ErrorBody),
    /// The request conflicts with the current state (name in use, already assigned, …).
    #[response(status = 422)]
    Unprocessable(#[to_schema] ErrorBody),
}

/// What sending a message can add: too many messages, no connector to send with.
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoResponses)]
pub enum DeliveryErrorResponses {
    /// Too many messages to this recipient (`request.message_rate_limited`).
    #[response(status = 429)]
    TooManyRequests(#[to_schema] ErrorBody),
    /// No email or SMS connector is configured (`connector.not_found`).
    #[response(status = 501)]
    NotImplemented(#[to_schema] ErrorBody),
}

/// A name that must be unique is taken (`single_sign_on.duplicate_connector_name`).
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoResponses)]
pub enum ConflictResponse {
    /// The name is already in use.
    #[response(status = 409)]
    Conflict(#[to_schema] ErrorBody),
}

/// `page` and `page_size` (documentation of the list routes).
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, starting at 1.
    #[param(minimum = 1)]
    page: Option<i64>,
    /// Entries per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<i64>,
}

/// Case-insensitive substring search.
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Text to look for (`%` wildcards are accepted and ignored).
    search: Option<String>,
}

/// Rewrites utoipa's 3.1 into OpenAPI 3.0 (`openapi_v30.rs`), adds the OAuth2
/// client-credentials security scheme, required by default, and serializes the document
/// (built once, on its first request, and served as bytes from then on).
pub fn finish(doc: utoipa::openapi::OpenApi) -> String {
    let mut value = serde_json::to_value(&doc).unwrap_or_else(|_| json!({}));
    crate::openapi_v30::downgrade(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.remove("servers");
        obj.insert("security".into(), json!([{"OAuth2": ["all"]}]));
        let components = obj.entry("components").or_insert_with(|| json!({}));
        if let Some(c) = components.as_object_mut() {
            c.insert(
                "securitySchemes".into(),
                json!({"OAuth2": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "/oidc/token", "scopes": {"all": "Full access to the Management API."}}}}}),
            );
        }
    }
    value.to_string()
}

/// Serves the document with `servers` set to the origin the request came to.
#[utoipa::path(get, path = "/api/swagger.json", operation_id = "GetSwaggerJson", tag = "OpenAPI", security(()),
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json")))]
pub async fn swagger_json(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(document) = app.openapi.get().await else {
        return crate::errors::ApiError::internal(&"building the OpenAPI document failed").into_response();
    };
    let origin = request_origin(&headers).unwrap_or_else(|| app.tenant.origin.clone());
    let servers = json!([{"url": origin}]);
    // The stored document is an object without `servers`: put the member first.
    let rest = document.strip_prefix('{').unwrap_or_default();
    let separator = if rest.starts_with('}') { "" } else { "," };
    let body = format!("{{\"servers\":{servers}{separator}{rest}");
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The same document under Logto's well-known path.
#[utoipa::path(get, path = "/api/.well-known/management.openapi.json", operation_id = "GetWellKnownManagementOpenapiJson",
    tag = "OpenAPI", security(()), responses((status = 200, description = "The OpenAPI document.", content_type = "application/json")))]
pub async fn management_openapi_json(state: State<AppState>, headers: HeaderMap) -> Response {
    swagger_json(state, headers).await
}

fn request_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    let valid =
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    let proto =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    valid.then(|| format!("{proto}://{host}"))
}
