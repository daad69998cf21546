//! `kido backup`: an online copy of the SQLite database that a second Kido starts from with
//! the same users and signing keys; never over an existing file; PostgreSQL pointed at pg_dump.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, http, send, token_at};
use crate::process::{kido, run};

async fn jwks(base: &str) -> Value {
    http().get(format!("{base}/oidc/jwks")).send().await.unwrap().json().await.unwrap()
}

/// `kido backup <file>` on `data_dir`, run off the async workers.
async fn backup(data_dir: std::path::PathBuf, file: std::path::PathBuf) -> (std::process::ExitStatus, String, String) {
    tokio::task::spawn_blocking(move || {
        let file = file.to_str().unwrap().to_owned();
        run(kido(&["backup", &file], &data_dir, &[]))
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_serving_starts_a_second_kido_with_the_same_users_and_keys() {
    // The SQLite database, whatever the suite runs on: that is what `kido backup` copies.
    let t = TestServer::start_with(|c| c.database_url = None).await;
    let (status, alice) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "alice", "password": "correct horse"}))).await;
    assert_eq!(status, 200, "{alice}");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("kido-backup.db");

    // Writes go on while the copy is taken: it must be a consistent snapshot regardless.
    let writer = {
        let url = t.url("/api/users");
        let token = t.management_token().await;
        tokio::spawn(async move {
            for i in 0..20 {
                let body = json!({"username": format!("busy{i}")});
                let (status, _) = send(Method::POST, &url, Some(&token), Some(body)).await;
                assert_eq!(status, 200);
            }
        })
    };
    let (status, stdout, stderr) = backup(t.dir.path().to_owned(), file.clone()).await;
    writer.await.unwrap();
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("kido-backup.db"), "{stdout}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the copy holds keys and secrets: owner-only");

    // Never over an existing file, which is left as it was.
    let before = std::fs::read(&file).unwrap();
    let (status, _, stderr) = backup(t.dir.path().to_owned(), file.clone()).await;
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A second Kido on a data directory holding only the copy.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join("kido.db")).unwrap();
    let second = kido_server::start(kido_server::Config {
        host: [127, 0, 0, 1].into(),
        port: 0,
        admin_port: 0,
        data_dir: restored.path().to_owned(),
        password_hash_cost: kido_core::passwords::HashCost::MINIMAL,
        ..kido_server::Config::default()
    })
    .await
    .unwrap();
    assert!(second.generated_credentials.is_none(), "the copy is an initialised database");
    let base = second.listener("default").unwrap().endpoint.clone();
    assert_eq!(jwks(&base).await, jwks(&t.url("")).await, "the same signing keys");
    // The first server's M2M credentials work on the second: same applications and secrets.
    let (status, token) = token_at(
        &format!("{base}/oidc/token"),
        &[("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")],
        Some((&t.client_id, &t.client_secret)),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let token = token["access_token"].as_str().unwrap();
    let (_, copied) =
        send(Method::GET, &format!("{base}/api/users/{}", alice["id"].as_str().unwrap()), Some(token), None).await;
    assert_eq!(copied["username"], "alice", "{copied}");
    let (_, users) = send(Method::GET, &format!("{base}/api/users?page_size=100"), Some(token), None).await;
    let count = users.as_array().unwrap().len();
    assert!((1..=21).contains(&count), "alice and the users written before the snapshot: {count}");
    second.stop().await;
    t.stop().await;
}

#[tokio::test]
async fn backup_on_postgresql_points_at_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("KIDO_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://kido:hunter2@127.0.0.1:5432/kido".into());
    let data_dir = dir.path().to_owned();
    let file = dir.path().join("copy.db");
    let (status, _, stderr) = tokio::task::spawn_blocking(move || {
        run(kido(&["backup", file.to_str().unwrap()], &data_dir, &[("DATABASE_URL", url.as_str())]))
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pg_dump") && stderr.contains("pg_restore"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!dir.path().join("copy.db").exists(), "nothing is written");
}
