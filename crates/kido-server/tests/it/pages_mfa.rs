//! Second factors on the hosted pages (issue 19 item 7), form post by form post: an
//! authenticator app and backup codes bound at sign-in (and at registration) under a mandatory
//! policy, then asked for at every sign-in (a TOTP code, a backup code, a code by email),
//! skipping under a skippable policy, and the messages of wrong, used and locked codes in the
//! user's language.

use kido_core::mfa::totp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::passwordless::email_tenant;
use crate::signin::{Browser, Reply, World, auth_url, csrf_of, world};

fn now() -> i64 {
    kido_core::clock::now_ms() / 1000
}

/// The code of `secret` `steps` time steps from now.
fn code(secret: &str, steps: i64) -> String {
    totp::code_at(&totp::decode_secret(secret).unwrap(), now() + steps * totp::STEP_SECS)
}

/// A code that is not `right`.
fn wrong(right: &str) -> &'static str {
    if right == "000000" { "111111" } else { "000000" }
}

async fn patch_experience(t: &TestServer, body: Value) {
    let (status, reply) = t.api(Method::PATCH, "/api/sign-in-exp", Some(body)).await;
    assert_eq!(status, 200, "{reply}");
}

/// The value of the hidden input `name` of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    html.split(&marker).nth(1).unwrap_or_else(|| panic!("no {name} in {html}")).split('"').next().unwrap().to_owned()
}

/// The text of the element with `id`.
fn text_of(html: &str, id: &str) -> String {
    let at = html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// Signs in on the hosted sign-in form of a fresh browser (`extra` added to the
/// authorization request); the browser and the answer to the form post.
pub(crate) async fn password_form(t: &TestServer, w: &World, extra: &str) -> (Browser, Reply) {
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, extra)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sign_in = r.location.unwrap();
    let page = b.get(&sign_in).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = csrf_of(&page.text);
    let form = [("csrf", csrf.as_str()), ("identifier", w.username.as_str()), ("password", w.password.as_str())];
    let r = b.send(Method::POST, &sign_in, None, Some(&form)).await;
    (b, r)
}

/// Where a 303 goes, without its query.
fn path_of(r: &Reply) -> &str {
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.location.as_deref().unwrap();
    location.split('?').next().unwrap()
}

/// Posts `fields` with the page's anti-forgery token to `action`.
async fn post(b: &mut Browser, action: &str, page: &str, fields: &[(&str, &str)]) -> Reply {
    let csrf = csrf_of(page);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.send(Method::POST, action, None, Some(&form)).await
}

/// Follows a redirect to the client; the authorization code.
pub(crate) async fn code_at_client(b: &mut Browser, r: Reply) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    r.param("code").unwrap_or_else(|| panic!("no code in {:?} {}", r.location, r.text))
}

#[tokio::test]
async fn an_authenticator_app_and_backup_codes_are_bound_then_asked_for_on_the_pages() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["Totp", "BackupCode"], "policy": "Mandatory"}})).await;

    // The password form ends on the choice of a factor; no "skip" under a mandatory policy.
    let (mut b, r) = password_form(&t, &w, "").await;
    assert_eq!(path_of(&r), "/mfa-binding");
    assert!(r.location.as_deref().unwrap().contains("app_id="), "the query is carried: {:?}", r.location);
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"href="/mfa-binding/Totp?app_id="#), "{}", page.text);
    assert!(!page.text.contains("/mfa-binding/skip"), "{}", page.text);

    // The authenticator app: the QR code and the key on the page only.
    let page = b.get("/mfa-binding/Totp").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let r = post(&mut b, "/mfa-binding/skip", &page.text, &[]).await;
    assert_eq!(r.status, 422, "a mandatory policy refuses a forged skip: {}", r.text);
    assert_eq!(page.text.matches(r#"<img class="qr" src="data:image/svg+xml;base64,"#).count(), 1, "{}", page.text);
    let secret = text_of(&page.text, "secret");
    let id = hidden(&page.text, "verification_id");
    assert!(totp::decode_secret(&secret).is_some(), "{secret}");
    // A wrong code: the message under the field, and the same key again.
    let first = code(&secret, 0);
    let r = post(&mut b, "/mfa-binding/Totp", &page.text, &[("verification_id", &id), ("code", wrong(&first))]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains(r#"id="code-error""#) && r.text.contains("The code is wrong or was already used."));
    assert_eq!(text_of(&r.text, "secret"), secret);
    // Without the page's token, nothing happens.
    let forged = [("csrf", "0000"), ("verification_id", id.as_str()), ("code", first.as_str())];
    assert_eq!(b.send(Method::POST, "/mfa-binding/Totp", None, Some(&forged)).await.status, 403);
    let r = post(&mut b, "/mfa-binding/Totp", &page.text, &[("verification_id", &id), ("code", &first)]).await;
    assert_eq!(path_of(&r), "/mfa-binding/BackupCode", "backup codes are required next");

    // Ten backup codes, shown once, with a download; "I have saved them" finishes.
    let page = b.get("/mfa-binding/BackupCode").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let list = page.text.split(r#"id="backup-codes">"#).nth(1).unwrap().split("</ul>").next().unwrap();
    let codes: Vec<String> =
        list.split("<code>").skip(1).map(|c| c.split("</code>").next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10, "{list}");
    assert!(page.text.contains(&format!(r#"href="data:text/plain;charset=utf-8,{}%0A"#, codes[0])), "{}", page.text);
    assert!(page.text.contains(r#"download="backup-codes.txt""#));
    let id = hidden(&page.text, "verification_id");
    let r = post(&mut b, "/mfa-binding/BackupCode", &page.text, &[("verification_id", &id)]).await;
    code_at_client(&mut b, r).await;
    let (_, bound) = t.api(Method::GET, &format!("/api/users/{}/mfa-verifications", w.user_id), None).await;
    let mut kinds: Vec<&str> = bound.as_array().unwrap().iter().map(|v| v["type"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["BackupCode", "Totp"], "{bound}");

    // The next sign-in asks for a code from the app, offering a backup code instead.
    let (mut b, r) = password_form(&t, &w, "").await;
    assert_eq!(path_of(&r), "/mfa-verification/Totp");
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(r#"href="/mfa-verification/BackupCode?app_id="#), "{}", page.text);
    // The code that bound the app was used: refused, with the message under the field.
    let r = post(&mut b, "/mfa-verification/Totp", &page.text, &[("code", &first)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains(r#"aria-invalid="true""#) && r.text.contains("The code is wrong or was already used."));
    let r = post(&mut b, "/mfa-verification/Totp", &page.text, &[("code", &code(&secret, 1))]).await;
    code_at_client(&mut b, r).await;

    // A backup code signs in once.
    for attempt in 0..2 {
        let (mut b, r) = password_form(&t, &w, "").await;
        assert_eq!(path_of(&r), "/mfa-verification/Totp");
        let page = b.get("/mfa-verification/BackupCode").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains(r#"href="/mfa-verification/Totp""#), "{}", page.text);
        let r = post(&mut b, "/mfa-verification/BackupCode", &page.text, &[("code", &codes[3])]).await;
        if attempt == 0 {
            code_at_client(&mut b, r).await;
        } else {
            assert_eq!(r.status, 400, "{}", r.text);
            assert!(r.text.contains("The code is wrong or was already used."), "{}", r.text);
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn a_skippable_policy_offers_skip_and_remembers_it() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["Totp"], "policy": "PromptAtSignInAndSignUp"}})).await;
    let (mut b, r) = password_form(&t, &w, "&ui_locales=ja").await;
    assert_eq!(path_of(&r), "/mfa-binding");
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert!(page.text.contains("今はスキップ") && page.text.contains(r#"lang="ja""#), "{}", page.text);
    let r = post(&mut b, "/mfa-binding/skip?ui_locales=ja", &page.text, &[]).await;
    code_at_client(&mut b, r).await;
    let (_, config) = t.api(Method::GET, &format!("/api/users/{}/logto-configs", w.user_id), None).await;
    assert_eq!(config["mfa"]["skipped"], true, "{config}");
    // Remembered: the next sign-in goes straight to the app.
    let (mut b, r) = password_form(&t, &w, "").await;
    code_at_client(&mut b, r).await;
    t.stop().await;
}

#[tokio::test]
async fn wrong_and_locked_codes_are_told_in_the_users_language() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(
        &t,
        json!({"mfa": {"factors": ["Totp"], "policy": "Mandatory"},
               "sentinelPolicy": {"maxAttempts": 3, "lockoutDuration": 5}}),
    )
    .await;
    let (status, bound) = t
        .api(Method::POST, &format!("/api/users/{}/mfa-verifications", w.user_id), Some(json!({"type": "Totp"})))
        .await;
    assert_eq!(status, 200, "{bound}");
    let right = code(bound["secret"].as_str().unwrap(), 0);

    let (mut b, r) = password_form(&t, &w, "&ui_locales=zh-TW").await;
    assert_eq!(path_of(&r), "/mfa-verification/Totp");
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert!(page.text.contains("兩步驟驗證"), "{}", page.text);
    // No backup codes bound: no other method to offer.
    assert!(!page.text.contains("/mfa-verification/BackupCode"), "{}", page.text);
    for _ in 0..2 {
        let r = post(&mut b, "/mfa-verification/Totp", &page.text, &[("code", wrong(&right))]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("驗證碼錯誤或已被使用。"), "{}", r.text);
    }
    // The third wrong code locks the user's second factors: the right one is refused too.
    for attempt in [wrong(&right), right.as_str()] {
        let r = post(&mut b, "/mfa-verification/Totp", &page.text, &[("code", attempt)]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("嘗試次數過多，請稍後再試。"), "{}", r.text);
    }
    // A page that is not a factor, and a code that is far too long, are plain 4xx pages.
    assert_eq!(b.get("/mfa-verification/Nothing").await.status, 404);
    let long = "9".repeat(5000);
    let r = post(&mut b, "/mfa-verification/Totp", &page.text, &[("code", &long)]).await;
    assert_eq!(r.status / 100, 4, "{}", r.text);
    t.stop().await;
}

#[tokio::test]
async fn a_code_by_email_is_sent_then_checked_on_the_pages() {
    let (t, mut smtp, w) = email_tenant().await;
    let (status, _) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{}", w.user_id),
            Some(json!({"primaryEmail": "alice.liddell@example.com"})),
        )
        .await;
    assert_eq!(status, 200);
    let methods = json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
    ]}, "signUp": {"identifiers": ["username"], "password": true, "verify": false}, "forgotPasswordMethods": [],
        "mfa": {"factors": ["Totp", "EmailVerificationCode"], "policy": "Mandatory"}});
    patch_experience(&t, methods).await;

    let (mut b, r) = password_form(&t, &w, "").await;
    assert_eq!(path_of(&r), "/mfa-verification/EmailVerificationCode");
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("alic****@example.com") && !page.text.contains("alice.liddell"), "{}", page.text);
    let r = post(&mut b, "/mfa-verification/EmailVerificationCode/send", &page.text, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mail = smtp.next().await;
    assert!(mail.header("To").unwrap().contains("alice.liddell@example.com"));
    let id = hidden(&r.text, "verification_id");
    let fields = [("verification_id", id.as_str()), ("code", "000000x")];
    let wrong = post(&mut b, "/mfa-verification/EmailVerificationCode", &r.text, &fields).await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    assert!(wrong.text.contains(r#"id="code-error""#), "{}", wrong.text);
    let fields = [("verification_id", id.as_str()), ("code", &mail.code())];
    let r = post(&mut b, "/mfa-verification/EmailVerificationCode", &r.text, &fields).await;
    code_at_client(&mut b, r).await;
    t.stop().await;
}

#[tokio::test]
async fn a_registration_binds_an_authenticator_app_before_it_finishes() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["Totp"], "policy": "PromptAtSignInAndSignUpMandatory"}})).await;
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "&first_screen=register")).await;
    let register = r.location.unwrap();
    let page = b.get(&register).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let password = "Kido-new-member-73";
    let fields = [("username", "bob_mfa"), ("password", password), ("confirm_password", password)];
    let r = post(&mut b, &register, &page.text, &fields).await;
    assert_eq!(path_of(&r), "/mfa-binding", "the account exists, the sign-in waits for a factor");
    let page = b.get("/mfa-binding/Totp").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let secret = text_of(&page.text, "secret");
    let id = hidden(&page.text, "verification_id");
    let r =
        post(&mut b, "/mfa-binding/Totp", &page.text, &[("verification_id", &id), ("code", &code(&secret, 0))]).await;
    code_at_client(&mut b, r).await;
    let (_, users) = t.api(Method::GET, "/api/users?search=bob_mfa", None).await;
    let user_id = users[0]["id"].as_str().unwrap();
    let (_, bound) = t.api(Method::GET, &format!("/api/users/{user_id}/mfa-verifications"), None).await;
    assert_eq!(bound[0]["type"], "Totp", "{bound}");
    t.stop().await;
}

#[tokio::test]
async fn a_registration_by_email_is_offered_another_factor_and_may_decline() {
    let (t, mut smtp, w) = email_tenant().await;
    patch_experience(
        &t,
        json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true},
               "signIn": {"methods": [
                   {"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true}
               ]},
               "mfa": {"factors": ["Totp", "EmailVerificationCode"], "policy": "PromptAtSignInAndSignUp"}}),
    )
    .await;
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "&first_screen=register")).await;
    let page = b.follow(r.location.unwrap()).await;
    let r = post(&mut b, "/register/verification-code", &page.text, &[("identifier", "carol.mfa@kido.test")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r =
        post(&mut b, "/register/verification-code/verify", &page.text, &[("code", &smtp.next().await.code())]).await;
    assert_eq!(path_of(&r), "/register/profile");
    let password = "Kido-carol-pass-58";
    let r =
        post(&mut b, "/register/profile", &page.text, &[("password", password), ("confirm_password", password)]).await;
    assert_eq!(path_of(&r), "/mfa-binding", "another factor is suggested");
    let choice = b.get("/mfa-binding").await;
    assert!(choice.text.contains("Add another way to prove it is you"), "{}", choice.text);
    assert!(choice.text.contains(r#"action="/mfa-binding/skip-suggestion""#), "{}", choice.text);
    assert!(choice.text.contains(r#"href="/mfa-binding/Totp""#), "{}", choice.text);
    let r = post(&mut b, "/mfa-binding/skip-suggestion", &page.text, &[]).await;
    code_at_client(&mut b, r).await;
    t.stop().await;
}
