//! `/api/logs`: what the user routes write, and reading it back.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;

#[tokio::test]
async fn user_changes_are_logged_and_readable() {
    let t = TestServer::start().await;
    let before = kido_core::clock::now_ms();
    let (_, user) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "logged", "password": "s3cret-Password"}))).await;
    let id = user["id"].as_str().unwrap();
    t.api(Method::PATCH, &format!("/api/users/{id}"), Some(json!({"name": "Logged In"}))).await;
    t.api(Method::PATCH, &format!("/api/users/{id}/password"), Some(json!({"password": "an0ther-Secret"}))).await;
    t.api(Method::DELETE, &format!("/api/users/{id}"), None).await;

    let (status, logs) = t.api(Method::GET, &format!("/api/logs?userId={id}"), None).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = logs.as_array().unwrap().iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["User.Deleted", "User.Password.Updated", "User.Data.Updated", "User.Created"], "newest first");
    let text = logs.to_string();
    assert!(
        !text.contains("s3cret") && !text.contains("an0ther") && !text.contains("argon2"),
        "no secrets in logs: {text}"
    );
    assert_eq!(logs[2]["payload"]["changed"], json!(["name"]));
    assert_eq!(logs[0]["payload"]["userId"], id);

    let (_, only) = t.api(Method::GET, &format!("/api/logs?userId={id}&logKey=User.Created"), None).await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let log_id = only[0]["id"].as_str().unwrap();
    let (status, one) = t.api(Method::GET, &format!("/api/logs/{log_id}"), None).await;
    assert_eq!((status, &one), (200, &only[0]));
    let (status, error) = t.api(Method::GET, "/api/logs/nope", None).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));

    let (_, none) = t
        .api(Method::GET, &format!("/api/logs?userId={id}&start_time={}", kido_core::clock::now_ms() + 60_000), None)
        .await;
    assert!(none.as_array().unwrap().is_empty());
    let (_, all) =
        t.api(Method::GET, &format!("/api/logs?userId={id}&start_time={before}&page=1&page_size=2"), None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, _) = t.api(Method::GET, "/api/logs?start_time=yesterday", None).await;
    assert_eq!(status, 400);
    t.stop().await;
}
