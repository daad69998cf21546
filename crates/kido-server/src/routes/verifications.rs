//! `/api/verifications`: records a signed-in user makes to prove who they are (password,
//! a code to their own address) or to bring a new email, phone or passkey, for the Account
//! API (`logto-verification-id`, `newIdentifierVerificationRecordId`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use kido_proto::account::{
    CreatedVerificationRecord, SendAccountVerificationCode, StartSocialVerification, VerificationRecordId,
    VerifyAccountVerificationCode, VerifyPassword, VerifySocialVerification, VerifyWebAuthnRegistration,
    WebAuthnRegistrationRecord,
};
use kido_proto::webauthn::RegistrationPayload;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{AccountAuth, ApiJson, ClientIp, first_language};
use crate::openapi::{DeliveryErrorResponses, ErrorResponses};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_password_verification))
        .routes(routes!(create_verification_code_verification))
        .routes(routes!(verify_verification_code_verification))
        .routes(routes!(create_social_verification))
        .routes(routes!(verify_social_verification))
        .routes(routes!(create_webauthn_registration_verification))
        .routes(routes!(verify_webauthn_registration_verification))
}

/// Verify the user's password; the record proves their identity for 10 minutes.
#[utoipa::path(post, path = "/api/verifications/password", operation_id = "CreateVerificationByPassword",
    tag = "Verifications", request_body = VerifyPassword,
    responses((status = 201, body = CreatedVerificationRecord, description = "The verified record."), ErrorResponses))]
async fn create_password_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<VerifyPassword>,
) -> Result<(StatusCode, axum::Json<CreatedVerificationRecord>), ApiError> {
    if body.password.is_empty() || body.password.len() > 256 {
        return Err(ApiError::invalid_input("body", "`password` must be 1 to 256 characters"));
    }
    let created = app.core.account().verify_password(&app.tenant.context, &caller, body.password).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// Send a code to an email address or phone number: the user's own (template
/// `UserPermissionValidation`, or `BindMfa`) or a new one (`BindNewIdentifier`).
#[utoipa::path(post, path = "/api/verifications/verification-code", operation_id = "CreateVerificationByVerificationCode",
    tag = "Verifications", request_body = SendAccountVerificationCode,
    responses((status = 201, body = CreatedVerificationRecord, description = "The record waiting for the code."),
        ErrorResponses, DeliveryErrorResponses))]
async fn create_verification_code_verification(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<SendAccountVerificationCode>,
) -> Result<(StatusCode, axum::Json<CreatedVerificationRecord>), ApiError> {
    let locale = first_language(&headers);
    let created = app
        .core
        .account()
        .send_code(&app.tenant.context, &caller, body.identifier, body.template_type, locale.as_deref(), ip.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// Verify the code sent for a record.
#[utoipa::path(post, path = "/api/verifications/verification-code/verify", operation_id = "VerifyVerificationByVerificationCode",
    tag = "Verifications", request_body = VerifyAccountVerificationCode,
    responses((status = 200, body = VerificationRecordId, description = "The verified record."), ErrorResponses))]
async fn verify_verification_code_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<VerifyAccountVerificationCode>,
) -> Result<axum::Json<VerificationRecordId>, ApiError> {
    if body.code.is_empty() || body.code.len() > 64 {
        return Err(ApiError::invalid_input("body", "`code` must be 1 to 64 characters"));
    }
    let id = app
        .core
        .account()
        .verify_code(&app.tenant.context, &caller, body.identifier, &body.verification_id, &body.code)
        .await?;
    Ok(axum::Json(VerificationRecordId { verification_record_id: id }))
}

/// Start a social verification (answers 404: Kido has no social connectors yet).
#[utoipa::path(post, path = "/api/verifications/social", operation_id = "CreateVerificationBySocial",
    tag = "Verifications", request_body = StartSocialVerification,
    responses((status = 201, body = CreatedVerificationRecord, description = "Not reached yet."), ErrorResponses))]
async fn create_social_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(_body): ApiJson<StartSocialVerification>,
) -> Result<StatusCode, ApiError> {
    app.core.account().social_verification(&app.tenant.context, &caller).await?;
    Ok(StatusCode::CREATED)
}

/// Finish a social verification (answers 404: Kido has no social connectors yet).
#[utoipa::path(post, path = "/api/verifications/social/verify", operation_id = "VerifyVerificationBySocial",
    tag = "Verifications", request_body = VerifySocialVerification,
    responses((status = 200, body = VerificationRecordId, description = "Not reached yet."), ErrorResponses))]
async fn verify_social_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(_body): ApiJson<VerifySocialVerification>,
) -> Result<StatusCode, ApiError> {
    app.core.account().social_verification(&app.tenant.context, &caller).await?;
    Ok(StatusCode::OK)
}

/// Options to register a new passkey (the tenant's origin is the relying party).
#[utoipa::path(post, path = "/api/verifications/web-authn/registration", operation_id = "CreateWebAuthnRegistrationVerification",
    tag = "Verifications",
    responses((status = 200, body = WebAuthnRegistrationRecord, description = "The registration options."), ErrorResponses))]
async fn create_webauthn_registration_verification(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<WebAuthnRegistrationRecord>, ApiError> {
    let (created, options) = app.core.account().webauthn_registration(&app.tenant.context, &caller).await?;
    Ok(axum::Json(WebAuthnRegistrationRecord {
        verification_record_id: created.verification_record_id,
        registration_options: serde_json::to_value(options).map_err(|e| ApiError::internal(&e))?,
        expires_at: created.expires_at,
    }))
}

/// Verify the new passkey; bind it with `POST /api/my-account/mfa-verifications`.
#[utoipa::path(post, path = "/api/verifications/web-authn/registration/verify", operation_id = "VerifyWebAuthnRegistrationVerification",
    tag = "Verifications", request_body = VerifyWebAuthnRegistration,
    responses((status = 200, body = VerificationRecordId, description = "The verified record."), ErrorResponses))]
async fn verify_webauthn_registration_verification(
    State(app): State<AppState>,
    headers: HeaderMap,
    AccountAuth(caller): AccountAuth,
    ApiJson(body): ApiJson<VerifyWebAuthnRegistration>,
) -> Result<axum::Json<VerificationRecordId>, ApiError> {
    let payload: RegistrationPayload =
        serde_json::from_value(body.payload).map_err(|e| ApiError::invalid_input("body", format!("`payload`: {e}")))?;
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let id = app
        .core
        .account()
        .verify_webauthn_registration(&app.tenant.context, &caller, &body.verification_record_id, &payload, agent)
        .await?;
    Ok(axum::Json(VerificationRecordId { verification_record_id: id }))
}
