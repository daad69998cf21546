//! Test servers and helpers.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kido_client::{ClientConfig, ManagementClient};
use kido_server::{Config, RunningServer};
use serde_json::{Value, json};

pub struct TestServer {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub database: Option<TestDatabase>,
    pub client: ManagementClient,
    pub client_id: String,
    pub client_secret: String,
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct TestDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

/// A server on free loopback ports, on the test's data directory and database.
fn test_config(dir: &tempfile::TempDir, database: Option<&TestDatabase>) -> Config {
    Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: dir.path().to_owned(),
        database_url: database.map(|d| d.url.clone()),
        password_hash_cost: kido_core::passwords::HashCost::MINIMAL,
        // The tests' SMTP and HTTP receivers listen on loopback.
        outbound_allow_private: true,
        ..Config::default()
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has had a look at its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = match std::env::var("KIDO_TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("kido_t_{}", kido_core::ids::new_id());
                let url = kido_store::create_postgres_database(&admin_url, &name).await.unwrap();
                Some(TestDatabase { admin_url, name, url })
            }
            _ => None,
        };
        let mut config = test_config(&dir, database.as_ref());
        adjust(&mut config);
        Self::boot(config, dir, database).await
    }

    async fn boot(config: Config, dir: tempfile::TempDir, database: Option<TestDatabase>) -> Self {
        let server = kido_server::start(config.clone()).await.unwrap();
        let (client_id, client_secret) = match (&config.bootstrap_m2m_client_id, &config.bootstrap_m2m_client_secret) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => {
                let creds: Value = serde_json::from_slice(&std::fs::read(&server.credentials_file).unwrap()).unwrap();
                (creds["clientId"].as_str().unwrap().to_owned(), creds["clientSecret"].as_str().unwrap().to_owned())
            }
        };
        let endpoint = server.listener("default").unwrap().endpoint.clone();
        let client = ManagementClient::new(ClientConfig {
            endpoint,
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            resource: "https://default.logto.app/api".into(),
        });
        Self { server, dir, database, client, client_id, client_secret }
    }

    /// Stops and starts again on the same data directory and database (ports change).
    pub async fn restart(self) -> Self {
        self.restart_with(|_| {}).await
    }

    pub async fn restart_with(self, adjust: impl FnOnce(&mut Config)) -> Self {
        let Self { server, dir, database, .. } = self;
        server.stop().await;
        let mut config = test_config(&dir, database.as_ref());
        adjust(&mut config);
        Self::boot(config, dir, database).await
    }

    /// Stops, then starts again with `adjust`ed settings expecting the start to be refused;
    /// returns why (and drops the test's database).
    pub async fn restart_refused(self, adjust: impl FnOnce(&mut Config)) -> String {
        let Self { server, dir, database, .. } = self;
        server.stop().await;
        let mut config = test_config(&dir, database.as_ref());
        adjust(&mut config);
        let why = match kido_server::start(config).await {
            Ok(started) => {
                started.stop().await;
                panic!("the server started");
            }
            Err(e) => e.to_string(),
        };
        if let Some(db) = database {
            kido_store::drop_postgres_database(&db.admin_url, &db.name).await.unwrap();
        }
        why
    }

    /// The configuration this server was started from, as `adjust` leaves it (for commands
    /// that run beside it, like `kido vault rotate-kek`).
    pub fn config_with(&self, adjust: impl FnOnce(&mut Config)) -> Config {
        let mut config = test_config(&self.dir, self.database.as_ref());
        adjust(&mut config);
        config
    }

    pub async fn stop(self) {
        self.server.stop().await;
        if let Some(db) = self.database {
            kido_store::drop_postgres_database(&db.admin_url, &db.name).await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.listener("default").unwrap().endpoint)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.server.listener("admin").unwrap().endpoint)
    }

    /// The generated credentials' file (one per database in the data directory).
    pub fn credentials_path(&self) -> PathBuf {
        self.server.credentials_file.clone()
    }

    /// POSTs a token request; returns status and JSON body.
    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        token_at(&self.url("/oidc/token"), form, basic).await
    }

    /// A Management API token from the bootstrap application.
    pub async fn management_token(&self) -> String {
        self.client.access_token().await.unwrap()
    }

    /// Sends a Management API request with the bootstrap token.
    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.management_token().await;
        send(method, &self.url(path), Some(&token), body).await
    }

    /// Creates an M2M app holding a new role with the given scopes of a new resource;
    /// returns (resource indicator, app id, secret).
    pub async fn m2m_app_with_scopes(&self, scopes: &[&str]) -> (String, String, String) {
        let indicator = format!("https://api.test/{}", kido_core::ids::new_id());
        let (_, resource) = self
            .api(reqwest::Method::POST, "/api/resources", Some(json!({"name": "Test API", "indicator": indicator})))
            .await;
        let mut scope_ids = Vec::new();
        for s in scopes {
            let (status, scope) = self
                .api(
                    reqwest::Method::POST,
                    &format!("/api/resources/{}/scopes", resource["id"].as_str().unwrap()),
                    Some(json!({"name": s})),
                )
                .await;
            assert_eq!(status, 201, "{scope}");
            scope_ids.push(scope["id"].as_str().unwrap().to_owned());
        }
        let (status, role) = self
            .api(reqwest::Method::POST, "/api/roles", Some(json!({"name": format!("role-{}", kido_core::ids::new_id()), "description": "test", "type": "MachineToMachine", "scopeIds": scope_ids})))
            .await;
        assert_eq!(status, 200, "{role}");
        let (app_id, secret) = self.new_app("MachineToMachine").await;
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                &format!("/api/applications/{app_id}/roles"),
                Some(json!({"roleIds": [role["id"]]})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (indicator, app_id, secret.unwrap())
    }

    /// Creates an application of `app_type`; returns its id and default secret (if any).
    pub async fn new_app(&self, app_type: &str) -> (String, Option<String>) {
        let (status, app) = self
            .api(reqwest::Method::POST, "/api/applications", Some(json!({"name": format!("{app_type} app"), "type": app_type, "oidcClientMetadata": {"redirectUris": ["https://app.test/callback"], "postLogoutRedirectUris": []}})))
            .await;
        assert_eq!(status, 200, "{app}");
        let id = app["id"].as_str().unwrap().to_owned();
        let (_, secrets) = self.api(reqwest::Method::GET, &format!("/api/applications/{id}/secrets"), None).await;
        (id, secrets.as_array().and_then(|s| s.first()).map(|s| s["value"].as_str().unwrap().to_owned()))
    }
}

pub async fn token_at(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut request = http().post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends a request with an optional bearer token; returns status and JSON body (Null when empty).
pub async fn send(method: reqwest::Method, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let response = send_raw(method, url, token, body).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

pub async fn send_raw(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = http().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// The JWT's header and claims, decoded without verification.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWS: {token}");
    let decode = |p: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (decode(parts[0]), decode(parts[1]))
}
