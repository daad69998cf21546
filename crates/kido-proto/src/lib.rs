//! Kido's wire types: the JSON shapes of the Management API and the OAuth endpoints,
//! shared by the server, the typed client and the tests. camelCase, timestamps in epoch
//! milliseconds, ids as Logto makes them. No I/O lives here.

pub mod applications;
pub mod connectors;
pub mod error;
pub mod logs;
pub mod oauth;
pub mod organizations;
pub mod resources;
pub mod roles;
pub mod sign_in_experience;
pub mod sso_connectors;
pub mod users;

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

/// Resource indicator of a tenant's Management API, as Logto names it.
pub fn management_api_indicator(tenant_id: &str) -> String {
    format!("https://{tenant_id}.logto.app/api")
}

/// The tenant a request, a row or a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
