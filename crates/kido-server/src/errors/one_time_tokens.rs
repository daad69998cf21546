//! One-time tokens: Logto's `one_time_token.*` codes.

use axum::http::StatusCode;

use super::{ApiError, BAD_REQUEST, store_error};
use kido_core::one_time_tokens::OneTimeTokenError;

impl From<OneTimeTokenError> for ApiError {
    fn from(e: OneTimeTokenError) -> Self {
        use OneTimeTokenError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("one_time_tokens", &id),
            E::Gone => Self::not_found(),
            E::TokenNotFound => Self::new(StatusCode::NOT_FOUND, "one_time_token.token_not_found", "Token not found."),
            E::EmailMismatch => Self::new(
                BAD_REQUEST,
                "one_time_token.email_mismatch",
                "The email does not match the one the token was issued for.",
            ),
            E::Expired => Self::new(BAD_REQUEST, "one_time_token.token_expired", "The token has expired."),
            E::Consumed => Self::new(BAD_REQUEST, "one_time_token.token_consumed", "The token has been consumed."),
            E::Revoked => Self::new(BAD_REQUEST, "one_time_token.token_revoked", "The token has been revoked."),
            E::CannotReactivate => {
                Self::new(BAD_REQUEST, "one_time_token.cannot_reactivate_token", "Cannot reactivate the token.")
            }
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Store(e) => store_error(e),
        }
    }
}
