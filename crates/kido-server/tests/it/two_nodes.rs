//! Two `kido` processes on one database behave as one server: a sign-in started on one
//! node finishes on the other, and codes and refresh tokens work on either (no node-local
//! state). PostgreSQL only (`KIDO_TEST_POSTGRES_URL`): a SQLite data directory takes one process.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::{send, token_at};
use crate::signin::{Browser, REDIRECT, VERIFIER, World, auth_url, exchange};

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_node(data_dir: &std::path::Path, database_url: Option<&str>, endpoint: &str, port: u16) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kido"));
    command
        .arg("serve")
        .env_clear()
        .env("KIDO_DATA_DIR", data_dir)
        .env("KIDO_PORT", port.to_string())
        .env("KIDO_ADMIN_PORT", free_port().to_string())
        .env("KIDO_HOST", "127.0.0.1")
        .env("KIDO_ENDPOINT", endpoint)
        .env("KIDO_BOOTSTRAP_M2M_CLIENT_ID", "two-nodes-m2m")
        .env("KIDO_BOOTSTRAP_M2M_CLIENT_SECRET", "two-nodes-secret-two-nodes-secret")
        .env("KIDO_ARGON2_MEMORY_KIB", "8")
        .env("KIDO_ARGON2_ITERATIONS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let node = Node(command.spawn().unwrap());
    let status = format!("http://127.0.0.1:{port}/api/status");
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(&status).await
            && r.status() == 204
        {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node on port {port} did not start");
}

#[tokio::test]
async fn a_sign_in_crosses_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("KIDO_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("kido_t_{}", kido_core::ids::new_id());
            Some((admin.clone(), name.clone(), kido_store::create_postgres_database(&admin, &name).await.unwrap()))
        }
        // A SQLite data directory belongs to one process (abuse_nodes.rs checks the refusal).
        _ => return,
    };
    let url = database.as_ref().map(|(_, _, url)| url.as_str());
    let (port_a, port_b) = (free_port(), free_port());
    // Both nodes answer for one public endpoint, as behind a load balancer.
    let endpoint = format!("http://127.0.0.1:{port_a}");
    let a = format!("http://127.0.0.1:{port_a}");
    let b = format!("http://127.0.0.1:{port_b}");
    let node_a = start_node(dir.path(), url, &endpoint, port_a).await;
    let node_b = start_node(dir.path(), url, &endpoint, port_b).await;

    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let (_, token) =
        token_at(&format!("{b}/oidc/token"), &form, Some(("two-nodes-m2m", "two-nodes-secret-two-nodes-secret"))).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    let api = |m: Method, path: &str, body| {
        let (url, token) = (format!("{a}{path}"), token.clone());
        async move { send(m, &url, Some(&token), body).await }
    };
    let body = json!({"name": "web", "type": "Traditional", "oidcClientMetadata": {"redirectUris": [REDIRECT], "postLogoutRedirectUris": []}});
    let (_, app) = api(Method::POST, "/api/applications", Some(body)).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let (_, secrets) = api(Method::GET, &format!("/api/applications/{app_id}/secrets"), None).await;
    let (status, resource) =
        api(Method::POST, "/api/resources", Some(json!({"name": "API", "indicator": crate::signin::API}))).await;
    assert_eq!(status, 201, "{resource}");
    let password = "Two-nodes-share-one-db-5";
    let (status, user) =
        api(Method::POST, "/api/users", Some(json!({"username": "alice", "password": password}))).await;
    assert_eq!(status, 200, "{user}");
    let w = World {
        app: app_id,
        secret: secrets[0]["value"].as_str().unwrap().to_owned(),
        spa: String::new(),
        username: "alice".into(),
        password: password.into(),
        user_id: user["id"].as_str().unwrap().to_owned(),
    };

    // Authorize on A, sign in through B's Experience API, come back on A.
    let mut browser = Browser::new(&a);
    let r = browser.get(&auth_url(&w.app, "")).await;
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in"));
    browser.base = b.clone();
    let next = browser.sign_in(&w.username, &w.password).await;
    browser.base = a.clone();
    let code = browser.follow(next).await.param("code").unwrap();

    // Exchange on B, refresh on A, userinfo on B.
    let (status, tokens) = exchange(&b, &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("resource", crate::signin::API),
    ];
    let (status, refreshed) = token_at(&format!("{a}/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(status, 200, "{refreshed}");
    let me = send(Method::GET, &format!("{b}/oidc/me"), tokens["access_token"].as_str(), None).await;
    assert_eq!((me.0, me.1["sub"].as_str()), (200, Some(w.user_id.as_str())));
    // The code is spent on both nodes.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (_, replay) = token_at(&format!("{a}/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(replay["error"], "invalid_grant");

    drop(node_a);
    drop(node_b);
    if let Some((admin, name, _)) = database {
        kido_store::drop_postgres_database(&admin, &name).await.unwrap();
    }
}
