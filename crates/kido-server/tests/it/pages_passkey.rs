//! Passkeys on the hosted pages (issue 19 item 5): the binding and verification pages (their
//! script, its integrity hash and the pages' CSP, the no-script message, the other factors),
//! the form posts that bind or accept what the script verified through the Experience API
//! (here a software authenticator plays the browser), and the refusals of forged or
//! unverified ceremonies.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kido_core::mfa::webauthn::soft::SoftAuthenticator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::pages_mfa::{code_at_client, password_form, patch_experience, path_of, post};
use crate::signin::{Browser, Reply, world};

/// The page's CSP allows this origin's scripts and fetches, nothing inline.
fn assert_script_policy(page: &Reply) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline'; connect") && !csp.contains("script-src 'unsafe"), "{csp}");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("cache-control"), "no-store");
}

/// The value of `attribute` on the element that carries it first.
fn attribute(html: &str, attribute: &str) -> String {
    let marker = format!(r#"{attribute}=""#);
    html.split(&marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {attribute} in {html}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// A ceremony as the page's script runs it: its verification id and options.
async fn ceremony(b: &mut Browser, html: &str) -> (String, Value) {
    let start = attribute(html, "data-start");
    let r = b.send(Method::POST, &start, None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let options =
        if attribute(html, "data-ceremony") == "create" { "registrationOptions" } else { "authenticationOptions" };
    (body["verificationId"].as_str().unwrap().to_owned(), body[options].clone())
}

async fn verify(b: &mut Browser, html: &str, id: &str, payload: Value) -> Reply {
    let verify = attribute(html, "data-verify");
    b.send(Method::POST, &verify, Some(json!({"verificationId": id, "payload": payload})), None).await
}

#[tokio::test]
async fn a_passkey_is_created_then_used_on_the_pages() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    patch_experience(&t, json!({"mfa": {"factors": ["WebAuthn", "Totp"], "policy": "Mandatory"}})).await;
    let mut soft = SoftAuthenticator::new().unwrap();

    // The choice of a factor lists the passkey beside the authenticator app.
    let (mut b, r) = password_form(&t, &w, "").await;
    assert_eq!(path_of(&r), "/mfa-binding");
    let choices = b.get(r.location.as_deref().unwrap()).await;
    assert!(choices.text.contains(r#"href="/mfa-binding/WebAuthn?app_id="#), "{}", choices.text);
    assert!(choices.text.contains(">Passkey</a>"), "{}", choices.text);

    // The binding page: the script pinned by its hash, the no-script message, the form hidden
    // until the script shows it, and the other factor to pick instead.
    let page = b.get("/mfa-binding/WebAuthn").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_script_policy(&page);
    assert!(page.text.contains("<noscript>") && page.text.contains("A passkey needs JavaScript."), "{}", page.text);
    assert!(page.text.contains(r#"<form id="passkey" method="post" action="/mfa-binding/WebAuthn""#), "{}", page.text);
    assert!(page.text.contains(r#" hidden>"#), "{}", page.text);
    assert_eq!(attribute(&page.text, "data-ceremony"), "create");
    assert!(page.text.contains(r#"href="/mfa-binding/Totp""#), "{}", page.text);
    assert!(page.text.contains("data-cancelled=\"The passkey request was cancelled"), "{}", page.text);
    let integrity = attribute(&page.text, "integrity");
    assert_eq!(attribute(&page.text, "src"), "/assets/passkey.js");

    // The script: this origin's file, exactly the one the page pins.
    let script = b.get("/assets/passkey.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(script.header("x-content-type-options"), "nosniff");
    let hash = STANDARD.encode(digest(&SHA256, script.text.as_bytes()));
    assert_eq!(integrity, format!("sha256-{hash}"));
    assert!(script.text.contains("navigator.credentials.create") && script.text.contains("navigator.credentials.get"));

    // A forged or unverified ceremony binds nothing: the page again, with the message.
    let r = post(&mut b, "/mfa-binding/WebAuthn", &page.text, &[("verification_id", "nope")]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.text.contains(r#"class="alert" role="alert">The passkey could not be checked."#), "{}", r.text);
    assert_eq!(attribute(&r.text, "data-ceremony"), "create");
    let (id, options) = ceremony(&mut b, &page.text).await;
    let r = post(&mut b, "/mfa-binding/WebAuthn", &page.text, &[("verification_id", &id)]).await;
    assert_eq!(r.status, 400, "not verified yet: {}", r.text);
    let forged = [("csrf", "0000"), ("verification_id", id.as_str())];
    assert_eq!(b.send(Method::POST, "/mfa-binding/WebAuthn", None, Some(&forged)).await.status, 403);

    // The script's ceremony, then its form post: bound, signed in.
    let r = verify(&mut b, &page.text, &id, soft.create(&options, &origin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post(&mut b, "/mfa-binding/WebAuthn", &page.text, &[("verification_id", &id)]).await;
    code_at_client(&mut b, r).await;
    let (status, factors) = t.api(Method::GET, &format!("/api/users/{}/mfa-verifications", w.user_id), None).await;
    assert_eq!(status, 200);
    assert_eq!(factors.as_array().unwrap().iter().map(|f| f["type"].clone()).collect::<Vec<_>>(), ["WebAuthn"]);

    // The next sign-in asks for it, in the user's language.
    let (mut b, r) = password_form(&t, &w, "&ui_locales=ja").await;
    assert_eq!(path_of(&r), "/mfa-verification/WebAuthn");
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_script_policy(&page);
    assert_eq!(attribute(&page.text, "data-ceremony"), "get");
    assert!(page.text.contains("パスキーを使う") && page.text.contains("JavaScript が必要"), "{}", page.text);
    assert!(page.text.contains(r#"action="/mfa-verification/WebAuthn?app_id="#), "{}", page.text);
    // An assertion started but not answered proves nothing.
    let (id, options) = ceremony(&mut b, &page.text).await;
    let r = post(&mut b, "/mfa-verification/WebAuthn", &page.text, &[("verification_id", &id)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(attribute(&r.text, "data-ceremony"), "get");
    let r = post(&mut b, "/mfa-verification/WebAuthn", &page.text, &[("verification_id", "")]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let payload = soft.get(&options, &origin).unwrap();
    let r = verify(&mut b, &page.text, &id, payload).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post(&mut b, "/mfa-verification/WebAuthn", &page.text, &[("verification_id", &id)]).await;
    code_at_client(&mut b, r).await;
    t.stop().await;
}

#[tokio::test]
async fn a_user_with_a_passkey_and_an_app_can_switch_between_them() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    patch_experience(&t, json!({"mfa": {"factors": ["Totp", "WebAuthn"], "policy": "Mandatory"}})).await;
    let mut soft = SoftAuthenticator::new().unwrap();
    let (mut b, r) = password_form(&t, &w, "").await;
    assert_eq!(path_of(&r), "/mfa-binding");
    let page = b.get("/mfa-binding/WebAuthn").await;
    let (id, options) = ceremony(&mut b, &page.text).await;
    assert_eq!(verify(&mut b, &page.text, &id, soft.create(&options, &origin)).await.status, 200);
    let r = post(&mut b, "/mfa-binding/WebAuthn", &page.text, &[("verification_id", &id)]).await;
    code_at_client(&mut b, r).await;

    // A TOTP secret bound through the Management API: the user now has both.
    let secret = "JBSWY3DPEHPK3PXP";
    let path = format!("/api/users/{}/mfa-verifications", w.user_id);
    let (status, body) = t.api(Method::POST, &path, Some(json!({"type": "Totp", "secret": secret}))).await;
    assert_eq!(status, 200, "{body}");
    let (mut b, r) = password_form(&t, &w, "").await;
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    // Whichever page comes first links the other factor.
    let (here, there) = if r.location.as_deref().unwrap().starts_with("/mfa-verification/WebAuthn") {
        ("WebAuthn", "Totp")
    } else {
        ("Totp", "WebAuthn")
    };
    assert!(page.text.contains(&format!(r#"href="/mfa-verification/{there}?app_id="#)), "{here}: {}", page.text);
    let page = b.get("/mfa-verification/WebAuthn").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"href="/mfa-verification/Totp"#), "{}", page.text);
    t.stop().await;
}
