//! What every request can reach: the domain core (shared by all tenants) and the site of
//! the tenant the request came in for.

use std::sync::Arc;

use kido_core::{Core, TenantContext};
use kido_proto::TenantId;

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub tenant: Arc<TenantSite>,
    /// The OpenAPI document, built once from the routes.
    /// The Management API's OpenAPI document, serialized once, without `servers`.
    pub openapi: Arc<str>,
}

/// A tenant as served on one listener.
pub struct TenantSite {
    pub context: TenantContext,
    /// Whether `X-Forwarded-For` names the client (set behind a trusted proxy).
    pub trust_proxy_header: bool,
    /// `STATUS_API_KEY`: who presents it learns the tenant id from `GET /api/status`.
    pub status_api_key: Option<Arc<str>>,
    /// Public origin and path prefix, without a trailing slash (`http://localhost:3001`).
    pub origin: String,
    /// Discovery document, rendered once.
    pub discovery_json: String,
}

impl TenantSite {
    /// The tenant this listener serves: what every Management API handler scopes its calls to.
    pub fn id(&self) -> &TenantId {
        &self.context.id
    }

    /// Cookies get `Secure` when the public endpoint is https.
    pub fn secure_cookies(&self) -> bool {
        self.origin.starts_with("https://")
    }
}
