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
