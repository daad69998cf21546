//! Connectors (email, SMS) and their deliveries.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::connectors::ConnectorError;

impl From<ConnectorError> for ApiError {
    fn from(e: ConnectorError) -> Self {
        use ConnectorError as E;
        let message = e.to_string();
        match e {
            E::NotFound(_) => Self::not_found(),
            E::FactoryNotFound(id) => Self::new(
                UNPROCESSABLE,
                "connector.not_found_with_connector_id",
                format!("Cannot find connector with given standard connector id `{id}`."),
            ),
            E::TestFactoryNotFound(_) => Self::new(BAD_REQUEST, "connector.not_found", message),
            E::NoConnector(kind) => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                "connector.not_found",
                format!(
                    "Cannot find any available connector for type: {}. Add one with POST /api/connectors.",
                    kind.as_str()
                ),
            )
            .with_data(json!({"type": kind.as_str()})),
            E::UnexpectedType => Self::new(BAD_REQUEST, "connector.unexpected_type", message),
            E::InvalidConfig(details) => {
                let mut error =
                    Self::new(BAD_REQUEST, "connector.invalid_config", "The connector's config is invalid.");
                error.details = Some(Value::String(details));
                error
            }
            E::MetadataNotAllowed => {
                Self::new(BAD_REQUEST, "connector.cannot_overwrite_metadata_for_non_standard_connector", message)
            }
            E::SyncProfileNotAllowed => Self::new(UNPROCESSABLE, "connector.invalid_type_for_syncing_profile", message),
            E::TokenStorageNotSupported => Self::new(UNPROCESSABLE, "connector.token_storage_not_supported", message),
            E::EmailTemplateNotFound(id) => Self::not_exists_with_id("email_templates", &id),
            E::TemplateNotFound(_) => Self::new(BAD_REQUEST, "connector.template_not_found", message),
            E::Delivery(details) => {
                tracing::warn!(error = %details, "connector delivery failed");
                Self::new(
                    BAD_REQUEST,
                    "connector.general",
                    format!("The connector could not deliver the message: {details}"),
                )
            }
            E::BulkDeletionWithoutFilter => {
                Self::new(UNPROCESSABLE, "connector.email_connector.bulk_deletion_no_filter", message)
            }
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Store(e) => store_error(e),
        }
    }
}
