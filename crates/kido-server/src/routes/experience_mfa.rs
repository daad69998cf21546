//! `/api/experience` second-factor routes: verifying a bound factor (TOTP, backup code, a
//! passkey, a code to the user's own email or phone), making a new TOTP secret, backup-code
//! set or passkey, binding it (`POST /profile/mfa`) and the user's choices (skip, enable).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kido_core::experience::IdentifierType;
use kido_core::experience::codes::Origin;
use kido_proto::sign_in_experience::MfaFactor;
use kido_proto::webauthn::{AuthenticationPayload, RegistrationPayload};
use serde::Deserialize;
use serde_json::json;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ClientIp, first_language};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/experience/verification/totp/secret", post(new_totp_secret))
        .route("/api/experience/verification/totp/verify", post(verify_totp))
        .route("/api/experience/verification/backup-code/generate", post(generate_backup_codes))
        .route("/api/experience/verification/backup-code/verify", post(verify_backup_code))
        .route("/api/experience/verification/mfa-verification-code", post(send_mfa_code))
        .route("/api/experience/verification/mfa-verification-code/verify", post(verify_mfa_code))
        .route("/api/experience/verification/web-authn/registration", post(webauthn_registration))
        .route("/api/experience/verification/web-authn/registration/verify", post(verify_webauthn_registration))
        .route("/api/experience/verification/web-authn/authentication", post(webauthn_authentication))
        .route("/api/experience/verification/web-authn/authentication/verify", post(verify_webauthn_authentication))
        .route("/api/experience/profile/mfa", post(bind_mfa))
        .route("/api/experience/profile/mfa/mfa-skipped", post(skip_mfa))
        .route("/api/experience/profile/mfa/mfa-suggestion-skipped", post(skip_mfa_suggestion))
        .route("/api/experience/profile/mfa/mfa-enabled", post(enable_mfa))
}

/// The longest code any factor takes (TOTP 6 digits, backup codes 10 hex, email/SMS codes).
const MAX_CODE_LEN: usize = 64;

fn check_code(code: &str) -> Result<(), ApiError> {
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return Err(ApiError::invalid_input("body", format!("`code` must be 1 to {MAX_CODE_LEN} characters")));
    }
    Ok(())
}

fn verification_id(id: String) -> Response {
    axum::Json(json!({"verificationId": id})).into_response()
}

async fn new_totp_secret(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<Response, ApiError> {
    let new = app.core.experience().new_totp_secret(&app.tenant.context, &cookie).await?;
    let body = json!({"verificationId": new.verification_id, "secret": new.secret, "secretQrCode": new.secret_qr_code});
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TotpBody {
    code: String,
    #[serde(default)]
    verification_id: Option<String>,
}

async fn verify_totp(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<TotpBody>,
) -> Result<Response, ApiError> {
    check_code(&body.code)?;
    let x = app.core.experience();
    let id = x.verify_totp(&app.tenant.context, &cookie, &body.code, body.verification_id.as_deref()).await?;
    Ok(verification_id(id))
}

async fn generate_backup_codes(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<Response, ApiError> {
    let (id, codes) = app.core.experience().generate_backup_codes(&app.tenant.context, &cookie).await?;
    Ok(axum::Json(json!({"verificationId": id, "codes": codes})).into_response())
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

async fn verify_backup_code(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, ApiError> {
    check_code(&body.code)?;
    let id = app.core.experience().verify_backup_code(&app.tenant.context, &cookie, &body.code).await?;
    Ok(verification_id(id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MfaCodeBody {
    identifier_type: IdentifierType,
}

async fn send_mfa_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MfaCodeBody>,
) -> Result<Response, ApiError> {
    let origin = Origin { locale: first_language(&headers), ip };
    let id = app.core.experience().send_mfa_code(&app.tenant.context, &cookie, body.identifier_type, origin).await?;
    Ok(verification_id(id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyMfaCodeBody {
    identifier_type: IdentifierType,
    verification_id: String,
    code: String,
}

async fn verify_mfa_code(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<VerifyMfaCodeBody>,
) -> Result<Response, ApiError> {
    check_code(&body.code)?;
    let x = app.core.experience();
    let id = x
        .verify_mfa_code(&app.tenant.context, &cookie, body.identifier_type, &body.verification_id, &body.code)
        .await?;
    Ok(verification_id(id))
}

async fn webauthn_registration(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<Response, ApiError> {
    let (id, options) = app.core.experience().webauthn_registration(&app.tenant.context, &cookie).await?;
    Ok(axum::Json(json!({"verificationId": id, "registrationOptions": options})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebAuthnBody<P> {
    verification_id: String,
    payload: P,
}

async fn verify_webauthn_registration(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WebAuthnBody<RegistrationPayload>>,
) -> Result<Response, ApiError> {
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let x = app.core.experience();
    let id = x
        .verify_webauthn_registration(&app.tenant.context, &cookie, &body.verification_id, &body.payload, agent)
        .await?;
    Ok(verification_id(id))
}

async fn webauthn_authentication(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<Response, ApiError> {
    let (id, options) = app.core.experience().webauthn_authentication(&app.tenant.context, &cookie).await?;
    Ok(axum::Json(json!({"verificationId": id, "authenticationOptions": options})).into_response())
}

async fn verify_webauthn_authentication(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<WebAuthnBody<AuthenticationPayload>>,
) -> Result<Response, ApiError> {
    let x = app.core.experience();
    let id =
        x.verify_webauthn_authentication(&app.tenant.context, &cookie, &body.verification_id, &body.payload).await?;
    Ok(verification_id(id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BindMfaBody {
    #[serde(rename = "type")]
    factor: MfaFactor,
    verification_id: String,
}

async fn bind_mfa(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<BindMfaBody>,
) -> Result<StatusCode, ApiError> {
    app.core.experience().bind_mfa(&app.tenant.context, &cookie, body.factor, &body.verification_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn skip_mfa(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<StatusCode, ApiError> {
    app.core.experience().skip_mfa(&app.tenant.context, &cookie).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn skip_mfa_suggestion(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<StatusCode, ApiError> {
    app.core.experience().skip_mfa_suggestion(&app.tenant.context, &cookie).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable_mfa(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<StatusCode, ApiError> {
    app.core.experience().enable_mfa(&app.tenant.context, &cookie).await?;
    Ok(StatusCode::NO_CONTENT)
}
