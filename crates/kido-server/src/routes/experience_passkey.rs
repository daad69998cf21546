//! `/api/experience` passkey sign-in routes (a passkey as the first factor): the anonymous
//! discoverable-credential ceremony, the ceremony for an identifier's passkeys, the answer to
//! either, and the passkey choices at the end of a sign-in (bind one, or decline).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kido_core::experience::Identifier;
use kido_proto::webauthn::AuthenticationPayload;
use serde::Deserialize;
use serde_json::json;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ClientIp};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/experience/preflight/sign-in-passkey/authentication", post(preflight))
        .route("/api/experience/verification/sign-in-passkey/authentication", post(authentication))
        .route("/api/experience/verification/sign-in-passkey/authentication/verify", post(verify))
        .route("/api/experience/profile/mfa/passkey", post(bind_passkey))
        .route("/api/experience/profile/mfa/passkey-skipped", post(skip_passkey))
}

/// The longest identifier value taken (as the password step's).
const MAX_IDENTIFIER_LEN: usize = 256;

async fn preflight(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
) -> Result<Response, ApiError> {
    let options = app.core.experience().passkey_preflight(&app.tenant.context, &cookie, ip.as_deref()).await?;
    Ok(axum::Json(json!({"authenticationOptions": options})).into_response())
}

#[derive(Deserialize)]
struct IdentifierBody {
    identifier: Identifier,
}

async fn authentication(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<IdentifierBody>,
) -> Result<Response, ApiError> {
    let value = &body.identifier.value;
    if value.is_empty() || value.len() > MAX_IDENTIFIER_LEN {
        let why = format!("the identifier must be 1 to {MAX_IDENTIFIER_LEN} characters");
        return Err(ApiError::invalid_input("body", why));
    }
    let x = app.core.experience();
    let (id, options) = x.passkey_authentication(&app.tenant.context, &cookie, body.identifier, ip.as_deref()).await?;
    Ok(axum::Json(json!({"verificationId": id, "authenticationOptions": options})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyBody {
    /// Absent: the answer to the preflight ceremony.
    #[serde(default)]
    verification_id: Option<String>,
    payload: AuthenticationPayload,
}

async fn verify(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let x = app.core.experience();
    let id =
        x.verify_passkey_sign_in(&app.tenant.context, &cookie, body.verification_id.as_deref(), &body.payload).await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BindBody {
    verification_id: String,
}

async fn bind_passkey(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<BindBody>,
) -> Result<StatusCode, ApiError> {
    app.core.experience().bind_passkey(&app.tenant.context, &cookie, &body.verification_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn skip_passkey(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<StatusCode, ApiError> {
    app.core.experience().skip_passkey(&app.tenant.context, &cookie).await?;
    Ok(StatusCode::NO_CONTENT)
}
