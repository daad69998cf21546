//! One fresh database per test, two tenants in it, and row fixtures.

use std::sync::atomic::{AtomicU64, Ordering};

use kido_proto::TenantId;
use kido_proto::applications::ApplicationType;
use kido_store::applications::StoredApplication;
use kido_store::users::StoredUser;
use kido_store::{Conn, Json, Store, StoreError, StoreOptions, tenants};
use serde_json::json;

/// A fixed "now" (epoch ms): the store takes time as an argument, so tests choose it.
pub const NOW: i64 = 1_750_000_000_000;

/// The tenant a test works in, and another one that must never see its rows.
pub fn a() -> TenantId {
    TenantId::new("tenant_a")
}

pub fn b() -> TenantId {
    TenantId::new("tenant_b")
}

pub struct Db {
    pub store: Store,
    /// The database's URL (a second `Store` on it plays another node).
    pub url: String,
    _dir: tempfile::TempDir,
    /// (admin URL, database name) of a PostgreSQL database to drop at the end.
    postgres: Option<(String, String)>,
}

impl Db {
    /// A migrated database with tenants `a()` and `b()`.
    pub async fn new() -> Self {
        Self::with_connections(8).await
    }

    pub async fn with_connections(max_connections: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (url, postgres) = match std::env::var("KIDO_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = unique_name();
                let url = kido_store::create_postgres_database(&admin, &name).await.unwrap();
                (url, Some((admin, name)))
            }
            _ => (Store::sqlite_url(&dir.path().join("kido.db")), None),
        };
        let store = Store::connect(&StoreOptions { url: url.clone(), max_connections }).await.unwrap();
        let mut c = store.conn().await.unwrap();
        assert!(tenants::ensure(&mut c, &a(), "A", NOW).await.unwrap());
        assert!(tenants::ensure(&mut c, &b(), "B", NOW).await.unwrap());
        Self { store, url, _dir: dir, postgres }
    }

    pub async fn conn(&self) -> Conn {
        self.store.conn().await.unwrap()
    }

    /// Closes the store and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = &self.postgres {
            kido_store::drop_postgres_database(admin, name).await.unwrap();
        }
    }
}

fn unique_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("kido_c_{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

/// Asserts a unique-constraint violation.
pub fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::Conflict(_))), "expected Conflict, got {r:?}");
}

/// Asserts a reference to a row that does not exist (in this tenant).
pub fn assert_missing_reference<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::MissingReference(_))), "expected MissingReference, got {r:?}");
}

pub fn user(tenant: &TenantId, id: &str, username: &str) -> StoredUser {
    StoredUser {
        tenant_id: tenant.to_string(),
        id: id.into(),
        username: Some(username.into()),
        primary_email: Some(format!("{username}@example.com")),
        primary_phone: None,
        password_encrypted: None,
        password_encryption_method: None,
        name: None,
        avatar: None,
        application_id: None,
        profile: Json(Default::default()),
        identities: Json(json!({})),
        custom_data: Json(json!({})),
        is_suspended: false,
        last_sign_in_at: None,
        password_updated_at: None,
        created_at: NOW,
        updated_at: NOW,
        logto_config: Default::default(),
    }
}

pub fn app(tenant: &TenantId, id: &str) -> StoredApplication {
    StoredApplication {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("App {id}"),
        description: None,
        app_type: ApplicationType::Traditional,
        oidc_client_metadata: Default::default(),
        custom_client_metadata: Default::default(),
        custom_data: Json(json!({})),
        is_third_party: false,
        created_at: NOW,
    }
}

pub async fn insert_user(c: &mut Conn, tenant: &TenantId, id: &str, username: &str) {
    kido_store::users::insert(c, &user(tenant, id, username)).await.unwrap();
}

pub async fn insert_app(c: &mut Conn, tenant: &TenantId, id: &str) {
    kido_store::applications::insert(c, &app(tenant, id)).await.unwrap();
}
