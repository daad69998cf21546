//! `/api/my-account`: the signed-in user's profile, password, primary email and phone, MFA
//! choices. The second factors are in `my_account_mfa.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::account::{
    AccountMfaSettings, AccountProfile, NewAccountPassword, SetPrimaryEmail, SetPrimaryPhone, UpdateAccount,
};
use kido_proto::mfa::{UpdateUserLogtoConfig, UserLogtoConfig};
use kido_proto::users::UserProfile;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{AccountAuth, ApiJson};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, update_profile))
        .routes(routes!(update_other_profile))
        .routes(routes!(update_password))
        .routes(routes!(update_primary_email, delete_primary_email))
        .routes(routes!(update_primary_phone, delete_primary_phone))
        .routes(routes!(get_mfa_settings, update_mfa_settings))
        .routes(routes!(get_logto_config, update_logto_config))
}

/// Get the user's profile: the fields the token's scopes grant and the account center shows.
#[utoipa::path(get, path = "/api/my-account", operation_id = "GetProfile", tag = "My account",
    responses((status = 200, body = AccountProfile, description = "The profile."), ErrorResponses))]
async fn get_profile(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<AccountProfile>, ApiError> {
    Ok(axum::Json(app.core.account().profile(&caller).await?))
}

/// Update name, avatar, username (needs `logto-verification-id`) or custom data.
#[utoipa::path(patch, path = "/api/my-account", operation_id = "UpdateProfile", tag = "My account",
    request_body = UpdateAccount,
    responses((status = 200, body = AccountProfile, description = "The updated profile."), ErrorResponses))]
async fn update_profile(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<UpdateAccount>,
) -> Result<axum::Json<AccountProfile>, ApiError> {
    Ok(axum::Json(app.core.account().update_account(&app.tenant.context, &caller, body).await?))
}

/// Update the user's profile claims (merged into the stored ones).
#[utoipa::path(patch, path = "/api/my-account/profile", operation_id = "UpdateOtherProfile", tag = "My account",
    request_body = UserProfile,
    responses((status = 200, body = UserProfile, description = "The updated profile claims."), ErrorResponses))]
async fn update_other_profile(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<UserProfile>,
) -> Result<axum::Json<UserProfile>, ApiError> {
    Ok(axum::Json(app.core.account().update_profile(&app.tenant.context, &caller, body).await?))
}

/// Set a new password (needs `logto-verification-id`, except a first password for a user
/// with no password, email or phone).
#[utoipa::path(post, path = "/api/my-account/password", operation_id = "UpdatePassword", tag = "My account",
    request_body = NewAccountPassword,
    responses((status = 204, description = "The password was changed."), ErrorResponses))]
async fn update_password(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<NewAccountPassword>,
) -> Result<StatusCode, ApiError> {
    if body.password.is_empty() || body.password.len() > 256 {
        return Err(ApiError::invalid_input("body", "`password` must be 1 to 256 characters"));
    }
    app.core.account().set_password(&app.tenant.context, &caller, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the primary email to an address verified by a code record (`BindNewIdentifier`).
#[utoipa::path(post, path = "/api/my-account/primary-email", operation_id = "UpdatePrimaryEmail", tag = "My account",
    request_body = SetPrimaryEmail, responses((status = 204, description = "Changed."), ErrorResponses))]
async fn update_primary_email(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<SetPrimaryEmail>,
) -> Result<StatusCode, ApiError> {
    let record = &body.new_identifier_verification_record_id;
    app.core.account().set_primary_email(&app.tenant.context, &caller, &body.email, record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the primary email.
#[utoipa::path(delete, path = "/api/my-account/primary-email", operation_id = "DeletePrimaryEmail", tag = "My account",
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_primary_email(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<StatusCode, ApiError> {
    app.core.account().remove_primary_identifier(&app.tenant.context, &caller, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the primary phone to a number verified by a code record (`BindNewIdentifier`).
#[utoipa::path(post, path = "/api/my-account/primary-phone", operation_id = "UpdatePrimaryPhone", tag = "My account",
    request_body = SetPrimaryPhone, responses((status = 204, description = "Changed."), ErrorResponses))]
async fn update_primary_phone(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<SetPrimaryPhone>,
) -> Result<StatusCode, ApiError> {
    let record = &body.new_identifier_verification_record_id;
    app.core.account().set_primary_phone(&app.tenant.context, &caller, &body.phone, record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the primary phone.
#[utoipa::path(delete, path = "/api/my-account/primary-phone", operation_id = "DeletePrimaryPhone", tag = "My account",
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_primary_phone(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<StatusCode, ApiError> {
    app.core.account().remove_primary_identifier(&app.tenant.context, &caller, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the user skips MFA at sign-in (where the policy lets them).
#[utoipa::path(get, path = "/api/my-account/mfa-settings", operation_id = "GetMfaSettings", tag = "My account",
    responses((status = 200, body = AccountMfaSettings, description = "The MFA settings."), ErrorResponses))]
async fn get_mfa_settings(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<AccountMfaSettings>, ApiError> {
    Ok(axum::Json(app.core.account().mfa_settings(&caller).await?))
}

/// Change whether the user skips MFA at sign-in (needs `logto-verification-id`).
#[utoipa::path(patch, path = "/api/my-account/mfa-settings", operation_id = "UpdateMfaSettings", tag = "My account",
    request_body = AccountMfaSettings,
    responses((status = 200, body = AccountMfaSettings, description = "The MFA settings."), ErrorResponses))]
async fn update_mfa_settings(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<AccountMfaSettings>,
) -> Result<axum::Json<AccountMfaSettings>, ApiError> {
    Ok(axum::Json(app.core.account().update_mfa_settings(&app.tenant.context, &caller, body).await?))
}

/// The user's second-factor choices (`mfa`, `passkeySignIn`).
#[utoipa::path(get, path = "/api/my-account/logto-configs", operation_id = "GetLogtoConfig", tag = "My account",
    responses((status = 200, body = UserLogtoConfig, description = "The choices."), ErrorResponses))]
async fn get_logto_config(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<UserLogtoConfig>, ApiError> {
    Ok(axum::Json(app.core.account().logto_config(&caller).await?))
}

/// Change the given second-factor choices.
#[utoipa::path(patch, path = "/api/my-account/logto-configs", operation_id = "UpdateLogtoConfig", tag = "My account",
    request_body = UpdateUserLogtoConfig,
    responses((status = 200, body = UserLogtoConfig, description = "The choices."), ErrorResponses))]
async fn update_logto_config(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<UpdateUserLogtoConfig>,
) -> Result<axum::Json<UserLogtoConfig>, ApiError> {
    Ok(axum::Json(app.core.account().update_logto_config(&app.tenant.context, &caller, body).await?))
}
