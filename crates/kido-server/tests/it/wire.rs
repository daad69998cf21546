//! Logto wire details a real client notices (issue 17): request ids, the status API key, the
//! logs' time range.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::json;

use crate::harness::{TestServer, http, send_raw};

const REQUEST_ID: &str = "logto-core-request-id";

#[tokio::test]
async fn every_response_names_its_request() {
    let t = TestServer::start().await;
    let token = t.management_token().await;
    let cookie_pair = "_interaction=a; _interaction=b";
    let responses = vec![
        ("api", send_raw(Method::GET, &t.url("/api/applications"), Some(&token), None).await),
        ("unauthenticated", send_raw(Method::GET, &t.url("/api/applications"), None, None).await),
        ("unknown route", send_raw(Method::GET, &t.url("/nope"), None, None).await),
        ("discovery", send_raw(Method::GET, &t.url("/oidc/.well-known/openid-configuration"), None, None).await),
        ("token error", http().post(t.url("/oidc/token")).form(&[("grant_type", "nope")]).send().await.unwrap()),
        (
            "too large",
            http()
                .post(t.url("/api/applications"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(vec![b' '; 2 << 20])
                .send()
                .await
                .unwrap(),
        ),
        (
            "guard",
            http()
                .put(t.url("/api/experience"))
                .header("cookie", cookie_pair)
                .json(&json!({"interactionEvent": "SignIn"}))
                .send()
                .await
                .unwrap(),
        ),
        ("admin port", send_raw(Method::GET, &t.admin_url("/api/status"), None, None).await),
    ];
    let mut seen = HashSet::new();
    for (what, r) in &responses {
        let id = r.headers().get(REQUEST_ID).unwrap_or_else(|| panic!("{what} ({}) has no {REQUEST_ID}", r.status()));
        assert!(seen.insert(id.to_str().unwrap().to_owned()), "{what}: request ids are unique");
    }
    assert_eq!(responses[5].1.status(), 413);
    t.stop().await;
}

#[tokio::test]
async fn the_status_api_key_reveals_the_tenant() {
    let t = TestServer::start_with(|c| c.status_api_key = Some("status-secret".into())).await;
    let status = |url: String, key: Option<&'static str>| async move {
        let mut request = http().get(url);
        if let Some(key) = key {
            request = request.header("logto-status-api-key", key);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.headers().get("logto-tenant-id").map(|v| v.to_str().unwrap().to_owned()))
    };
    assert_eq!(status(t.url("/api/status"), None).await, (204, None));
    assert_eq!(status(t.url("/api/status"), Some("wrong")).await, (204, None));
    assert_eq!(status(t.url("/api/status"), Some("status-secret")).await, (204, Some("default".into())));
    assert_eq!(status(t.admin_url("/api/status"), Some("status-secret")).await, (204, Some("admin".into())));
    t.stop().await;
    // Without a configured key nobody learns the tenant.
    let t = TestServer::start().await;
    assert_eq!(status(t.url("/api/status"), Some("")).await, (204, None));
    t.stop().await;
}

#[tokio::test]
async fn logs_refuse_an_inverted_time_range() {
    let t = TestServer::start().await;
    let (status, body) = t.api(Method::GET, "/api/logs?start_time=2000&end_time=1000", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["details"].as_str().unwrap_or_default().contains("start_time"), "{body}");
    assert_eq!(t.api(Method::GET, "/api/logs?start_time=1000&end_time=1000", None).await.0, 200);
    t.stop().await;
}
