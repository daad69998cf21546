//! Who may call the Management API, and what everyone else hears.

use reqwest::Method;

use crate::harness::{TestServer, send, send_raw};

#[tokio::test]
async fn every_refusal_has_logtos_code() {
    let t = TestServer::start().await;
    let url = t.url("/api/applications");

    let (status, body) = send(Method::GET, &url, None, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.authorization_header_missing")));

    let response =
        crate::harness::http().get(&url).basic_auth(&t.client_id, Some(&t.client_secret)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "auth.authorization_token_type_not_supported");

    for bad in ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let (status, body) = send(Method::GET, &url, Some(bad), None).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")), "{bad}");
    }

    // A valid token with a tampered payload.
    let token = t.management_token().await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    let (status, body) = send(Method::GET, &url, Some(&parts.join(".")), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")));

    // The right token passes, also on writes.
    let (status, _) = send(Method::GET, &url, Some(&token), None).await;
    assert_eq!(status, 200);
    t.stop().await;
}

#[tokio::test]
async fn auth_is_checked_before_the_body() {
    let t = TestServer::start().await;
    let response =
        send_raw(Method::POST, &t.url("/api/applications"), None, Some(serde_json::json!({"bad": true}))).await;
    assert_eq!(response.status(), 401);
    t.stop().await;
}

#[tokio::test]
async fn a_resource_token_is_not_a_management_token() {
    let t = TestServer::start().await;
    let (indicator, app, secret) = t.m2m_app_with_scopes(&["all"]).await;
    let (_, body) = t
        .token(
            &[("grant_type", "client_credentials"), ("resource", &indicator), ("scope", "all")],
            Some((&app, &secret)),
        )
        .await;
    let (status, body) = send(Method::GET, &t.url("/api/applications"), body["access_token"].as_str(), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")));
    t.stop().await;
}
