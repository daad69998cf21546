//! What every request can reach: the domain core (shared by all tenants) and the site of
//! the tenant the request came in for.

use std::sync::Arc;

use kido_core::{Core, TenantContext};
use kido_proto::TenantId;

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub tenant: Arc<TenantSite>,
    /// The Management API's OpenAPI document (one for every tenant).
    pub openapi: Arc<OpenApiDocument>,
}

/// The Management API's OpenAPI document, serialized without `servers`: built on the first
/// request for it and kept from then on, so an idle process never holds it.
pub struct OpenApiDocument {
    build: fn() -> String,
    built: tokio::sync::OnceCell<Arc<str>>,
}

impl OpenApiDocument {
    pub fn new(build: fn() -> String) -> Self {
        Self { build, built: tokio::sync::OnceCell::new() }
    }

    /// The document; the first caller builds it on a blocking thread, the others wait for it.
    /// `None` if building failed (it is tried again on the next request).
    pub async fn get(&self) -> Option<Arc<str>> {
        let build = self.build;
        let built = self.built.get_or_try_init(|| async {
            let document = tokio::task::spawn_blocking(move || {
                let document: Arc<str> = build().into();
                // Building it took several times its size, all freed now.
                crate::memory::release_free_memory();
                document
            });
            document.await
        });
        built.await.ok().cloned()
    }
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
