//! A user's sessions and grants: Logto's codes, all 404 (an id of another user's session is
//! not found either; Logto's own code says which).

use axum::http::StatusCode;
use kido_core::oidc::user_sessions::UserSessionError;

use super::{ApiError, store_error};

impl From<UserSessionError> for ApiError {
    fn from(e: UserSessionError) -> Self {
        use UserSessionError as E;
        match e {
            E::SessionNotFound => Self::new(StatusCode::NOT_FOUND, "oidc.session_not_found", "Session not found."),
            E::SessionOfAnotherUser => Self::new(
                StatusCode::NOT_FOUND,
                "oidc.invalid_session_account_id",
                "The session does not belong to this user.",
            ),
            E::GrantNotFound => {
                Self::new(StatusCode::NOT_FOUND, "oidc.invalid_grant", "Grant not found for this user.")
            }
            E::Store(e) => store_error(e),
        }
    }
}
