//! `/api/sign-in-exp` and the anonymous `/api/.well-known/sign-in-exp`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::sign_in_experience::{CheckPassword, CheckPasswordResult, SignInExperience, UpdateSignInExperience};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ManagementScope};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

/// A 400 from check-password: a policy rejection (`result: false` with `issues`) or an
/// ordinary error; both carry `code` and `message`.
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CheckPasswordFailure {
    result: Option<bool>,
    issues: Option<Vec<kido_proto::sign_in_experience::PasswordIssue>>,
    code: String,
    message: String,
    #[schema(value_type = Option<Object>)]
    data: Option<Value>,
    details: Option<String>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_sign_in_exp, update_sign_in_exp))
        .routes(routes!(check_password_with_default_sign_in_experience))
        .routes(routes!(get_sign_in_experience_config))
}

/// Get the sign-in experience.
#[utoipa::path(get, path = "/api/sign-in-exp", operation_id = "GetSignInExp", tag = "Sign-in experience",
    responses((status = 200, body = SignInExperience, description = "The sign-in experience."), ErrorResponses))]
async fn get_sign_in_exp(
    State(app): State<AppState>,
    _: ManagementScope,
) -> Result<axum::Json<SignInExperience>, ApiError> {
    Ok(axum::Json(app.core.sign_in_experiences().get(app.tenant.id()).await?))
}

/// Change the sign-in experience. Each top-level field given replaces the stored one, an
/// object field (`passwordPolicy`, `mfa`, `signUp`…) is merged key by key into the stored
/// one; the result is validated as a whole (400 with a `sign_in_experiences.*` code saying
/// which rule).
#[utoipa::path(patch, path = "/api/sign-in-exp", operation_id = "UpdateSignInExp", tag = "Sign-in experience",
    request_body = Option<UpdateSignInExperience>,
    responses((status = 200, body = SignInExperience, description = "The updated sign-in experience."), ErrorResponses))]
async fn update_sign_in_exp(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> Result<axum::Json<SignInExperience>, ApiError> {
    Ok(axum::Json(app.core.sign_in_experiences().update(app.tenant.id(), body).await?))
}

/// Check a password against the password policy. Give `userId` when the policy rejects
/// passwords built from user information (the default).
#[utoipa::path(post, path = "/api/sign-in-exp/default/check-password", operation_id = "CheckPasswordWithDefaultSignInExperience",
    tag = "Sign-in experience", request_body = CheckPassword,
    responses(
        (status = 200, body = CheckPasswordResult, description = "`{result: true}`: the password passes."),
        (status = 400, body = CheckPasswordFailure, description = "`{result: false, issues}` (also in `data.issues`), or invalid input."),
        (status = 401, description = "No valid token."), (status = 403, description = "Token lacks `all`."),
        (status = 404, description = "Unknown `userId`."),
    ))]
async fn check_password_with_default_sign_in_experience(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CheckPassword>,
) -> Result<Response, ApiError> {
    let issues =
        app.core.sign_in_experiences().check_password(app.tenant.id(), &body.password, body.user_id.as_deref()).await?;
    if issues.is_empty() {
        return Ok(axum::Json(CheckPasswordResult { result: true, issues }).into_response());
    }
    // Logto's `{result, issues}` plus the usual error fields, so both kinds of clients understand it.
    let body = json!({
        "result": false,
        "issues": issues,
        "code": "password.rejected",
        "message": "The password does not meet the password policy.",
        "data": {"issues": issues},
    });
    Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response())
}

/// The sign-in experience as the sign-in pages see it (no authentication).
#[utoipa::path(get, path = "/api/.well-known/sign-in-exp", operation_id = "GetSignInExperienceConfig", tag = "Sign-in experience",
    security(()),
    responses((status = 200, body = Object, description = "The public sign-in experience: the settings without \
        `forgotPasswordMethods`, plus `socialConnectors`, `ssoConnectors`, `forgotPassword` and `isDevelopmentTenant`.")))]
async fn get_sign_in_experience_config(State(app): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    let sie = app.core.sign_in_experiences().get(app.tenant.id()).await?;
    let forgot = &sie.forgot_password_methods;
    let forgot_password = json!({
        "email": forgot.contains(&kido_proto::sign_in_experience::ForgotPasswordMethod::EmailVerificationCode),
        "phone": forgot.contains(&kido_proto::sign_in_experience::ForgotPasswordMethod::PhoneVerificationCode),
    });
    let sso_connectors = match sie.single_sign_on_enabled {
        true => app.core.sso_connectors().for_sign_in(app.tenant.id()).await?,
        false => Vec::new(),
    };
    let mut value = serde_json::to_value(&sie).map_err(|e| ApiError::internal(&e))?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("forgotPasswordMethods");
        obj.insert("socialConnectors".into(), json!([]));
        obj.insert("ssoConnectors".into(), json!(sso_connectors));
        obj.insert("forgotPassword".into(), forgot_password);
        obj.insert("isDevelopmentTenant".into(), json!(false));
    }
    Ok(axum::Json(value))
}
