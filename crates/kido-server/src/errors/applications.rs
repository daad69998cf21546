//! Applications and their secrets.

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::applications::ApplicationError;

impl From<ApplicationError> for ApiError {
    fn from(e: ApplicationError) -> Self {
        use ApplicationError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("applications", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::ThirdPartyTypeInvalid => Self::new(
                BAD_REQUEST,
                "application.invalid_third_party_application_type",
                "Only traditional web applications can be marked as a third-party app.",
            ),
            E::SecretsNotSupported => Self::new(
                UNPROCESSABLE,
                "entity.db_constraint_violated",
                "Public applications (SPA and Native) cannot have secrets.",
            ),
            E::SecretNameExists => {
                Self::new(UNPROCESSABLE, "application.secret_name_exists", "Secret name already exists.")
            }
            E::SecretNotFound(_) => Self::not_found(),
            E::ExpiryNotInFuture => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. The value of `expiresAt` must be in the future.",
            ),
            E::Store(e) => store_error(e),
        }
    }
}
