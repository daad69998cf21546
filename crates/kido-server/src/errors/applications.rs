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
                "Machine-to-machine applications cannot be marked as third-party apps.",
            ),
            E::DeviceFlowNativeOnly => Self::new(
                UNPROCESSABLE,
                "application.device_flow_native_only",
                "Device flow is only available for native applications.",
            ),
            E::DeviceFlowNotChangeable => Self::new(
                UNPROCESSABLE,
                "application.device_flow_not_changeable",
                "Device flow cannot be changed after the application is created.",
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
