//! Kido's wire types: the JSON shapes of the Management API and the OAuth endpoints,
//! shared by the server, the typed client and the tests. camelCase, timestamps in epoch
//! milliseconds, ids as Logto makes them. No I/O lives here.

pub mod account;
pub mod applications;
pub mod connectors;
pub mod error;
pub mod logs;
pub mod mfa;
pub mod oauth;
pub mod one_time_tokens;
pub mod organizations;
pub mod resources;
pub mod roles;
pub mod sessions;
pub mod sign_in_experience;
pub mod sso_connectors;
pub mod users;
pub mod webauthn;

pub use error::ErrorBody;

/// Page of a list: `LIMIT`/`OFFSET` as the Management API's `page`/`page_size` ask.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// The tenant every fresh installation serves its users from (port 3001).
pub const DEFAULT_TENANT: &str = "default";
/// The tenant that holds the console and its administrators (port 3002).
pub const ADMIN_TENANT: &str = "admin";
/// The scope of the Management API that grants everything.
pub const MANAGEMENT_API_SCOPE_ALL: &str = "all";
/// Fixed id of each tenant's machine-to-machine role holding that scope (Logto's internal
/// admin role): what an application's `isAdmin` means.
pub const MANAGEMENT_ROLE_ID: &str = "management-api-access";

/// Resource indicator of a tenant's Management API, as Logto names it.
pub fn management_api_indicator(tenant_id: &str) -> String {
    format!("https://{tenant_id}.logto.app/api")
}

/// An entity's id as its own type, so one kind of id cannot be passed where another is
/// meant; on the wire (and in paths) a plain string.
macro_rules! entity_id {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )+};
}

entity_id! {
    /// The tenant a request, a row or a token belongs to.
    TenantId;
    /// A user's id.
    UserId;
    /// An application's id (its OAuth `client_id`).
    ApplicationId;
    /// An organization's id.
    OrganizationId;
    /// A global role's id (user or machine-to-machine role).
    RoleId;
    /// An API resource's id (not its indicator).
    ResourceId;
    /// An API resource scope's id.
    ScopeId;
    /// An organization role's id (the organization template).
    OrganizationRoleId;
    /// An organization scope's id (the organization template).
    OrganizationScopeId;
}
