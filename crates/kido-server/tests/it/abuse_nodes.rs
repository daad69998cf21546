//! Issue 15, the store and the nodes: a full disk never poisons the connection pool (11),
//! a change on one node is enforced on the others within a second (12), and the data
//! directory keeps its secrets to its owner and to one process (14).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;

fn is_postgres() -> bool {
    std::env::var("KIDO_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty())
}

/// Item 11: SQLite answers SQLITE_FULL (here: a `max_page_count` cap on every connection);
/// every write fails with 503 `storage.full`, never a 500, and once the cap is lifted
/// writes succeed again on every pooled connection without a restart.
#[tokio::test]
async fn a_full_disk_answers_503_and_writes_resume_when_space_is_freed() {
    if is_postgres() {
        return; // the cap is SQLite's; PostgreSQL's disk_full (53100) maps the same way
    }
    let server = TestServer::start().await;
    let token = server.management_token().await;
    let create_app = |n: usize| {
        let (url, token) = (server.url("/api/applications"), token.clone());
        async move {
            // Big enough that a few of them need new pages.
            let body = json!({"name": format!("app {n}"), "type": "MachineToMachine", "customData": {"pad": "x".repeat(20_000)}});
            crate::harness::send(Method::POST, &url, Some(&token), Some(body)).await
        }
    };
    let store = &server.server.core.store;
    // Below the current size means "no page more than now".
    store.cap_sqlite_pages(Some(1)).await.unwrap();
    let mut full = 0;
    for n in 0..20 {
        let (status, body): (u16, Value) = create_app(n).await;
        assert!(status == 200 || status == 503, "write {n} answered {status}: {body}");
        if status == 503 {
            assert_eq!(body["code"], "storage.full", "{body}");
            assert!(body["message"].as_str().unwrap().contains("Free disk space"), "{body}");
            full += 1;
        }
    }
    assert!(full >= 10, "only {full} of 20 writes hit the cap");
    // The token endpoint keeps working on what it has (no write needed).
    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let (status, _) = server.token(&form, Some((&server.client_id, &server.client_secret))).await;
    assert_eq!(status, 200);

    // Space freed: every later write succeeds, on every connection of the pool (more
    // writes than connections), with no restart.
    store.cap_sqlite_pages(None).await.unwrap();
    for n in 0..25 {
        let (status, body) = create_app(100 + n).await;
        assert_eq!(status, 200, "write {n} after the cap was lifted: {body}");
    }
    let (status, apps) = server.api(Method::GET, "/api/applications?page_size=100", None).await;
    assert_eq!(status, 200);
    assert!(apps.as_array().unwrap().len() >= 25);
    server.stop().await;
}

/// Polls `refused` until it holds; panics unless it holds within `deadline`. Returns how long
/// it took (a correctness deadline, not a benchmark).
async fn within<F, Fut>(deadline: std::time::Duration, what: &str, mut refused: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if refused().await {
            let took = start.elapsed();
            println!("{what}: enforced on the other node after {took:?}");
            return took;
        }
        assert!(start.elapsed() < deadline, "{what}: still honoured on the other node after {deadline:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Item 12: two nodes on one PostgreSQL database. A role scope removed, a secret deleted
/// and an application deleted on node A are refused on node B (whose cache holds them
/// warm) within one second. SQLite is one node per data directory (item 14): skipped.
#[tokio::test]
async fn a_change_on_one_node_is_enforced_on_the_other_within_a_second() {
    if !is_postgres() {
        return;
    }
    let a = TestServer::start().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut config = kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: other_dir.path().to_owned(),
        database_url: a.database.as_ref().map(|d| d.url.clone()),
        password_hash_cost: kido_core::passwords::HashCost::MINIMAL,
        ..kido_server::Config::default()
    };
    config.endpoint = None;
    let b = kido_server::start(config).await.unwrap();
    let b_token = format!("{}/oidc/token", b.listener("default").unwrap().endpoint);
    let deadline = std::time::Duration::from_secs(1);

    let (indicator, app_id, secret) = a.m2m_app_with_scopes(&["read", "write"]).await;
    let form = [("grant_type", "client_credentials"), ("resource", indicator.as_str()), ("scope", "read write")];
    let token_on_b = |secret: String| {
        let (url, app_id) = (b_token.clone(), app_id.clone());
        let form = form.map(|(k, v)| (k, v.to_owned()));
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::harness::token_at(&url, &form, Some((&app_id, &secret))).await
        }
    };
    let scope_of = |body: &Value| {
        let (_, claims) = crate::harness::decode_jwt(body["access_token"].as_str().unwrap());
        claims["scope"].as_str().unwrap_or_default().to_owned()
    };
    // B caches the client and its grant.
    let (status, body) = token_on_b(secret.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(scope_of(&body), "read write");

    // 1. A role scope removed on A.
    let (_, roles) = a.api(Method::GET, &format!("/api/applications/{app_id}/roles"), None).await;
    let role_id = roles[0]["id"].as_str().unwrap().to_owned();
    let (_, scopes) = a.api(Method::GET, &format!("/api/roles/{role_id}/scopes"), None).await;
    let write = scopes.as_array().unwrap().iter().find(|s| s["name"] == "write").unwrap()["id"].as_str().unwrap();
    let (status, _) = a.api(Method::DELETE, &format!("/api/roles/{role_id}/scopes/{write}"), None).await;
    assert_eq!(status, 204);
    within(deadline, "removed role scope", || {
        let token = token_on_b(secret.clone());
        async move {
            let (status, body) = token.await;
            status == 200 && !scope_of(&body).contains("write")
        }
    })
    .await;

    // 2. A secret deleted on A (the app keeps another one).
    let (status, second) =
        a.api(Method::POST, &format!("/api/applications/{app_id}/secrets"), Some(json!({"name": "second"}))).await;
    assert_eq!(status, 201, "{second}");
    let second = second["value"].as_str().unwrap().to_owned();
    assert_eq!(token_on_b(second.clone()).await.0, 200);
    let (_, secrets) = a.api(Method::GET, &format!("/api/applications/{app_id}/secrets"), None).await;
    let first_name = secrets.as_array().unwrap().iter().find(|s| s["value"] == secret.as_str()).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token_on_b(secret.clone()).await.0, 200);
    let (status, _) = a.api(Method::DELETE, &format!("/api/applications/{app_id}/secrets/{first_name}"), None).await;
    assert_eq!(status, 204);
    within(deadline, "deleted secret", || {
        let token = token_on_b(secret.clone());
        async move { token.await.0 == 401 }
    })
    .await;
    assert_eq!(token_on_b(second.clone()).await.0, 200);

    // 3. The application deleted on A.
    let (status, _) = a.api(Method::DELETE, &format!("/api/applications/{app_id}"), None).await;
    assert_eq!(status, 204);
    within(deadline, "deleted application", || {
        let token = token_on_b(second.clone());
        async move { token.await.0 == 401 }
    })
    .await;

    b.stop().await;
    a.stop().await;
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// A test configuration on `dir` (SQLite in it unless `database_url`).
fn config_on(dir: &std::path::Path, database_url: Option<String>) -> kido_server::Config {
    kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: dir.to_owned(),
        database_url,
        password_hash_cost: kido_core::passwords::HashCost::MINIMAL,
        ..kido_server::Config::default()
    }
}

/// Item 14: the data directory is 0700 and everything in it 0600 — the database and its
/// `-wal`/`-shm` (signing keys, client secrets), the credentials, the lock, the outbox —
/// including files an older version left readable, tightened at start.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("kido-data");
    // What an older version left: a world-readable directory, outbox and message.
    std::fs::create_dir_all(dir.join("outbox")).unwrap();
    std::fs::write(dir.join("outbox/old-message.json"), "{}").unwrap();
    for (path, m) in [(dir.clone(), 0o755), (dir.join("outbox"), 0o755), (dir.join("outbox/old-message.json"), 0o644)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let server = kido_server::start(config_on(&dir, None)).await.unwrap();
    // A write, so SQLite has its WAL and shared memory files.
    let creds: Value = serde_json::from_slice(&std::fs::read(&server.credentials_file).unwrap()).unwrap();
    let endpoint = server.listener("default").unwrap().endpoint.clone();
    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let basic = (creds["clientId"].as_str().unwrap(), creds["clientSecret"].as_str().unwrap());
    let (_, token) = crate::harness::token_at(&format!("{endpoint}/oidc/token"), &form, Some(basic)).await;
    let body = json!({"name": "mode check", "type": "MachineToMachine"});
    let (status, _) = crate::harness::send(
        Method::POST,
        &format!("{endpoint}/api/applications"),
        token["access_token"].as_str(),
        Some(body),
    )
    .await;
    assert_eq!(status, 200);

    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("outbox")), 0o700);
    let mut files = vec!["kido.db", "kido.db-wal", "kido.db-shm", "kido.lock", "bootstrap-credentials.json"];
    files.push("outbox/old-message.json");
    for file in files {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    server.stop().await;
}

/// Item 14: a second process on a SQLite data directory in use is refused with a clear
/// message and a non-zero exit; once the first one stops, the directory can be used again.
#[tokio::test]
async fn a_second_process_on_a_sqlite_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = kido_server::start(config_on(dir.path(), None)).await.unwrap();

    let err = kido_server::start(config_on(dir.path(), None)).await.err().expect("second start must be refused");
    assert!(matches!(err, kido_server::server::ServerError::DataDirInUse(_)), "{err}");
    assert!(err.to_string().contains("in use by another kido process"), "{err}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kido"))
        .arg("serve")
        .env_clear()
        .env("KIDO_DATA_DIR", dir.path())
        .env("KIDO_PORT", "0")
        .env("KIDO_ADMIN_PORT", "0")
        .env("KIDO_HOST", "127.0.0.1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another kido process") && stderr.contains("kido.lock"), "{stderr}");

    first.stop().await;
    let again = kido_server::start(config_on(dir.path(), None)).await.unwrap();
    again.stop().await;
}

/// Item 14: a process on another database in the same data directory writes its own
/// credentials file and never touches the first one's.
#[tokio::test]
async fn another_database_in_the_same_data_directory_keeps_its_own_credentials() {
    let Some(admin) = std::env::var("KIDO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        return; // needs a second database next to the SQLite one
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = kido_server::start(config_on(dir.path(), None)).await.unwrap();
    let sqlite_file = sqlite.credentials_file.clone();
    assert_eq!(sqlite_file, dir.path().join("bootstrap-credentials.json"));
    let before = std::fs::read(&sqlite_file).unwrap();

    let name = format!("kido_t_{}", kido_core::ids::new_id());
    let url = kido_store::create_postgres_database(&admin, &name).await.unwrap();
    let pg = kido_server::start(config_on(dir.path(), Some(url))).await.unwrap();
    assert!(pg.generated_credentials.is_some());
    assert_ne!(pg.credentials_file, sqlite_file);
    assert!(pg.credentials_file.file_name().unwrap().to_str().unwrap().contains(&name), "{:?}", pg.credentials_file);
    assert_eq!(std::fs::read(&sqlite_file).unwrap(), before, "the first process's credentials file is untouched");
    let pg_creds: Value = serde_json::from_slice(&std::fs::read(&pg.credentials_file).unwrap()).unwrap();
    assert_eq!(pg_creds["clientId"].as_str(), pg.generated_credentials.as_ref().map(|c| c.client_id.as_str()));
    pg.stop().await;
    sqlite.stop().await;
    kido_store::drop_postgres_database(&admin, &name).await.unwrap();
}

fn chosen(id: &str, secret: &str) -> impl FnOnce(&mut kido_server::Config) + use<> {
    let (id, secret) = (id.to_owned(), secret.to_owned());
    move |c| {
        c.bootstrap_m2m_client_id = Some(id);
        c.bootstrap_m2m_client_secret = Some(secret);
    }
}

/// Item 14: the bootstrap credentials converge. A new secret for the same id replaces the
/// old one (which stops working); a new id takes over from the previous bootstrap app, which
/// loses its secret and its Management API access; generated credentials are replaced the
/// same way. Each change is a start-up warning. One full-access application at any time.
#[tokio::test]
async fn bootstrap_credentials_converge_and_the_old_ones_stop_working() {
    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let t = TestServer::start().await;
    let generated = (t.client_id.clone(), t.client_secret.clone());

    let (id1, s1, s2) = ("ops-bootstrap", "first-operator-secret-0001", "second-operator-secret-0002");
    let t = t.restart_with(chosen(id1, s1)).await;
    assert_eq!(t.token(&form, Some((id1, s1))).await.0, 200);
    assert_eq!(t.token(&form, Some((&generated.0, &generated.1))).await.0, 401, "generated credentials revoked");
    assert!(t.server.startup_warnings.iter().any(|w| w.contains(&generated.0)), "{:?}", t.server.startup_warnings);

    let t = t.restart_with(chosen(id1, s2)).await;
    assert_eq!(t.token(&form, Some((id1, s2))).await.0, 200);
    assert_eq!(t.token(&form, Some((id1, s1))).await.0, 401, "the replaced secret stops working");
    assert!(t.server.startup_warnings.iter().any(|w| w.contains("replaces")), "{:?}", t.server.startup_warnings);
    let (_, secrets) = t.api(Method::GET, &format!("/api/applications/{id1}/secrets"), None).await;
    assert_eq!(secrets.as_array().unwrap().len(), 1, "{secrets}");

    let (id2, s3) = ("ops-bootstrap-2", "third-operator-secret-00003");
    let t = t.restart_with(chosen(id2, s3)).await;
    assert_eq!(t.token(&form, Some((id2, s3))).await.0, 200);
    assert_eq!(t.token(&form, Some((id1, s2))).await.0, 401, "the previous bootstrap app is revoked");
    let (_, holders) = t.api(Method::GET, "/api/roles/management-api-access/applications", None).await;
    let holders: Vec<&str> = holders.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(holders, vec![id2], "one full-access application");

    // Unchanged configuration: no change, no warning.
    let t = t.restart_with(chosen(id2, s3)).await;
    assert!(t.server.startup_warnings.is_empty(), "{:?}", t.server.startup_warnings);
    assert_eq!(t.token(&form, Some((id2, s3))).await.0, 200);
    t.stop().await;
}

/// Item 14: RS256 configured on a data directory whose keys are ES384 keeps the keys and
/// says so at start, pointing to key rotation.
#[tokio::test]
async fn another_signing_algorithm_on_existing_keys_is_reported() {
    let t = TestServer::start().await;
    assert!(t.server.startup_warnings.is_empty(), "{:?}", t.server.startup_warnings);
    let t = t.restart_with(|c| c.signing_key_algorithm = kido_core::oidc::keys::SigningAlgorithm::Rs256).await;
    let warnings = &t.server.startup_warnings;
    assert!(
        warnings.iter().any(|w| w.contains("RS256") && w.contains("ES384") && w.contains("rotate")),
        "{warnings:?}"
    );
    let jwks: Value = crate::harness::http().get(t.url("/oidc/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC", "existing keys are kept");
    t.stop().await;
}
