//! API resources and their scopes.

use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::resources::ResourceError;

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> Self {
        use ResourceError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("resources", &id),
            E::ScopeNotFound(id) => Self::not_exists_with_id("scopes", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::IndicatorInUse(i) => Self::new(
                UNPROCESSABLE,
                "resource.resource_identifier_in_use",
                format!("The API identifier {i} is already in use"),
            )
            .with_data(json!({"indicator": i})),
            E::ScopeNameInUse(n) => {
                Self::new(UNPROCESSABLE, "scope.name_exists", format!("The scope name {n} is already in use"))
            }
            E::ScopeNameWithSpace => {
                Self::new(BAD_REQUEST, "scope.name_with_space", "The name of the scope cannot contain any spaces.")
            }
            E::ManagementApiImmutable => {
                Self::new(BAD_REQUEST, "resource.cannot_modify_management_api", "Cannot modify Logto management API.")
            }
            E::ManagementApiUndeletable => {
                Self::new(BAD_REQUEST, "resource.cannot_delete_management_api", "Cannot delete Logto management API.")
            }
            E::Store(e) => store_error(e),
        }
    }
}
