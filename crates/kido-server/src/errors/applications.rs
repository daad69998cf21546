//! Applications and their secrets.

use axum::http::StatusCode;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::applications::ApplicationError;

impl From<ApplicationError> for ApiError {
    fn from(e: ApplicationError) -> Self {
        use ApplicationError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("applications", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::UseSamlApplicationApi => Self::new(
                BAD_REQUEST,
                "application.saml.use_saml_app_api",
                "SAML applications are managed through the `/api/saml-applications` endpoints.",
            ),
            E::ProtectedAppMetadataRequired => Self::new(
                BAD_REQUEST,
                "application.protected_app_metadata_is_required",
                "A protected application needs `protectedAppMetadata`.",
            ),
            E::InvalidSubdomain => {
                Self::new(UNPROCESSABLE, "application.invalid_subdomain", "The subdomain is not valid.")
            }
            // Logto OSS answers 501 here too: protected apps need Logto Cloud's provider.
            E::ProtectedAppsNotConfigured => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                "application.protected_app_not_configured",
                "No protected app provider is configured; protected apps are not available on this server.",
            ),
            E::AdminNeedsMachineToMachine => Self::new(
                UNPROCESSABLE,
                "application.invalid_type",
                "Only machine-to-machine applications can hold the Management API role.",
            ),
            E::AdminRoleMissing => Self::new(
                UNPROCESSABLE,
                "entity.not_exists",
                "The Management API role of this tenant no longer exists.",
            )
            .with_data(serde_json::json!({"name": kido_proto::MANAGEMENT_ROLE_ID})),
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
