//! First start and every later start.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{TestServer, send, token_at};

#[tokio::test]
async fn first_start_creates_working_credentials_file_with_mode_0600() {
    let t = TestServer::start().await;
    let path = t.credentials_path();
    let creds: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(creds["resource"], "https://default.logto.app/api");
    assert_eq!(creds["scope"], "all");
    assert_eq!(creds["tenantId"], "default");
    assert_eq!(creds["clientId"].as_str().unwrap().len(), 21);
    assert_eq!(creds["clientSecret"].as_str().unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(t.server.generated_credentials.is_some());
    let (status, apps) = t.api(Method::GET, "/api/applications", None).await;
    assert_eq!(status, 200);
    assert_eq!(apps.as_array().unwrap().len(), 1, "{apps}");
    assert_eq!(apps[0]["type"], "MachineToMachine");
    t.stop().await;
}

#[tokio::test]
async fn restarts_keep_keys_credentials_and_seed_without_duplicates() {
    let t = TestServer::start().await;
    let jwks_before = crate::harness::http().get(t.url("/oidc/jwks")).send().await.unwrap().text().await.unwrap();
    let file_before = std::fs::read(t.credentials_path()).unwrap();
    let (id, secret) = (t.client_id.clone(), t.client_secret.clone());

    let t = t.restart().await.restart().await;
    assert!(t.server.generated_credentials.is_none(), "a restart must not create new credentials");
    assert_eq!(std::fs::read(t.credentials_path()).unwrap(), file_before);
    assert_eq!((t.client_id.clone(), t.client_secret.clone()), (id, secret));
    let jwks_after = crate::harness::http().get(t.url("/oidc/jwks")).send().await.unwrap().text().await.unwrap();
    assert_eq!(jwks_before, jwks_after, "signing keys must survive restarts");

    let (_, apps) = t.api(Method::GET, "/api/applications", None).await;
    assert_eq!(apps.as_array().unwrap().len(), 1);
    let (_, resources) = t.api(Method::GET, "/api/resources?includeScopes=true", None).await;
    let resources = resources.as_array().unwrap();
    assert_eq!(resources.len(), 1, "{resources:?}");
    assert_eq!(resources[0]["indicator"], "https://default.logto.app/api");
    assert_eq!(resources[0]["scopes"].as_array().unwrap().len(), 1);
    let (_, roles) = t.api(Method::GET, "/api/roles", None).await;
    assert_eq!(roles.as_array().unwrap().len(), 1);
    assert_eq!(roles[0]["applicationsCount"], 1);
    t.stop().await;
}

#[tokio::test]
async fn operator_chosen_credentials_are_used_and_stay_idempotent() {
    let id = "ci-bootstrap".to_owned();
    let secret = "a-very-long-operator-secret-123".to_owned();
    let (i, s) = (id.clone(), secret.clone());
    let t = TestServer::start_with(move |c| {
        c.bootstrap_m2m_client_id = Some(i);
        c.bootstrap_m2m_client_secret = Some(s);
    })
    .await;
    assert!(t.server.generated_credentials.is_none());
    // Only the admin tenant's generated credentials are on disk, never the chosen ones.
    let file = std::fs::read_to_string(t.credentials_path()).unwrap();
    assert!(!file.contains(&secret), "chosen credentials are not written to disk");
    let creds: Value = serde_json::from_str(&file).unwrap();
    assert!(creds.get("clientId").is_none() && creds["admin"]["clientId"].is_string(), "{creds}");
    let (status, _) = t.api(Method::GET, "/api/applications", None).await;
    assert_eq!(status, 200);

    let (i, s) = (id.clone(), secret.clone());
    let t = t
        .restart_with(move |c| {
            c.bootstrap_m2m_client_id = Some(i);
            c.bootstrap_m2m_client_secret = Some(s);
        })
        .await;
    let (_, secrets) = t.api(Method::GET, &format!("/api/applications/{id}/secrets"), None).await;
    assert_eq!(secrets.as_array().unwrap().len(), 1, "no duplicate secret on restart: {secrets}");
    let (_, apps) = t.api(Method::GET, "/api/applications", None).await;
    assert_eq!(apps.as_array().unwrap().len(), 1, "no generated app besides the chosen one");
    t.stop().await;
}

#[tokio::test]
async fn half_configured_credentials_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: dir.path().to_owned(),
        bootstrap_m2m_client_id: Some("only-id".into()),
        ..Default::default()
    };
    let err = kido_server::start(config).await.err().expect("must not start");
    assert!(err.to_string().contains("KIDO_BOOTSTRAP_M2M_CLIENT_SECRET"), "{err}");
}

#[tokio::test]
async fn status_is_public() {
    let t = TestServer::start().await;
    let (status, body) = send(Method::GET, &t.url("/api/status"), None, None).await;
    assert_eq!((status, body), (204, Value::Null));
    t.stop().await;
}

/// Several nodes on one database is a PostgreSQL deployment (SQLite is single-node).
#[tokio::test]
async fn two_nodes_starting_together_bootstrap_once() {
    let Ok(admin) = std::env::var("KIDO_TEST_POSTGRES_URL") else { return };
    // Two fresh nodes start at the same moment on one empty database.
    let shared = tempfile::tempdir().unwrap();
    let node = |db: Option<String>| kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: shared.path().to_owned(),
        database_url: db,
        ..Default::default()
    };
    let name = format!("kido_t_{}", kido_core::ids::new_id());
    let url = kido_store::create_postgres_database(&admin, &name).await.unwrap();
    let (a, b) = tokio::join!(kido_server::start(node(Some(url.clone()))), kido_server::start(node(Some(url))));
    let (a, b) = (a.unwrap(), b.unwrap());
    let generated = [a.generated_credentials.is_some(), b.generated_credentials.is_some()];
    assert_eq!(generated.iter().filter(|g| **g).count(), 1, "exactly one node creates the M2M app: {generated:?}");
    let admins = [a.generated_admin_credentials.is_some(), b.generated_admin_credentials.is_some()];
    assert_eq!(admins.iter().filter(|g| **g).count(), 1, "exactly one node creates the admin M2M app: {admins:?}");
    let keys = |s: &kido_server::RunningServer| {
        s.core.key_ring(&kido_core::TenantId::new("default")).unwrap().jwks_json.clone()
    };
    assert_eq!(keys(&a), keys(&b), "both nodes sign with the same key");
    a.stop().await;
    b.stop().await;
    kido_store::drop_postgres_database(&admin, &name).await.unwrap();
}

/// A token for the admin tenant's Management API with the admin M2M credentials.
async fn admin_token(t: &TestServer, id: &str, secret: &str) -> (u16, Value) {
    let form = [("grant_type", "client_credentials"), ("resource", "https://admin.logto.app/api"), ("scope", "all")];
    token_at(&t.admin_url("/oidc/token"), &form, Some((id, secret))).await
}

#[tokio::test]
async fn the_admin_tenant_gets_a_machine_to_machine_app_that_reaches_its_management_api() {
    let t = TestServer::start().await;
    let creds: Value = serde_json::from_slice(&std::fs::read(t.credentials_path()).unwrap()).unwrap();
    let admin = &creds["admin"];
    assert_eq!(admin["tenantId"], "admin");
    assert_eq!(admin["resource"], "https://admin.logto.app/api");
    assert_eq!(admin["scope"], "all");
    assert_eq!(admin["tokenEndpoint"], t.admin_url("/oidc/token"));
    let generated = t.server.generated_admin_credentials.clone().expect("generated on first start");
    assert_eq!(admin["clientId"].as_str(), Some(generated.client_id.as_str()));
    assert_eq!(creds["clientId"].as_str(), t.server.generated_credentials.as_ref().map(|c| c.client_id.as_str()));

    let (id, secret) = (admin["clientId"].as_str().unwrap(), admin["clientSecret"].as_str().unwrap());
    let (status, body) = admin_token(&t, id, secret).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    // What Logto's admin M2M app is for: changing the admin tenant's sign-in experience.
    let patch = serde_json::json!({"termsOfUseUrl": "https://example.com/terms"});
    let (status, body) = send(Method::PATCH, &t.admin_url("/api/sign-in-exp"), Some(&token), Some(patch)).await;
    assert_eq!((status, &body["termsOfUseUrl"]), (200, &serde_json::json!("https://example.com/terms")), "{body}");
    // The default tenant neither knows the client nor accepts the token.
    let form = [("grant_type", "client_credentials"), ("resource", "https://admin.logto.app/api"), ("scope", "all")];
    assert_eq!(token_at(&t.url("/oidc/token"), &form, Some((id, secret))).await.0, 401);
    assert_eq!(send(Method::GET, &t.url("/api/applications"), Some(&token), None).await.0, 401);

    // Restarts keep it: no second app, the same file, the same credentials working.
    let file_before = std::fs::read(t.credentials_path()).unwrap();
    let t = t.restart().await;
    assert!(t.server.generated_admin_credentials.is_none(), "a restart must not create new credentials");
    assert_eq!(std::fs::read(t.credentials_path()).unwrap(), file_before);
    let (status, body) = admin_token(&t, id, secret).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, apps) = send(Method::GET, &t.admin_url("/api/applications"), Some(token), None).await;
    assert_eq!(status, 200);
    assert_eq!(apps.as_array().unwrap().len(), 1, "{apps}");
    assert_eq!(apps[0]["type"], "MachineToMachine");
    t.stop().await;
}

#[tokio::test]
async fn chosen_admin_credentials_are_used_and_replace_the_generated_ones() {
    let t = TestServer::start().await;
    let creds: Value = serde_json::from_slice(&std::fs::read(t.credentials_path()).unwrap()).unwrap();
    let (old_id, old_secret) = (
        creds["admin"]["clientId"].as_str().unwrap().to_owned(),
        creds["admin"]["clientSecret"].as_str().unwrap().to_owned(),
    );
    let (id, secret) = ("admin-ci".to_owned(), "another-long-admin-secret-456".to_owned());
    let (i, s) = (id.clone(), secret.clone());
    let t = t
        .restart_with(move |c| {
            c.bootstrap_admin_m2m_client_id = Some(i);
            c.bootstrap_admin_m2m_client_secret = Some(s);
        })
        .await;
    assert!(t.server.generated_admin_credentials.is_none());
    let (status, body) = admin_token(&t, &id, &secret).await;
    assert_eq!(status, 200, "{body}");
    // The generated app lost its Management API access (the app is kept, as for the default tenant).
    let (status, body) = admin_token(&t, &old_id, &old_secret).await;
    assert_ne!(status, 200, "{body}");
    assert!(
        t.server.startup_warnings.iter().any(|w| w.contains("KIDO_BOOTSTRAP_ADMIN_M2M_CLIENT_ID")),
        "{:?}",
        t.server.startup_warnings
    );
    t.stop().await;
}

#[tokio::test]
async fn half_configured_admin_credentials_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: dir.path().to_owned(),
        bootstrap_admin_m2m_client_secret: Some("a-secret-long-enough".into()),
        ..Default::default()
    };
    let err = kido_server::start(config).await.err().expect("must not start");
    assert!(err.to_string().contains("KIDO_BOOTSTRAP_ADMIN_M2M_CLIENT_ID"), "{err}");
}
