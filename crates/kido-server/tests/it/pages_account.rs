//! The account pages (`/account`, issue 20 item 5), form post by form post: the sign-in of
//! the built-in `account` client, the account center's switches (disabled, Off, ReadOnly,
//! Edit), identity proof before sensitive changes, a password change, an authenticator app
//! and backup codes, "sign out this device" and a revoked app taking effect at once, and
//! forged or unsigned posts refused.

use kido_core::mfa::totp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::pages_mfa::{hidden, patch_experience};
use crate::signin::{Browser, Reply, World, code_for, csrf_of, exchange, world};

async fn enable_center(t: &TestServer, fields: Value) {
    let (status, body) =
        t.api(Method::PATCH, "/api/account-center", Some(json!({"enabled": true, "fields": fields}))).await;
    assert_eq!(status, 200, "{body}");
}

const ALL_EDIT: &str = r#"{"name":"Edit","username":"Edit","avatar":"Edit","email":"Edit","phone":"Edit","password":"Edit","mfa":"Edit","session":"Edit"}"#;

/// A browser signed in to the account pages through the `account` client's code flow; the
/// overview it lands on.
async fn signed_in(t: &TestServer, w: &World) -> (Browser, Reply) {
    let mut b = Browser::new(&t.url(""));
    let r = b.get("/account").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let auth = r.location.clone().unwrap();
    assert!(auth.starts_with("/oidc/auth?client_id=account&"), "{auth}");
    let r = b.get(&auth).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in?app_id=account"), "{:?}", r.location);
    let next = b.sign_in(&w.username, &w.password).await;
    let page = b.follow(next).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Your account") && page.text.contains(&w.username), "{}", page.text);
    (b, page)
}

/// Posts `fields` with the page's anti-forgery token.
async fn post(b: &mut Browser, action: &str, page: &str, fields: &[(&str, &str)]) -> Reply {
    let csrf = csrf_of(page);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.send(Method::POST, action, None, Some(&form)).await
}

/// The overview after a successful post (a 303 to `/account?done=<done>`).
async fn done(b: &mut Browser, r: Reply, done: &str) -> Reply {
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location.as_deref(), Some(format!("/account?done={done}").as_str()));
    let page = b.get(&format!("/account?done={done}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    page
}

/// Proves identity with the current password; the overview.
async fn verify(b: &mut Browser, page: &Reply, password: &str) -> Reply {
    let r = post(b, "/account/verify/password", &page.text, &[("password", password)]).await;
    assert!(b.jar.contains_key("_account_proof"), "{:?}", b.jar);
    let page = done(b, r, "verified").await;
    assert!(page.text.contains(r#"id="verified""#), "{}", page.text);
    page
}

async fn password_matches(t: &TestServer, w: &World, password: &str) -> bool {
    let path = format!("/api/users/{}/password/verify", w.user_id);
    let (status, _) = t.api(Method::POST, &path, Some(json!({"password": password}))).await;
    status == 204
}

#[tokio::test]
async fn sign_in_refusals_and_a_password_change() {
    let t = TestServer::start().await;
    let w = world(&t).await;

    // The account center is off in `default` until enabled: a page says so.
    let mut anonymous = Browser::new(&t.url(""));
    let r = anonymous.get("/account").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("Account settings are not available"), "{}", r.text);
    enable_center(&t, serde_json::from_str(ALL_EDIT).unwrap()).await;

    // Not signed in: into the sign-in of the `account` client, back to the fixed callback.
    let r = anonymous.get("/account").await;
    assert_eq!(r.status, 303);
    let location = r.location.unwrap();
    let callback = format!("redirect_uri={}", crate::signin::urlencode(&t.url("/account/callback")));
    assert!(location.contains(&callback) && location.contains("code_challenge_method=S256"), "{location}");
    let r = anonymous.send(Method::POST, "/account/password", None, Some(&[("password", "x")])).await;
    assert!(r.status == 303 && r.location.unwrap().starts_with("/oidc/auth?"), "{}", r.status);
    // A callback without this browser's state signs nobody in.
    let r = anonymous.get("/account/callback?code=abc&state=forged").await;
    assert_eq!(r.status, 400, "{}", r.text);

    let (mut b, page) = signed_in(&t, &w).await;
    // Sensitive forms wait for the identity proof.
    assert!(!page.text.contains(r#"id="password-form""#));
    // A post without (or with another) anti-forgery token is refused.
    let r = b.send(Method::POST, "/account/verify/password", None, Some(&[("password", w.password.as_str())])).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let forged = [("csrf", "forged"), ("password", w.password.as_str())];
    assert_eq!(b.send(Method::POST, "/account/verify/password", None, Some(&forged)).await.status, 403);
    // Changing the password before proving identity: the API's permission_denied, in words.
    let r = post(
        &mut b,
        "/account/password",
        &page.text,
        &[("password", "N3w-Secret-pass!"), ("confirm_password", "N3w-Secret-pass!")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("Please verify it"), "{}", r.text);
    // A wrong current password.
    let r = post(&mut b, "/account/verify/password", &page.text, &[("password", "not-it")]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("The password is not correct."), "{}", r.text);

    let page = verify(&mut b, &page, &w.password).await;
    assert!(page.text.contains(r#"id="password-form""#), "{}", page.text);
    // The policy's refusal shows its rules; a mismatch is refused too.
    let r = post(&mut b, "/account/password", &page.text, &[("password", "abc"), ("confirm_password", "abc")]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains(r#"id="password-rules""#), "{}", r.text);
    let r = post(
        &mut b,
        "/account/password",
        &page.text,
        &[("password", "N3w-Secret-pass!"), ("confirm_password", "other")],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let long = "x".repeat(300);
    let r = post(&mut b, "/account/password", &page.text, &[("password", &long), ("confirm_password", &long)]).await;
    assert_eq!(r.status, 422, "{}", r.text);

    let r = post(
        &mut b,
        "/account/password",
        &page.text,
        &[("password", "N3w-Secret-pass!"), ("confirm_password", "N3w-Secret-pass!")],
    )
    .await;
    let page = done(&mut b, r, "password").await;
    assert!(page.text.contains("Your password was changed."), "{}", page.text);
    assert!(!password_matches(&t, &w, &w.password).await, "the old password still works");
    assert!(password_matches(&t, &w, "N3w-Secret-pass!").await);

    // Profile: a name saved; the page in Japanese for a browser that asks.
    let r =
        post(&mut b, "/account/profile", &page.text, &[("name", "Alice A"), ("avatar", ""), ("username", &w.username)])
            .await;
    let page = done(&mut b, r, "saved").await;
    let (_, user) = t.api(Method::GET, &format!("/api/users/{}", w.user_id), None).await;
    assert_eq!(user["name"], "Alice A");
    assert!(page.text.contains(r#"value="Alice A""#), "{}", page.text);
    let too_long = "n".repeat(200);
    let r = post(&mut b, "/account/profile", &page.text, &[("name", &too_long)]).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // Signing out forgets the token: the next visit signs in again.
    let r = post(&mut b, "/account/sign-out", &page.text, &[]).await;
    assert!(r.status == 303 && r.location.unwrap().starts_with("/oidc/session/end?"));
    assert!(!b.jar.contains_key("_account"));
    let r = b.get("/account").await;
    assert!(r.status == 303 && r.location.unwrap().starts_with("/oidc/auth?"));
}

#[tokio::test]
async fn authenticator_app_and_backup_codes() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["Totp", "BackupCode"], "policy": "NoPrompt"}})).await;
    enable_center(&t, serde_json::from_str(ALL_EDIT).unwrap()).await;
    let (mut b, page) = signed_in(&t, &w).await;
    // The set-up page needs the identity proof first.
    assert!(!page.text.contains(r#"id="add-totp""#));
    assert_eq!(b.get("/account/mfa/totp").await.status, 401);
    let page = verify(&mut b, &page, &w.password).await;
    assert!(page.text.contains(r#"id="add-totp""#), "{}", page.text);
    // Backup codes come after another factor.
    assert!(!page.text.contains(r#"id="backup-codes-form""#));

    let setup = b.get("/account/mfa/totp").await;
    assert_eq!(setup.status, 200, "{}", setup.text);
    assert!(setup.text.contains("data:image/svg+xml"), "no QR code: {}", setup.text);
    let secret = hidden(&setup.text, "secret");
    let key = totp::decode_secret(&secret).unwrap();
    let now = kido_core::clock::now_ms() / 1000;
    let right = totp::code_at(&key, now);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let r = post(&mut b, "/account/mfa/totp", &setup.text, &[("secret", &secret), ("code", wrong)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(hidden(&r.text, "secret"), secret, "a wrong code shows the same secret again");
    let r = post(&mut b, "/account/mfa/totp", &setup.text, &[("secret", &secret), ("code", &right)]).await;
    let page = done(&mut b, r, "factor-added").await;
    assert!(page.text.contains("Authenticator app"), "{}", page.text);
    assert!(!page.text.contains(r#"id="add-totp""#), "one authenticator app only");

    let r = post(&mut b, "/account/mfa/backup-codes", &page.text, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown: Vec<&str> = r.text.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(shown.len(), 10, "{}", r.text);
    let read = b.get("/account/mfa/backup-codes").await;
    assert_eq!(read.status, 200, "{}", read.text);
    for code in &shown {
        assert!(read.text.contains(code), "{code} not read back");
    }
    assert_eq!(read.text.matches("unused").count(), 10);
    let (_, factors) = t.api(Method::GET, &format!("/api/users/{}/mfa-verifications", w.user_id), None).await;
    let kinds: Vec<&str> = factors.as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"Totp") && kinds.contains(&"BackupCode"), "{factors}");

    // Removing the authenticator app.
    let page = b.get("/account").await;
    let totp_id =
        factors.as_array().unwrap().iter().find(|f| f["type"] == "Totp").unwrap()["id"].as_str().unwrap().to_owned();
    let r = post(&mut b, &format!("/account/mfa/{totp_id}/remove"), &page.text, &[]).await;
    done(&mut b, r, "factor-removed").await;
    let r = post(&mut b, "/account/mfa/unknown-id/remove", &page.text, &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("no longer exists"), "{}", r.text);
}

/// The refresh token of a sign-in of the world's app in another browser.
async fn other_device(t: &TestServer, w: &World) -> String {
    let mut other = Browser::new(&t.url(""));
    let code = code_for(&mut other, w, &w.app, "").await;
    let (status, tokens) = exchange(&t.url(""), w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned()
}

async fn refresh(t: &TestServer, w: &World, token: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    t.token(&form, Some((&w.app, &w.secret))).await
}

/// The ids in `id="<prefix>…"` of the rows not marked as this device.
fn other_rows(html: &str, prefix: &str) -> Vec<String> {
    html.split(&format!(r#"<li id="{prefix}"#))
        .skip(1)
        .filter(|row| !row.split("</li>").next().unwrap().contains("This device"))
        .map(|row| row.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn signing_out_a_device_and_revoking_an_app() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, serde_json::from_str(ALL_EDIT).unwrap()).await;
    let device = other_device(&t, &w).await;
    assert_eq!(refresh(&t, &w, &device).await.0, 200);
    let (mut b, page) = signed_in(&t, &w).await;
    assert!(page.text.contains("This device"), "{}", page.text);
    let sessions = other_rows(&page.text, "session-");
    assert_eq!(sessions.len(), 1, "{}", page.text);
    // Not before the identity proof.
    let r = post(&mut b, &format!("/account/sessions/{}/revoke", sessions[0]), &page.text, &[]).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let page = verify(&mut b, &page, &w.password).await;
    let r = post(&mut b, &format!("/account/sessions/{}/revoke", sessions[0]), &page.text, &[]).await;
    let page = done(&mut b, r, "session").await;
    assert!(other_rows(&page.text, "session-").is_empty(), "{}", page.text);
    let (status, body) = refresh(&t, &w, &device).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    // Another user's or an unknown session: not found, nothing ended.
    let r = post(&mut b, "/account/sessions/nosuchsession/revoke", &page.text, &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // A connected app revoked: its refresh token is refused at once.
    let app_token = other_device(&t, &w).await;
    let page = b.get("/account").await;
    let grants = other_rows(&page.text, "grant-");
    assert_eq!(grants.len(), 1, "{}", page.text);
    let r = post(&mut b, &format!("/account/grants/{}/revoke", grants[0]), &page.text, &[]).await;
    done(&mut b, r, "grant").await;
    assert_eq!(refresh(&t, &w, &app_token).await.0, 400);

    // The pages' own session ended: they sign in again.
    let page = b.get("/account").await;
    let mine = page
        .text
        .split(r#"<li id="session-"#)
        .find(|row| row.split("</li>").next().unwrap().contains("This device"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = post(&mut b, &format!("/account/sessions/{mine}/revoke"), &page.text, &[]).await;
    assert_eq!(r.status, 303);
    let r = b.get("/account").await;
    assert!(r.status == 303 && r.location.unwrap().starts_with("/oidc/auth?"));
}

#[tokio::test]
async fn field_switches_off_read_only_and_edit() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["Totp", "BackupCode"], "policy": "NoPrompt"}})).await;
    enable_center(&t, json!({"name": "Edit", "username": "ReadOnly", "email": "ReadOnly", "mfa": "ReadOnly"})).await;
    let (mut b, page) = signed_in(&t, &w).await;
    let html = &page.text;
    // Edit: a form field; ReadOnly: the value as text; Off: nothing.
    assert!(html.contains(r#"<input type="text" id="name" name="name""#), "{html}");
    assert!(html.contains(r#"<p class="value" id="username">"#), "{html}");
    assert!(!html.contains(r#"name="username""#), "{html}");
    assert!(!html.contains(r#"id="avatar""#), "{html}");
    assert!(html.contains(r#"<section id="email">"#) && !html.contains(r#"id="email-form""#), "{html}");
    assert!(!html.contains(r#"<section id="phone">"#), "{html}");
    assert!(!html.contains(r#"<section id="password">"#), "{html}");
    assert!(html.contains(r#"<section id="mfa">"#), "{html}");
    assert!(!html.contains(r#"<section id="sessions">"#), "{html}");

    let page = verify(&mut b, &page, &w.password).await;
    assert!(!page.text.contains(r#"id="add-totp""#), "ReadOnly MFA offers no set-up: {}", page.text);
    assert!(!page.text.contains(r#"id="email-form""#));
    // Posts the page does not offer are refused by the same rules.
    let r = post(&mut b, "/account/profile", &page.text, &[("username", "mallory")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("This cannot be changed here."), "{}", r.text);
    let (_, user) = t.api(Method::GET, &format!("/api/users/{}", w.user_id), None).await;
    assert_eq!(user["username"], w.username.as_str());
    let r = post(
        &mut b,
        "/account/password",
        &page.text,
        &[("password", "N3w-Secret-pass!"), ("confirm_password", "N3w-Secret-pass!")],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post(&mut b, "/account/mfa/backup-codes", &page.text, &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post(&mut b, "/account/sessions/whatever/revoke", &page.text, &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post(&mut b, "/account/profile", &page.text, &[("name", "Ally")]).await;
    done(&mut b, r, "saved").await;

    // Switching the account center off closes the pages at once.
    let (status, _) = t.api(Method::PATCH, "/api/account-center", Some(json!({"enabled": false}))).await;
    assert_eq!(status, 200);
    let r = b.get("/account").await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn a_new_email_by_code_and_a_proof_by_code() {
    let (t, mut smtp, w) = crate::passwordless::email_tenant().await;
    enable_center(&t, serde_json::from_str(ALL_EDIT).unwrap()).await;
    let (mut b, page) = signed_in(&t, &w).await;
    assert!(!page.text.contains(r#"id="email-form""#), "the change waits for the proof");
    let page = verify(&mut b, &page, &w.password).await;
    assert!(page.text.contains(r#"id="email-form""#), "{}", page.text);
    let r = post(&mut b, "/account/identifier/send", &page.text, &[("kind", "email"), ("identifier", "not-an-email")])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = post(&mut b, "/account/identifier/send", &page.text, &[("kind", "fax"), ("identifier", "a@b.io")]).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let r =
        post(&mut b, "/account/identifier/send", &page.text, &[("kind", "email"), ("identifier", "alice@new.example")])
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(r#"id="code-to">alice@new.example<"#), "{}", r.text);
    let code = smtp.next().await.code();
    let id = hidden(&r.text, "verification_id");
    let fields = |code: &'static str| {
        [("kind", "email"), ("identifier", "alice@new.example"), ("verification_id", ""), ("code", code)]
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut form = fields(wrong);
    form[2].1 = &id;
    let again = post(&mut b, "/account/identifier/verify", &r.text, &form).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert!(again.text.contains(r#"id="code-form""#), "a wrong code asks again: {}", again.text);
    let mut form = fields("");
    form[2].1 = &id;
    form[3].1 = &code;
    let r = post(&mut b, "/account/identifier/verify", &again.text, &form).await;
    let page = done(&mut b, r, "identifier").await;
    assert!(page.text.contains(r#"id="email-value">alice@new.example<"#), "{}", page.text);
    let (_, user) = t.api(Method::GET, &format!("/api/users/{}", w.user_id), None).await;
    assert_eq!(user["primaryEmail"], "alice@new.example");

    // A fresh sign-in proves who it is with a code to the user's own address.
    let (mut fresh, page) = signed_in(&t, &w).await;
    assert!(page.text.contains("Send a code to alice@new.example"), "{}", page.text);
    let r = post(&mut fresh, "/account/verify/code", &page.text, &[("kind", "email")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = smtp.next().await.code();
    let id = hidden(&r.text, "verification_id");
    let form = [("kind", "email"), ("identifier", "alice@new.example"), ("verification_id", &id), ("code", &code)];
    let r = post(&mut fresh, "/account/verify/code/check", &r.text, &form).await;
    let page = done(&mut fresh, r, "verified").await;
    assert!(page.text.contains(r#"id="verified""#), "{}", page.text);
}

#[tokio::test]
async fn a_passkey_registered_renamed_and_removed() {
    use kido_core::mfa::webauthn::soft::SoftAuthenticator;
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(&t, json!({"mfa": {"factors": ["WebAuthn", "Totp"], "policy": "NoPrompt"}})).await;
    enable_center(&t, serde_json::from_str(ALL_EDIT).unwrap()).await;
    let (mut b, page) = signed_in(&t, &w).await;
    let page = verify(&mut b, &page, &w.password).await;
    assert!(page.text.contains(r#"<form id="passkey" method="post" action="/account/mfa/passkey""#), "{}", page.text);
    assert!(page.text.contains(r#"src="/assets/passkey.js" integrity="sha256-"#), "{}", page.text);
    assert!(page.header("content-security-policy").contains("script-src 'self'"));
    let attribute = |html: &str, name: &str| {
        html.split(&format!(r#"{name}=""#)).nth(1).unwrap().split('"').next().unwrap().to_owned()
    };
    let (start, check) = (attribute(&page.text, "data-start"), attribute(&page.text, "data-verify"));
    // The script's routes take the page's token in their path.
    let forged = start.replace(&csrf_of(&page.text), "forged");
    assert_eq!(b.send(Method::POST, &forged, None, None).await.status, 403);
    let r = b.send(Method::POST, &start, None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let started = r.json();
    let id = started["verificationRecordId"].as_str().unwrap().to_owned();
    let mut soft = SoftAuthenticator::new().unwrap();
    let payload = soft.create(&started["registrationOptions"], &t.url(""));
    let r = b.send(Method::POST, &check, Some(json!({"verificationId": id, "payload": payload})), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let verified = r.json()["verificationRecordId"].as_str().unwrap().to_owned();
    let r =
        post(&mut b, "/account/mfa/passkey", &page.text, &[("verification_id", &verified), ("name", "Laptop")]).await;
    let page = done(&mut b, r, "factor-added").await;
    assert!(page.text.contains("<strong>Passkey</strong> Laptop"), "{}", page.text);
    // Spent: the same registration binds nothing twice.
    let r = post(&mut b, "/account/mfa/passkey", &page.text, &[("verification_id", &verified)]).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let factor = page.text.split(r#"<li id="factor-"#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = post(&mut b, &format!("/account/mfa/{factor}/rename"), &page.text, &[("name", "Phone")]).await;
    let page = done(&mut b, r, "saved").await;
    assert!(page.text.contains("<strong>Passkey</strong> Phone"), "{}", page.text);
    let r = post(&mut b, &format!("/account/mfa/{factor}/remove"), &page.text, &[]).await;
    let page = done(&mut b, r, "factor-removed").await;
    assert!(!page.text.contains(r#"<li id="factor-"#), "{}", page.text);
}
