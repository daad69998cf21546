//! The built-in Live Preview app (`demo-app`): its fixed API view, its absence from lists and
//! writes, its redirect URIs that follow the tenant's endpoint, the page and its script, and
//! a whole sign-in with it. The page's behaviour in a browser is compat/node/demo-app.mjs.

use reqwest::Method;
use reqwest::header::CONTENT_SECURITY_POLICY;
use serde_json::json;

use crate::harness::{TestServer, decode_jwt, token_at};
use crate::signin::{Browser, VERIFIER, challenge, urlencode, world};

#[tokio::test]
async fn the_live_preview_app_is_built_in_fixed_and_unlisted() {
    let t = TestServer::start().await;
    let (status, app) = t.api(Method::GET, "/api/applications/demo-app", None).await;
    assert_eq!(status, 200, "{app}");
    let logto = json!({"tenantId": "default", "id": "demo-app", "name": "Live Preview",
        "description": "Preview for Sign-in Experience.", "type": "SPA",
        "oidcClientMetadata": {"redirectUris": [], "postLogoutRedirectUris": []},
        "customClientMetadata": {}, "protectedAppMetadata": null, "customData": {},
        "isThirdParty": false, "createdAt": 0, "isAdmin": false});
    for (field, value) in logto.as_object().unwrap() {
        assert_eq!(&app[field], value, "`{field}` as Logto shows it: {app}");
    }
    let (status, list) = t.api(Method::GET, "/api/applications", None).await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().all(|a| a["id"] != "demo-app"), "never listed: {list}");
    let (status, list) = t.api(Method::GET, "/api/applications?types=SPA", None).await;
    assert_eq!((status, list), (200, json!([])));

    let (status, body) = t.api(Method::PATCH, "/api/applications/demo-app", Some(json!({"name": "Mine"}))).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_exists_with_id")), "{body}");
    let (status, body) = t.api(Method::DELETE, "/api/applications/demo-app", None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_exists_with_id")), "{body}");
    let (status, app) = t.api(Method::GET, "/api/applications/demo-app", None).await;
    assert_eq!((status, app["name"].as_str()), (200, Some("Live Preview")));
    t.stop().await;
}

#[tokio::test]
async fn the_page_allows_its_own_script_and_nothing_else() {
    let t = TestServer::start().await;
    let r = reqwest::get(t.url("/demo-app")).await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<script src="/demo-app/app.js"></script>"#) && html.contains("Developer panel"));
    let r = reqwest::get(t.url("/demo-app/app.js")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(r.text().await.unwrap().contains("client_id: CLIENT_ID"));
    t.stop().await;
}

/// The client signs in and out only at `<endpoint>/demo-app` of the tenant it belongs to.
#[tokio::test]
async fn a_sign_in_with_the_live_preview_app_returns_to_the_tenants_demo_page() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let base = t.url("");
    let redirect = format!("{base}/demo-app");
    let auth = |redirect: &str| {
        format!(
            "/oidc/auth?client_id=demo-app&redirect_uri={}&response_type=code&scope=openid%20profile%20offline_access&state=s1&prompt=consent&code_challenge={}&code_challenge_method=S256",
            urlencode(redirect),
            challenge(VERIFIER)
        )
    };
    let mut b = Browser::new(&base);
    let r = b.get(&auth("https://elsewhere.test/demo-app")).await;
    assert_eq!(r.status, 400, "a redirect URI of another origin is refused: {}", r.text);
    let r = b.get(&auth(&format!("{}/demo-app", t.admin_url("")))).await;
    assert_eq!(r.status, 400, "the admin tenant's page is not this tenant's: {}", r.text);

    let r = b.get(&auth(&redirect)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in?app_id=demo-app"), "{:?}", r.location);
    let mut next = b.sign_in(&w.username, &w.password).await;
    let location = loop {
        let r = b.get(&next).await;
        assert_eq!(r.status / 100, 3, "{}", r.text);
        let location = r.location.unwrap();
        if location.starts_with(&redirect) {
            break location;
        }
        next = location;
    };
    let url = url::Url::parse(&location).unwrap();
    let code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "demo-app"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = token_at(&t.url("/oidc/token"), &form, None).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, id) = decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!((id["aud"].as_str(), id["sub"].as_str()), (Some("demo-app"), Some(w.user_id.as_str())));
    assert!(tokens["refresh_token"].is_string(), "offline_access with prompt=consent: {tokens}");
    t.stop().await;
}
