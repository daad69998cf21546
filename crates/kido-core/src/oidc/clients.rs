//! The token endpoint's view of applications: who a client is, which secrets it holds and
//! what it may get for a resource. Cached in memory so a token costs no database round
//! trip when warm; invalidated on commit by `caches.rs` (all nodes), `ttl` as the fallback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kido_proto::TenantId;
use kido_proto::applications::{Application, ApplicationType};

/// An OAuth client: its application and the secrets it may authenticate with.
#[derive(Debug)]
pub struct Client {
    pub app: Application,
    /// (value, expires_at in epoch ms)
    pub secrets: Vec<(String, Option<i64>)>,
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

type Entry<T> = (Instant, Option<Arc<T>>);

/// Bounded, time-limited cache; misses (unknown client, unknown resource) are cached too
/// so that guessing ids does not turn into database load.
pub struct ClientCache {
    ttl: Duration,
    /// Bumped by every invalidation: a value read from the database before an invalidation
    /// is not cached after it (it may predate the change that caused it).
    generation: AtomicU64,
    clients: RwLock<HashMap<(TenantId, String), Entry<Client>>>,
    grants: RwLock<HashMap<(TenantId, String, String), Entry<ResourceGrant>>>,
}

const MAX_ENTRIES: usize = 50_000;

impl ClientCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, generation: AtomicU64::new(0), clients: RwLock::default(), grants: RwLock::default() }
    }

    /// Take before reading what `put_client` / `put_grant` will cache.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn client(&self, tenant: &TenantId, id: &str) -> Option<Option<Arc<Client>>> {
        let map = self.clients.read().ok()?;
        let (at, value) = map.get(&(tenant.clone(), id.to_owned()))?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Caches `value`, read at `generation`, unless an invalidation came in between.
    pub fn put_client(&self, generation: u64, tenant: &TenantId, id: &str, value: Option<Arc<Client>>) {
        if let Ok(mut map) = self.clients.write() {
            if self.generation() != generation {
                return;
            }
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert((tenant.clone(), id.to_owned()), (Instant::now(), value));
        }
    }

    pub fn grant(&self, tenant: &TenantId, client_id: &str, indicator: &str) -> Option<Option<Arc<ResourceGrant>>> {
        let map = self.grants.read().ok()?;
        let (at, value) = map.get(&(tenant.clone(), client_id.to_owned(), indicator.to_owned()))?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn put_grant(
        &self,
        generation: u64,
        tenant: &TenantId,
        client_id: &str,
        indicator: &str,
        value: Option<Arc<ResourceGrant>>,
    ) {
        if let Ok(mut map) = self.grants.write() {
            if self.generation() != generation {
                return;
            }
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert((tenant.clone(), client_id.to_owned(), indicator.to_owned()), (Instant::now(), value));
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

    /// Drops the entries of the tenants `which` selects; both maps are locked while the
    /// generation moves, so no fill that read before can land after.
    fn forget(&self, which: impl Fn(&TenantId) -> bool) {
        let (Ok(mut clients), Ok(mut grants)) = (self.clients.write(), self.grants.write()) else { return };
        self.generation.fetch_add(1, Ordering::AcqRel);
        clients.retain(|(t, _), _| !which(t));
        grants.retain(|(t, _, _), _| !which(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
