//! The token endpoint's view of applications: who a client is, which secrets it holds and
//! what it may get for a resource. Cached in memory so a token costs no database round
//! trip when warm; invalidated on commit by `caches.rs` (all nodes), `ttl` as the fallback.

use std::collections::HashMap;
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
    clients: RwLock<HashMap<(TenantId, String), Entry<Client>>>,
    grants: RwLock<HashMap<(TenantId, String, String), Entry<ResourceGrant>>>,
}

const MAX_ENTRIES: usize = 50_000;

impl ClientCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, clients: RwLock::default(), grants: RwLock::default() }
    }

    pub fn client(&self, tenant: &TenantId, id: &str) -> Option<Option<Arc<Client>>> {
        let map = self.clients.read().ok()?;
        let (at, value) = map.get(&(tenant.clone(), id.to_owned()))?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn put_client(&self, tenant: &TenantId, id: &str, value: Option<Arc<Client>>) {
        if let Ok(mut map) = self.clients.write() {
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

    pub fn put_grant(&self, tenant: &TenantId, client_id: &str, indicator: &str, value: Option<Arc<ResourceGrant>>) {
        if let Ok(mut map) = self.grants.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert((tenant.clone(), client_id.to_owned(), indicator.to_owned()), (Instant::now(), value));
        }
    }

    /// Forgets everything: changes may have been missed (see `caches.rs`).
    pub fn clear(&self) {
        if let Ok(mut map) = self.clients.write() {
            map.clear();
        }
        if let Ok(mut map) = self.grants.write() {
            map.clear();
        }
    }

    /// Forgets everything about a tenant: called after any change to its applications,
    /// secrets, roles, scopes or resources.
    pub fn invalidate(&self, tenant: &TenantId) {
        if let Ok(mut map) = self.clients.write() {
            map.retain(|(t, _), _| t != tenant);
        }
        if let Ok(mut map) = self.grants.write() {
            map.retain(|(t, _, _), _| t != tenant);
        }
    }
}
