//! Roles, their scopes and their members (users, applications).

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::roles::RoleError;

impl From<RoleError> for ApiError {
    fn from(e: RoleError) -> Self {
        use RoleError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("roles", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::NameInUse(n) => {
                Self::new(UNPROCESSABLE, "role.name_in_use", format!("This role name {n} is already in use"))
            }
            E::ScopeNotFound(id) => Self::not_exists_with_id("scopes", &id),
            E::ManagementScopeOnUserRole => Self::new(
                BAD_REQUEST,
                "role.management_api_scopes_not_assignable_to_user_role",
                "Cannot assign management API scopes to a user role.",
            ),
            E::ScopeExists(id) => Self::new(
                UNPROCESSABLE,
                "role.scope_exists",
                format!("The scope id {id} has already been added to this role"),
            ),
            E::ScopeNotAssigned | E::NotAssigned => Self::not_found(),
            E::ApplicationNotFound(id) => Self::not_exists_with_id("applications", &id),
            E::ApplicationNotMachineToMachine => Self::new(
                UNPROCESSABLE,
                "application.invalid_type",
                "Only machine to machine applications can have associated roles.",
            ),
            E::RoleNotMachineToMachine => Self::new(
                UNPROCESSABLE,
                "application.invalid_role_type",
                "Can not assign user type role to machine to machine application.",
            ),
            E::Store(e) => store_error(e),
        }
    }
}
