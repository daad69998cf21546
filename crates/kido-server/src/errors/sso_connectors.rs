//! Enterprise SSO connectors.

use axum::http::StatusCode;
use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::sso_connectors::SsoConnectorError;

impl From<SsoConnectorError> for ApiError {
    fn from(e: SsoConnectorError) -> Self {
        use SsoConnectorError as E;
        match e {
            E::NotFound(_) => Self::not_found(),
            E::UnknownProvider(name) => Self::new(
                UNPROCESSABLE,
                "connector.not_found",
                format!("Cannot find any available connector for type: {name}."),
            )
            .with_data(json!({"type": name})),
            E::NameInUse(name) => Self::new(
                StatusCode::CONFLICT,
                "single_sign_on.duplicate_connector_name",
                format!("A connector named {name} already exists. Please choose another name."),
            ),
            E::ForbiddenDomains(domains) => Self::new(
                UNPROCESSABLE,
                "single_sign_on.forbidden_domains",
                format!("Public email domains are not allowed: {}.", domains.join(", ")),
            )
            .with_data(json!(domains)),
            E::DuplicatedDomains(domains) => Self::new(
                UNPROCESSABLE,
                "single_sign_on.duplicated_domains",
                format!("There are duplicate domains: {}.", domains.join(", ")),
            )
            .with_data(json!(domains)),
            E::InvalidConfig(details) => Self::new(
                BAD_REQUEST,
                "connector.invalid_config",
                format!("The connector's config is invalid: {details}."),
            ),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Store(e) => store_error(e),
        }
    }
}
