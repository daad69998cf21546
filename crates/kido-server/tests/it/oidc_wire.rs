//! OIDC endpoints' wire details as Logto answers them (issue 17 item 6): token request
//! bodies (JSON, charsets, NUL), unknown routes, client id in Basic and body, the
//! client_credentials audit entry, `POST /oidc/auth` errors, wildcard and custom-scheme
//! redirect URIs, the discovery document's claims.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, http};
use crate::signin::{Browser, Reply, VERIFIER, challenge, urlencode, world};

const MGMT: &str = "https://default.logto.app/api";

/// POSTs `body` to `path` with a content type (and the bootstrap app's Basic credentials).
async fn post(t: &TestServer, path: &str, content_type: Option<&str>, body: Vec<u8>, basic: bool) -> (u16, Value) {
    let mut request = http().post(t.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if basic {
        request = request.basic_auth(&t.client_id, Some(&t.client_secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn invalid_request(reply: &(u16, Value), description: &str) {
    assert_eq!(reply.0, 400, "{}", reply.1);
    assert_eq!(reply.1["error"], "invalid_request", "{}", reply.1);
    assert_eq!(reply.1["code"], "oidc.invalid_request");
    assert_eq!(reply.1["error_description"], description);
}

#[tokio::test]
async fn token_bodies_in_json_and_other_charsets_are_read_and_others_refused() {
    let t = TestServer::start().await;
    let json_type = Some("application/json");
    invalid_request(
        &post(&t, "/oidc/token", json_type, br#"{"client_id":"x"}"#.to_vec(), false).await,
        "missing required parameter 'grant_type'",
    );
    let body = json!({"grant_type": "client_credentials", "resource": [MGMT], "scope": "all"});
    let (status, token) = post(&t, "/oidc/token", json_type, body.to_string().into_bytes(), true).await;
    assert_eq!((status, &token["scope"]), (200, &json!("all")), "{token}");
    invalid_request(
        &post(&t, "/oidc/token", json_type, br#"{"grant_type":["a","b"]}"#.to_vec(), true).await,
        "'grant_type' parameter must not be provided twice",
    );
    invalid_request(
        &post(&t, "/oidc/token", json_type, br#"{"grant_type":7}"#.to_vec(), true).await,
        "parameter 'grant_type' must be a string",
    );

    let only_forms = "only application/x-www-form-urlencoded content-type bodies are supported on POST /token";
    for content_type in [Some("text/plain"), Some("multipart/form-data; boundary=x"), None] {
        invalid_request(&post(&t, "/oidc/token", content_type, b"grant_type=x".to_vec(), true).await, only_forms);
    }
    invalid_request(
        &post(&t, "/oidc/token/revocation", Some("text/plain"), b"token=x".to_vec(), true).await,
        "only application/x-www-form-urlencoded content-type bodies are supported on POST /token/revocation",
    );

    let form = format!("grant_type=client_credentials&resource={}&scope=all", urlencode(MGMT));
    let utf16: Vec<u8> = form.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for charset in ["utf16le", "UTF-16LE", "ucs2"] {
        let content_type = format!("application/x-www-form-urlencoded; charset={charset}");
        let (status, token) = post(&t, "/oidc/token", Some(&content_type), utf16.clone(), true).await;
        assert_eq!((status, &token["scope"]), (200, &json!("all")), "{charset}: {token}");
    }
    // A Latin-1 byte is a character of its own there (UTF-8 would not decode it).
    for charset in ["latin1", "ISO-8859-1"] {
        let content_type = format!("application/x-www-form-urlencoded;charset={charset}");
        let (status, error) = post(&t, "/oidc/token", Some(&content_type), b"grant_type=caf\xe9".to_vec(), true).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["error_description"], "unsupported grant_type `caf\u{e9}` requested", "{charset}");
    }
    let (status, error) =
        post(&t, "/oidc/token", Some("application/x-www-form-urlencoded; charset=koi8-r"), form.clone().into(), true)
            .await;
    assert_eq!((status, error["error_description"].as_str()), (400, Some("unsupported charset \"koi8-r\"")));

    let nul = "null bytes are not allowed in the request body";
    let form_type = Some("application/x-www-form-urlencoded");
    for body in [format!("{form}\0").into_bytes(), format!("{form}&state=%00").into_bytes()] {
        invalid_request(&post(&t, "/oidc/token", form_type, body, true).await, nul);
    }
    invalid_request(&post(&t, "/oidc/token", json_type, br#"{"grant_type":"a\u0000"}"#.to_vec(), true).await, nul);
    t.stop().await;
}

#[tokio::test]
async fn unknown_oidc_routes_and_methods_are_404_in_the_oauth_format() {
    let t = TestServer::start().await;
    let response = http().get(t.url("/oidc/nonexistent")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": "oidc.invalid_request", "error": "invalid_request",
            "error_description": "unrecognized route or not allowed method (GET on /nonexistent)",
            "message": "Request is invalid."})
    );
    for (method, path, described) in [
        (Method::GET, "/oidc/token", "GET on /token"),
        (Method::DELETE, "/oidc/jwks", "DELETE on /jwks"),
        (Method::POST, "/oidc/a/b?x=1", "POST on /a/b"),
        (Method::GET, "/oidc", "GET on /"),
    ] {
        let response = http().request(method, t.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error_description"],
            format!("unrecognized route or not allowed method ({described})"),
            "{path}"
        );
    }
    // Outside /oidc, the Management API's own 404 stays.
    let (status, body) = crate::harness::send(Method::GET, &t.url("/api/nope"), None, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("guard.route_not_found")));
    t.stop().await;
}

#[tokio::test]
async fn a_client_id_in_basic_and_body_must_be_the_same() {
    let t = TestServer::start().await;
    let basic = Some((t.client_id.as_str(), t.client_secret.as_str()));
    let form = [("grant_type", "client_credentials"), ("resource", MGMT), ("scope", "all")];
    let mut same = form.to_vec();
    same.push(("client_id", &t.client_id));
    let (status, token) = t.token(&same, basic).await;
    assert_eq!(status, 200, "the same id in both is fine: {token}");
    let mut other = form.to_vec();
    other.push(("client_id", "someone-else"));
    invalid_request(&t.token(&other, basic).await, "client_id mismatch");
    let mut secret_twice = form.to_vec();
    secret_twice.push(("client_secret", &t.client_secret));
    invalid_request(
        &t.token(&secret_twice, basic).await,
        "client authentication must only be provided using one mechanism",
    );
    t.stop().await;
}

#[tokio::test]
async fn client_credentials_tokens_are_audited_with_the_secret_name_only() {
    let t = TestServer::start().await;
    let (indicator, app_id, secret) = t.m2m_app_with_scopes(&["read"]).await;
    let (status, named) =
        t.api(Method::POST, &format!("/api/applications/{app_id}/secrets"), Some(json!({"name": "ci-runner"}))).await;
    assert_eq!(status, 201, "{named}");
    let named_value = named["value"].as_str().unwrap().to_owned();
    let form = [("grant_type", "client_credentials"), ("resource", indicator.as_str()), ("scope", "read")];
    assert_eq!(t.token(&form, Some((&app_id, &secret))).await.0, 200);
    let mut post_form = form.to_vec();
    post_form.extend([("client_id", app_id.as_str()), ("client_secret", named_value.as_str())]);
    assert_eq!(t.token(&post_form, None).await.0, 200);
    // A refused request writes nothing.
    assert_eq!(t.token(&form, Some((&app_id, "wrong"))).await.0, 401);

    let (status, logs) = t
        .api(Method::GET, &format!("/api/logs?logKey=ExchangeTokenBy.ClientCredentials&applicationId={app_id}"), None)
        .await;
    assert_eq!(status, 200, "{logs}");
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    let names: Vec<&Value> = logs.iter().map(|l| &l["payload"]["applicationSecret"]).collect();
    assert_eq!(names, [&json!({"name": "ci-runner"}), &json!({"name": "Default secret"})], "newest first");
    for log in logs {
        assert_eq!(log["payload"]["applicationId"], app_id);
        assert_eq!(log["payload"]["key"], "ExchangeTokenBy.ClientCredentials");
        assert_eq!(log["payload"]["result"], "Success");
    }
    let text = Value::Array(logs.clone()).to_string();
    assert!(!text.contains(&secret) && !text.contains(&named_value), "no secret value in the log: {text}");
    assert_eq!(t.server.core.audit_entries_dropped(), 0);

    // Entries still queued at shutdown are written: issue, stop at once, read after restart.
    assert_eq!(t.token(&form, Some((&app_id, &secret))).await.0, 200);
    let t = t.restart().await;
    let (_, logs) = t
        .api(Method::GET, &format!("/api/logs?logKey=ExchangeTokenBy.ClientCredentials&applicationId={app_id}"), None)
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 3);
    t.stop().await;
}

#[tokio::test]
async fn post_authorize_with_a_repeated_parameter_is_a_json_400() {
    let t = TestServer::start().await;
    let (spa, _) = t.new_app("SPA").await;
    let form = [
        ("client_id", spa.as_str()),
        ("client_id", spa.as_str()),
        ("redirect_uri", "https://app.test/callback"),
        ("response_type", "code"),
    ];
    let response = http().post(t.url("/oidc/auth")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "oidc.invalid_request");
    assert_eq!(body["error_description"], "'client_id' parameter must not be provided twice");
    t.stop().await;
}

/// Follows the sign-in's redirects on the server; stops at the first one leaving it.
async fn follow_to_client(b: &mut Browser, mut url: String) -> Reply {
    for _ in 0..10 {
        let reply = b.get(&url).await;
        match &reply.location {
            Some(next) if reply.status / 100 == 3 && (next.starts_with('/') || next.starts_with(&b.base)) => {
                url = next.clone();
            }
            _ => return reply,
        }
    }
    panic!("redirect loop from {url}");
}

fn auth_path(client: &str, redirect_uri: &str) -> String {
    format!(
        "/oidc/auth?client_id={client}&redirect_uri={}&response_type=code&scope=openid&state=s1&code_challenge={}&code_challenge_method=S256",
        urlencode(redirect_uri),
        challenge(VERIFIER)
    )
}

#[tokio::test]
async fn spa_wildcard_and_custom_scheme_redirect_uris_are_registered_and_matched() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let create = |app_type: &str, uris: Value| {
        let body = json!({"name": "r", "type": app_type, "oidcClientMetadata": {"redirectUris": uris, "postLogoutRedirectUris": []}});
        t.api(Method::POST, "/api/applications", Some(body))
    };
    let (status, spa) = create("SPA", json!(["https://*.example.com/callback", "myapp://callback"])).await;
    assert_eq!(status, 200, "{spa}");
    let (status, native) = create("Native", json!(["myapp://callback", "com.example.app:/cb"])).await;
    assert_eq!(status, 200, "{native}");
    for (app_type, uri) in [
        ("SPA", "https://*.com/x"),
        ("SPA", "https://*.co.uk/x"),
        ("SPA", "https://a.*.example.com/x"),
        ("SPA", "https://*.example.com/*"),
        ("SPA", "https://*.example.com:*/x"),
        ("SPA", "*://app.example.com/x"),
        ("SPA", "javascript://x"),
        ("Native", "https://*.example.com/callback"),
        ("Traditional", "https://*.example.com/callback"),
        ("Traditional", "myapp://callback"),
    ] {
        let (status, body) = create(app_type, json!([uri])).await;
        assert_eq!(status, 400, "{app_type} {uri}: {body}");
    }
    let spa_id = spa["id"].as_str().unwrap();
    let (status, _) = t
        .api(
            Method::PATCH,
            &format!("/api/applications/{spa_id}"),
            Some(json!({"oidcClientMetadata": {"redirectUris": ["https://*.com/cb"], "postLogoutRedirectUris": []}})),
        )
        .await;
    assert_eq!(status, 400, "PATCH validates too");

    let mut b = Browser::new(&t.url(""));
    for refused in ["https://a.b.example.com/callback", "https://example.com/callback", "https://x.example.com/other"] {
        let r = b.get(&auth_path(spa_id, refused)).await;
        assert!(r.status == 400 && r.text.contains("invalid_redirect_uri"), "{refused}: {}", r.status);
    }
    let native_id = native["id"].as_str().unwrap();
    let r = b.get(&auth_path(native_id, "myapp://callback")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in?"), "{:?}", r.location);

    // A full sign-in on a subdomain the wildcard allows; the code is bound to that URI.
    let redirect = "https://tenant-1.example.com/callback";
    let r = b.get(&auth_path(spa_id, redirect)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let next = b.sign_in(&w.username, &w.password).await;
    let r = follow_to_client(&mut b, next).await;
    assert!(r.location.as_deref().unwrap().starts_with(redirect), "{:?}", r.location);
    let code = r.param("code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://tenant-2.example.com/callback"),
        ("code_verifier", VERIFIER),
        ("client_id", spa_id),
    ];
    let (status, error) = t.token(&form, None).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")), "{error}");
    t.stop().await;
}

#[tokio::test]
async fn spa_wildcard_code_exchanges_at_the_uri_it_was_issued_for() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let body = json!({"name": "w", "type": "SPA", "oidcClientMetadata": {"redirectUris": ["https://*.example.com/callback"], "postLogoutRedirectUris": []}});
    let (_, spa) = t.api(Method::POST, "/api/applications", Some(body)).await;
    let spa_id = spa["id"].as_str().unwrap();
    let redirect = "https://tenant-1.example.com/callback";
    let mut b = Browser::new(&t.url(""));
    assert_eq!(b.get(&auth_path(spa_id, redirect)).await.status, 303);
    let next = b.sign_in(&w.username, &w.password).await;
    let code = follow_to_client(&mut b, next).await.param("code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", VERIFIER),
        ("client_id", spa_id),
    ];
    let (status, tokens) = t.token(&form, None).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].is_string());
    t.stop().await;
}

#[tokio::test]
async fn discovery_lists_the_claims_kido_issues_and_not_the_jwt_ones() {
    let t = TestServer::start().await;
    let doc: Value =
        http().get(t.url("/oidc/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    let claims: Vec<&str> = doc["claims_supported"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for issued in ["sub", "username", "roles", "organizations", "organization_data", "organization_roles"] {
        assert!(claims.contains(&issued), "{issued} missing from {claims:?}");
    }
    for not_listed in ["aud", "exp", "iat", "nonce", "at_hash"] {
        assert!(!claims.contains(&not_listed), "{not_listed} listed");
    }
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("urn:logto:scope:organizations")));
    assert!(scopes.contains(&json!("urn:logto:scope:sessions")), "the Account API's sessions scope");
    assert!(!scopes.contains(&json!("urn:logto:scope:trusted_devices")), "Kido has no trusted devices");
    t.stop().await;
}
