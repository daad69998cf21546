//! The token endpoint's view of applications: who a client is, which secrets it holds and
//! what it may get for a resource. Cached in memory so a token costs no database round
//! trip when warm; invalidated on commit by `caches.rs` (all nodes), `ttl` as the fallback.
//! Bounded by entries and bytes, found clients apart from misses.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kido_proto::TenantId;
use kido_proto::applications::{ACCOUNT_APP_ID, Application, ApplicationType, DEMO_APP_ID, OidcClientMetadata};

use super::token_error::{TokenError, server_error};
use crate::bounded_cache::BoundedCache;
use crate::usage::{CacheUsage, HitCounts};
use crate::{Core, TenantContext, limits};

/// An OAuth client: its application and the secrets it may authenticate with.
#[derive(Debug)]
pub struct Client {
    pub app: Application,
    pub secrets: Vec<ClientSecret>,
}

/// A secret the client may authenticate with; the name is what the audit log records.
#[derive(Debug)]
pub struct ClientSecret {
    pub name: String,
    pub value: String,
    /// Epoch ms.
    pub expires_at: Option<i64>,
}

impl Client {
    pub fn id(&self) -> &str {
        &self.app.id
    }

    /// SPA and Native apps cannot keep a secret: they authenticate with `none` and must use PKCE.
    pub fn is_public(&self) -> bool {
        matches!(self.app.app_type, ApplicationType::Spa | ApplicationType::Native)
    }

    /// Apps a user signs in to (authorization code and refresh token grants).
    pub fn is_interactive(&self) -> bool {
        self.app.app_type != ApplicationType::MachineToMachine
    }
}

/// What a client may receive for one API resource.
#[derive(Debug)]
pub struct ResourceGrant {
    pub indicator: String,
    pub access_token_ttl: i64,
    /// Names of the resource's scopes the client holds through its roles.
    pub scopes: Vec<String>,
}

/// Found entries live apart from misses: an attacker's ever-new ids only push out other
/// misses, never a real client. Each part is bounded by entries and bytes.
pub struct ClientCache {
    /// Bumped by every invalidation: a value read from the database before an invalidation
    /// is not cached after it (it may predate the change that caused it).
    generation: AtomicU64,
    clients: RwLock<BoundedCache<(TenantId, String), Arc<Client>>>,
    missing_clients: RwLock<BoundedCache<(TenantId, String), ()>>,
    grants: RwLock<BoundedCache<(TenantId, String, String), Arc<ResourceGrant>>>,
    missing_grants: RwLock<BoundedCache<(TenantId, String, String), ()>>,
    /// Lookups of clients and of grants that the cache answered (a cached miss included).
    client_hits: HitCounts,
    grant_hits: HitCounts,
}

/// Bounds of the client cache (entries, bytes), per part.
pub const MAX_CLIENTS: (usize, usize) = (10_000, 64 << 20);
pub const MAX_MISSING_CLIENTS: (usize, usize) = (10_000, 4 << 20);
pub const MAX_GRANTS: (usize, usize) = (50_000, 64 << 20);
pub const MAX_MISSING_GRANTS: (usize, usize) = (10_000, 4 << 20);
/// What a map entry costs besides its strings (key, timestamps, Arc, hash slot, order slot).
const ENTRY_OVERHEAD: usize = 160;

fn client_weight(id: &str, c: &Client) -> usize {
    let app = serde_json::to_vec(&c.app).map(|v| v.len()).unwrap_or(4096);
    let secrets: usize = c.secrets.iter().map(|s| s.name.len() + s.value.len() + 32).sum();
    ENTRY_OVERHEAD + id.len() + app + secrets
}

fn grant_weight(client_id: &str, indicator: &str, g: &ResourceGrant) -> usize {
    let scopes: usize = g.scopes.iter().map(|s| s.len() + 24).sum();
    ENTRY_OVERHEAD + client_id.len() + indicator.len() + g.indicator.len() + scopes
}

fn cache<K: Eq + Hash + Clone, V: Clone>(
    ttl: Duration,
    (entries, bytes): (usize, usize),
) -> RwLock<BoundedCache<K, V>> {
    RwLock::new(BoundedCache::new(ttl, entries, bytes))
}

impl ClientCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            generation: AtomicU64::new(0),
            clients: cache(ttl, MAX_CLIENTS),
            missing_clients: cache(ttl, MAX_MISSING_CLIENTS),
            grants: cache(ttl, MAX_GRANTS),
            missing_grants: cache(ttl, MAX_MISSING_GRANTS),
            client_hits: HitCounts::default(),
            grant_hits: HitCounts::default(),
        }
    }

    /// Take before reading what `put_client` / `put_grant` will cache.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn client(&self, tenant: &TenantId, id: &str) -> Option<Option<Arc<Client>>> {
        self.client_hits.count(self.cached_client(tenant, id))
    }

    fn cached_client(&self, tenant: &TenantId, id: &str) -> Option<Option<Arc<Client>>> {
        let key = (tenant.clone(), id.to_owned());
        if let Some(found) = self.clients.read().ok()?.get(&key) {
            return Some(Some(found));
        }
        self.missing_clients.read().ok()?.get(&key).map(|()| None)
    }

    /// Lookups of clients and of grants since start.
    pub fn usage(&self) -> [CacheUsage; 2] {
        [self.client_hits.read("clients"), self.grant_hits.read("grants")]
    }

    /// Caches `value`, read at `generation`, unless an invalidation came in between.
    pub fn put_client(&self, generation: u64, tenant: &TenantId, id: &str, value: Option<Arc<Client>>) {
        let key = (tenant.clone(), id.to_owned());
        let (Ok(mut found), Ok(mut missing)) = (self.clients.write(), self.missing_clients.write()) else { return };
        if self.generation() != generation {
            return;
        }
        match value {
            Some(client) => {
                missing.remove(&key);
                let weight = client_weight(id, &client);
                found.put(key, client, weight);
            }
            None => {
                found.remove(&key);
                missing.put(key, (), ENTRY_OVERHEAD + id.len());
            }
        }
    }

    pub fn grant(&self, tenant: &TenantId, client_id: &str, indicator: &str) -> Option<Option<Arc<ResourceGrant>>> {
        self.grant_hits.count(self.cached_grant(tenant, client_id, indicator))
    }

    fn cached_grant(&self, tenant: &TenantId, client_id: &str, indicator: &str) -> Option<Option<Arc<ResourceGrant>>> {
        let key = (tenant.clone(), client_id.to_owned(), indicator.to_owned());
        if let Some(found) = self.grants.read().ok()?.get(&key) {
            return Some(Some(found));
        }
        self.missing_grants.read().ok()?.get(&key).map(|()| None)
    }

    pub fn put_grant(
        &self,
        generation: u64,
        tenant: &TenantId,
        client_id: &str,
        indicator: &str,
        value: Option<Arc<ResourceGrant>>,
    ) {
        let key = (tenant.clone(), client_id.to_owned(), indicator.to_owned());
        let (Ok(mut found), Ok(mut missing)) = (self.grants.write(), self.missing_grants.write()) else { return };
        if self.generation() != generation {
            return;
        }
        match value {
            Some(grant) => {
                missing.remove(&key);
                let weight = grant_weight(client_id, indicator, &grant);
                found.put(key, grant, weight);
            }
            None => {
                found.remove(&key);
                missing.put(key, (), ENTRY_OVERHEAD + client_id.len() + indicator.len());
            }
        }
    }

    /// Forgets everything: changes may have been missed (see `caches.rs`).
    pub fn clear(&self) {
        self.forget(|_| true);
    }

    /// Forgets everything about a tenant: called after any change to its applications,
    /// secrets, roles, scopes or resources.
    pub fn invalidate(&self, tenant: &TenantId) {
        self.forget(|t| t == tenant);
    }

    /// Drops the entries of the tenants `which` selects; every part is locked while the
    /// generation moves, so no fill that read before can land after.
    fn forget(&self, which: impl Fn(&TenantId) -> bool) {
        let (Ok(mut clients), Ok(mut missing_clients), Ok(mut grants), Ok(mut missing_grants)) =
            (self.clients.write(), self.missing_clients.write(), self.grants.write(), self.missing_grants.write())
        else {
            return;
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        clients.retain(|(t, _)| !which(t));
        missing_clients.retain(|(t, _)| !which(t));
        grants.retain(|(t, _, _)| !which(t));
        missing_grants.retain(|(t, _, _)| !which(t));
    }
}

/// A client by id, from the cache when warm.
pub(crate) async fn find(
    core: &Core,
    tenant: &TenantContext,
    client_id: &str,
) -> Result<Option<Arc<Client>>, TokenError> {
    // Longer than any id Kido issues: unknown without a lookup, and never cached.
    if client_id.len() > limits::MAX_CLIENT_ID_LEN {
        return Ok(None);
    }
    let cache = &core.clients;
    if let Some(hit) = cache.client(&tenant.id, client_id) {
        return Ok(hit);
    }
    let generation = cache.generation();
    let mut c = core.store.conn().await.map_err(server_error)?;
    let app = kido_store::applications::find(&mut c, &tenant.id, client_id).await.map_err(server_error)?;
    let client = match app {
        None => None,
        Some(app) => {
            let mut app = crate::rows::application(app);
            if app.id == DEMO_APP_ID {
                app.oidc_client_metadata = demo_app_uris(&tenant.issuer);
            }
            if app.id == ACCOUNT_APP_ID {
                app.oidc_client_metadata = account_app_uris(&tenant.issuer);
            }
            let secrets =
                kido_store::applications::list_secrets(&mut c, &tenant.id, client_id).await.map_err(server_error)?;
            let secrets = secrets
                .into_iter()
                .map(|s| ClientSecret { name: s.name, value: s.value, expires_at: s.expires_at })
                .collect();
            Some(Arc::new(Client { app, secrets }))
        }
    };
    cache.put_client(generation, &tenant.id, client_id, client.clone());
    Ok(client)
}

/// The Live Preview app signs in and out at `<endpoint>/demo-app` of whatever endpoint the
/// tenant has now (the issuer is `<endpoint>/oidc`), as Logto builds it per request.
fn demo_app_uris(issuer: &str) -> OidcClientMetadata {
    let endpoint = issuer.strip_suffix("/oidc").unwrap_or(issuer);
    let uri = format!("{endpoint}/demo-app");
    OidcClientMetadata { redirect_uris: vec![uri.clone()], post_logout_redirect_uris: vec![uri], ..Default::default() }
}

/// The account pages sign in at `<endpoint>/account/callback` and out to `<endpoint>/account`.
fn account_app_uris(issuer: &str) -> OidcClientMetadata {
    let endpoint = issuer.strip_suffix("/oidc").unwrap_or(issuer);
    OidcClientMetadata {
        redirect_uris: vec![format!("{endpoint}/account/callback")],
        post_logout_redirect_uris: vec![format!("{endpoint}/account")],
        ..Default::default()
    }
}

/// What `client_id` may get for the resource `indicator` names (the tenant's default
/// resource without one), from the cache when warm; `None` when there is no such resource.
pub(crate) async fn resource_grant(
    core: &Core,
    tenant: &TenantContext,
    client_id: &str,
    indicator: Option<&str>,
) -> Result<Option<Arc<ResourceGrant>>, TokenError> {
    let cache = &core.clients;
    let key = indicator.unwrap_or("");
    if let Some(hit) = cache.grant(&tenant.id, client_id, key) {
        return Ok(hit);
    }
    let generation = cache.generation();
    let mut c = core.store.conn().await.map_err(server_error)?;
    let resource = match indicator {
        Some(i) => kido_store::resources::find_by_indicator(&mut c, &tenant.id, i).await,
        None => kido_store::resources::find_default(&mut c, &tenant.id).await,
    }
    .map_err(server_error)?;
    let grant = match resource {
        None => None,
        Some(r) => {
            let scopes = kido_store::roles::application_scope_names(&mut c, &tenant.id, client_id, &r.id)
                .await
                .map_err(server_error)?;
            Some(Arc::new(ResourceGrant { indicator: r.indicator, access_token_ttl: r.access_token_ttl, scopes }))
        }
    };
    cache.put_grant(generation, &tenant.id, client_id, key, grant.clone());
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> Arc<Client> {
        let app: Application = serde_json::from_value(serde_json::json!({
            "id": id, "tenantId": "default", "name": "app", "description": null, "type": "MachineToMachine",
            "oidcClientMetadata": {"redirectUris": [], "postLogoutRedirectUris": []},
            "customClientMetadata": {}, "protectedAppMetadata": null, "customData": {}, "isThirdParty": false,
            "createdAt": 0
        }))
        .unwrap();
        let secret = ClientSecret { name: "Default secret".into(), value: "s".repeat(32), expires_at: None };
        Arc::new(Client { app, secrets: vec![secret] })
    }

    #[test]
    fn misses_are_bounded_and_never_push_out_real_clients() {
        let cache = ClientCache::new(Duration::from_secs(60));
        let tenant = TenantId::new("default");
        cache.put_client(cache.generation(), &tenant, "real", Some(client("real")));
        for i in 0..(MAX_MISSING_CLIENTS.0 * 2) {
            cache.put_client(cache.generation(), &tenant, &format!("{i:0>128}"), None);
        }
        let missing = cache.missing_clients.read().unwrap();
        assert_eq!(missing.len(), MAX_MISSING_CLIENTS.0, "bounded by entries, oldest out");
        assert!(missing.bytes() <= MAX_MISSING_CLIENTS.1);
        drop(missing);
        assert!(matches!(cache.client(&tenant, "real"), Some(Some(_))), "the real client stays");
        assert!(matches!(cache.client(&tenant, &format!("{:0>128}", MAX_MISSING_CLIENTS.0 * 2 - 1)), Some(None)));
        assert!(cache.client(&tenant, &format!("{:0>128}", 0)).is_none(), "the oldest miss was evicted");
        cache.invalidate(&tenant);
        assert!(cache.client(&tenant, "real").is_none());
    }

    fn grant() -> Option<Arc<ResourceGrant>> {
        Some(Arc::new(ResourceGrant { indicator: "https://api".into(), access_token_ttl: 60, scopes: vec![] }))
    }

    /// A value read before an invalidation (the change it reports was not visible to the
    /// read) is not cached after it.
    #[test]
    fn a_fill_that_read_before_an_invalidation_is_dropped() {
        let cache = ClientCache::new(Duration::from_secs(10));
        let tenant = TenantId::new("default");
        let read_at = cache.generation();
        cache.invalidate(&tenant);
        cache.put_grant(read_at, &tenant, "app", "https://api", grant());
        cache.put_client(read_at, &tenant, "app", None);
        assert!(cache.grant(&tenant, "app", "https://api").is_none());
        assert!(cache.client(&tenant, "app").is_none());

        let read_at = cache.generation();
        cache.put_grant(read_at, &tenant, "app", "https://api", grant());
        assert!(cache.grant(&tenant, "app", "https://api").is_some());
        cache.clear();
        assert!(cache.grant(&tenant, "app", "https://api").is_none());
    }
}
