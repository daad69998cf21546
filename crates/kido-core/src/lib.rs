//! Kido's domain: the rules of applications, resources, roles and the OIDC protocol,
//! with no HTTP in them. Each feature module owns its rules, its transaction and its
//! error enum; `kido-store` owns the SQL; `kido-server` maps errors to the wire.

pub mod account;
pub mod applications;
pub mod audit;
mod audit_buffer;
pub mod bootstrap;
mod bounded_cache;
mod caches;
pub mod clock;
pub mod connectors;
pub mod events;
pub mod experience;
mod identifiers;
pub mod ids;
pub mod interaction;
pub mod limits;
pub mod mfa;
pub mod oidc;
pub mod one_time_tokens;
pub mod organizations;
pub mod outbound;
pub mod passwords;
pub mod rate_limits;
pub mod redirect_uris;
pub mod resources;
pub mod roles;
mod rows;
pub mod sealing;
pub mod sign_in_experience;
pub mod sso_connectors;
pub mod storage;
pub mod usage;
pub mod users;
mod validate;
pub mod vault;
pub mod verification_codes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

pub use kido_proto::{ApplicationId, OrganizationId, TenantId, UserId};
use kido_store::Store;
use thiserror::Error;

use crate::oidc::clients::ClientCache;
use crate::oidc::cookie_key::CookieKey;
use crate::oidc::keys::{KeyError, KeyRing, SigningKey};

/// What a client is told while the database's disk is full (`StorageError::Full`).
pub const STORAGE_FULL_MESSAGE: &str = "The server's storage is full and cannot save changes. Free disk space on the database host; writes resume on their own.";

/// Where a tenant is served: its id and its OIDC issuer (`{endpoint}/oidc`).
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub id: TenantId,
    pub issuer: String,
}

/// Audit entries the in-memory queue holds before dropping its oldest (`audit_buffer.rs`).
const AUDIT_QUEUE_CAPACITY: usize = 10_000;

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
    /// The key secrets at rest are sealed with (`KIDO_SECRET_VAULT_KEK` or the data dir's
    /// key file); none: a random key for this process only (tests).
    pub sealing_key: Option<Arc<sealing::SealingKey>>,
    /// Where sign-ins, tokens issued and lockouts are reported (the server's log and metrics).
    pub events: Arc<dyn events::EventSink>,
    /// Outgoing calls may reach private, loopback and link-local addresses
    /// (`KIDO_OUTBOUND_ALLOW_PRIVATE`; see `outbound`).
    pub outbound_allow_private: bool,
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
            sealing_key: None,
            events: Arc::new(events::Silent),
            outbound_allow_private: false,
        }
    }
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Passwords(#[from] passwords::PasswordError),
    #[error("tenant {0} has no current signing key")]
    NoSigningKey(TenantId),
    #[error(transparent)]
    Sealing(#[from] sealing::SealingError),
    #[error(
        "the secret key does not open the secrets already in this database ({0}). Start with the KIDO_SECRET_VAULT_KEK they were sealed with, or give it in KIDO_SECRET_VAULT_PREVIOUS_KEKS"
    )]
    WrongSecretKey(vault::RotationError),
}

storage::from_store_error!(StartError);

/// Everything a request needs from the domain; one per process, shared by all tenants.
pub struct Core {
    pub store: Store,
    key_rings: RwLock<HashMap<TenantId, Arc<KeyRing>>>,
    /// Each tenant's cookie key, read (or made) at start.
    cookie_keys: RwLock<HashMap<TenantId, Arc<CookieKey>>>,
    /// The caches below drop what a committed write changed: on the writing node before it
    /// answers, on the others through PostgreSQL's NOTIFY (`caches.rs`); the TTL is the
    /// fallback while that channel is down.
    clients: Arc<ClientCache>,
    /// Each tenant's sign-in experience, read on every Experience API request.
    sign_in_experiences: Arc<sign_in_experience::Cache>,
    /// The task hearing other nodes' changes (PostgreSQL only).
    change_listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Audit entries written off the token endpoint's path, and the task writing them.
    audit_buffer: Arc<audit_buffer::AuditBuffer>,
    audit_writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    passwords: passwords::Passwords,
    password_rate_limits: rate_limits::PasswordRateLimits,
    /// Outgoing HTTP (connectors); one pool for the process, made on first use: building
    /// it reads and parses the system's root certificates, which start-up need not wait
    /// for and most processes never use.
    http: OnceLock<reqwest::Client>,
    outbox_dir: Option<PathBuf>,
    max_pending_interactions_per_ip: u32,
    sealing_key: Arc<sealing::SealingKey>,
    events: Arc<dyn events::EventSink>,
    outbound_allow_private: bool,
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
            cookie_keys: RwLock::default(),
            clients: Arc::new(ClientCache::new(options.client_cache_ttl)),
            sign_in_experiences: Arc::new(sign_in_experience::Cache::new(options.client_cache_ttl)),
            change_listener: Mutex::default(),
            audit_buffer: Arc::new(audit_buffer::AuditBuffer::new(AUDIT_QUEUE_CAPACITY)),
            audit_writer: Mutex::default(),
            passwords: passwords::Passwords::new(options.hash_cost, options.password_queue_limit)?,
            password_rate_limits: options.password_rate_limits,
            http: OnceLock::new(),
            outbox_dir: options.outbox_dir.clone(),
            max_pending_interactions_per_ip: options.max_pending_interactions_per_ip,
            sealing_key: match &options.sealing_key {
                Some(key) => key.clone(),
                None => Arc::new(sealing::SealingKey::ephemeral()?),
            },
            events: options.events.clone(),
            outbound_allow_private: options.outbound_allow_private,
        };
        vault::check_key(&core.store, &core.sealing_key).await.map_err(|e| match e {
            vault::RotationError::Store(e) => StartError::Store(e),
            wrong => StartError::WrongSecretKey(wrong),
        })?;
        for tenant in tenants {
            core.reload_keys(tenant).await?;
            let mut c = core.store.conn().await?;
            let key = Arc::new(oidc::cookie_key::load_or_create(&mut c, tenant).await?);
            if let Ok(mut keys) = core.cookie_keys.write() {
                keys.insert(tenant.clone(), key);
            }
        }
        caches::invalidate_on_change(&core.store, core.clients.clone(), core.sign_in_experiences.clone());
        if let Ok(mut listener) = core.change_listener.lock() {
            *listener = core.store.spawn_change_listener();
        }
        if let Ok(mut writer) = core.audit_writer.lock() {
            let (buffer, store) = (core.audit_buffer.clone(), core.store.clone());
            *writer = Some(tokio::spawn(async move { buffer.run(store).await }));
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

    /// The process's outgoing HTTP client (`outbound`: bounded, no redirects, private
    /// addresses refused unless allowed), built on first use on a blocking thread (it reads
    /// the system's root certificates from disk).
    pub(crate) async fn http_client(&self) -> Result<reqwest::Client, connectors::ConnectorError> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let allow_private = self.outbound_allow_private;
        let built = tokio::task::spawn_blocking(move || outbound::build_client(allow_private))
            .await
            .map_err(|e| connectors::ConnectorError::Delivery(format!("HTTP client: {e}")))?
            .map_err(|e| connectors::ConnectorError::Delivery(format!("HTTP client: {e}")))?;
        // Two first uses at once may both build one; the first stored is kept.
        Ok(self.http.get_or_init(|| built).clone())
    }

    /// Whether outgoing calls may reach private addresses (`KIDO_OUTBOUND_ALLOW_PRIVATE`).
    pub fn outbound_allow_private(&self) -> bool {
        self.outbound_allow_private
    }

    /// The tenant's cookie key (signs `_session`), held ready in memory.
    pub fn cookie_key(&self, tenant: &TenantId) -> Option<Arc<CookieKey>> {
        self.cookie_keys.read().ok()?.get(tenant).cloned()
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

    /// The Account and Verification APIs and the account center settings (`account/`).
    pub fn account(&self) -> account::Account<'_> {
        account::Account { core: self }
    }

    pub fn mfa(&self) -> mfa::Mfa<'_> {
        mfa::Mfa { core: self }
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

    pub fn one_time_tokens(&self) -> one_time_tokens::OneTimeTokens<'_> {
        one_time_tokens::OneTimeTokens { core: self }
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
        experience::Experience { core: self, offers_passkeys: true }
    }

    /// The Experience API's steps as the hosted pages take them: they have no page for the
    /// "add a passkey?" suggestion (`user.passkey_preferred`), so they are never asked it.
    pub fn hosted_experience(&self) -> experience::Experience<'_> {
        experience::Experience { core: self, offers_passkeys: false }
    }

    /// The password hasher (its queue and job count).
    pub fn passwords(&self) -> &passwords::Passwords {
        &self.passwords
    }

    /// Deletes expired interactions, sessions, grants, tokens, codes, sign-in failure
    /// windows, rate-limit counters and verification records (all tenants).
    pub async fn sweep_expired(&self) -> Result<u64, storage::StorageError> {
        let mut c = self.store.conn().await?;
        let now = clock::now_ms();
        let sign_in = kido_store::oidc::delete_expired(&mut c, now).await?;
        let codes = kido_store::verification_codes::delete_expired(&mut c, now, now - 24 * 3600 * 1000).await?;
        let failures = experience::sentinel::sweep(&mut c, now).await?;
        let limits = kido_store::rate_limits::delete_expired(&mut c, now).await?;
        let records = kido_store::verification_records::delete_expired(&mut c, now).await?;
        Ok(sign_in + codes + failures + limits + records)
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

    /// A user's sessions and grants, listed and revoked (Management and Account APIs).
    pub fn user_sessions(&self) -> oidc::user_sessions::UserSessions<'_> {
        oidc::user_sessions::UserSessions { core: self }
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
        for task in [&self.change_listener, &self.audit_writer] {
            if let Ok(mut task) = task.lock()
                && let Some(task) = task.take()
            {
                task.abort();
            }
        }
    }

    /// Writes the queued audit entries (before the log is read, and at shutdown).
    pub async fn flush_audit(&self) {
        self.audit_buffer.flush(&self.store).await;
    }

    /// Queued audit entries dropped since start (a full queue, or a failed write).
    pub fn audit_entries_dropped(&self) -> u64 {
        self.audit_buffer.dropped()
    }

    /// Reports what just happened to the server's sink (log line, metrics).
    pub(crate) fn report(&self, event: events::Event<'_>) {
        self.events.record(&event);
    }

    /// Whether the database answers and has this build's schema (`GET /api/status/ready`).
    pub async fn readiness(&self) -> Result<(), storage::NotReady> {
        storage::check_ready(&self.store, storage::READINESS_TIMEOUT).await
    }

    /// The queues, pool and caches as they are now, for the metrics.
    pub fn usage(&self) -> usage::Usage {
        let (password_jobs, password_capacity) = self.passwords.queue();
        let pool = self.store.pool_usage();
        let mut caches = self.clients.usage().to_vec();
        caches.push(self.sign_in_experiences.usage());
        usage::Usage {
            password_jobs,
            password_capacity,
            passwords_hashed: self.passwords.jobs_run(),
            db_connections: pool.open,
            db_idle: pool.idle,
            db_max: pool.max,
            audit_queued: self.audit_buffer.queued(),
            audit_dropped: self.audit_buffer.dropped(),
            caches,
        }
    }
}
