//! A user's social identities through the Management API: set, replaced, read, removed; one
//! provider account belongs to one user of the tenant (released when re-pointed, removed or
//! when its user is deleted); bodies bounded.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;

async fn new_user(t: &TestServer, username: &str) -> String {
    let (status, user) = t.api(Method::POST, "/api/users", Some(json!({"username": username}))).await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

async fn put(t: &TestServer, user: &str, target: &str, body: Value) -> (u16, Value) {
    t.api(Method::PUT, &format!("/api/users/{user}/identities/{target}"), Some(body)).await
}

#[tokio::test]
async fn identities_are_set_read_and_removed_one_owner_per_provider_account() {
    let t = TestServer::start().await;
    let (alice, bob) = (new_user(&t, "alice").await, new_user(&t, "bob").await);

    let identity = json!({"userId": "g-1", "details": {"email": "alice@github.test"}});
    let (status, body) = put(&t, &alice, "github", identity.clone()).await;
    assert_eq!((status, &body), (201, &json!({"github": identity})), "{body}");
    let (status, body) = put(&t, &alice, "github", json!({"userId": "g-1"})).await;
    assert_eq!((status, &body), (200, &json!({"github": {"userId": "g-1"}})), "replaced: {body}");
    let (status, body) = t.api(Method::GET, &format!("/api/users/{alice}/identities/github"), None).await;
    assert_eq!((status, &body), (200, &json!({"identity": {"userId": "g-1"}})), "{body}");
    let (_, user) = t.api(Method::GET, &format!("/api/users/{alice}"), None).await;
    assert_eq!(user["identities"], json!({"github": {"userId": "g-1"}}), "{user}");
    let (status, body) = t.api(Method::GET, &format!("/api/users/{alice}/identities/gitlab"), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("user.identity_not_exist")), "{body}");
    let (status, _) = t.api(Method::GET, "/api/users/nobody/identities/github", None).await;
    assert_eq!(status, 404);

    // One owner per provider account; re-pointing releases the old one.
    let (status, body) = put(&t, &bob, "github", json!({"userId": "g-1"})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("user.identity_already_in_use")), "{body}");
    let (status, body) = put(&t, &bob, "google", json!({"userId": "g-1"})).await;
    assert_eq!(status, 201, "another connector's g-1 is another account: {body}");
    let (status, _) = put(&t, &alice, "github", json!({"userId": "g-3"})).await;
    assert_eq!(status, 200);
    let (status, body) = put(&t, &bob, "github", json!({"userId": "g-1"})).await;
    assert_eq!(status, 201, "g-1 was released: {body}");

    // Bad bodies and targets.
    for bad in [
        json!({}),
        json!({"userId": ""}),
        json!({"userId": "x".repeat(257)}),
        json!({"userId": "x", "details": "text"}),
        json!({"userId": "x", "details": {"blob": "y".repeat(17 * 1024)}}),
        json!({"userId": 7}),
    ] {
        let (status, body) = put(&t, &alice, "gitlab", bad.clone()).await;
        assert_eq!(status, 400, "{bad} → {body}");
    }
    let (status, _) = put(&t, &alice, &"t".repeat(129), json!({"userId": "x"})).await;
    assert_eq!(status, 400);
    let (status, _) = put(&t, "nobody", "gitlab", json!({"userId": "x"})).await;
    assert_eq!(status, 404);

    // Removed: the user comes back; the account is free again; twice is not found.
    let (status, user) = t.api(Method::DELETE, &format!("/api/users/{alice}/identities/github"), None).await;
    assert_eq!((status, &user["identities"], user["id"].as_str()), (200, &json!({}), Some(alice.as_str())), "{user}");
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{alice}/identities/github"), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("user.identity_not_exist")), "{body}");
    let (status, _) = put(&t, &bob, "gitlab", json!({"userId": "g-3"})).await;
    assert_eq!(status, 201);
    let (status, body) = put(&t, &alice, "github", json!({"userId": "g-3"})).await;
    assert_eq!(status, 201, "alice's old g-3 is free after the removal: {body}");

    // A deleted user's accounts are free.
    let (status, _) = t.api(Method::DELETE, &format!("/api/users/{bob}"), None).await;
    assert_eq!(status, 204);
    let (status, body) = put(&t, &alice, "google", json!({"userId": "g-1"})).await;
    assert_eq!(status, 201, "{body}");
    t.stop().await;
}
