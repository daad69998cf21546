//! Starting and stopping a Kido server: storage, bootstrap, keys, one listener per tenant.
//! Everything lives in the returned value (no globals), so tests can run several at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kido_core::bootstrap::{self, BootstrapOptions, M2mCredentials};
use kido_core::sealing::SealingKey;
use kido_core::storage::{self, StorageError};
use kido_core::{Core, CoreOptions, TenantContext};
use kido_proto::{ADMIN_TENANT, DEFAULT_TENANT, MANAGEMENT_API_SCOPE_ALL, TenantId, management_api_indicator};
use serde_json::Value;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, redact_database_url};
use crate::data_dir;
use crate::events::ServerEvents;
use crate::metrics::{self, Metrics};
use crate::routes;
use crate::serve;
use crate::state::{AppState, OpenApiDocument, TenantSite};

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot create data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error(
        "data directory {0} is in use by another kido process (it holds {0}/kido.lock): stop that one, \
         or give this one its own --data-dir / KIDO_DATA_DIR (several nodes share a PostgreSQL DATABASE_URL, not a SQLite file)"
    )]
    DataDirInUse(PathBuf),
    #[error(
        "the data directory {0} is not writable by the user running kido ({1}: {2}). Give that user the \
         directory (e.g. `chown -R <user> {0}`), or choose another with KIDO_DATA_DIR / --data-dir."
    )]
    DataDirNotWritable(PathBuf, PathBuf, std::io::Error),
    #[error(
        "cannot open the database {0}: {1}. Check DATABASE_URL (postgres://user:password@host:5432/database, \
         or sqlite:///path/to/kido.db) and that its user may connect and create tables."
    )]
    Database(String, #[source] StorageError),
    #[error(
        "{0}. Check that PostgreSQL is running and listening there (`pg_isready -h <host> -p <port>`) and that \
         DATABASE_URL names the right host and port; KIDO_DB_CONNECT_TIMEOUT_SECS sets how long start-up waits."
    )]
    DatabaseUnreachable(String),
    #[error("first-start setup failed: {0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("cannot load signing keys: {0}")]
    Keys(#[from] kido_core::StartError),
    #[error("cannot listen on {0}: {1}. Is another process using the port? Choose another with --port / KIDO_PORT.")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot listen on {0} for metrics: {1}. Choose another port with --metrics-port / KIDO_METRICS_PORT.")]
    MetricsBind(SocketAddr, std::io::Error),
    #[error("cannot write {0}: {1}")]
    Credentials(PathBuf, std::io::Error),
    #[error(
        "the secret key ({0}) is not usable: {1}. Give KIDO_SECRET_VAULT_KEK 32 random bytes in base64 (e.g. `openssl rand -base64 32`)."
    )]
    SecretKey(String, kido_core::sealing::SealingError),
    #[error("building the HTTP routes failed; this is a bug in Kido, please report it")]
    Routes,
}

impl From<data_dir::DataDirError> for ServerError {
    fn from(error: data_dir::DataDirError) -> Self {
        match error {
            data_dir::DataDirError::Io(path, e) => Self::DataDir(path, e),
            data_dir::DataDirError::InUse(dir) => Self::DataDirInUse(dir),
            data_dir::DataDirError::NotWritable(dir, path, e) => Self::DataDirNotWritable(dir, path, e),
        }
    }
}

/// One tenant being served.
#[derive(Debug, Clone)]
pub struct Listener {
    pub tenant: TenantId,
    pub address: SocketAddr,
    pub endpoint: String,
}

pub struct RunningServer {
    pub listeners: Vec<Listener>,
    /// Where `GET /metrics` is served (`KIDO_METRICS_PORT`), if it is.
    pub metrics_address: Option<SocketAddr>,
    /// Set on the start that created the bootstrap M2M application.
    pub generated_credentials: Option<M2mCredentials>,
    /// The admin tenant's, when this start generated them.
    pub generated_admin_credentials: Option<M2mCredentials>,
    pub credentials_file: PathBuf,
    pub database: String,
    /// What the start found worth an operator's attention (also logged as warnings).
    pub startup_warnings: Vec<String>,
    pub core: Arc<Core>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    /// Held until the server stops (SQLite: one process per data directory).
    _data_dir_lock: Option<data_dir::DataDirLock>,
}

/// The key secrets at rest are sealed with: `KIDO_SECRET_VAULT_KEK`, else the data directory's
/// key file. On a shared database the fallback is said once in the log (not a start-up
/// warning: one node on PostgreSQL is a sound setup), since several nodes would each make
/// their own file.
pub fn sealing_key(config: &Config, shared_database: bool) -> Result<SealingKey, ServerError> {
    let previous = |key: SealingKey| {
        key.with_previous(config.secret_vault_previous_keks.iter().map(String::as_str))
            .map_err(|e| ServerError::SecretKey("KIDO_SECRET_VAULT_PREVIOUS_KEKS".into(), e))
    };
    if let Some(text) = &config.secret_vault_kek {
        return previous(
            SealingKey::parse(text).map_err(|e| ServerError::SecretKey("KIDO_SECRET_VAULT_KEK".into(), e))?,
        );
    }
    let path = config.data_dir.join(data_dir::SECRET_KEY_FILE);
    let text = data_dir::secret_key_text(&config.data_dir)?;
    let key = previous(SealingKey::parse(&text).map_err(|e| ServerError::SecretKey(path.display().to_string(), e))?)?;
    if shared_database {
        tracing::info!(
            "secrets at rest (TOTP secrets) are sealed with {}; nodes sharing this database need the same key: set KIDO_SECRET_VAULT_KEK on each",
            path.display()
        );
    }
    Ok(key)
}

pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let url = config.database_url();
    let sqlite_db = data_dir::sqlite_file(&url);
    let data_dir_lock = data_dir::prepare(&config.data_dir, sqlite_db.as_deref())?;
    // CPU-bound start-up work runs beside the database's (connect, migrate, bootstrap).
    std::thread::spawn(kido_core::ids::warm_up_random);
    let routes_built = tokio::task::spawn_blocking(routes::build);
    let store = storage::open_when_reachable(&url, config.db_max_connections, config.db_connect_timeout)
        .await
        .map_err(|e| match e {
            storage::OpenError::Unreachable(..) => ServerError::DatabaseUnreachable(e.to_string()),
            storage::OpenError::Storage(e) => ServerError::Database(redact_database_url(&url), e),
        })?;
    let report = bootstrap::run(
        &store,
        &BootstrapOptions {
            m2m_client_id: config.bootstrap_m2m_client_id.clone(),
            m2m_client_secret: config.bootstrap_m2m_client_secret.clone(),
            admin_m2m_client_id: config.bootstrap_admin_m2m_client_id.clone(),
            admin_m2m_client_secret: config.bootstrap_admin_m2m_client_secret.clone(),
            signing_algorithm: Some(config.signing_key_algorithm),
        },
    )
    .await?;
    if let Some(db) = &sqlite_db {
        data_dir::tighten_sqlite_files(db)?;
    }
    let tenants = bootstrap::tenants();
    let (shutdown_signal, _) = watch::channel(false);
    let sealing_key = sealing_key(&config, sqlite_db.is_none())?;
    // Counted only when they can be scraped.
    let metrics = config.metrics_port.map(|_| Arc::new(Metrics::new()));
    let options = CoreOptions {
        hash_cost: config.password_hash_cost,
        password_queue_limit: config.password_queue_limit,
        password_rate_limits: config.password_rate_limits,
        outbox_dir: Some(config.data_dir.join("outbox")),
        max_pending_interactions_per_ip: config.limits.max_pending_interactions_per_ip,
        sealing_key: Some(Arc::new(sealing_key)),
        events: Arc::new(ServerEvents::new(metrics.clone())),
        outbound_allow_private: config.outbound_allow_private,
        ..CoreOptions::default()
    };
    let core = Arc::new(Core::start(store, &tenants, &options).await?);

    spawn_planner_maintenance(core.clone(), shutdown_signal.subscribe());
    // Awaited, not joined: the async worker is never blocked waiting for it.
    let router = routes_built.await.map_err(|_| ServerError::Routes)?;
    let openapi = Arc::new(OpenApiDocument::new(routes::openapi_document));
    let shutdown = shutdown_signal;
    let mut listeners = Vec::new();
    let mut tasks = Vec::new();
    let sites =
        [(&tenants[0], config.port, &config.endpoint), (&tenants[1], config.admin_port, &config.admin_endpoint)];
    for (tenant, port, endpoint) in sites {
        let address = SocketAddr::new(config.host, port);
        let listener = TcpListener::bind(address).await.map_err(|e| ServerError::Bind(address, e))?;
        let address = listener.local_addr().map_err(|e| ServerError::Bind(address, e))?;
        let origin = match endpoint {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://localhost:{}", address.port()),
        };
        let context = TenantContext { id: tenant.clone(), issuer: format!("{origin}/oidc") };
        let ring = core.key_ring(tenant).ok_or_else(|| kido_core::StartError::NoSigningKey(tenant.clone()))?;
        let site = TenantSite {
            discovery_json: routes::render_discovery(&context.issuer, &ring),
            context,
            origin: origin.clone(),
            trust_proxy_header: config.trust_proxy_header,
            status_api_key: config.status_api_key.as_deref().map(Arc::from),
        };
        let state = AppState { core: core.clone(), tenant: Arc::new(site), openapi: openapi.clone() };
        let mut app = router
            .clone()
            .with_state(state.clone())
            .layer(axum::middleware::from_fn_with_state(state, crate::interaction_guard::guard));
        if let Some(metrics) = &metrics {
            let recorder = metrics::RequestRecorder::new(metrics.clone(), tenant);
            app = app.layer(axum::middleware::from_fn_with_state(recorder, metrics::record_request));
        }
        // Outermost: every answer, the guards' own included, names its request.
        let app = app.layer(axum::middleware::from_fn(crate::request_id::tag));
        tasks.push(tokio::spawn(serve::serve(listener, app, config.limits.clone(), shutdown.subscribe())));
        listeners.push(Listener { tenant: tenant.clone(), address, endpoint: origin });
    }

    let metrics_address = match (config.metrics_port, metrics) {
        (Some(port), Some(metrics)) => {
            let address = SocketAddr::new(config.metrics_host.unwrap_or(config.host), port);
            let listener = TcpListener::bind(address).await.map_err(|e| ServerError::MetricsBind(address, e))?;
            let address = listener.local_addr().map_err(|e| ServerError::MetricsBind(address, e))?;
            let app = metrics::router(metrics, core.clone());
            tasks.push(tokio::spawn(serve::serve(listener, app, config.limits.clone(), shutdown.subscribe())));
            Some(address)
        }
        _ => None,
    };

    let mut startup_warnings = report.warnings.clone();
    let credentials_file = data_dir::credentials_file(&config.data_dir, config.database_url.as_deref());
    let new_database = report.initialised_tenants.iter().any(|t| t.as_str() == DEFAULT_TENANT);
    if new_database || report.generated_m2m.is_some() {
        // A new database behind a name that had one before: keep the old file, say so.
        if credentials_file.exists() {
            let mut previous = credentials_file.clone().into_os_string();
            previous.push(".previous");
            let previous = PathBuf::from(previous);
            std::fs::rename(&credentials_file, &previous)
                .map_err(|e| ServerError::Credentials(credentials_file.clone(), e))?;
            let warning = format!(
                "{} belonged to an earlier database of the same name; kept as {} and replaced by this database's credentials",
                credentials_file.display(),
                previous.display()
            );
            tracing::warn!("{warning}");
            startup_warnings.push(warning);
        }
    }
    if report.generated_m2m.is_some() || report.generated_admin_m2m.is_some() {
        let endpoint_of = |tenant: &str| {
            listeners.iter().find(|l| l.tenant.as_str() == tenant).map(|l| l.endpoint.clone()).unwrap_or_default()
        };
        let generated = GeneratedCredentials {
            default: report.generated_m2m.as_ref().map(|c| (c, endpoint_of(DEFAULT_TENANT))),
            admin: report.generated_admin_m2m.as_ref().map(|c| (c, endpoint_of(ADMIN_TENANT))),
        };
        write_credentials(&credentials_file, &generated)?;
    }
    // Start-up's one-off allocations (routes, migrations, bootstrap) are freed by now.
    crate::memory::release_free_memory();
    Ok(RunningServer {
        listeners,
        metrics_address,
        generated_credentials: report.generated_m2m,
        generated_admin_credentials: report.generated_admin_m2m,
        credentials_file,
        database: redact_database_url(&url),
        startup_warnings,
        core,
        shutdown,
        tasks,
        _data_dir_lock: data_dir_lock,
    })
}

impl RunningServer {
    pub fn listener(&self, tenant: &str) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.tenant.as_str() == tenant)
    }

    /// Stops accepting, lets requests in flight finish (within the shutdown timeout),
    /// closes the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        // No request is left to queue one: what the audit queue holds is written now.
        self.core.flush_audit().await;
        self.core.stop();
        self.core.store.close().await;
    }
}

/// Housekeeping at start, then every ten minutes: fresh planner statistics, and expired
/// interactions, sessions, grants and tokens deleted.
fn spawn_planner_maintenance(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = core.store.optimize().await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
            if let Err(e) = core.sweep_expired().await {
                tracing::warn!(error = %e, "deleting expired sign-in state failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    });
}

/// The credentials file: readable by the owner only.
/// What this start generated, with each tenant's endpoint.
struct GeneratedCredentials<'a> {
    default: Option<(&'a M2mCredentials, String)>,
    admin: Option<(&'a M2mCredentials, String)>,
}

fn credentials_json(tenant: &str, creds: &M2mCredentials, endpoint: &str) -> serde_json::Map<String, Value> {
    let body = serde_json::json!({
        "tenantId": tenant,
        "endpoint": endpoint,
        "tokenEndpoint": format!("{endpoint}/oidc/token"),
        "clientId": creds.client_id,
        "clientSecret": creds.client_secret,
        "resource": management_api_indicator(tenant),
        "scope": MANAGEMENT_API_SCOPE_ALL,
    });
    match body {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Writes the generated credentials: the default tenant's at the top level, the admin
/// tenant's under `"admin"`. Credentials generated for the admin tenant of an existing data
/// directory are added to its file, whose default-tenant part is kept. The file is
/// replaced whole (written beside it, then renamed), mode 0600.
fn write_credentials(path: &PathBuf, generated: &GeneratedCredentials) -> Result<(), ServerError> {
    let err = |e| ServerError::Credentials(path.clone(), e);
    let mut body = match &generated.default {
        Some((creds, endpoint)) => credentials_json(DEFAULT_TENANT, creds, endpoint),
        // Only the admin tenant's are new: keep what the file holds.
        None => std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).ok())
            .unwrap_or_default(),
    };
    if let Some((creds, endpoint)) = &generated.admin {
        body.insert("admin".into(), Value::Object(credentials_json(ADMIN_TENANT, creds, endpoint)));
    }
    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
    let mut temporary = path.clone().into_os_string();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    use std::io::Write;
    let mut file = data_dir::private_options().write(true).create_new(true).open(&temporary).map_err(err)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(err)?;
    std::fs::rename(&temporary, path).map_err(err)?;
    Ok(())
}
