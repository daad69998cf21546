//! Kido's domain: the rules of applications, resources, roles and the OIDC protocol,
//! with no HTTP in them. Each feature module owns its rules, its transaction and its
//! error enum; `kido-store` owns the SQL; `kido-server` maps errors to the wire.

pub mod applications;
pub mod audit;
pub mod bootstrap;
mod bounded_cache;
pub mod clock;
pub mod connectors;
pub mod experience;
pub mod ids;
pub mod limits;
pub mod oidc;
pub mod organizations;
pub mod passwords;
pub mod resources;
pub mod roles;
pub mod sign_in_experience;
pub mod sso_connectors;
pub mod users;
mod validate;
pub mod verification_codes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use kido_proto::TenantId;
pub use kido_store::{Page, Store, StoreError, StoreOptions};
use thiserror::Error;

use crate::oidc::clients::ClientCache;
use crate::oidc::keys::{KeyError, KeyRing, SigningKey};

/// Where a tenant is served: its id and its OIDC issuer (`{endpoint}/oidc`).
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub id: TenantId,
    pub issuer: String,
}

#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// How long other nodes may keep using a client's cached secrets and grants.
    pub client_cache_ttl: Duration,
    /// argon2id cost of stored passwords.
    pub hash_cost: passwords::HashCost,
    /// Where the development connectors write messages (`<data dir>/outbox`).
    pub outbox_dir: Option<PathBuf>,
    /// Sign-ins one client address may have pending (within the interaction TTL).
    pub max_pending_interactions_per_ip: u32,
}

impl Default for CoreOptions {
    fn default() -> Self {
        Self {
            client_cache_ttl: Duration::from_secs(10),
            hash_cost: passwords::HashCost::default(),
            outbox_dir: None,
            max_pending_interactions_per_ip: 100,
        }
    }
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Passwords(#[from] passwords::PasswordError),
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("tenant {0} has no current signing key")]
    NoSigningKey(TenantId),
}

/// Everything a request needs from the domain; one per process, shared by all tenants.
pub struct Core {
    pub store: Store,
    key_rings: RwLock<HashMap<TenantId, Arc<KeyRing>>>,
    clients: ClientCache,
    /// Each tenant's sign-in experience, read on every Experience API request: kept for the
    /// client cache's TTL, dropped at once by a local update (other nodes: within the TTL).
    sign_in_experiences: sign_in_experience::Cache,
    passwords: passwords::Passwords,
    /// Outgoing HTTP (connectors); one pool for the process.
    http: reqwest::Client,
    outbox_dir: Option<PathBuf>,
    max_pending_interactions_per_ip: u32,
}

impl Core {
    /// Loads the signing keys of `tenants` (run the bootstrap first).
    pub async fn start(store: Store, tenants: &[TenantId], options: &CoreOptions) -> Result<Self, StartError> {
        let core = Self {
            store,
            key_rings: RwLock::default(),
            clients: ClientCache::new(options.client_cache_ttl),
            sign_in_experiences: sign_in_experience::Cache::new(options.client_cache_ttl),
            passwords: passwords::Passwords::new(options.hash_cost)?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .user_agent(concat!("Kido/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| StartError::Http(e.to_string()))?,
            outbox_dir: options.outbox_dir.clone(),
            max_pending_interactions_per_ip: options.max_pending_interactions_per_ip,
        };
        for tenant in tenants {
            core.reload_keys(tenant).await?;
        }
        Ok(core)
    }

    /// Re-reads a tenant's keys from the database and parses them once.
    pub async fn reload_keys(&self, tenant: &TenantId) -> Result<Arc<KeyRing>, StartError> {
        let mut conn = self.store.conn().await?;
        let stored = kido_store::signing_keys::list(&mut conn, tenant).await?;
        let mut keys = Vec::with_capacity(stored.len());
        let mut current = None;
        for k in stored {
            let key = Arc::new(SigningKey::from_pem(k.id, &k.algorithm, &k.private_key)?);
            if k.status == "Current" && current.is_none() {
                current = Some(key.clone());
            }
            keys.push(key);
        }
        let current = current.ok_or_else(|| StartError::NoSigningKey(tenant.clone()))?;
        let ring = Arc::new(KeyRing::new(current, keys));
        if let Ok(mut rings) = self.key_rings.write() {
            rings.insert(tenant.clone(), ring.clone());
        }
        Ok(ring)
    }

    /// The tenant's keys, held ready in memory.
    pub fn key_ring(&self, tenant: &TenantId) -> Option<Arc<KeyRing>> {
        self.key_rings.read().ok()?.get(tenant).cloned()
    }

    pub fn applications(&self) -> applications::Applications<'_> {
        applications::Applications { core: self }
    }

    pub fn resources(&self) -> resources::Resources<'_> {
        resources::Resources { core: self }
    }

    pub fn roles(&self) -> roles::Roles<'_> {
        roles::Roles { core: self }
    }

    pub fn users(&self) -> users::Users<'_> {
        users::Users { core: self }
    }

    pub fn sign_in_experiences(&self) -> sign_in_experience::SignInExperiences<'_> {
        sign_in_experience::SignInExperiences { core: self }
    }

    pub fn connectors(&self) -> connectors::Connectors<'_> {
        connectors::Connectors { core: self }
    }

    pub fn email_templates(&self) -> connectors::email_templates::EmailTemplates<'_> {
        connectors::email_templates::EmailTemplates { core: self }
    }

    pub fn verification_codes(&self) -> verification_codes::VerificationCodes<'_> {
        verification_codes::VerificationCodes { core: self }
    }

    pub fn organizations(&self) -> organizations::Organizations<'_> {
        organizations::Organizations { core: self }
    }

    pub fn organization_roles(&self) -> organizations::template::OrganizationRoles<'_> {
        organizations::template::OrganizationRoles { core: self }
    }

    pub fn organization_scopes(&self) -> organizations::template::OrganizationScopes<'_> {
        organizations::template::OrganizationScopes { core: self }
    }

    pub fn organization_invitations(&self) -> organizations::invitations::Invitations<'_> {
        organizations::invitations::Invitations { core: self }
    }

    pub fn sso_connectors(&self) -> sso_connectors::SsoConnectors<'_> {
        sso_connectors::SsoConnectors { core: self }
    }

    pub fn logs(&self) -> audit::Logs<'_> {
        audit::Logs { core: self }
    }

    pub fn experience(&self) -> experience::Experience<'_> {
        experience::Experience { core: self }
    }

    /// Deletes expired interactions, sessions, grants and tokens (all tenants).
    pub async fn sweep_expired(&self) -> Result<u64, StoreError> {
        let mut c = self.store.conn().await?;
        let now = clock::now_ms();
        let sign_in = kido_store::oidc::delete_expired(&mut c, now).await?;
        let codes = kido_store::verification_codes::delete_expired(&mut c, now, now - 24 * 3600 * 1000).await?;
        Ok(sign_in + codes)
    }

    pub fn oidc(&self) -> oidc::Oidc<'_> {
        oidc::Oidc { core: self }
    }

    /// Called after every change that can alter what a client may get at the token endpoint.
    fn clients_changed(&self, tenant: &TenantId) {
        self.clients.invalidate(tenant);
    }
}
