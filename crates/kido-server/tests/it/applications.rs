//! `/api/applications`: CRUD, secrets, validation, pagination.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, send_raw};

#[tokio::test]
async fn crud_round_trip_without_secrets_in_responses() {
    let t = TestServer::start().await;
    let (status, app) = t
        .api(Method::POST, "/api/applications", Some(json!({
            "name": "Web", "type": "Traditional", "description": "d",
            "oidcClientMetadata": {"redirectUris": ["https://web.test/cb"], "postLogoutRedirectUris": ["https://web.test"]},
            "customData": {"plan": "pro"}
        })))
        .await;
    assert_eq!(status, 200, "{app}");
    assert!(app.get("secret").is_none(), "responses never carry a secret: {app}");
    assert_eq!(app["tenantId"], "default");
    assert_eq!(app["id"].as_str().unwrap().len(), 21);
    assert_eq!(app["customData"]["plan"], "pro");
    assert_eq!(app["isThirdParty"], false);
    let id = app["id"].as_str().unwrap();

    let (status, got) = t.api(Method::GET, &format!("/api/applications/{id}"), None).await;
    assert_eq!((status, &got), (200, &app));

    let (status, patched) = t
        .api(Method::PATCH, &format!("/api/applications/{id}"), Some(json!({"name": "Web 2", "description": null})))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Web 2");
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["oidcClientMetadata"], app["oidcClientMetadata"], "untouched fields stay");

    let (status, secrets) = t.api(Method::GET, &format!("/api/applications/{id}/secrets"), None).await;
    assert_eq!(status, 200);
    assert_eq!(secrets[0]["name"], "Default secret");
    assert_eq!(secrets[0]["value"].as_str().unwrap().len(), 32);

    let response =
        send_raw(Method::DELETE, &t.url(&format!("/api/applications/{id}")), Some(&t.management_token().await), None)
            .await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.content_length(), Some(0));
    let (status, body) = t.api(Method::GET, &format!("/api/applications/{id}"), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    assert_eq!(body["message"], format!("The applications with ID `{id}` does not exist."));
    t.stop().await;
}

#[tokio::test]
async fn invalid_input_is_a_400_that_says_what() {
    let t = TestServer::start().await;
    let cases = [
        json!({"type": "SPA"}),
        json!({"name": "x", "type": "Robot"}),
        json!({"name": "", "type": "SPA"}),
        json!({"name": "x", "type": "SPA", "oidcClientMetadata": {"redirectUris": ["not a url"], "postLogoutRedirectUris": []}}),
        json!({"name": "x", "type": "SPA", "oidcClientMetadata": {"redirectUris": ["https://a.test/cb#frag"], "postLogoutRedirectUris": []}}),
        json!({"name": "x", "type": "SPA", "customData": [1, 2]}),
        json!({"name": 42, "type": "SPA"}),
        json!({"name": "nul\u{0}byte", "type": "SPA"}),
        json!({"name": "x", "type": "SPA", "customClientMetadata": [null, null]}),
        json!({"name": "x", "type": "SPA", "customClientMetadata": {"refreshTokenTtlInDays": 0}}),
        json!({"name": "x", "type": "SPA", "customClientMetadata": {"idTokenTtl": 90000}}),
        json!(["x", "SPA"]),
        json!({"name": "x", "type": "SPA", "customData": {"k": ["\u{0}"]}}),
    ];
    for body in cases {
        let (status, error) = t.api(Method::POST, "/api/applications", Some(body.clone())).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")), "{body} → {error}");
        assert!(error["details"].is_string(), "{error}");
    }
    let m2m_third_party = json!({"name": "x", "type": "MachineToMachine", "isThirdParty": true});
    let (status, error) = t.api(Method::POST, "/api/applications", Some(m2m_third_party)).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("application.invalid_third_party_application_type")));
    // Broken JSON.
    let response = crate::harness::http()
        .post(t.url("/api/applications"))
        .bearer_auth(t.management_token().await)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "guard.invalid_input");
    t.stop().await;
}

#[tokio::test]
async fn secrets_lifecycle() {
    let t = TestServer::start().await;
    let (id, _) = t.new_app("MachineToMachine").await;
    let base = format!("/api/applications/{id}/secrets");
    let (status, secret) = t.api(Method::POST, &base, Some(json!({"name": "ci"}))).await;
    assert_eq!(status, 201, "{secret}");
    assert_eq!(secret["applicationId"], id.as_str());
    assert_eq!(secret["expiresAt"], Value::Null);
    let (status, error) = t.api(Method::POST, &base, Some(json!({"name": "ci"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.secret_name_exists")));
    let (status, error) = t.api(Method::POST, &base, Some(json!({"name": "old", "expiresAt": 1000}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("request.invalid_input")));

    let (status, renamed) = t.api(Method::PATCH, &format!("{base}/ci"), Some(json!({"name": "ci-2"}))).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("ci-2")));
    assert_eq!(renamed["value"], secret["value"]);
    let (status, error) = t.api(Method::PATCH, &format!("{base}/ci-2"), Some(json!({"name": "Default secret"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.secret_name_exists")));
    assert_eq!(t.api(Method::PATCH, &format!("{base}/nope"), Some(json!({"name": "x"}))).await.0, 404);
    assert_eq!(t.api(Method::DELETE, &format!("{base}/ci-2"), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("{base}/ci-2"), None).await.0, 404);
    let (_, secrets) = t.api(Method::GET, &base, None).await;
    assert_eq!(secrets.as_array().unwrap().len(), 1);

    // Public clients have no secrets.
    let (spa, secret) = t.new_app("SPA").await;
    assert!(secret.is_none());
    let (status, error) =
        t.api(Method::POST, &format!("/api/applications/{spa}/secrets"), Some(json!({"name": "x"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("entity.db_constraint_violated")));
    assert_eq!(t.api(Method::GET, "/api/applications/nope/secrets", None).await.0, 404);
    t.stop().await;
}

#[tokio::test]
async fn lists_paginate_with_headers_and_filter() {
    let t = TestServer::start().await;
    for _ in 0..4 {
        t.new_app("SPA").await;
    }
    t.new_app("Traditional").await;
    let token = t.management_token().await;
    let response = send_raw(Method::GET, &t.url("/api/applications?page=2&page_size=2"), Some(&token), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["total-number"], "6");
    let links: Vec<String> =
        response.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(links.len(), 4, "{links:?}");
    assert!(
        links.contains(&format!("<{}?page_size=2&page=1>; rel=\"first\"", t.url("/api/applications"))),
        "{links:?}"
    );
    assert!(links.iter().any(|l| l.ends_with("page=3>; rel=\"last\"")));
    assert!(links.iter().any(|l| l.ends_with("page=1>; rel=\"prev\"")));
    assert!(links.iter().any(|l| l.ends_with("page=3>; rel=\"next\"")));
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);

    // Optional pagination: no parameters, the whole list, no headers.
    let response = send_raw(Method::GET, &t.url("/api/applications"), Some(&token), None).await;
    assert!(response.headers().get("total-number").is_none());
    assert_eq!(response.json::<Value>().await.unwrap().as_array().unwrap().len(), 6);

    let (_, spas) = t.api(Method::GET, "/api/applications?types=SPA&types=Traditional", None).await;
    assert_eq!(spas.as_array().unwrap().len(), 5);
    let (_, found) = t.api(Method::GET, "/api/applications?search=%25tradi%25", None).await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    for bad in ["page=0", "page_size=101", "page=abc", "page_size=-1", "page_size=", "page=1&page=2"] {
        let (status, error) = t.api(Method::GET, &format!("/api/applications?{bad}"), None).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_pagination")), "{bad}");
    }
    let (status, error) = t.api(Method::GET, "/api/applications?types=Robot", None).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")));
    t.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let t = TestServer::start().await;
    let response = crate::harness::http().put(t.url("/api/applications")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.headers().get("allow").is_some());
    let (status, body) = crate::harness::send(Method::GET, &t.url("/api/nothing-here"), None, None).await;
    assert_eq!(status, 404);
    assert!(body["code"].is_string());
    t.stop().await;
}

/// Logto 1.42's application rules: third-party SPA and Native apps, the device flow for
/// Native apps only and fixed once made, `maxAllowedGrants` kept.
#[tokio::test]
async fn third_party_public_apps_device_flow_and_grant_limits() {
    let t = TestServer::start().await;
    for app_type in ["SPA", "Native", "Traditional"] {
        let body = json!({"name": "x", "type": app_type, "isThirdParty": true});
        let (status, app) = t.api(Method::POST, "/api/applications", Some(body)).await;
        assert_eq!((status, &app["isThirdParty"]), (200, &json!(true)), "{app_type}: {app}");
    }
    let device =
        |app_type: &str| json!({"name": "tv", "type": app_type, "customClientMetadata": {"isDeviceFlow": true}});
    let (status, error) = t.api(Method::POST, "/api/applications", Some(device("SPA"))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.device_flow_native_only")));
    let (status, tv) = t.api(Method::POST, "/api/applications", Some(device("Native"))).await;
    assert_eq!((status, &tv["customClientMetadata"]["isDeviceFlow"]), (200, &json!(true)), "{tv}");
    let path = format!("/api/applications/{}", tv["id"].as_str().unwrap());
    let off = json!({"customClientMetadata": {"isDeviceFlow": false}});
    let (status, error) = t.api(Method::PATCH, &path, Some(off)).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.device_flow_not_changeable")));
    // Other custom metadata changes keep the flow; maxAllowedGrants is stored and returned.
    let grants = json!({"customClientMetadata": {"maxAllowedGrants": 3}});
    let (status, tv) = t.api(Method::PATCH, &path, Some(grants)).await;
    assert_eq!(status, 200, "{tv}");
    assert_eq!(tv["customClientMetadata"], json!({"isDeviceFlow": true, "maxAllowedGrants": 3}));
    let (_, got) = t.api(Method::GET, &path, None).await;
    assert_eq!(got["customClientMetadata"]["maxAllowedGrants"], 3);
    for out_of_range in [0_u64, 10_001, 1 << 63] {
        let body = json!({"customClientMetadata": {"maxAllowedGrants": out_of_range}});
        assert_eq!(t.api(Method::PATCH, &path, Some(body)).await.0, 400, "{out_of_range}");
    }
    t.stop().await;
}
