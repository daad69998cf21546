//! Organizations, their members, template, invitations and JIT provisioning.

use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::organizations::OrganizationError;

impl From<OrganizationError> for ApiError {
    fn from(e: OrganizationError) -> Self {
        use OrganizationError as E;
        match e {
            // Logto answers unknown users with `entity.not_found` everywhere.
            E::NotFound { entity: "users", .. } | E::Gone => Self::not_found(),
            E::NotFound { entity, id } => Self::not_exists_with_id(entity, &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::MissingReference(what) => Self::new(
                UNPROCESSABLE,
                "entity.relation_foreign_key_not_found",
                format!(
                    "Cannot find one or more foreign keys. Please check the input and ensure that all referenced \
                     entities exist: {what}."
                ),
            ),
            E::NameInUse(name) => Self::new(
                UNPROCESSABLE,
                "entity.unique_integrity_violation",
                format!("The entity already exists. Please check the input and try again: `{name}` is taken."),
            ),
            E::WrongType(what) => Self::new(
                UNPROCESSABLE,
                "entity.db_constraint_violated",
                format!("Database constraint violated: {what}."),
            ),
            E::RequireMembership => Self::new(
                UNPROCESSABLE,
                "organization.require_membership",
                "The user must be a member of the organization to proceed.",
            ),
            E::RoleNamesNotFound(names) => Self::new(
                UNPROCESSABLE,
                "organization.role_names_not_found",
                format!("Invalid role names detected: {}. Please create these roles first.", names.join(", ")),
            )
            .with_data(json!({"names": names})),
            E::InvitationRule(message) => Self::new(UNPROCESSABLE, "request.invalid_input", message),
            E::ExpiryNotInFuture => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. The value of `expiresAt` must be in the future.",
            ),
            E::Message(e) => e.into(),
            E::Store(e) => store_error(e),
        }
    }
}
