//! Username + password sign-up the way Logto's own UI does it (issue 17 item 5):
//! `verification/new-password-identity` → `identification` (201) → `submit`.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;
use crate::signin::{Browser, auth_url, exchange, world};

fn new_identity(username: &str, password: &str) -> serde_json::Value {
    json!({"identifier": {"type": "username", "value": username}, "password": password})
}

#[tokio::test]
async fn new_password_identity_registers_the_user() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    let path = "/verification/new-password-identity";

    // Only while registering.
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let r = b.api(Method::POST, path, Some(new_identity("erin", "Erin-rides-far-77"))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.invalid_interaction_type")), "{}", r.text);
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "Register"}))).await.status, 204);

    // The same checks as the profile step: identifier type, taken username, policy, length.
    let email = json!({"identifier": {"type": "email", "value": "e@x.test"}, "password": "Erin-rides-far-77"});
    let r = b.api(Method::POST, path, Some(email)).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")), "{}", r.text);
    let r = b.api(Method::POST, path, Some(new_identity(&w.username, "Erin-rides-far-77"))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.username_already_in_use")), "{}", r.text);
    let r = b.api(Method::POST, path, Some(new_identity("erin", "123"))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("password.rejected")), "{}", r.text);
    let r = b.api(Method::POST, path, Some(new_identity("erin", &"x".repeat(300)))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")), "{}", r.text);
    let r = b.api(Method::POST, path, Some(new_identity("bad name!", "Erin-rides-far-77"))).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let r = b.api(Method::POST, path, Some(new_identity("erin", "Erin-rides-far-77"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    // The record names no account yet: it cannot sign anyone in.
    let state = b.api(Method::GET, "/interaction", None).await.json();
    let record = &state["verificationRecords"][0];
    assert_eq!((record["type"].as_str(), record["verified"].as_bool()), (Some("NewPasswordIdentity"), Some(true)));
    assert!(record.get("passwordEncrypted").is_none(), "no hash leaves the server: {record}");

    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (_, users) = t.api(Method::GET, "/api/users?search=erin", None).await;
    let users = users.as_array().unwrap();
    assert_eq!((users.len(), users[0]["username"].as_str()), (1, Some("erin")));
    assert_eq!(users[0]["hasPassword"], true);

    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = b.follow(r.json()["redirectTo"].as_str().unwrap().to_owned()).await.param("code").unwrap();
    let (status, tokens) = exchange(&t.url(""), &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");

    // The new account signs in with that password.
    let mut again = Browser::new(&t.url(""));
    again.get(&auth_url(&w.app, "")).await;
    assert!(again.sign_in("erin", "Erin-rides-far-77").await.contains("/oidc/auth/"));
    t.stop().await;
}

#[tokio::test]
async fn a_new_password_identity_registers_nobody_when_the_name_was_taken_meanwhile() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "Register"}))).await;
    let r = b
        .api(Method::POST, "/verification/new-password-identity", Some(new_identity("frank", "Frank-is-frank-12")))
        .await;
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let (status, _) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "frank", "password": "Other-frank-34"}))).await;
    assert_eq!(status, 200);
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.username_already_in_use")), "{}", r.text);
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": "nope"}))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    t.stop().await;
}
