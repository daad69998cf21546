//! `/api/verification-codes`: a backend asks Kido to send a code to an email address or
//! phone number, and later checks the code the user typed.

use axum::extract::State;
use axum::http::StatusCode;
use kido_core::verification_codes::{Delivery, Recipient, SendRequest};
use kido_proto::connectors::{RequestVerificationCode, TemplateType, VerifyVerificationCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ManagementScope};
use crate::openapi::{DeliveryErrorResponses, ErrorResponses};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request_code)).routes(routes!(verify_code))
}

fn recipient(email: Option<&str>, phone: Option<&str>) -> Result<Recipient, ApiError> {
    let recipient = match (email, phone) {
        (Some(email), None) => Recipient::email(email),
        (None, Some(phone)) => Recipient::phone(phone),
        _ => return Err(ApiError::invalid_input("body", "give exactly one of `email` and `phone`")),
    };
    recipient.map_err(|e| ApiError::invalid_input("body", e.to_string()))
}

/// Send a verification code (`Generic` template) to an email address or phone number.
#[utoipa::path(post, path = "/api/verification-codes", operation_id = "CreateVerificationCode", tag = "Verification codes",
    request_body = RequestVerificationCode,
    responses((status = 204, description = "Sent."), ErrorResponses, DeliveryErrorResponses))]
async fn request_code(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<RequestVerificationCode>,
) -> Result<StatusCode, ApiError> {
    let to = recipient(body.email.as_deref(), body.phone.as_deref())?;
    // The caller is a backend, so its address says nothing about the user: no per-IP limit.
    let request = SendRequest { template: TemplateType::Generic, locale: None, ip: None, delivery: Delivery::Now };
    app.core.verification_codes().send(app.tenant.id(), &to, request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check a code sent by `POST /api/verification-codes`; a right code is used up.
#[utoipa::path(post, path = "/api/verification-codes/verify", operation_id = "VerifyVerificationCode", tag = "Verification codes",
    request_body = VerifyVerificationCode,
    responses((status = 204, description = "The code is right."), ErrorResponses))]
async fn verify_code(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<VerifyVerificationCode>,
) -> Result<StatusCode, ApiError> {
    let to = recipient(body.email.as_deref(), body.phone.as_deref())?;
    if body.verification_code.is_empty() || body.verification_code.len() > 64 {
        return Err(ApiError::invalid_input("body", "`verificationCode` must be 1 to 64 characters"));
    }
    app.core
        .verification_codes()
        .verify(app.tenant.id(), &to, TemplateType::Generic, &body.verification_code, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
