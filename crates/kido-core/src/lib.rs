//! Kido's domain: the rules of applications, resources, roles and the OIDC protocol,
//! with no HTTP in them. Each feature module owns its rules, its transaction and its
//! error enum; `kido-store` owns the SQL; `kido-server` maps errors to the wire.

pub mod applications;
pub mod audit;
pub mod bootstrap;
mod bounded_cache;
mod caches;
pub mod clock;
pub mod connectors;
pub mod experience;
mod identifiers;
pub mod ids;
pub mod interaction;
pub mod limits;
pub mod oidc;
pub mod organizations;
pub mod passwords;
pub mod rate_limits;
pub mod resources;
pub mod roles;
mod rows;
pub mod sign_in_experience;
pub mod sso_connectors;
pub mod storage;
pub mod users;
mod validate;
pub mod verification_codes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use kido_proto::TenantId;
use kido_store::{Store, StoreError};
use thiserror::Error;

use crate::oidc::clients::ClientCache;
use crate::oidc::keys::{KeyError, KeyRing, SigningKey};

/// What a client is told while the database's disk is full (`StoreError::Full`).
pub const STORAGE_FULL_MESSAGE: &str = "The server's storage is full and cannot save changes. Free disk space on the database host; writes resume on their own.";

/// Where a tenant is served: its id and its OIDC issuer (`{endpoint}/oidc`).
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub id: TenantId,
    pub issuer: String,
}

#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// How long a node keeps cached clients, grants and sign-in experiences; the bound on
    /// staleness only while the cross-node invalidation channel is down.
    pub client_cache_ttl: Duration,
    /// argon2id cost of stored passwords.
    pub hash_cost: passwords::HashCost,
    /// Password checks that may wait for a hashing thread.
    pub password_queue_limit: usize,
    /// Password checks per client IP and per identifier in a window.
    pub password_rate_limits: rate_limits::PasswordRateLimits,
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
            password_queue_limit: passwords::default_queue_limit(),
            password_rate_limits: rate_limits::PasswordRateLimits::default(),
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
    /// The caches below drop what a committed write changed: on the writing node before it
    /// answers, on the others through PostgreSQL's NOTIFY (`caches.rs`); the TTL is the
    /// fallback while that channel is down.
    clients: Arc<ClientCache>,
    /// Each tenant's sign-in experience, read on every Experience API request.
    sign_in_experiences: Arc<sign_in_experience::Cache>,
    /// The task hearing other nodes' changes (PostgreSQL only).
    change_listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    passwords: passwords::Passwords,
    password_rate_limits: rate_limits::PasswordRateLimits,
    /// Outgoing HTTP (connectors); one pool for the process.
    http: reqwest::Client,
    outbox_dir: Option<PathBuf>,
    max_pending_interactions_per_ip: u32,
}

impl Drop for Core {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Core {
    /// Loads the signing keys of `tenants` (run the bootstrap first).
    pub async fn start(store: Store, tenants: &[TenantId], options: &CoreOptions) -> Result<Self, StartError> {
        let core = Self {
            store,
            key_rings: RwLock::default(),
            clients: Arc::new(ClientCache::new(options.client_cache_ttl)),
            sign_in_experiences: Arc::new(sign_in_experience::Cache::new(options.client_cache_ttl)),
            change_listener: Mutex::default(),
            passwords: passwords::Passwords::new(options.hash_cost, options.password_queue_limit)?,
            password_rate_limits: options.password_rate_limits,
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
        caches::invalidate_on_change(&core.store, core.clients.clone(), core.sign_in_experiences.clone());
        if let Ok(mut listener) = core.change_listener.lock() {
            *listener = core.store.spawn_change_listener();
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

    /// The password hasher (its queue and job count).
    pub fn passwords(&self) -> &passwords::Passwords {
        &self.passwords
    }

    /// Deletes expired interactions, sessions, grants, tokens, codes, sign-in failure
    /// windows and rate-limit counters (all tenants).
    pub async fn sweep_expired(&self) -> Result<u64, storage::StorageError> {
        let mut c = self.store.conn().await?;
        let now = clock::now_ms();
        let sign_in = kido_store::oidc::delete_expired(&mut c, now).await?;
        let codes = kido_store::verification_codes::delete_expired(&mut c, now, now - 24 * 3600 * 1000).await?;
        let failures = experience::sentinel::sweep(&mut c, now).await?;
        let limits = kido_store::rate_limits::delete_expired(&mut c, now).await?;
        Ok(sign_in + codes + failures + limits)
    }

    /// The authorization endpoint: authorize, resume, interactions (`oidc/authorize.rs`).
    pub fn authorization(&self) -> oidc::authorize::Authorization<'_> {
        oidc::authorize::Authorization { core: self }
    }

    /// The token endpoint's `client_credentials` grant.
    pub fn client_credentials(&self) -> oidc::ClientCredentials<'_> {
        oidc::ClientCredentials { core: self }
    }

    /// The token endpoint's user grants: `authorization_code`, `refresh_token`.
    pub fn user_grants(&self) -> oidc::grants::UserGrants<'_> {
        oidc::grants::UserGrants { core: self }
    }

    /// Userinfo, introspection and revocation of issued tokens.
    pub fn issued_tokens(&self) -> oidc::issued_tokens::IssuedTokens<'_> {
        oidc::issued_tokens::IssuedTokens { core: self }
    }

    /// RP-initiated logout.
    pub fn logout(&self) -> oidc::logout::Logout<'_> {
        oidc::logout::Logout { core: self }
    }

    /// The Management API's bearer-token check.
    pub fn management_auth(&self) -> oidc::management_auth::ManagementAuth<'_> {
        oidc::management_auth::ManagementAuth { core: self }
    }

    /// Stops the cross-node invalidation listener (the server's shutdown).
    pub fn stop(&self) {
        if let Ok(mut listener) = self.change_listener.lock()
            && let Some(task) = listener.take()
        {
            task.abort();
        }
    }
}
