//! `/api/my-account/mfa-verifications`: the signed-in user's second factors.

use axum::extract::State;
use axum::http::StatusCode;
use kido_core::account::factors::NewFactor;
use kido_core::mfa::{backup_codes, totp};
use kido_proto::account::{
    AccountBackupCodes, AddAccountMfaVerification, GeneratedBackupCodes, GeneratedTotpSecret, RenameMfaVerification,
    ReplaceAccountTotp,
};
use kido_proto::mfa::UserMfaVerification;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{AccountAuth, ApiJson, ApiPath};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_mfa_verifications, add_mfa_verification))
        .routes(routes!(replace_totp_verification))
        .routes(routes!(generate_totp_secret))
        .routes(routes!(generate_my_backup_codes))
        .routes(routes!(get_backup_codes))
        .routes(routes!(update_mfa_verification_name))
        .routes(routes!(delete_mfa_verification))
}

/// List the user's second factors.
#[utoipa::path(get, path = "/api/my-account/mfa-verifications", operation_id = "GetMfaVerifications", tag = "My account",
    responses((status = 200, body = [UserMfaVerification], description = "The factors, oldest first."), ErrorResponses))]
async fn get_mfa_verifications(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<Vec<UserMfaVerification>>, ApiError> {
    Ok(axum::Json(app.core.account().factors(&app.tenant.context, &caller).await?))
}

/// Add a factor: TOTP (`secret`, optional `code`), backup codes (`codes`), or a passkey
/// registered through the Verification API (`newIdentifierVerificationRecordId`). Needs
/// `logto-verification-id`.
#[utoipa::path(post, path = "/api/my-account/mfa-verifications", operation_id = "AddMfaVerification", tag = "My account",
    request_body = AddAccountMfaVerification, responses((status = 204, description = "Added."), ErrorResponses))]
async fn add_mfa_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<AddAccountMfaVerification>,
) -> Result<StatusCode, ApiError> {
    let new = match body {
        AddAccountMfaVerification::Totp { secret, code } => NewFactor::Totp { secret, code },
        AddAccountMfaVerification::BackupCode { codes } => {
            if codes.len() > 100 {
                return Err(ApiError::invalid_input("body", "`codes` holds at most 100 codes"));
            }
            NewFactor::BackupCode { codes }
        }
        AddAccountMfaVerification::WebAuthn { new_identifier_verification_record_id, name } => {
            NewFactor::WebAuthn { record_id: new_identifier_verification_record_id, name }
        }
    };
    app.core.account().add_factor(&app.tenant.context, &caller, new).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the user's TOTP secret with a new one proven by a code (added when there is none).
#[utoipa::path(put, path = "/api/my-account/mfa-verifications/totp", operation_id = "ReplaceTotpVerification",
    tag = "My account", request_body = ReplaceAccountTotp,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_totp_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<ReplaceAccountTotp>,
) -> Result<StatusCode, ApiError> {
    app.core.account().replace_totp(&app.tenant.context, &caller, body.secret, body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new TOTP secret to show the user (nothing is stored until it is added).
#[utoipa::path(post, path = "/api/my-account/mfa-verifications/totp-secret/generate", operation_id = "GenerateTotpSecret",
    tag = "My account", responses((status = 200, body = GeneratedTotpSecret, description = "The secret."), ErrorResponses))]
async fn generate_totp_secret(
    State(_app): State<AppState>,
    AccountAuth(_caller): AccountAuth,
) -> Result<axum::Json<GeneratedTotpSecret>, ApiError> {
    let secret = totp::generate_secret().ok_or_else(|| ApiError::internal(&"no randomness"))?;
    Ok(axum::Json(GeneratedTotpSecret { secret }))
}

/// A new set of backup codes to show the user (nothing is stored until it is added).
#[utoipa::path(post, path = "/api/my-account/mfa-verifications/backup-codes/generate", operation_id = "GenerateMyBackupCodes",
    tag = "My account", responses((status = 200, body = GeneratedBackupCodes, description = "The codes."), ErrorResponses))]
async fn generate_my_backup_codes(
    State(_app): State<AppState>,
    AccountAuth(_caller): AccountAuth,
) -> Result<axum::Json<GeneratedBackupCodes>, ApiError> {
    let codes = backup_codes::generate().ok_or_else(|| ApiError::internal(&"no randomness"))?;
    Ok(axum::Json(GeneratedBackupCodes { codes }))
}

/// The user's backup codes and when each was used (needs `logto-verification-id`).
#[utoipa::path(get, path = "/api/my-account/mfa-verifications/backup-codes", operation_id = "GetBackupCodes",
    tag = "My account", responses((status = 200, body = AccountBackupCodes, description = "The codes."), ErrorResponses))]
async fn get_backup_codes(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<AccountBackupCodes>, ApiError> {
    let codes = app.core.account().backup_codes(&app.tenant.context, &caller).await?;
    Ok(axum::Json(AccountBackupCodes { codes }))
}

/// Name one of the user's passkeys (needs `logto-verification-id`).
#[utoipa::path(patch, path = "/api/my-account/mfa-verifications/{verificationId}/name", operation_id = "UpdateMfaVerificationName",
    tag = "My account", params(("verificationId" = String, Path, description = "The passkey's verification id.")),
    request_body = RenameMfaVerification, responses((status = 200, description = "Renamed."), ErrorResponses))]
async fn update_mfa_verification_name(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RenameMfaVerification>,
) -> Result<StatusCode, ApiError> {
    app.core.account().rename_factor(&app.tenant.context, &caller, &id, &body.name).await?;
    Ok(StatusCode::OK)
}

/// Remove one of the user's factors (needs `logto-verification-id`).
#[utoipa::path(delete, path = "/api/my-account/mfa-verifications/{verificationId}", operation_id = "DeleteMfaVerification",
    tag = "My account", params(("verificationId" = String, Path, description = "The factor's verification id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_mfa_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.account().remove_factor(&app.tenant.context, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
