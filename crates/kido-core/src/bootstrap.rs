//! First start: the tenants, their signing keys, each tenant's Management API resource
//! with its `all` scope and an M2M role holding it, and in each tenant an M2M application
//! with that role (the admin tenant's is how machines reach `https://admin.logto.app/api`,
//! as Logto's seeded admin M2M app). Safe to run on every start and from several nodes at
//! once.

use kido_proto::applications::{ACCOUNT_APP_ID, ApplicationType, DEMO_APP_ID};
use kido_proto::roles::RoleType;
use kido_proto::{ADMIN_TENANT, DEFAULT_TENANT, MANAGEMENT_API_SCOPE_ALL, TenantId, management_api_indicator};
use kido_store::applications::{StoredApplication, StoredApplicationSecret};
use kido_store::resources::{StoredResource, StoredScope};
use kido_store::roles::StoredRole;
use kido_store::{Json, Store, Tx, applications, resources, roles, settings, signing_keys, tenants};
use serde_json::json;
use thiserror::Error;

use crate::oidc::keys::{KeyError, SigningAlgorithm, SigningKey};
use crate::storage::{self, StorageError};
use crate::{clock, ids};

/// Fixed ids of what the bootstrap creates, so that every node agrees on them.
pub const MANAGEMENT_RESOURCE_ID: &str = "management-api";
pub const MANAGEMENT_SCOPE_ID: &str = "management-api-all";
pub use kido_proto::MANAGEMENT_ROLE_ID;
pub const MANAGEMENT_ROLE_NAME: &str = "Logto Management API access";
const BOOTSTRAP_MARKER: &str = "bootstrap";
/// Settings row naming the bootstrap M2M application and the secret the bootstrap manages,
/// so that changed credentials replace the previous ones instead of adding to them.
const BOOTSTRAP_M2M: &str = "bootstrap_m2m";
/// Name of the secret an operator-chosen KIDO_BOOTSTRAP_M2M_CLIENT_SECRET is stored under.
const CHOSEN_SECRET_NAME: &str = "Bootstrap secret";
const BOOTSTRAP_APP_NAME: &str = "Kido bootstrap M2M app";
const LOCK_KEY: i64 = 0x6b69_646f_0001; // "kido" + 1

#[derive(Debug, Clone, Default)]
pub struct BootstrapOptions {
    /// Credentials of the default tenant's M2M application, when the operator chooses them.
    pub m2m_client_id: Option<String>,
    pub m2m_client_secret: Option<String>,
    /// Credentials of the admin tenant's M2M application, when the operator chooses them.
    pub admin_m2m_client_id: Option<String>,
    pub admin_m2m_client_secret: Option<String>,
    pub signing_algorithm: Option<SigningAlgorithm>,
}

/// The settings that name a tenant's bootstrap credentials, for messages.
const DEFAULT_SETTING: &str = "KIDO_BOOTSTRAP_M2M";
const ADMIN_SETTING: &str = "KIDO_BOOTSTRAP_ADMIN_M2M";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M2mCredentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Default)]
pub struct BootstrapReport {
    /// Set when this start generated the default tenant's M2M application: show it once,
    /// store it safely.
    pub generated_m2m: Option<M2mCredentials>,
    /// The same for the admin tenant's M2M application (also generated for a data
    /// directory set up before Kido created one).
    pub generated_admin_m2m: Option<M2mCredentials>,
    /// Tenants set up for the first time by this start.
    pub initialised_tenants: Vec<TenantId>,
    /// What an operator should know (credentials replaced, keys of another algorithm kept);
    /// each one is also logged as a warning.
    pub warnings: Vec<String>,
}

impl BootstrapReport {
    fn warn(&mut self, warning: String) {
        tracing::warn!("{warning}");
        self.warnings.push(warning);
    }
}

/// The bootstrap M2M application and the name of the secret the bootstrap put on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BootstrapApp {
    application_id: String,
    secret_name: String,
}

#[derive(Debug, Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StorageError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}_CLIENT_ID and {0}_CLIENT_SECRET must be set together")]
    HalfCredentials(&'static str),
    #[error("bootstrap client id `{0}` is invalid: use 1–21 characters a-z, 0-9, `-` or `_`")]
    InvalidClientId(String),
    #[error("bootstrap client secret is too short: use at least 16 characters")]
    WeakSecret,
    #[error("application `{0}` exists but is not a machine-to-machine application")]
    NotMachineToMachine(String),
}

storage::from_store_error!(BootstrapError);

pub fn tenants() -> [TenantId; 2] {
    [TenantId::new(DEFAULT_TENANT), TenantId::new(ADMIN_TENANT)]
}

/// Operator-chosen credentials of one tenant's M2M application, checked.
fn chosen(
    id: &Option<String>,
    secret: &Option<String>,
    setting: &'static str,
) -> Result<Option<M2mCredentials>, BootstrapError> {
    match (id, secret) {
        (Some(id), Some(secret)) => {
            if id.is_empty()
                || id.len() > 21
                || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            {
                return Err(BootstrapError::InvalidClientId(id.clone()));
            }
            if secret.len() < 16 {
                return Err(BootstrapError::WeakSecret);
            }
            Ok(Some(M2mCredentials { client_id: id.clone(), client_secret: secret.clone() }))
        }
        (None, None) => Ok(None),
        _ => Err(BootstrapError::HalfCredentials(setting)),
    }
}

pub async fn run(store: &Store, options: &BootstrapOptions) -> Result<BootstrapReport, BootstrapError> {
    let default_chosen = chosen(&options.m2m_client_id, &options.m2m_client_secret, DEFAULT_SETTING)?;
    let admin_chosen = chosen(&options.admin_m2m_client_id, &options.admin_m2m_client_secret, ADMIN_SETTING)?;
    let mut report = BootstrapReport::default();
    let mut tx = store.begin().await?;
    tx.lock(LOCK_KEY).await?;
    for tenant in tenants() {
        let now = clock::now_ms();
        tenants::ensure(&mut tx, &tenant, tenant.as_str(), now).await?;
        let keys = signing_keys::list(&mut tx, &tenant).await?;
        if let (Some(wanted), Some(current)) = (options.signing_algorithm, keys.iter().find(|k| k.status == "Current"))
            && current.algorithm != wanted.as_str()
        {
            report.warn(format!(
                "KIDO_SIGNING_KEY_ALGORITHM is {} but tenant `{tenant}` already signs with a {} key, which is kept: \
                 the setting only chooses the algorithm of keys Kido generates. To switch an existing data directory, \
                 rotate the tenant's signing keys (README: Signing keys).",
                wanted.as_str(),
                current.algorithm
            ));
        }
        if keys.is_empty() {
            let alg = options.signing_algorithm.unwrap_or(SigningAlgorithm::Es384);
            let kid = ids::new_id();
            let (_, pem) = SigningKey::generate(kid.clone(), alg)?;
            let key = signing_keys::StoredSigningKey {
                id: kid,
                algorithm: alg.as_str().into(),
                private_key: pem,
                status: "Current".into(),
                created_at: now,
            };
            signing_keys::insert(&mut tx, &tenant, &key).await?;
        }
        if settings::get(&mut tx, &tenant, BOOTSTRAP_MARKER).await?.is_none() {
            seed_management_api(&mut tx, &tenant, now).await?;
            settings::put(&mut tx, &tenant, BOOTSTRAP_MARKER, &json!({"version": 1, "at": now})).await?;
            report.initialised_tenants.push(tenant.clone());
        }
        // The Live Preview app is built in (its API view is fixed, see `applications::demo_app`);
        // its row exists so interactions, grants and tokens of its sign-ins can point at it.
        if applications::find(&mut tx, &tenant, DEMO_APP_ID).await?.is_none() {
            applications::insert(&mut tx, &crate::applications::demo_app_row(&tenant)).await?;
        }
        // So are the account pages' client (`/account`), never shown by the Management API.
        if applications::find(&mut tx, &tenant, ACCOUNT_APP_ID).await?.is_none() {
            applications::insert(&mut tx, &crate::applications::account_app_row(&tenant)).await?;
        }
        let (chosen, setting) = match tenant.as_str() {
            DEFAULT_TENANT => (&default_chosen, DEFAULT_SETTING),
            _ => (&admin_chosen, ADMIN_SETTING),
        };
        match chosen {
            Some(chosen) => ensure_chosen_m2m_app(&mut tx, &tenant, chosen, setting, now, &mut report).await?,
            // Generated once per tenant: a tenant whose bootstrap application is recorded
            // keeps it (its secret is only in the credentials file).
            None if settings::get(&mut tx, &tenant, BOOTSTRAP_M2M).await?.is_none() => {
                let created = create_m2m_app(&mut tx, &tenant, ids::new_id(), ids::new_secret(), now).await?;
                let app = BootstrapApp {
                    application_id: created.client_id.clone(),
                    secret_name: crate::applications::DEFAULT_SECRET_NAME.into(),
                };
                record_bootstrap_app(&mut tx, &tenant, &app).await?;
                match tenant.as_str() {
                    DEFAULT_TENANT => report.generated_m2m = Some(created),
                    _ => report.generated_admin_m2m = Some(created),
                }
            }
            None => {}
        }
    }
    tx.commit().await?;
    Ok(report)
}

async fn seed_management_api(tx: &mut Tx, tenant: &TenantId, now: i64) -> Result<(), BootstrapError> {
    let resource = StoredResource {
        tenant_id: tenant.to_string(),
        id: MANAGEMENT_RESOURCE_ID.into(),
        name: "Logto Management API".into(),
        indicator: management_api_indicator(tenant.as_str()),
        is_default: false,
        access_token_ttl: 3600,
    };
    resources::insert(tx, &resource, now).await?;
    let scope = StoredScope {
        tenant_id: tenant.to_string(),
        id: MANAGEMENT_SCOPE_ID.into(),
        resource_id: resource.id.clone(),
        name: MANAGEMENT_API_SCOPE_ALL.into(),
        description: Some("Default scope for Management API, allows all permissions.".into()),
        created_at: now,
    };
    resources::insert_scope(tx, &scope).await?;
    let role = StoredRole {
        tenant_id: tenant.to_string(),
        id: MANAGEMENT_ROLE_ID.into(),
        name: MANAGEMENT_ROLE_NAME.into(),
        description: "This default role grants access to the Logto management API.".into(),
        role_type: RoleType::MachineToMachine,
        is_default: false,
    };
    roles::insert(tx, &role, now).await?;
    roles::add_scopes(tx, tenant, &role.id, &[scope.id], now).await?;
    Ok(())
}

async fn create_m2m_app(
    tx: &mut Tx,
    tenant: &TenantId,
    id: String,
    secret: String,
    now: i64,
) -> Result<M2mCredentials, BootstrapError> {
    let app = StoredApplication {
        tenant_id: tenant.to_string(),
        id: id.clone(),
        name: BOOTSTRAP_APP_NAME.into(),
        description: Some(
            "Machine-to-machine application with access to the Management API, created on first start.".into(),
        ),
        app_type: ApplicationType::MachineToMachine,
        oidc_client_metadata: Default::default(),
        custom_client_metadata: Default::default(),
        custom_data: Json(json!({})),
        is_third_party: false,
        created_at: now,
    };
    applications::insert(tx, &app).await?;
    add_secret(tx, tenant, &id, crate::applications::DEFAULT_SECRET_NAME, &secret, now).await?;
    if roles::find(tx, tenant, MANAGEMENT_ROLE_ID).await?.is_some() {
        roles::assign_to_application(tx, tenant, &id, &[MANAGEMENT_ROLE_ID.to_owned()], now).await?;
    }
    Ok(M2mCredentials { client_id: id, client_secret: secret })
}

async fn record_bootstrap_app(tx: &mut Tx, tenant: &TenantId, app: &BootstrapApp) -> Result<(), BootstrapError> {
    let value = serde_json::to_value(app).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    settings::put(tx, tenant, BOOTSTRAP_M2M, &value).await?;
    Ok(())
}

/// Makes the operator-chosen credentials the bootstrap application's only bootstrap
/// credentials: the application exists and holds the Management API role, the chosen secret
/// replaces the secret the bootstrap put there before (which stops working), and an earlier
/// bootstrap application with another id loses its bootstrap secret and its Management API
/// role. Every change is reported as a warning.
async fn ensure_chosen_m2m_app(
    tx: &mut Tx,
    tenant: &TenantId,
    chosen: &M2mCredentials,
    setting: &str,
    now: i64,
    report: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let previous: Option<BootstrapApp> =
        settings::get(tx, tenant, BOOTSTRAP_M2M).await?.and_then(|v| serde_json::from_value(v).ok());
    let id = &chosen.client_id;
    let secret_name = match applications::find(tx, tenant, id).await? {
        None => {
            create_m2m_app(tx, tenant, id.clone(), chosen.client_secret.clone(), now).await?;
            crate::applications::DEFAULT_SECRET_NAME.to_owned()
        }
        Some(app) if app.app_type != ApplicationType::MachineToMachine => {
            return Err(BootstrapError::NotMachineToMachine(app.id));
        }
        Some(app) => {
            let secrets = applications::list_secrets(tx, tenant, &app.id).await?;
            match secrets.iter().find(|s| s.value == chosen.client_secret && s.expires_at.is_none()) {
                Some(kept) => kept.name.clone(),
                None => {
                    // The secret the bootstrap put there before: the one recorded, and those
                    // earlier versions added under "Bootstrap secret <time>".
                    let replaced: Vec<&str> = secrets
                        .iter()
                        .map(|s| s.name.as_str())
                        .filter(|name| {
                            previous.as_ref().is_some_and(|p| p.application_id == app.id && p.secret_name == *name)
                                || *name == CHOSEN_SECRET_NAME
                                || name.starts_with("Bootstrap secret ")
                                // Created by a bootstrap before it recorded what it made.
                                || (previous.is_none()
                                    && app.name == BOOTSTRAP_APP_NAME
                                    && *name == crate::applications::DEFAULT_SECRET_NAME)
                        })
                        .collect();
                    for name in &replaced {
                        applications::delete_secret(tx, tenant, &app.id, name).await?;
                    }
                    add_secret(tx, tenant, &app.id, CHOSEN_SECRET_NAME, &chosen.client_secret, now).await?;
                    report.warn(format!(
                        "bootstrap application `{id}`: {setting}_CLIENT_SECRET changed; the new secret replaces {} \
                         (the old one no longer works)",
                        if replaced.is_empty() {
                            "no earlier bootstrap secret".to_owned()
                        } else {
                            format!("{replaced:?}")
                        }
                    ));
                    CHOSEN_SECRET_NAME.to_owned()
                }
            }
        }
    };
    let held = roles::role_ids_of_application(tx, tenant, id).await?;
    if !held.iter().any(|r| r == MANAGEMENT_ROLE_ID) && roles::find(tx, tenant, MANAGEMENT_ROLE_ID).await?.is_some() {
        roles::assign_to_application(tx, tenant, id, &[MANAGEMENT_ROLE_ID.to_owned()], now).await?;
    }
    if let Some(previous) = previous.as_ref().filter(|p| p.application_id != *id) {
        let old = &previous.application_id;
        let secret_gone = applications::delete_secret(tx, tenant, old, &previous.secret_name).await?;
        let role_gone = roles::remove_from_application(tx, tenant, old, MANAGEMENT_ROLE_ID).await?;
        if secret_gone || role_gone {
            report.warn(format!(
                "{setting}_CLIENT_ID changed from `{old}` to `{id}`: `{old}` lost its bootstrap secret and its \
                 Management API access (the application itself is kept; delete it if unused)"
            ));
        }
    }
    record_bootstrap_app(tx, tenant, &BootstrapApp { application_id: id.clone(), secret_name }).await?;
    Ok(())
}

async fn add_secret(
    tx: &mut Tx,
    tenant: &TenantId,
    app_id: &str,
    name: &str,
    value: &str,
    now: i64,
) -> Result<(), BootstrapError> {
    let secret = StoredApplicationSecret {
        tenant_id: tenant.to_string(),
        application_id: app_id.to_owned(),
        name: name.to_owned(),
        value: value.to_owned(),
        created_at: now,
        expires_at: None,
    };
    applications::insert_secret(tx, &secret).await?;
    Ok(())
}
