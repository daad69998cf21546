//! Users and their passwords.

use axum::http::StatusCode;
use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::passwords::PasswordError;
use kido_core::users::UserError;

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        use UserError as E;
        match e {
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "entity.not_found", "The resource does not exist."),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::UsernameInUse => {
                Self::new(UNPROCESSABLE, "user.username_already_in_use", "This username is already in use.")
            }
            E::EmailInUse => Self::new(
                UNPROCESSABLE,
                "user.email_already_in_use",
                "This email is associated with an existing account.",
            ),
            E::PhoneInUse => Self::new(
                UNPROCESSABLE,
                "user.phone_already_in_use",
                "This phone number is associated with an existing account.",
            ),
            E::InvalidPhone => Self::new(UNPROCESSABLE, "user.invalid_phone", "The phone number is not valid."),
            E::UnsupportedSearch(why) => {
                Self::new(BAD_REQUEST, "request.invalid_input", format!("Input is invalid. {why}"))
            }
            E::RoleNotFound(id) => Self::not_exists_with_id("roles", &id),
            E::PasswordAndDigest => Self::new(
                BAD_REQUEST,
                "user.password_and_digest",
                "You cannot set both plain text password and password digest.",
            ),
            E::AlgorithmRequired => {
                Self::new(BAD_REQUEST, "user.password_algorithm_required", "Password algorithm is required.")
            }
            E::RoleNotForUsers => Self::new(
                UNPROCESSABLE,
                "user.invalid_role_type",
                "Invalid role type, can not assign machine-to-machine role to user.",
            ),
            E::RoleTypeConstraint => Self::new(
                UNPROCESSABLE,
                "entity.db_constraint_violated",
                "Machine-to-machine roles cannot be assigned to users.",
            ),
            E::UserHasRole(id) => Self::new(
                UNPROCESSABLE,
                "role.user_exists",
                format!("The user id {id} is already been added to this role"),
            )
            .with_data(json!({"userId": id})),
            E::RoleNotAssigned => Self::not_found(),
            E::NoPassword | E::PasswordMismatch => Self::new(
                UNPROCESSABLE,
                "session.invalid_credentials",
                "Incorrect account or password. Please check your input.",
            ),
            E::IdentityNotFound => {
                Self::new(StatusCode::NOT_FOUND, "user.identity_not_exist", "The identity does not exist.")
            }
            E::IdentityInUse => Self::new(
                UNPROCESSABLE,
                "user.identity_already_in_use",
                "This social identity is linked to another user.",
            ),
            E::LastSignInIdentifier => Self::new(
                StatusCode::BAD_REQUEST,
                "user.last_sign_in_method_required",
                "The user must keep at least one way to sign in (username, email, phone or a linked identity).",
            ),
            E::Password(e) => e.into(),
            E::Store(e) => store_error(e),
        }
    }
}

/// Password checks: a refused import digest, a full hashing queue, a rate limit.
impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> Self {
        use PasswordError as E;
        match e {
            E::MalformedDigest(alg) => {
                Self::invalid_input("body", format!("`passwordDigest` is not a valid {alg} digest"))
            }
            E::DigestCostOutOfBounds(alg, why) => Self::invalid_input(
                "body",
                format!("`passwordDigest` is a {alg} digest costlier than Kido verifies: {why}"),
            ),
            E::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "guard.server_busy",
                "Too many password checks are waiting. Please try again in a moment.",
            )
            .with_retry_after(1),
            E::RateLimited { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "guard.too_many_requests",
                format!("Too many password attempts. Please try again in {retry_after_secs} seconds."),
            )
            .with_retry_after(retry_after_secs),
            E::InvalidCost(_) | E::Hashing => Self::internal(&e),
        }
    }
}
