//! `/api/experience`: Logto's Experience API, driven by the browser that holds the
//! `_interaction` cookie. The hosted pages call the same domain functions.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use kido_core::experience::codes::Origin;
use kido_core::experience::{Identifier, IdentifierType, InteractionEvent, ProfileInput};
use serde::Deserialize;
use serde_json::json;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ClientIp, first_language};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/experience", put(start))
        .route("/api/experience/interaction-event", put(switch_event))
        .route("/api/experience/interaction", get(describe))
        .route("/api/experience/verification/password", post(verify_password))
        .route("/api/experience/verification/new-password-identity", post(verify_new_password_identity))
        .route("/api/experience/verification/verification-code", post(send_code))
        .route("/api/experience/verification/verification-code/verify", post(verify_code))
        .route("/api/experience/verification/one-time-token/verify", post(verify_one_time_token))
        .route("/api/experience/identification", post(identify))
        .route("/api/experience/profile", post(profile))
        .route("/api/experience/profile/password", put(reset_password))
        .route("/api/experience/terms-agreement", put(agree_to_terms))
        .route("/api/experience/submit", post(submit))
        // Logto's legacy interaction API: its sign-in UI still uses the consent routes.
        .route("/api/interaction/consent", get(consent_info).post(consent))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventBody {
    interaction_event: InteractionEvent,
    #[allow(dead_code)]
    #[serde(default)]
    captcha_token: Option<String>,
}

async fn start(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<StatusCode, ApiError> {
    app.core.experience().start(&app.tenant.context, &cookie, body.interaction_event).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn switch_event(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<StatusCode, ApiError> {
    app.core.experience().switch_event(&app.tenant.context, &cookie, body.interaction_event).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn describe(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<Response, ApiError> {
    let state = app.core.experience().describe(&app.tenant.context, &cookie).await?;
    Ok(axum::Json(state).into_response())
}

#[derive(Deserialize)]
struct PasswordBody {
    identifier: Identifier,
    password: String,
}

async fn verify_password(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    if body.identifier.value.is_empty() || body.identifier.value.len() > 256 {
        return Err(ApiError::invalid_input("body", "the identifier must be 1 to 256 characters"));
    }
    let id = app
        .core
        .experience()
        .verify_password(&app.tenant.context, &cookie, body.identifier, body.password, ip.as_deref())
        .await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

/// `{identifier: {type: "username", value}, password}`: a sign-up's username and password.
async fn verify_new_password_identity(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    if body.identifier.kind != IdentifierType::Username {
        return Err(ApiError::invalid_input("body", "`identifier.type` must be `username`"));
    }
    let id = app
        .core
        .experience()
        .verify_new_password_identity(&app.tenant.context, &cookie, body.identifier, body.password)
        .await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendCodeBody {
    identifier: Identifier,
    interaction_event: InteractionEvent,
}

async fn send_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendCodeBody>,
) -> Result<Response, ApiError> {
    let origin = Origin { locale: first_language(&headers), ip };
    let id = app
        .core
        .experience()
        .send_code(&app.tenant.context, &cookie, body.identifier, body.interaction_event, origin)
        .await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyCodeBody {
    identifier: Identifier,
    verification_id: String,
    code: String,
}

async fn verify_code(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<VerifyCodeBody>,
) -> Result<Response, ApiError> {
    if body.code.is_empty() || body.code.len() > 64 {
        return Err(ApiError::invalid_input("body", "`code` must be 1 to 64 characters"));
    }
    let id = app
        .core
        .experience()
        .verify_code(&app.tenant.context, &cookie, body.identifier, &body.verification_id, &body.code)
        .await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

#[derive(Deserialize)]
struct OneTimeTokenBody {
    identifier: Identifier,
    token: String,
}

/// `{identifier: {type: "email", value}, token}`: a magic link's token, spent once.
async fn verify_one_time_token(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<OneTimeTokenBody>,
) -> Result<Response, ApiError> {
    if body.identifier.kind != IdentifierType::Email {
        return Err(ApiError::invalid_input("body", "`identifier.type` must be `email`"));
    }
    if body.identifier.value.is_empty() || body.identifier.value.len() > 256 {
        return Err(ApiError::invalid_input("body", "the identifier must be 1 to 256 characters"));
    }
    if body.token.is_empty() || body.token.len() > 256 {
        return Err(ApiError::invalid_input("body", "`token` must be 1 to 256 characters"));
    }
    let id =
        app.core.experience().verify_one_time_token(&app.tenant.context, &cookie, body.identifier, &body.token).await?;
    Ok(axum::Json(json!({"verificationId": id})).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentificationBody {
    #[serde(default)]
    verification_id: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    link_social_identity: Option<bool>,
}

async fn identify(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<IdentificationBody>,
) -> Result<StatusCode, ApiError> {
    let created = app.core.experience().identify(&app.tenant.context, &cookie, body.verification_id.as_deref()).await?;
    Ok(if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ProfileBody {
    Username {
        value: String,
    },
    Password {
        value: String,
    },
    #[serde(rename_all = "camelCase")]
    Email {
        verification_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Phone {
        verification_id: String,
    },
    Social {},
    ExtraProfile {},
}

async fn profile(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<StatusCode, ApiError> {
    let input = match body {
        ProfileBody::Username { value } => ProfileInput::Username(value),
        ProfileBody::Password { value } => ProfileInput::Password(value),
        ProfileBody::Email { verification_id } => ProfileInput::Verified(IdentifierType::Email, verification_id),
        ProfileBody::Phone { verification_id } => ProfileInput::Verified(IdentifierType::Phone, verification_id),
        ProfileBody::Social {} => ProfileInput::Unsupported("social".into()),
        ProfileBody::ExtraProfile {} => ProfileInput::Unsupported("extraProfile".into()),
    };
    app.core.experience().set_profile(&app.tenant.context, &cookie, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewPasswordBody {
    password: String,
}

async fn reset_password(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<NewPasswordBody>,
) -> Result<StatusCode, ApiError> {
    app.core.experience().reset_password(&app.tenant.context, &cookie, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Kido's addition: the user agreed to the terms (needed when `agreeToTermsPolicy` asks for
/// an explicit agreement; Logto checks that only in its browser app).
async fn agree_to_terms(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
) -> Result<StatusCode, ApiError> {
    app.core.experience().agree_to_terms(&app.tenant.context, &cookie).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn submit(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<Response, ApiError> {
    let next = app.core.experience().submit(&app.tenant.context, &cookie).await?;
    // After a password reset there is nowhere to go yet: the user signs in again.
    let body = match next {
        Some(redirect_to) => json!({"redirectTo": redirect_to}),
        None => json!({}),
    };
    Ok(axum::Json(body).into_response())
}

async fn consent_info(State(app): State<AppState>, SignInCookie(cookie): SignInCookie) -> Result<Response, ApiError> {
    let info = app.core.experience().describe_consent(&app.tenant.context, &cookie).await?;
    Ok(axum::Json(info).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsentBody {
    #[serde(default)]
    organization_ids: Vec<String>,
}

/// Records the user's consent; `{redirectTo}` is `/oidc/auth/{uid}`.
async fn consent(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<Response, ApiError> {
    let x = app.core.experience();
    let interaction = x.load(&app.tenant.context, &cookie).await?;
    let redirect_to = x.answer_consent(&app.tenant.context, &cookie, &interaction, true, body.organization_ids).await?;
    Ok(axum::Json(json!({"redirectTo": redirect_to})).into_response())
}
