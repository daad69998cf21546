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

    let (status, mut got) = t.api(Method::GET, &format!("/api/applications/{id}"), None).await;
    // Logto's GET adds `isAdmin` (holding the Management API role) to what POST answered.
    assert_eq!((status, got.as_object_mut().unwrap().remove("isAdmin")), (200, Some(json!(false))));
    assert_eq!(got, app);

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

/// Logto's answers for the types Kido (as Logto OSS) cannot create, the `types` filter
/// naming them, and `isAdmin` as holding the Management API role.
#[tokio::test]
async fn saml_and_protected_types_and_is_admin() {
    let t = TestServer::start().await;
    let create = |body: Value| async { t.api(Method::POST, "/api/applications", Some(body)).await };
    let code = |r: &(u16, Value)| (r.0, r.1["code"].as_str().map(str::to_owned));
    let saml = create(json!({"name": "s", "type": "SAML"})).await;
    assert_eq!(code(&saml), (400, Some("application.saml.use_saml_app_api".into())), "{}", saml.1);
    let bare = create(json!({"name": "p", "type": "Protected"})).await;
    assert_eq!(code(&bare), (400, Some("application.protected_app_metadata_is_required".into())));
    let bad_sub = create(json!({"name": "p", "type": "Protected",
        "protectedAppMetadata": {"subDomain": "-Bad-", "origin": "https://origin.test"}}))
    .await;
    assert_eq!(code(&bad_sub), (422, Some("application.invalid_subdomain".into())));
    let hosted = create(json!({"name": "p", "type": "Protected",
        "protectedAppMetadata": {"subDomain": "my-app", "origin": "https://origin.test"}}))
    .await;
    assert_eq!(code(&hosted), (501, Some("application.protected_app_not_configured".into())));
    // The metadata's shape is checked whatever the type (schemathesis found a 64-character
    // subdomain accepted on a Native app).
    let long = create(json!({"name": "n", "type": "Native",
        "protectedAppMetadata": {"subDomain": "a".repeat(64), "origin": ""}}))
    .await;
    assert_eq!(long.0, 400, "{}", long.1);
    let (_, all) = t.api(Method::GET, "/api/applications", None).await;
    assert!(all.as_array().unwrap().iter().all(|a| a["type"] != "Protected" && a["type"] != "SAML"), "{all}");

    let (spa, _) = t.new_app("SPA").await;
    let (m2m, _) = t.new_app("MachineToMachine").await;
    for filter in ["types=Protected", "types=SAML", "types=Protected&types=SAML"] {
        let (status, listed) = t.api(Method::GET, &format!("/api/applications?{filter}"), None).await;
        assert_eq!((status, listed), (200, json!([])), "{filter}");
    }
    let (status, listed) = t.api(Method::GET, "/api/applications?types=Protected&types=SPA", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect::<Vec<_>>(), [&spa]);

    let path = format!("/api/applications/{m2m}");
    let (_, got) = t.api(Method::GET, &path, None).await;
    assert_eq!(got["isAdmin"], false);
    let (status, patched) = t.api(Method::PATCH, &path, Some(json!({"isAdmin": true}))).await;
    assert_eq!(status, 200, "{patched}");
    let (_, got) = t.api(Method::GET, &path, None).await;
    assert_eq!(got["isAdmin"], true, "stored: {got}");
    // Being admin is holding the Management API role, so the app's token opens the API.
    let (_, roles) = t.api(Method::GET, &format!("{path}/roles"), None).await;
    assert_eq!(roles[0]["id"], "management-api-access", "{roles}");
    let secret = t.api(Method::GET, &format!("{path}/secrets"), None).await.1[0]["value"].as_str().unwrap().to_owned();
    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let (status, token) = t.token(&form, Some((&m2m, &secret))).await;
    assert_eq!(status, 200, "{token}");
    let url = t.url("/api/applications");
    assert_eq!(crate::harness::send(Method::GET, &url, token["access_token"].as_str(), None).await.0, 200);
    assert_eq!(t.api(Method::PATCH, &path, Some(json!({"isAdmin": true}))).await.0, 200, "idempotent");
    assert_eq!(t.api(Method::PATCH, &path, Some(json!({"isAdmin": false}))).await.0, 200);
    assert_eq!(t.api(Method::GET, &path, None).await.1["isAdmin"], false);
    let (_, roles) = t.api(Method::GET, &format!("{path}/roles"), None).await;
    assert_eq!(roles, json!([]));
    let spa_admin = t.api(Method::PATCH, &format!("/api/applications/{spa}"), Some(json!({"isAdmin": true}))).await;
    assert_eq!(code(&spa_admin), (422, Some("application.invalid_type".into())));
    assert_eq!(t.api(Method::GET, &format!("/api/applications/{spa}"), None).await.1["isAdmin"], false);
    t.stop().await;
}

/// A key no field takes is accepted, as Logto's guards accept it, but named in a `Warning`
/// header: a top-level `redirectUris` does not silently leave the app without redirect URIs.
#[tokio::test]
async fn body_keys_no_field_takes_are_named_in_a_warning_header() {
    let t = TestServer::start().await;
    let token = t.management_token().await;
    let body = json!({"name": "Web", "type": "Traditional", "redirectUris": ["https://web.test/cb"],
        "oidcClientMetadata": {"redirectUris": [], "postLogoutRedirectUris": [], "redirectUri": "x"}});
    let response = send_raw(Method::POST, &t.url("/api/applications"), Some(&token), Some(body)).await;
    assert_eq!(response.status(), 200);
    let warning = response.headers().get("warning").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(warning.starts_with("299 kido \"ignored unknown keys: "), "{warning}");
    let keys: Vec<&str> = warning.trim_end_matches('"').rsplit(": ").next().unwrap().split(", ").collect();
    assert!(keys.contains(&"redirectUris"), "{warning}");
    assert!(keys.contains(&"redirectUri"), "nested objects are checked too: {warning}");
    let app: Value = response.json().await.unwrap();
    assert_eq!(app["oidcClientMetadata"]["redirectUris"], json!([]), "the key is not taken: {app}");

    let body = json!({"name": "Web", "type": "Traditional",
        "oidcClientMetadata": {"redirectUris": ["https://web.test/cb"], "postLogoutRedirectUris": []}});
    let response = send_raw(Method::POST, &t.url("/api/applications"), Some(&token), Some(body)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("warning").is_none());
    t.stop().await;
}
