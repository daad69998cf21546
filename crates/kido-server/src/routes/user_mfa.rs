//! `/api/users/{userId}/mfa-verifications`: an administrator lists, binds and unbinds a
//! user's second factors.

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::UserId;
use kido_proto::mfa::{
    CreateUserMfaVerification, CreatedUserMfaVerification, UpdateUserLogtoConfig, UserLogtoConfig, UserMfaVerification,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_user_mfa_verifications, create_user_mfa_verification))
        .routes(routes!(delete_user_mfa_verification))
        .routes(routes!(get_user_logto_config, update_user_logto_config))
}

/// List a user's MFA verifications (never their secrets or codes).
#[utoipa::path(get, path = "/api/users/{userId}/mfa-verifications", operation_id = "ListUserMfaVerifications",
    tag = "Users", params(("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = [UserMfaVerification], description = "The user's MFA verifications, oldest first."), ErrorResponses))]
async fn list_user_mfa_verifications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
) -> Result<axum::Json<Vec<UserMfaVerification>>, ApiError> {
    Ok(axum::Json(app.core.mfa().list(app.tenant.id(), &user).await?))
}

/// Bind a TOTP secret or a backup-code set for a user; the secret or codes are shown this once.
#[utoipa::path(post, path = "/api/users/{userId}/mfa-verifications", operation_id = "CreateUserMfaVerification",
    tag = "Users", params(("userId" = String, Path, description = "User id.")), request_body = CreateUserMfaVerification,
    responses((status = 200, body = CreatedUserMfaVerification, description = "The bound factor's secret or codes."), ErrorResponses))]
async fn create_user_mfa_verification(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<CreateUserMfaVerification>,
) -> Result<axum::Json<CreatedUserMfaVerification>, ApiError> {
    let issuer = kido_core::mfa::authenticator_issuer(&app.tenant.origin);
    Ok(axum::Json(app.core.mfa().create(app.tenant.id(), &user, &issuer, body).await?))
}

/// Remove one of a user's MFA verifications.
#[utoipa::path(delete, path = "/api/users/{userId}/mfa-verifications/{verificationId}",
    operation_id = "DeleteUserMfaVerification", tag = "Users",
    params(("userId" = String, Path, description = "User id."), ("verificationId" = String, Path, description = "Verification id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_user_mfa_verification(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, verification)): ApiPath<(UserId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.mfa().delete(app.tenant.id(), &user, &verification).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the user chose about second factors: MFA skipped, skip MFA on sign-in, passkey
/// sign-in skipped.
#[utoipa::path(get, path = "/api/users/{userId}/logto-configs", operation_id = "ListUserLogtoConfigs",
    tag = "Users", params(("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = UserLogtoConfig, description = "The user's second-factor choices."), ErrorResponses))]
async fn get_user_logto_config(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
) -> Result<axum::Json<UserLogtoConfig>, ApiError> {
    Ok(axum::Json(app.core.mfa().logto_config(app.tenant.id(), &user).await?))
}

/// Change the given fields of the user's second-factor choices (e.g. `{"mfa": {"skipped": false}}`
/// asks them to set up MFA again at their next sign-in).
#[utoipa::path(patch, path = "/api/users/{userId}/logto-configs", operation_id = "UpdateUserLogtoConfigs",
    tag = "Users", params(("userId" = String, Path, description = "User id.")), request_body = Option<UpdateUserLogtoConfig>,
    responses((status = 200, body = UserLogtoConfig, description = "The user's second-factor choices."), ErrorResponses))]
async fn update_user_logto_config(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<UpdateUserLogtoConfig>,
) -> Result<axum::Json<UserLogtoConfig>, ApiError> {
    Ok(axum::Json(app.core.mfa().update_logto_config(app.tenant.id(), &user, body).await?))
}
