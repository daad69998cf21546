//! Magic links on the hosted pages (issue 19 item 7): `/oidc/auth?…&one_time_token=…&login_hint=…`
//! lands on `/one-time-token`, which signs the user in (or registers them, joining the
//! token's organizations) with nothing to type; used, expired and foreign tokens show why,
//! with the way to sign in normally; the token is never carried to a later URL, cached or sent
//! as a referrer; the terms are ticked before the token is spent.

use kido_core::TenantId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::passwordless::email_tenant;
use crate::signin::{Browser, Reply, World, auth_url, csrf_of, exchange, urlencode};

async fn issue(t: &TestServer, body: Value) -> (String, String) {
    let (status, token) = t.api(Method::POST, "/api/one-time-tokens", Some(body)).await;
    assert_eq!(status, 201, "{token}");
    (token["id"].as_str().unwrap().to_owned(), token["token"].as_str().unwrap().to_owned())
}

async fn status_of(t: &TestServer, id: &str) -> String {
    let (_, token) = t.api(Method::GET, &format!("/api/one-time-tokens/{id}"), None).await;
    token["status"].as_str().unwrap().to_owned()
}

/// Follows a magic link from the app's authorization request to the landing's answer.
async fn follow_link(b: &mut Browser, w: &World, token: &str, email: &str) -> Reply {
    let extra = format!("&one_time_token={}&login_hint={}", urlencode(token), urlencode(email));
    let r = b.get(&auth_url(&w.app, &extra)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sign_in = r.location.unwrap();
    assert!(sign_in.starts_with("/sign-in?") && sign_in.contains("one_time_token="), "{sign_in}");
    let r = b.get(&sign_in).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let landing = r.location.clone().unwrap();
    assert!(landing.starts_with("/one-time-token?"), "{landing}");
    assert_eq!(r.header("referrer-policy"), "no-referrer");
    let r = b.get(&landing).await;
    assert_eq!(r.header("referrer-policy"), "no-referrer");
    assert_eq!(r.header("cache-control"), "no-store");
    if let Some(next) = &r.location {
        assert!(!next.contains(token), "the token is not carried on: {next}");
    }
    assert!(!r.text.contains(token), "the token is not on the page: {}", r.text);
    r
}

/// The user a landing signed in (following the redirect to the client and exchanging the code).
async fn signed_in(t: &TestServer, b: &mut Browser, w: &World, r: Reply) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    let code = r.param("code").unwrap_or_else(|| panic!("no code in {:?} {}", r.location, r.text));
    let (status, tokens) = exchange(&t.url(""), w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    claims["sub"].as_str().unwrap().to_owned()
}

/// The page of a link that cannot be used: its message and the way to sign in.
fn assert_refused(r: &Reply, message: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains(message), "{}", r.text);
    assert!(r.text.contains(r#"href="/sign-in?app_id="#), "{}", r.text);
}

const INVALID: &str = "The sign-in link is invalid, has expired or was already used.";

async fn organizations_of(t: &TestServer, user: &str) -> Vec<String> {
    let (status, orgs) = t.api(Method::GET, &format!("/api/users/{user}/organizations"), None).await;
    assert_eq!(status, 200, "{orgs}");
    orgs.as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_magic_link_signs_in_or_registers_without_typing() {
    let (t, _smtp, w) = email_tenant().await;
    // Email alone makes an account; registration is otherwise closed.
    let experience =
        json!({"signUp": {"identifiers": ["email"], "password": false, "verify": true}, "signInMode": "SignIn"});
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(experience)).await;
    assert_eq!(status, 200, "{body}");
    let (_, org) = t.api(Method::POST, "/api/organizations", Some(json!({"name": "Acme"}))).await;
    let org = org["id"].as_str().unwrap().to_owned();
    let (status, bob) = t
        .api(Method::POST, "/api/users", Some(json!({"primaryEmail": "bob@acme.test", "password": "Kido-bob-77-x"})))
        .await;
    assert_eq!(status, 200, "{bob}");
    let bob = bob["id"].as_str().unwrap().to_owned();

    // An existing user: signed in, joining the token's organization; the token is spent.
    let (id, token) = issue(&t, json!({"email": "bob@acme.test", "context": {"jitOrganizationIds": [org]}})).await;
    let mut b = Browser::new(&t.url(""));
    let r = follow_link(&mut b, &w, &token, "bob@acme.test").await;
    assert_eq!(signed_in(&t, &mut b, &w, r).await, bob);
    assert_eq!(organizations_of(&t, &bob).await, [org.as_str()]);
    assert_eq!(status_of(&t, &id).await, "consumed");

    // Used again, even in the same browser (signed in as bob): refused, once spent.
    let r = follow_link(&mut b, &w, &token, "bob@acme.test").await;
    assert_refused(&r, INVALID);

    // A new email: registered (registration closed, the token opens it), joining too. The
    // browser's session (bob's) does not stand in for the link's user.
    let (_, token) = issue(&t, json!({"email": "cid@acme.test", "context": {"jitOrganizationIds": [org]}})).await;
    let r = follow_link(&mut b, &w, &token, "cid@acme.test").await;
    let cid = signed_in(&t, &mut b, &w, r).await;
    assert_ne!(cid, bob);
    let (_, user) = t.api(Method::GET, &format!("/api/users/{cid}"), None).await;
    assert_eq!(user["primaryEmail"], "cid@acme.test");
    assert_eq!(organizations_of(&t, &cid).await, [org.as_str()]);

    // Another email than the token's: refused, and the token is not spent.
    let (id, token) = issue(&t, json!({"email": "bob@acme.test"})).await;
    let mut b = Browser::new(&t.url(""));
    let r = follow_link(&mut b, &w, &token, "eve@acme.test").await;
    assert_refused(&r, "This sign-in link was issued for another email address.");
    assert_eq!(status_of(&t, &id).await, "active");

    // Expired: refused. A token that does not exist: the same page.
    let mut c = t.server.core.store.conn().await.unwrap();
    kido_store::one_time_tokens::expire_all(&mut c, &TenantId::new("default"), 1).await.unwrap();
    drop(c);
    let r = follow_link(&mut b, &w, &token, "bob@acme.test").await;
    assert_refused(&r, INVALID);
    let r = follow_link(&mut b, &w, "no-such-token", "bob@acme.test").await;
    assert_refused(&r, INVALID);

    // The landing without a token or an email, or without a sign-in in progress.
    let r = b.get(&auth_url(&w.app, "")).await;
    assert_eq!(r.status, 303);
    let r = b.get(&format!("/one-time-token?app_id={}&login_hint=bob%40acme.test", w.app)).await;
    assert_refused(&r, INVALID);
    let r = b.get(&format!("/one-time-token?app_id={}&one_time_token={}", w.app, "x".repeat(300))).await;
    assert_refused(&r, INVALID);
    let r = Browser::new(&t.url("")).get("/one-time-token?one_time_token=x&login_hint=bob%40acme.test").await;
    assert_eq!(r.status, 400, "{}", r.text);
    t.stop().await;
}

#[tokio::test]
async fn the_terms_are_ticked_before_the_link_is_spent() {
    let (t, _smtp, w) = email_tenant().await;
    let experience = json!({
        "signUp": {"identifiers": ["email"], "password": false, "verify": true},
        "termsOfUseUrl": "https://acme.test/terms", "agreeToTermsPolicy": "Manual"
    });
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(experience)).await;
    assert_eq!(status, 200, "{body}");
    let (id, token) = issue(&t, json!({"email": "dee@acme.test"})).await;
    let mut b = Browser::new(&t.url(""));
    let extra = format!("&one_time_token={token}&login_hint=dee%40acme.test");
    let r = b.get(&auth_url(&w.app, &extra)).await;
    let r = b.get(r.location.as_deref().unwrap()).await;
    let landing = r.location.unwrap();
    let page = b.get(&landing).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert!(page.text.contains(r#"name="agree" value="yes" required"#), "{}", page.text);
    assert!(page.text.contains(r#"action="/one-time-token?app_id="#), "{}", page.text);
    assert_eq!(status_of(&t, &id).await, "active");
    let csrf = csrf_of(&page.text);
    let fields = [("csrf", csrf.as_str()), ("one_time_token", token.as_str()), ("login_hint", "dee@acme.test")];
    // Not ticked: the form again, the token still unspent.
    let r = b.send(Method::POST, &landing, None, Some(&fields)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains(r#"id="agree-error""#), "{}", r.text);
    assert_eq!(status_of(&t, &id).await, "active");
    // Without the page's anti-forgery token: nothing.
    let forged =
        [("csrf", "0000"), ("one_time_token", token.as_str()), ("login_hint", "dee@acme.test"), ("agree", "yes")];
    assert_eq!(b.send(Method::POST, &landing, None, Some(&forged)).await.status, 403);
    let mut ticked = fields.to_vec();
    ticked.push(("agree", "yes"));
    let r = b.send(Method::POST, &landing, None, Some(&ticked)).await;
    let dee = signed_in(&t, &mut b, &w, r).await;
    let (_, user) = t.api(Method::GET, &format!("/api/users/{dee}"), None).await;
    assert_eq!(user["primaryEmail"], "dee@acme.test");
    assert_eq!(status_of(&t, &id).await, "consumed");
    t.stop().await;
}

#[tokio::test]
async fn a_new_account_that_needs_a_password_gets_the_profile_page() {
    // Email sign-up with a password: the link proves the email, the password is asked for.
    let (t, _smtp, w) = email_tenant().await;
    let (id, token) = issue(&t, json!({"email": "eli@acme.test"})).await;
    let mut b = Browser::new(&t.url(""));
    let r = follow_link(&mut b, &w, &token, "eli@acme.test").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let profile = r.location.unwrap();
    assert!(profile.starts_with("/register/profile?app_id="), "{profile}");
    assert_eq!(status_of(&t, &id).await, "consumed");
    let page = b.get(&profile).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"name="password""#), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let password = "Kido-eli-magic-2718";
    let form = [("csrf", csrf.as_str()), ("password", password), ("confirm_password", password)];
    let r = b.send(Method::POST, &profile, None, Some(&form)).await;
    let eli = signed_in(&t, &mut b, &w, r).await;
    let (_, user) = t.api(Method::GET, &format!("/api/users/{eli}"), None).await;
    assert_eq!((user["primaryEmail"].as_str(), user["hasPassword"].as_bool()), (Some("eli@acme.test"), Some(true)));
    t.stop().await;
}
