//! The consent step (issue 17 item 3): after the sign-in, `/oidc/auth/{uid}` sends the
//! browser to `/consent?app_id=…` with `_session` + `_session.sig`; `/consent` answers for
//! first-party clients and asks the user of a third-party one; `GET|POST
//! /api/interaction/consent`.

use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::signin::{API, Browser, REDIRECT, World, auth_url, csrf_of, exchange, world};

/// A GET sending exactly `cookie`; status, location and the `name=value` pairs set.
async fn raw_get(url: &str, cookie: &str) -> (u16, Option<String>, Vec<String>) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(url).header(COOKIE, cookie).send().await.unwrap();
    let set = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
    (r.status().as_u16(), location, set)
}

/// Signs in through the Experience API; returns the submit's `redirectTo`.
async fn signed_in(b: &mut Browser, w: &World, client: &str) -> String {
    let r = b.get(&auth_url(client, "")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    b.sign_in(&w.username, &w.password).await
}

#[tokio::test]
async fn a_first_party_sign_in_passes_the_consent_step_as_logto_clients_expect() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let resume = signed_in(&mut b, &w, &w.app).await;
    assert!(resume.starts_with(&t.url("/oidc/auth/")), "{resume}");

    // As Logto's test client: only the cookies the first resume sets go on.
    let jar: Vec<String> = b.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let (status, location, set) = raw_get(&resume, &jar.join("; ")).await;
    assert_eq!((status, location.as_deref()), (303, Some(format!("/consent?app_id={}", w.app).as_str())));
    let names: Vec<&str> = set.iter().map(|c| c.split('=').next().unwrap()).collect();
    for name in ["_session", "_session.sig", "_interaction"] {
        assert!(names.contains(&name), "{name} missing from {set:?}");
    }
    let cookies = set.join("; ");
    // Logto's helper calls `/consent` without the query: answered all the same.
    let (status, location, _) = raw_get(&t.url("/consent"), &cookies).await;
    assert_eq!((status, location.as_deref()), (303, Some(resume.as_str())));
    let (status, location, set_last) = raw_get(&resume, &cookies).await;
    assert_eq!(status, 303);
    let callback = url::Url::parse(&location.unwrap()).unwrap();
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let code = callback.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    assert_eq!(exchange(&t.url(""), &w, &code, &[]).await.0, 200);
    // The session cookie handed out before consent is the session's.
    let session = set.iter().find(|c| c.starts_with("_session=")).unwrap();
    assert!(set_last.contains(session), "{set_last:?}");

    // That session signs the browser in silently; a forged signature is no session.
    let silent = auth_url(&w.app, "&prompt=none").replace("&prompt=consent", "");
    let (status, location, _) = raw_get(&t.url(&silent), &cookies).await;
    assert_eq!(status, 303);
    assert!(location.as_deref().unwrap().contains("code="), "{location:?}");
    let sig = set.iter().find(|c| c.starts_with("_session.sig=")).unwrap();
    let forged = cookies.replace(sig.as_str(), "_session.sig=AAAA");
    let (_, location, _) = raw_get(&t.url(&silent), &forged).await;
    assert!(location.as_deref().unwrap().contains("error=login_required"), "{location:?}");
    let unsigned: Vec<&str> = set.iter().filter(|c| c.starts_with("_session=")).map(String::as_str).collect();
    let (_, location, _) = raw_get(&t.url(&silent), &unsigned.join("; ")).await;
    assert!(location.as_deref().unwrap().contains("error=login_required"), "{location:?}");
    t.stop().await;
}

#[tokio::test]
async fn consent_needs_a_signed_in_interaction() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let r = b.get("/consent").await;
    assert_eq!(r.status, 400, "no interaction: {}", r.text);
    let r = b.send(Method::GET, "/api/interaction/consent", None, None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.not_found")), "{}", r.text);
    b.get(&auth_url(&w.app, "")).await;
    let r = b.send(Method::GET, "/api/interaction/consent", None, None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("session.identifier_not_found")), "{}", r.text);
    let r = b.send(Method::POST, "/api/interaction/consent", Some(json!({})), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = b.get("/consent").await;
    assert_eq!(r.status, 404, "not signed in yet: {}", r.text);
    t.stop().await;
}

async fn third_party_app(t: &TestServer) -> (String, String) {
    let body = json!({
        "name": "Partner", "type": "Traditional", "isThirdParty": true,
        "oidcClientMetadata": {"redirectUris": [REDIRECT], "postLogoutRedirectUris": []},
    });
    let (status, app) = t.api(Method::POST, "/api/applications", Some(body)).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    let (_, secrets) = t.api(Method::GET, &format!("/api/applications/{id}/secrets"), None).await;
    (id, secrets[0]["value"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_third_party_client_asks_the_user() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let (partner, secret) = third_party_app(&t).await;
    let partner_world = World { app: partner.clone(), secret, ..w.clone() };

    // Allowed through the API, as Logto's consent page does.
    let mut b = Browser::new(&t.url(""));
    let resume = signed_in(&mut b, &w, &partner).await;
    let r = b.get(&resume).await;
    assert_eq!(r.location.as_deref(), Some(format!("/consent?app_id={partner}").as_str()));
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Partner") && page.text.contains("read:foo") && page.text.contains("profile"));
    assert!(page.text.contains(r#"value="allow""#) && page.text.contains(r#"value="deny""#));
    let r = b.send(Method::GET, "/api/interaction/consent", None, None).await;
    let info: Value = r.json();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (info["application"]["id"].as_str(), info["application"]["isThirdParty"].as_bool()),
        (Some(partner.as_str()), Some(true))
    );
    assert_eq!(info["user"]["id"].as_str(), Some(w.user_id.as_str()));
    assert_eq!(info["user"]["username"].as_str(), Some("alice"));
    assert_eq!(info["redirectUri"].as_str(), Some(REDIRECT));
    let oidc: Vec<&str> = info["missingOIDCScope"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(oidc.contains(&"openid") && oidc.contains(&"profile") && !oidc.contains(&"read:foo"), "{oidc:?}");
    let resources = info["missingResourceScopes"].as_array().unwrap();
    assert_eq!(resources[0]["resource"]["indicator"].as_str(), Some(API));
    assert_eq!(resources[0]["scopes"][0]["name"].as_str(), Some("read:foo"));
    let r =
        b.send(Method::POST, "/api/interaction/consent", Some(json!({"organizationIds": ["not-mine"]})), None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")), "{}", r.text);
    let r = b.send(Method::POST, "/api/interaction/consent", Some(json!({})), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["redirectTo"].as_str(), Some(resume.as_str()));
    let r = b.follow(resume).await;
    let code = r.param("code").unwrap_or_else(|| panic!("{:?}", r.location));
    let (status, tokens) = exchange(&t.url(""), &partner_world, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");

    // Denied on the hosted page: the client hears `access_denied`.
    let mut b = Browser::new(&t.url(""));
    let resume = signed_in(&mut b, &w, &partner).await;
    let consent = b.get(&resume).await.location.unwrap();
    let page = b.get(&consent).await;
    let csrf = csrf_of(&page.text);
    let forged = b.send(Method::POST, &consent, None, Some(&[("csrf", "x"), ("decision", "allow")])).await;
    assert_eq!(forged.status, 403);
    let r = b.send(Method::POST, &consent, None, Some(&[("csrf", &csrf), ("decision", "maybe")])).await;
    assert_eq!(r.status, 400);
    let r = b.send(Method::POST, &consent, None, Some(&[("csrf", &csrf), ("decision", "deny")])).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(resume.as_str())), "{}", r.text);
    let r = b.follow(resume.clone()).await;
    assert_eq!(r.param("error").as_deref(), Some("access_denied"), "{:?}", r.location);
    assert_eq!(r.param("state").as_deref(), Some("st4te"));
    assert!(r.param("code").is_none());
    let r = b.get(&resume).await;
    assert_eq!(r.status, 400, "the interaction is spent");

    // Allowed on the hosted page.
    let mut b = Browser::new(&t.url(""));
    let resume = signed_in(&mut b, &w, &partner).await;
    let consent = b.get(&resume).await.location.unwrap();
    let page = b.get(&consent).await;
    let csrf = csrf_of(&page.text);
    let r = b.send(Method::POST, &consent, None, Some(&[("csrf", &csrf), ("decision", "allow")])).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(b.follow(r.location.unwrap()).await.param("code").is_some());
    t.stop().await;
}
