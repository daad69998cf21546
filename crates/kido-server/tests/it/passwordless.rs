//! Passwordless and account recovery: connectors through the Management API, codes by
//! email (a real SMTP conversation on loopback) and SMS (the HTTP connector against a
//! loopback receiver), registration, sign-in and password reset by code — and each
//! way a code is refused.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, token_at};
use crate::mail::{HttpReceiver, SmtpServer};
use crate::signin::{Browser, World, auth_url, csrf_of, exchange, world};

/// Email sign-up with a password, email sign-in by password or code, reset by email.
pub(crate) fn email_experience() -> Value {
    json!({
        "signUp": {"identifiers": ["email"], "password": true, "verify": true},
        "signIn": {"methods": [
            {"identifier": "email", "password": true, "verificationCode": true, "isPasswordPrimary": true},
            {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
        ]},
        "forgotPasswordMethods": ["EmailVerificationCode"]
    })
}

async fn smtp_connector(t: &TestServer, smtp: &SmtpServer) -> Value {
    let (status, connector) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "simple-mail-transfer-protocol", "config": smtp.config()})),
        )
        .await;
    assert_eq!(status, 200, "{connector}");
    connector
}

pub(crate) async fn email_tenant() -> (TestServer, SmtpServer, World) {
    let t = TestServer::start().await;
    let smtp = SmtpServer::start().await;
    smtp_connector(&t, &smtp).await;
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(email_experience())).await;
    assert_eq!(status, 200, "{body}");
    let w = world(&t).await;
    (t, smtp, w)
}

/// A browser in a fresh interaction for the Traditional app.
pub(crate) async fn browser_at_sign_in(t: &TestServer, w: &World, extra: &str) -> Browser {
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, extra)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    b
}

pub(crate) fn email(value: &str) -> Value {
    json!({"type": "email", "value": value})
}

pub(crate) async fn send_code(b: &mut Browser, identifier: Value, event: &str) -> (u16, Value) {
    let r = b
        .api(
            Method::POST,
            "/verification/verification-code",
            Some(json!({"identifier": identifier, "interactionEvent": event})),
        )
        .await;
    (r.status, r.json())
}

pub(crate) async fn verify_code(b: &mut Browser, identifier: Value, id: &str, code: &str) -> (u16, Value) {
    let r = b
        .api(
            Method::POST,
            "/verification/verification-code/verify",
            Some(json!({"identifier": identifier, "verificationId": id, "code": code})),
        )
        .await;
    (r.status, r.json())
}

pub(crate) async fn start(b: &mut Browser, event: &str) {
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": event}))).await.status, 204);
}

/// Follows `submit`'s redirect to the client and exchanges the code.
pub(crate) async fn tokens_after_submit(t: &TestServer, b: &mut Browser, w: &World) -> Value {
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.json()["redirectTo"].as_str().unwrap().to_owned();
    let r = b.follow(next).await;
    let code = r.param("code").unwrap_or_else(|| panic!("no code in {:?}", r.location));
    let (status, tokens) = exchange(&t.url(""), w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

#[tokio::test]
async fn connectors_are_validated_and_one_email_connector_is_kept() {
    let t = TestServer::start().await;
    let smtp = SmtpServer::start().await;
    let (status, factories) = t.api(Method::GET, "/api/connector-factories", None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = factories.as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    for id in ["simple-mail-transfer-protocol", "http-email", "http-sms", "kido-dev-email", "kido-dev-sms"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let (status, smtp_factory) =
        t.api(Method::GET, "/api/connector-factories/simple-mail-transfer-protocol", None).await;
    assert_eq!(
        (status, smtp_factory["type"].as_str(), smtp_factory["target"].as_str()),
        (200, Some("Email"), Some("smtp"))
    );
    assert_eq!(t.api(Method::GET, "/api/connector-factories/nope", None).await.0, 404);

    // Unknown factory, invalid configs: the field at fault is named.
    let (status, body) =
        t.api(Method::POST, "/api/connectors", Some(json!({"connectorId": "nope", "config": {}}))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("connector.not_found_with_connector_id")));
    let mut config = smtp.config();
    config["port"] = json!("twenty-five");
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "simple-mail-transfer-protocol", "config": config})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("connector.invalid_config")), "{body}");
    assert!(body["details"].as_str().unwrap().contains("port"), "{body}");
    let mut config = smtp.config();
    config["templates"].as_array_mut().unwrap().retain(|t| t["usageType"] != "ForgotPassword");
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "simple-mail-transfer-protocol", "config": config})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["details"].as_str().unwrap().contains("ForgotPassword"), "{body}");
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "http-sms", "config": {"endpoint": "ftp://x"}})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("connector.invalid_config")));
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(
                json!({"connectorId": "http-sms", "config": {"endpoint": "http://127.0.0.1:9/x"}, "syncProfile": true}),
            ),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("connector.invalid_type_for_syncing_profile")));

    // Code sign-in needs an email connector.
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(email_experience())).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("sign_in_experiences.enabled_connector_not_found")));

    let first = smtp_connector(&t, &smtp).await;
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(first["connectorId"], "simple-mail-transfer-protocol");
    assert_eq!(first["config"]["host"], "127.0.0.1");
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(email_experience())).await.0, 200);
    let (_, listed) = t.api(Method::GET, "/api/connectors?target=smtp", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (status, patched) =
        t.api(Method::PATCH, &format!("/api/connectors/{first_id}"), Some(json!({"config": {"host": "x"}}))).await;
    assert_eq!((status, patched["code"].as_str()), (400, Some("connector.invalid_config")));

    // A second email connector replaces the first.
    let (status, second) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "kido-dev-email", "config": {}, "id": "dev-mail"})),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["id"], "dev-mail");
    let (_, listed) = t.api(Method::GET, "/api/connectors", None).await;
    let listed: Vec<&str> = listed.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec!["dev-mail"]);
    assert_eq!(t.api(Method::GET, &format!("/api/connectors/{first_id}"), None).await.0, 404);
    assert_eq!(t.api(Method::DELETE, "/api/connectors/dev-mail", None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, "/api/connectors/dev-mail", None).await.0, 404);
}

#[tokio::test]
async fn connector_test_sends_through_an_unsaved_config() {
    let t = TestServer::start().await;
    let mut smtp = SmtpServer::start().await;
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors/simple-mail-transfer-protocol/test",
            Some(json!({"email": "ops@kido.test", "config": smtp.config()})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let mail = smtp.next().await;
    assert_eq!(mail.to, vec!["ops@kido.test"]);
    assert_eq!(mail.auth.as_deref(), Some("kido:smtp-secret"));
    assert_eq!(mail.header("Subject").as_deref(), Some("Your code"));
    assert_eq!(mail.code(), "000000");
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors/simple-mail-transfer-protocol/test",
            Some(json!({"phone": "15550100", "config": smtp.config()})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("connector.unexpected_type")));
    // A server that refuses is a 400 naming the problem, not a 500.
    let mut config = smtp.config();
    config["port"] = json!(1);
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors/simple-mail-transfer-protocol/test",
            Some(json!({"email": "ops@kido.test", "config": config})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("connector.general")), "{body}");
}

#[tokio::test]
async fn register_and_sign_in_by_email_code() {
    let (t, mut smtp, w) = email_tenant().await;
    let address = "new.user@kido.test";
    let mut b = browser_at_sign_in(&t, &w, "&ui_locales=ja").await;
    start(&mut b, "Register").await;
    let (status, sent) = send_code(&mut b, email(address), "Register").await;
    assert_eq!(status, 200, "{sent}");
    let id = sent["verificationId"].as_str().unwrap().to_owned();
    let mail = smtp.next().await;
    assert_eq!(mail.to, vec![address]);
    assert_eq!(mail.header("Subject").as_deref(), Some("Registration code"));
    assert!(mail.body().contains("(ja)"), "the locale reaches the template: {}", mail.body());
    let code = mail.code();
    let first_code = code.clone();

    // Identification before the code is verified fails; a wrong code counts.
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.verification_failed")));
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let (status, body) = verify_code(&mut b, email(address), &id, wrong).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.code_mismatch")));
    let (status, body) = verify_code(&mut b, email("other@kido.test"), &id, &code).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.email_mismatch")));
    let (status, body) = verify_code(&mut b, email(address), "not-an-id", &code).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("session.verification_session_not_found")));
    let (status, body) = verify_code(&mut b, email(address), &id, &code).await;
    assert_eq!((status, body["verificationId"].as_str()), (200, Some(id.as_str())));

    // Sign-up requires a password: the email stays staged while it is asked for.
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.missing_profile")), "{}", r.text);
    assert_eq!(r.json()["data"]["missingProfile"], json!(["password"]));
    let r = b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "Kido-newcomer-7731"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let tokens = tokens_after_submit(&t, &mut b, &w).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let (_, claims) = crate::harness::decode_jwt(id_token);
    assert_eq!(claims["email"], address);
    assert_eq!(claims["email_verified"], true);

    // The code is used up.
    let (status, body) = verify_code(&mut b, email(address), &id, &code).await;
    assert!(status == 400 || status == 404, "{status} {body}");

    // Registering the same address again: already in use.
    let mut b2 = browser_at_sign_in(&t, &w, "").await;
    start(&mut b2, "Register").await;
    let (_, sent) = send_code(&mut b2, email(address), "Register").await;
    let id2 = sent["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    let second_code = code.clone();
    assert_eq!(verify_code(&mut b2, email(address), &id2, &code).await.0, 200);
    let r = b2.api(Method::POST, "/identification", Some(json!({"verificationId": id2}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.email_already_in_use")));
    // … and, as Logto's client does, switching to sign-in with the same verification works.
    assert_eq!(
        b2.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "SignIn"}))).await.status,
        204
    );
    let r = b2.api(Method::POST, "/identification", Some(json!({"verificationId": id2}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    tokens_after_submit(&t, &mut b2, &w).await;

    // Sign-in by code for an unknown address: the verified user does not exist.
    let mut b3 = browser_at_sign_in(&t, &w, "").await;
    start(&mut b3, "SignIn").await;
    let (_, sent) = send_code(&mut b3, email("nobody@kido.test"), "SignIn").await;
    let id3 = sent["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    assert_eq!(verify_code(&mut b3, email("nobody@kido.test"), &id3, &code).await.0, 200);
    let r = b3.api(Method::POST, "/identification", Some(json!({"verificationId": id3}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("user.user_not_exist")));

    // The audit log has every step and never a code.
    let (_, logs) = t.api(Method::GET, "/api/logs?page_size=100", None).await;
    let keys: Vec<&str> = logs.as_array().unwrap().iter().map(|l| l["key"].as_str().unwrap()).collect();
    for key in [
        "Interaction.Register.Verification.EmailVerificationCode.Create",
        "Interaction.Register.Verification.EmailVerificationCode.Submit",
        "Interaction.Register.Identifier.Submit",
        "Interaction.Register.Profile.Update",
        "Interaction.SignIn.Identifier.Submit",
        "Interaction.SignIn.Submit",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let text = logs.to_string();
    for code in [&first_code, &second_code, &code] {
        assert!(!text.contains(code.as_str()), "a code leaked into the audit log");
    }
}

#[tokio::test]
async fn code_limits_expiry_attempts_and_resends() {
    let (t, mut smtp, w) = email_tenant().await;
    let mut sie = email_experience();
    sie["verificationCodePolicy"] = json!({"maxRetryAttempts": 2, "expirationDuration": 60});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(sie)).await.0, 200);
    let (_, user) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"primaryEmail": "limit@kido.test", "password": "Kido-limit-4242"})),
        )
        .await;
    assert!(user["id"].is_string());
    let address = "limit@kido.test";
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;

    // A new code replaces the old one: the old verification id and the old code stop working.
    let (_, first) = send_code(&mut b, email(address), "SignIn").await;
    let old_id = first["verificationId"].as_str().unwrap().to_owned();
    let old_code = smtp.next().await.code();
    let (_, second) = send_code(&mut b, email(address), "SignIn").await;
    let id = second["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    let (status, _) = verify_code(&mut b, email(address), &old_id, &old_code).await;
    assert_eq!(status, 404);
    if old_code != code {
        let (status, body) = verify_code(&mut b, email(address), &id, &old_code).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.code_mismatch")));
        let (status, _) = verify_code(&mut b, email(address), &id, &old_code).await;
        assert_eq!(status, 400);
        // Two wrong tries: even the right code is refused now.
        let (status, body) = verify_code(&mut b, email(address), &id, &code).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.exceed_max_try")));
    }

    // Expiry: the stored code's deadline passes.
    let (_, third) = send_code(&mut b, email(address), "SignIn").await;
    let id = third["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    expire_codes(&t).await;
    let (status, body) = verify_code(&mut b, email(address), &id, &code).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.expired")));

    // Resend limit: five messages per recipient per hour (three were sent already).
    for _ in 0..2 {
        assert_eq!(send_code(&mut b, email(address), "SignIn").await.0, 200);
        smtp.next().await;
    }
    let (status, body) = send_code(&mut b, email(address), "SignIn").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("request.message_rate_limited")));
    smtp.assert_quiet(Duration::from_millis(300)).await;

    // Bad input is a 400, a phone without an SMS connector a 501.
    let (status, _) = send_code(&mut b, email("not an email"), "SignIn").await;
    assert_eq!(status, 400);
    let (status, _) = send_code(&mut b, json!({"type": "username", "value": "alice"}), "SignIn").await;
    assert_eq!(status, 400);
}

/// Makes every stored code expired (the shortest policy is a minute; tests do not wait).
async fn expire_codes(t: &TestServer) {
    let mut c = t.server.core.store.conn().await.unwrap();
    let tenant = kido_core::TenantId::new("default");
    kido_store::verification_codes::expire_all(&mut c, &tenant, 1).await.unwrap();
}

#[tokio::test]
async fn forgot_password_by_email_resets_and_signs_out_everywhere() {
    let (t, mut smtp, w) = email_tenant().await;
    let address = "forgetful@kido.test";
    let old = "Kido-old-password-1";
    let (status, user) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"primaryEmail": address, "password": old, "username": "forgetful"})),
        )
        .await;
    assert_eq!(status, 200, "{user}");

    // A live session with a refresh token, from before the reset.
    let mut before = browser_at_sign_in(&t, &w, "").await;
    start(&mut before, "SignIn").await;
    let r = before
        .api(Method::POST, "/verification/password", Some(json!({"identifier": email(address), "password": old})))
        .await;
    let vid = r.json()["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(before.api(Method::POST, "/identification", Some(json!({"verificationId": vid}))).await.status, 204);
    let tokens = tokens_after_submit(&t, &mut before, &w).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Unknown address: the same answer, and no message goes out.
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "ForgotPassword").await;
    let (status, unknown) = send_code(&mut b, email("ghost@kido.test"), "ForgotPassword").await;
    assert_eq!(status, 200);
    assert!(unknown["verificationId"].is_string());
    smtp.assert_quiet(Duration::from_millis(500)).await;
    let (status, body) =
        verify_code(&mut b, email("ghost@kido.test"), unknown["verificationId"].as_str().unwrap(), "123456").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.code_mismatch")));

    // A password proves nothing here.
    let r = b
        .api(Method::POST, "/verification/password", Some(json!({"identifier": email(address), "password": old})))
        .await;
    let pid = r.json()["verificationId"].as_str().unwrap().to_owned();
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": pid}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("session.not_supported_for_forgot_password")));

    let (_, sent) = send_code(&mut b, email(address), "ForgotPassword").await;
    let id = sent["verificationId"].as_str().unwrap().to_owned();
    let mail = smtp.next().await;
    assert_eq!(mail.header("Subject").as_deref(), Some("Reset code"));
    assert_eq!(verify_code(&mut b, email(address), &id, &mail.code()).await.0, 200);
    let r = b.api(Method::PUT, "/profile/password", Some(json!({"password": "Kido-new-password-2"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("session.identifier_not_found")));
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await.status, 204);
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.new_password_required_in_profile")));
    let r = b.api(Method::PUT, "/profile/password", Some(json!({"password": old}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.same_password")));
    let r = b.api(Method::PUT, "/profile/password", Some(json!({"password": "short"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("password.rejected")));
    let r = b.api(Method::PUT, "/profile/password", Some(json!({"password": "Kido-new-password-2"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Old password out, new one in; the earlier session and refresh token are gone.
    let uid = user["id"].as_str().unwrap();
    let (status, _) =
        t.api(Method::POST, &format!("/api/users/{uid}/password/verify"), Some(json!({"password": old}))).await;
    assert_eq!(status, 422);
    let (status, _) = t
        .api(
            Method::POST,
            &format!("/api/users/{uid}/password/verify"),
            Some(json!({"password": "Kido-new-password-2"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = token_at(
        &t.url("/oidc/token"),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&w.app, &w.secret)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let r = before.get(&auth_url(&w.app, "")).await;
    assert!(r.param("code").is_none(), "the old browser session still signs in silently");

    // Forgot password off: refused before anything is sent.
    let mut sie = email_experience();
    sie["forgotPasswordMethods"] = json!([]);
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(sie)).await.0, 200);
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "ForgotPassword").await;
    let (status, body) = send_code(&mut b, email(address), "ForgotPassword").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("session.not_supported_for_forgot_password")));
}

#[tokio::test]
async fn sign_in_by_sms_code_through_the_http_connector() {
    let t = TestServer::start().await;
    let mut receiver = HttpReceiver::start().await;
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "http-sms", "config": {"endpoint": receiver.url, "authorization": "Bearer sms-key"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sie = json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "phone", "password": false, "verificationCode": true, "isPasswordPrimary": false}
    ]}});
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(sie)).await;
    assert_eq!(status, 200, "{body}");
    let w = world(&t).await;
    // Stored and sent to in the normalized form, found by either spelling.
    let (phone, spelled) = ("447911123456", "4407911123456");
    let (status, _) =
        t.api(Method::PATCH, &format!("/api/users/{}", w.user_id), Some(json!({"primaryPhone": spelled}))).await;
    assert_eq!(status, 200);

    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let identifier = json!({"type": "phone", "value": spelled});
    let (status, sent) = send_code(&mut b, identifier.clone(), "SignIn").await;
    assert_eq!(status, 200, "{sent}");
    let (auth, message) = receiver.next().await;
    assert_eq!(auth.as_deref(), Some("Bearer sms-key"));
    assert_eq!((message["to"].as_str(), message["type"].as_str()), (Some(phone), Some("SignIn")));
    let code = message["payload"]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(message["ip"].is_string());
    let id = sent["verificationId"].as_str().unwrap();
    let (status, body) = verify_code(&mut b, json!({"type": "phone", "value": "15550109999"}), id, &code).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.phone_mismatch")));
    assert_eq!(verify_code(&mut b, identifier, id, &code).await.0, 200);
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await.status, 204);
    let tokens = tokens_after_submit(&t, &mut b, &w).await;
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], w.user_id.as_str());

    // The receiver failing is a clear 400, not a 500.
    *receiver.fail.lock().unwrap() = true;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let (status, body) = send_code(&mut b, json!({"type": "phone", "value": "15550107777"}), "SignIn").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("connector.general")), "{body}");
}

#[tokio::test]
async fn management_api_verification_codes() {
    let t = TestServer::start().await;
    let (status, body) =
        t.api(Method::POST, "/api/verification-codes", Some(json!({"email": "backend@kido.test"}))).await;
    assert_eq!((status, body["code"].as_str()), (501, Some("connector.not_found")));
    let mut smtp = SmtpServer::start().await;
    smtp_connector(&t, &smtp).await;
    assert_eq!(
        t.api(Method::POST, "/api/verification-codes", Some(json!({"email": "backend@kido.test"}))).await.0,
        204
    );
    let mail = smtp.next().await;
    assert_eq!(mail.header("Subject").as_deref(), Some("Your code"));
    let code = mail.code();
    let verify = |code: String| json!({"email": "backend@kido.test", "verificationCode": code});
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let (status, body) = t.api(Method::POST, "/api/verification-codes/verify", Some(verify(wrong.into()))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.code_mismatch")));
    assert_eq!(t.api(Method::POST, "/api/verification-codes/verify", Some(verify(code.clone()))).await.0, 204);
    let (status, body) = t.api(Method::POST, "/api/verification-codes/verify", Some(verify(code))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("verification_code.not_found")));
    for bad in [json!({}), json!({"email": "a@b.co", "phone": "123"}), json!({"email": "nope"})] {
        assert_eq!(t.api(Method::POST, "/api/verification-codes", Some(bad)).await.0, 400);
    }
}

#[tokio::test]
async fn localized_email_templates_and_the_development_outbox() {
    let t = TestServer::start().await;
    let (status, body) =
        t.api(Method::POST, "/api/connectors", Some(json!({"connectorId": "kido-dev-email", "config": {}}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, templates) = t
        .api(
            Method::PUT,
            "/api/email-templates",
            Some(json!({"templates": [
                {"languageTag": "ja", "templateType": "Generic", "details": {"subject": "確認コード", "content": "コード: {{code}}", "contentType": "text/plain"}},
                {"languageTag": "en", "templateType": "Generic", "details": {"subject": "Your code", "content": "Code: {{code}}"}}
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{templates}");
    let ja_id = templates.as_array().unwrap().iter().find(|t| t["languageTag"] == "ja").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, patched) = t
        .api(
            Method::PATCH,
            &format!("/api/email-templates/{ja_id}/details"),
            Some(json!({"subject": "ログイン確認コード"})),
        )
        .await;
    assert_eq!((status, patched["details"]["subject"].as_str()), (200, Some("ログイン確認コード")));
    assert_eq!(patched["details"]["content"], "コード: {{code}}");
    let (_, listed) = t.api(Method::GET, "/api/email-templates?languageTag=ja", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (status, body) = t.api(Method::DELETE, "/api/email-templates", None).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("connector.email_connector.bulk_deletion_no_filter")));
    let (status, body) = t
        .api(
            Method::PUT,
            "/api/email-templates",
            Some(json!({"templates": [{"languageTag": "ja", "templateType": "Nope", "details": {}}]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // The connector test with a Japanese locale writes the Japanese template to the outbox.
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors/kido-dev-email/test",
            Some(json!({"email": "dev@kido.test", "config": {}, "locale": "ja-JP"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let outbox = t.dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let message: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(
        (message["to"].as_str(), message["subject"].as_str()),
        (Some("dev@kido.test"), Some("ログイン確認コード"))
    );
    assert_eq!(message["text"], "コード: 000000");
    let (status, body) = t.api(Method::DELETE, "/api/email-templates?languageTag=ja", None).await;
    assert_eq!((status, body["rowCount"].as_u64()), (200, Some(1)));
    assert_eq!(t.api(Method::DELETE, &format!("/api/email-templates/{ja_id}"), None).await.0, 404);
}

/// Posts a hosted form and returns the reply.
async fn post_form(b: &mut Browser, path: &str, csrf: &str, fields: &[(&str, &str)]) -> crate::signin::Reply {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    b.send(Method::POST, path, None, Some(&form)).await
}

#[tokio::test]
async fn hosted_pages_register_sign_in_and_reset_by_email_code() {
    let (t, mut smtp, w) = email_tenant().await;
    let address = "pages@kido.test";

    // Registration, in Japanese: the register page asks for the email, the code page for the code.
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "&ui_locales=ja&first_screen=register")).await;
    let page = b.follow(r.location.unwrap()).await;
    assert!(
        page.text.contains(r#"<html lang="ja">"#) && page.text.contains("/register/verification-code"),
        "{}",
        page.text
    );
    let csrf = csrf_of(&page.text);
    let r = post_form(&mut b, "/register/verification-code?ui_locales=ja", &csrf, &[("identifier", address)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/register/verification-code/verify?ui_locales=ja")));
    let page = b.get("/register/verification-code/verify?ui_locales=ja").await;
    assert!(page.text.contains("確認コード") && page.text.contains(address), "{}", page.text);
    let code = smtp.next().await.code();
    let wrong = if code == "999999" { "000001" } else { "999999" };
    let r = post_form(&mut b, "/register/verification-code/verify", &csrf, &[("code", wrong)]).await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains(r#"role="alert""#) && r.text.contains("コードが正しくありません"), "{}", r.text);
    let r = post_form(&mut b, "/register/verification-code/verify", &csrf, &[("code", &code)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/register/profile")), "{}", r.text);
    let page = b.get("/register/profile").await;
    assert!(page.text.contains(r#"name="password""#) && !page.text.contains(r#"name="username""#), "{}", page.text);
    let r = post_form(
        &mut b,
        "/register/profile",
        &csrf,
        &[("password", "Kido-page-pass-71"), ("confirm_password", "nope")],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post_form(
        &mut b,
        "/register/profile",
        &csrf,
        &[("password", "Kido-page-pass-71"), ("confirm_password", "Kido-page-pass-71")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    let (status, tokens) = exchange(&t.url(""), &w, &r.param("code").unwrap(), &[]).await;
    assert_eq!(status, 200);
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], address);
    let user_id = claims["sub"].as_str().unwrap().to_owned();

    // Sign-in by code: the sign-in page links to it and to the password reset.
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "")).await;
    let page = b.follow(r.location.unwrap()).await;
    assert!(
        page.text.contains(r#"href="/sign-in/verification-code?"#) && page.text.contains(r#"href="/forgot-password?"#),
        "{}",
        page.text
    );
    let csrf = csrf_of(&page.text);
    let r = post_form(&mut b, "/sign-in/verification-code", &csrf, &[("identifier", address)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let code = smtp.next().await.code();
    let r = post_form(&mut b, "/sign-in/verification-code/verify", &csrf, &[("code", &code)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    let (_, tokens) = exchange(&t.url(""), &w, &r.param("code").unwrap(), &[]).await;
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], user_id.as_str());

    // Password reset in Traditional Chinese; an unknown address gets the same pages and no mail.
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "&ui_locales=zh-TW")).await;
    b.follow(r.location.unwrap()).await;
    let page = b.get("/forgot-password?ui_locales=zh-TW").await;
    assert!(page.text.contains("重設密碼"), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let r = post_form(&mut b, "/forgot-password/verification-code", &csrf, &[("identifier", "ghost@kido.test")]).await;
    assert_eq!(r.status, 303);
    smtp.assert_quiet(Duration::from_millis(500)).await;
    let r = post_form(&mut b, "/forgot-password/verification-code", &csrf, &[("identifier", address)]).await;
    assert_eq!(r.status, 303);
    let code = smtp.next().await.code();
    let r = post_form(&mut b, "/forgot-password/verification-code/verify", &csrf, &[("code", &code)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/forgot-password/reset")), "{}", r.text);
    let r = post_form(
        &mut b,
        "/forgot-password/reset",
        &csrf,
        &[("password", "Kido-page-pass-71"), ("confirm_password", "Kido-page-pass-71")],
    )
    .await;
    assert_eq!(r.status, 422, "the old password again: {}", r.text);
    let r = post_form(
        &mut b,
        "/forgot-password/reset",
        &csrf,
        &[("password", "Kido-reset-pass-99"), ("confirm_password", "Kido-reset-pass-99")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("密碼已變更"), "{}", r.text);
    let (status, _) = t
        .api(
            Method::POST,
            &format!("/api/users/{user_id}/password/verify"),
            Some(json!({"password": "Kido-reset-pass-99"})),
        )
        .await;
    assert_eq!(status, 204);
    // The forms refuse a post without the page's anti-forgery token.
    let r = post_form(&mut b, "/forgot-password/verification-code", "forged", &[("identifier", address)]).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn hosted_code_sign_in_asks_for_the_terms_when_the_policy_says_so() {
    let (t, mut smtp, w) = email_tenant().await;
    let terms = json!({"termsOfUseUrl": "https://kido.test/terms", "agreeToTermsPolicy": "Manual"});
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(terms)).await;
    assert_eq!((status, sie["termsOfUseUrl"].as_str()), (200, Some("https://kido.test/terms")), "{sie}");
    let (status, _) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"primaryEmail": "terms@kido.test", "password": "Kido-terms-4711"})),
        )
        .await;
    assert_eq!(status, 200);
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "")).await;
    b.follow(r.location.unwrap()).await;
    let page = b.get("/sign-in/verification-code").await;
    let (_, now) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert!(page.text.contains(r#"name="agree""#), "{now}");
    let csrf = csrf_of(&page.text);
    let r =
        post_form(&mut b, "/sign-in/verification-code", &csrf, &[("identifier", "terms@kido.test"), ("agree", "yes")])
            .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let code = smtp.next().await.code();
    let r = post_form(&mut b, "/sign-in/verification-code/verify", &csrf, &[("code", &code)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    assert!(r.param("code").is_some(), "{:?}", r.location);
    // The Experience API shows the staged profile of a registration without secrets.
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "Register").await;
    let (_, sent) = send_code(&mut b, email("staged@kido.test"), "Register").await;
    let id = sent["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    assert_eq!(verify_code(&mut b, email("staged@kido.test"), &id, &code).await.0, 200);
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let state = b.api(Method::GET, "/interaction", None).await.json();
    assert_eq!(state["profile"]["primaryEmail"], "staged@kido.test", "{state} / {}", r.text);
    assert_eq!(state["verificationRecords"][0]["verified"], true);
    assert!(!state.to_string().contains(&code));
}

/// What a page echoes (a login hint, the query it carries on) is escaped by the templates,
/// and the carried query reaches links and redirects as a well-formed query: `&` between
/// pairs in a `Location` header, `&#38;` only inside an HTML attribute.
#[tokio::test]
async fn hosted_pages_escape_what_they_echo_and_carry_the_query_encoded() {
    let (t, mut smtp, w) = email_tenant().await;
    let hint = r#""><script>alert(1)</script>"#;
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, &format!("&login_hint={}", crate::signin::urlencode(hint)))).await;
    b.follow(r.location.unwrap()).await;
    let query = "?ui_locales=ja&x=%22%3E%3Cb%3E%20'";
    let page = b.get(&format!("/sign-in/verification-code{query}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("<script>") && !page.text.contains("<b>"), "{}", page.text);
    assert!(page.text.contains(r#"value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;""#), "{}", page.text);
    let carried = "?ui_locales=ja&#38;x=%22%3E%3Cb%3E+%27";
    assert!(page.text.contains(&format!(r#"action="/sign-in/verification-code{carried}""#)), "{}", page.text);
    assert!(page.text.contains(&format!(r#"href="/sign-in{carried}""#)), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let r =
        post_form(&mut b, &format!("/sign-in/verification-code{query}"), &csrf, &[("identifier", "escape@kido.test")])
            .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/sign-in/verification-code/verify?ui_locales=ja&x=%22%3E%3Cb%3E+%27")),
        "{}",
        r.text
    );
    smtp.next().await;
    t.stop().await;
}

/// Logto's email templates: `replyTo` is free text (variables allowed), an unknown id is
/// `entity.not_exists_with_id`.
#[tokio::test]
async fn email_template_reply_to_is_free_text_and_unknown_ids_are_named() {
    let t = TestServer::start().await;
    let mut smtp = SmtpServer::start().await;
    let (status, body) = t
        .api(
            Method::POST,
            "/api/connectors",
            Some(json!({"connectorId": "simple-mail-transfer-protocol", "config": smtp.config()})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let template = |reply_to: &str| {
        json!({"templates": [{"languageTag": "en", "templateType": "Generic",
            "details": {"subject": "Code", "content": "Code: {{code}}", "contentType": "text/plain", "replyTo": reply_to}}]})
    };
    // Free text that is no address is stored as given; the mail falls back to the connector's.
    let (status, stored) = t.api(Method::PUT, "/api/email-templates", Some(template("Support team"))).await;
    assert_eq!((status, stored[0]["details"]["replyTo"].as_str()), (200, Some("Support team")), "{stored}");
    let test = json!({"email": "dev@kido.test", "config": smtp.config(), "locale": "en"});
    let (status, body) =
        t.api(Method::POST, "/api/connectors/simple-mail-transfer-protocol/test", Some(test.clone())).await;
    assert_eq!(status, 204, "{body}");
    let mail = smtp.next().await;
    assert_eq!(mail.header("Reply-To"), None, "{}", mail.data);
    // Variables are rendered: an address after rendering is the mail's Reply-To.
    let (status, stored) =
        t.api(Method::PUT, "/api/email-templates", Some(template("help-{{locale}}@kido.test"))).await;
    assert_eq!(status, 200, "{stored}");
    let (status, body) = t.api(Method::POST, "/api/connectors/simple-mail-transfer-protocol/test", Some(test)).await;
    assert_eq!(status, 204, "{body}");
    let mail = smtp.next().await;
    assert_eq!(mail.header("Reply-To").as_deref(), Some("help-en@kido.test"), "{}", mail.data);

    for (method, path) in [
        (Method::GET, "/api/email-templates/nope"),
        (Method::DELETE, "/api/email-templates/nope"),
        (Method::PATCH, "/api/email-templates/nope/details"),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"subject": "x"}));
        let (status, error) = t.api(method, path, body).await;
        assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")), "{path}: {error}");
    }
    t.stop().await;
}

/// By default Kido calls no private, loopback or link-local address: an SMTP server or an
/// HTTP gateway there is refused before any connection, with a 400 that names the setting.
#[tokio::test]
async fn connectors_do_not_call_private_addresses_unless_allowed() {
    let t = TestServer::start_with(|c| c.outbound_allow_private = false).await;
    let mut smtp = SmtpServer::start().await;
    let refused = |body: &Value| {
        body["code"] == "connector.general"
            && body["message"].as_str().is_some_and(|m| m.contains("KIDO_OUTBOUND_ALLOW_PRIVATE"))
    };
    let mut localhost = smtp.config();
    localhost["host"] = json!("localhost");
    for config in [smtp.config(), localhost] {
        let body = json!({"email": "ops@kido.test", "config": config});
        let (status, body) =
            t.api(Method::POST, "/api/connectors/simple-mail-transfer-protocol/test", Some(body)).await;
        assert!(status == 400 && refused(&body), "{status} {body}");
    }
    smtp.assert_quiet(std::time::Duration::from_millis(300)).await;
    for endpoint in
        ["http://127.0.0.1:9/sms", "http://[::1]:9/sms", "http://169.254.169.254/latest", "http://localhost:9/"]
    {
        let body = json!({"phone": "15550100", "config": {"endpoint": endpoint}});
        let (status, body) = t.api(Method::POST, "/api/connectors/http-sms/test", Some(body)).await;
        assert!(status == 400 && refused(&body), "{endpoint}: {status} {body}");
    }
    t.stop().await;
}
