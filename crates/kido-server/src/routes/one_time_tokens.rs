//! `/api/one-time-tokens`: Logto's one-time tokens (magic links) for an email address.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::one_time_tokens::{
    CreateOneTimeToken, OneTimeToken, OneTimeTokenStatus, OneTimeTokenStatusBody, VerifyOneTimeToken,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams};
use crate::pagination::{Listing, Pagination};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_one_time_tokens, add_one_time_tokens))
        .routes(routes!(get_one_time_token, delete_one_time_token))
        .routes(routes!(verify_one_time_token))
        .routes(routes!(replace_one_time_token_status))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenListParams {
    /// Only the tokens issued for this email address (case-insensitive).
    email: Option<String>,
    /// Only the tokens in this status (an active token past its expiry is `expired`).
    status: Option<OneTimeTokenStatus>,
}

/// List one-time tokens, newest first, without their values. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/one-time-tokens", operation_id = "ListOneTimeTokens", tag = "One-time tokens",
    params(TokenListParams, PageParams),
    responses((status = 200, body = [OneTimeToken], description = "One-time tokens."), ErrorResponses))]
async fn list_one_time_tokens(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let q = &listing.query;
    if q.all("email").count() > 1 || q.all("status").count() > 1 {
        return Err(ApiError::invalid_input("query", "`email` and `status` may be given once each"));
    }
    let email = q.text("email");
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(OneTimeTokenStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_input("query", "`status` must be one of active, consumed, revoked, expired")
        })?),
    };
    let (items, total) = app
        .core
        .one_time_tokens()
        .list(app.tenant.id(), email.as_deref(), status, pagination.map(Pagination::to_page))
        .await?;
    Ok(listing.respond(pagination, items, total))
}

/// Issue a one-time token for an email address (`expiresIn` seconds, default 600). The
/// answer holds the token; nothing else ever shows it again.
#[utoipa::path(post, path = "/api/one-time-tokens", operation_id = "AddOneTimeTokens", tag = "One-time tokens",
    request_body = CreateOneTimeToken,
    responses((status = 201, body = OneTimeToken, description = "The new token, with its value."), ErrorResponses))]
async fn add_one_time_tokens(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateOneTimeToken>,
) -> Result<Response, ApiError> {
    let token = app.core.one_time_tokens().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(token)).into_response())
}

/// Get a one-time token (without its value).
#[utoipa::path(get, path = "/api/one-time-tokens/{id}", operation_id = "GetOneTimeToken", tag = "One-time tokens",
    params(("id" = String, Path, description = "One-time token id.")),
    responses((status = 200, body = OneTimeToken, description = "The token."), ErrorResponses))]
async fn get_one_time_token(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OneTimeToken>, ApiError> {
    Ok(axum::Json(app.core.one_time_tokens().get(app.tenant.id(), &id).await?))
}

/// Delete a one-time token.
#[utoipa::path(delete, path = "/api/one-time-tokens/{id}", operation_id = "DeleteOneTimeToken", tag = "One-time tokens",
    params(("id" = String, Path, description = "One-time token id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_one_time_token(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.one_time_tokens().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Spend the token issued for `email`: it becomes `consumed`, once (a second verification
/// answers `one_time_token.token_consumed`).
#[utoipa::path(post, path = "/api/one-time-tokens/verify", operation_id = "VerifyOneTimeToken", tag = "One-time tokens",
    request_body = VerifyOneTimeToken,
    responses((status = 200, body = OneTimeToken, description = "The spent token."), ErrorResponses))]
async fn verify_one_time_token(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<VerifyOneTimeToken>,
) -> Result<axum::Json<OneTimeToken>, ApiError> {
    Ok(axum::Json(app.core.one_time_tokens().verify(app.tenant.id(), &body.token, &body.email).await?))
}

/// Set a token's status (`revoked`, `consumed`, `expired`); a token is never made `active` again.
#[utoipa::path(put, path = "/api/one-time-tokens/{id}/status", operation_id = "ReplaceOneTimeTokenStatus", tag = "One-time tokens",
    params(("id" = String, Path, description = "One-time token id.")), request_body = OneTimeTokenStatusBody,
    responses((status = 200, body = OneTimeToken, description = "The updated token."), ErrorResponses))]
async fn replace_one_time_token_status(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<OneTimeTokenStatusBody>,
) -> Result<axum::Json<OneTimeToken>, ApiError> {
    Ok(axum::Json(app.core.one_time_tokens().set_status(app.tenant.id(), &id, body.status).await?))
}
