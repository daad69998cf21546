//! Second factors in the Experience API: binding TOTP and backup codes at sign-in, proving
//! them at the next sign-in, single use of codes, every MFA policy, organizations that
//! require MFA, the user's own choices (`/logto-configs`), lockout, and email codes as a
//! second factor.

use kido_core::mfa::totp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::passwordless::{browser_at_sign_in, email_tenant};
use crate::signin::{Browser, World, world};

fn now() -> i64 {
    kido_core::clock::now_ms() / 1000
}

/// The code of `secret` `steps` time steps from now.
fn code(secret: &str, steps: i64) -> String {
    totp::code_at(&totp::decode_secret(secret).unwrap(), now() + steps * totp::STEP_SECS)
}

pub async fn set_mfa(t: &TestServer, mfa: Value) {
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"mfa": mfa}))).await;
    assert_eq!(status, 200, "{body}");
}

/// Identifies the world's user by password in a fresh interaction (not submitted).
pub async fn identified(t: &TestServer, w: &World) -> Browser {
    let mut b = browser_at_sign_in(t, w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let body = json!({"identifier": {"type": "username", "value": w.username}, "password": w.password});
    let r = b.api(Method::POST, "/verification/password", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].clone();
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    b
}

fn error(r: &crate::signin::Reply) -> (u16, Option<String>) {
    (r.status, r.json()["code"].as_str().map(str::to_owned))
}

pub fn expect(r: &crate::signin::Reply, status: u16, code: &str) {
    assert_eq!(error(r), (status, Some(code.to_owned())), "{}", r.text);
}

/// Submits and follows the browser to the client's redirect; the authorization code.
pub async fn finish(b: &mut Browser) -> String {
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.json()["redirectTo"].as_str().unwrap().to_owned();
    b.follow(next).await.param("code").expect("an authorization code")
}

/// Binds a new TOTP secret in the interaction; returns the secret and the code that verified it.
async fn bind_totp(b: &mut Browser) -> (String, String) {
    let r = b.api(Method::POST, "/verification/totp/secret", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    assert!(r.json()["secretQrCode"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));
    let wrong = if code(&secret, 0) == "000000" { "111111" } else { "000000" };
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": wrong, "verificationId": id}))).await;
    expect(&r, 400, "session.mfa.invalid_totp_code");
    // Not verified yet: it cannot be bound.
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "Totp", "verificationId": id}))).await;
    expect(&r, 400, "session.verification_failed");
    let first = code(&secret, 0);
    let body = json!({"code": first, "verificationId": id});
    let r = b.api(Method::POST, "/verification/totp/verify", Some(body)).await;
    assert_eq!((r.status, r.json()["verificationId"].as_str()), (200, Some(id.as_str())), "{}", r.text);
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "Totp", "verificationId": id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    (secret, first)
}

#[tokio::test]
async fn totp_and_backup_codes_are_bound_then_required_at_every_sign_in() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_mfa(&t, json!({"factors": ["Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUpMandatory"})).await;

    // No factor yet: one must be bound, and this policy cannot be skipped.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp"]}));
    expect(
        &b.api(Method::POST, "/profile/mfa/mfa-skipped", None).await,
        422,
        "session.mfa.mfa_policy_not_user_controlled",
    );
    // Backup codes cannot come first.
    let r = b.api(Method::POST, "/verification/backup-code/generate", None).await;
    let codes_id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "BackupCode", "verificationId": codes_id}))).await;
    expect(&r, 422, "session.mfa.backup_code_can_not_be_alone");

    let (secret, first) = bind_totp(&mut b).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "session.mfa.backup_code_required");
    let r = b.api(Method::POST, "/verification/backup-code/generate", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let codes: Vec<String> = serde_json::from_value(r.json()["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    let codes_id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "BackupCode", "verificationId": codes_id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Nothing secret in the interaction's description.
    let state = b.api(Method::GET, "/interaction", None).await;
    assert!(!state.text.contains(&secret) && !state.text.contains(&codes[0]), "{}", state.text);
    assert_eq!(state.json()["mfa"], json!({"totp": {"type": "Totp"}, "backupCode": {"type": "BackupCode"}}));
    finish(&mut b).await;

    let (status, list) = t.api(Method::GET, &format!("/api/users/{}/mfa-verifications", w.user_id), None).await;
    assert_eq!(status, 200);
    let mut kinds: Vec<&str> = list.as_array().unwrap().iter().map(|v| v["type"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["BackupCode", "Totp"]);
    let (_, config) = t.api(Method::GET, &format!("/api/users/{}/logto-configs", w.user_id), None).await;
    assert_eq!(
        config,
        json!({"mfa": {"enabled": true, "skipped": false, "skipMfaOnSignIn": false}, "passkeySignIn": {"skipped": false}})
    );

    // The next sign-in must prove a factor.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 403, "session.mfa.require_mfa_verification");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp", "BackupCode"]}));
    // Binding more is refused until a factor is proven.
    expect(&b.api(Method::POST, "/profile/mfa/mfa-skipped", None).await, 403, "session.mfa.require_mfa_verification");
    // The code that verified the secret was spent by the binding.
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": first}))).await;
    expect(&r, 400, "session.mfa.invalid_totp_code");
    let next = code(&secret, 1);
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": next}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    finish(&mut b).await;

    // A TOTP code is accepted once; a backup code too.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": next}))).await;
    expect(&r, 400, "session.mfa.invalid_totp_code");
    let r = b.api(Method::POST, "/verification/backup-code/verify", Some(json!({"code": codes[3]}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    finish(&mut b).await;
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/verification/backup-code/verify", Some(json!({"code": codes[3]}))).await;
    expect(&r, 400, "session.mfa.invalid_backup_code");
    expect(&b.api(Method::POST, "/submit", None).await, 403, "session.mfa.require_mfa_verification");
    let (_, list) = t.api(Method::GET, &format!("/api/users/{}/mfa-verifications", w.user_id), None).await;
    let set = list.as_array().unwrap().iter().find(|v| v["type"] == "BackupCode").unwrap();
    assert_eq!(set["remainCodes"], 9);

    // A second TOTP cannot be bound.
    let r = b.api(Method::POST, "/verification/backup-code/verify", Some(json!({"code": codes[4]}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = b.api(Method::POST, "/verification/totp/secret", None).await;
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let fresh = r.json()["secret"].as_str().unwrap().to_owned();
    let body = json!({"code": code(&fresh, 0), "verificationId": id});
    assert_eq!(b.api(Method::POST, "/verification/totp/verify", Some(body)).await.status, 200);
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "Totp", "verificationId": id}))).await;
    expect(&r, 422, "user.totp_already_in_use");
    t.stop().await;
}

#[tokio::test]
async fn policies_decide_who_is_asked_and_who_may_skip() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let config_path = format!("/api/users/{}/logto-configs", w.user_id);

    // No prompt: nobody is asked.
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "NoPrompt"})).await;
    let mut b = identified(&t, &w).await;
    finish(&mut b).await;

    // Prompted and skippable: skipping is remembered on the user.
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "PromptAtSignInAndSignUp"})).await;
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp"], "skippable": true}));
    assert_eq!(b.api(Method::POST, "/profile/mfa/mfa-skipped", None).await.status, 204);
    finish(&mut b).await;
    let (_, config) = t.api(Method::GET, &config_path, None).await;
    assert_eq!(config["mfa"]["skipped"], true);
    let mut b = identified(&t, &w).await;
    finish(&mut b).await;

    // Mandatory ignores an earlier skip.
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "Mandatory"})).await;
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp"]}));

    // The administrator clears the skip; prompt only at sign-in asks again.
    let (status, config) = t.api(Method::PATCH, &config_path, Some(json!({"mfa": {"skipped": false}}))).await;
    assert_eq!((status, config["mfa"]["skipped"].as_bool()), (200, Some(false)), "{config}");
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "PromptOnlyAtSignIn"})).await;
    let mut b = identified(&t, &w).await;
    expect(&b.api(Method::POST, "/submit", None).await, 422, "user.missing_mfa");
    bind_totp(&mut b).await;
    finish(&mut b).await;

    // skipMfaOnSignIn: honoured under a skippable policy, not under a mandatory one.
    let (status, _) = t.api(Method::PATCH, &config_path, Some(json!({"mfa": {"skipMfaOnSignIn": true}}))).await;
    assert_eq!(status, 200);
    let mut b = identified(&t, &w).await;
    finish(&mut b).await;
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "Mandatory"})).await;
    let mut b = identified(&t, &w).await;
    expect(&b.api(Method::POST, "/submit", None).await, 403, "session.mfa.require_mfa_verification");

    // Bad input to the choices is a 400, never a 500.
    let (status, _) = t.api(Method::PATCH, &config_path, Some(json!({"mfa": {"skipped": "yes"}}))).await;
    assert_eq!(status, 400);
    let (status, _) = t.api(Method::GET, "/api/users/nobody/logto-configs", None).await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[tokio::test]
async fn organizations_requiring_mfa_make_binding_mandatory() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "NoPrompt", "organizationRequiredMfaPolicy": "Mandatory"})).await;
    // Not a member of a requiring organization: nothing asked.
    let mut b = identified(&t, &w).await;
    finish(&mut b).await;

    let (status, org) =
        t.api(Method::POST, "/api/organizations", Some(json!({"name": "Acme", "isMfaRequired": true}))).await;
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().unwrap();
    let members = format!("/api/organizations/{org}/users");
    assert_eq!(t.api(Method::POST, &members, Some(json!({"userIds": [w.user_id]}))).await.0, 201);
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp"]}));
    expect(
        &b.api(Method::POST, "/profile/mfa/mfa-skipped", None).await,
        422,
        "session.mfa.mfa_policy_not_user_controlled",
    );
    bind_totp(&mut b).await;
    finish(&mut b).await;
    t.stop().await;
}

#[tokio::test]
async fn wrong_codes_lock_a_users_second_factors() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_mfa(&t, json!({"factors": ["Totp"], "policy": "Mandatory"})).await;
    let (status, body) = t
        .api(
            Method::PATCH,
            "/api/sign-in-exp",
            Some(json!({"sentinelPolicy": {"maxAttempts": 3, "lockoutDuration": 5}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, bound) = t
        .api(Method::POST, &format!("/api/users/{}/mfa-verifications", w.user_id), Some(json!({"type": "Totp"})))
        .await;
    assert_eq!(status, 200, "{bound}");
    let secret = bound["secret"].as_str().unwrap().to_owned();
    let right = code(&secret, 0);
    let wrong = if right == "123456" { "654321" } else { "123456" };

    let mut b = identified(&t, &w).await;
    for _ in 0..2 {
        let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": wrong}))).await;
        expect(&r, 400, "session.mfa.invalid_totp_code");
    }
    // The third wrong code locks the user's second factors: even the right code is refused,
    // in this interaction and in a new one.
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": wrong}))).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": right}))).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/verification/backup-code/verify", Some(json!({"code": "0123456789"}))).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    expect(&b.api(Method::POST, "/submit", None).await, 403, "session.mfa.require_mfa_verification");
    t.stop().await;
}

#[tokio::test]
async fn second_factor_routes_refuse_what_they_should() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_mfa(&t, json!({"factors": ["Totp", "BackupCode"], "policy": "Mandatory"})).await;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    // Nobody identified yet.
    expect(&b.api(Method::POST, "/verification/totp/secret", None).await, 404, "session.identifier_not_found");
    let r = b.api(Method::POST, "/verification/totp/verify", Some(json!({"code": "123456"}))).await;
    expect(&r, 404, "session.identifier_not_found");
    expect(&b.api(Method::POST, "/verification/backup-code/generate", None).await, 404, "session.identifier_not_found");
    // Malformed bodies.
    let mut b = identified(&t, &w).await;
    for body in [json!({}), json!({"code": ""}), json!({"code": "1".repeat(65)}), json!({"code": 123456})] {
        let r = b.api(Method::POST, "/verification/totp/verify", Some(body)).await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "Nope", "verificationId": "x"}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "Totp", "verificationId": "nope"}))).await;
    expect(&r, 404, "session.verification_session_not_found");
    let r = b
        .api(Method::POST, "/verification/totp/verify", Some(json!({"code": "123456", "verificationId": "nope"})))
        .await;
    expect(&r, 404, "session.verification_session_not_found");
    // A factor the experience does not enable.
    let r = b.api(Method::POST, "/verification/mfa-verification-code", Some(json!({"identifierType": "email"}))).await;
    expect(&r, 400, "session.mfa.mfa_factor_not_enabled");
    // Password resets take no second factor.
    let mut b = browser_at_sign_in(&t, &w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "ForgotPassword"}))).await.status, 204);
    expect(
        &b.api(Method::POST, "/profile/mfa/mfa-skipped", None).await,
        400,
        "session.not_supported_for_forgot_password",
    );
    t.stop().await;
}

#[tokio::test]
async fn an_email_code_is_a_second_factor_and_identifies_no_one() {
    let (t, mut smtp, w) = email_tenant().await;
    let (status, _) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{}", w.user_id),
            Some(json!({"primaryEmail": "alice.liddell@example.com"})),
        )
        .await;
    assert_eq!(status, 200);
    // Email codes cannot be both a sign-in method and a second factor: passwords sign in.
    let methods = json!({"signIn": {"methods": [
        {"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
    ]}, "signUp": {"identifiers": ["username"], "password": true, "verify": false}, "forgotPasswordMethods": []});
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(methods)).await;
    assert_eq!(status, 200, "{body}");
    set_mfa(&t, json!({"factors": ["Totp", "EmailVerificationCode"], "policy": "Mandatory"})).await;

    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 403, "session.mfa.require_mfa_verification");
    assert_eq!(
        r.json()["data"],
        json!({"availableFactors": ["EmailVerificationCode"],
               "maskedIdentifiers": {"EmailVerificationCode": "alic****@example.com"}})
    );
    let r = b.api(Method::POST, "/verification/mfa-verification-code", Some(json!({"identifierType": "email"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let mail = smtp.next().await;
    assert!(mail.header("To").unwrap().contains("alice.liddell@example.com"));
    // A second-factor record cannot identify anyone.
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    expect(&r, 400, "session.verification_failed");
    let body = json!({"identifierType": "email", "verificationId": id, "code": "000000x"});
    expect(
        &b.api(Method::POST, "/verification/mfa-verification-code/verify", Some(body)).await,
        400,
        "verification_code.code_mismatch",
    );
    let body = json!({"identifierType": "email", "verificationId": id, "code": mail.code()});
    let r = b.api(Method::POST, "/verification/mfa-verification-code/verify", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    finish(&mut b).await;
    t.stop().await;
}

#[tokio::test]
async fn a_user_binds_an_email_as_their_second_factor() {
    let (t, mut smtp, w) = email_tenant().await;
    let methods = json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
    ]}, "signUp": {"identifiers": ["username"], "password": true, "verify": false}, "forgotPasswordMethods": []});
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(methods)).await;
    assert_eq!(status, 200, "{body}");
    set_mfa(&t, json!({"factors": ["EmailVerificationCode"], "policy": "Mandatory"})).await;

    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"], json!({"availableFactors": ["EmailVerificationCode"]}));
    let address = "alice.mfa@example.com";
    let body = json!({"identifier": {"type": "email", "value": address}, "interactionEvent": "SignIn"});
    let r = b.api(Method::POST, "/verification/verification-code", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let mail = smtp.next().await;
    assert!(mail.header("To").unwrap().contains(address));
    // Not verified yet: it cannot be bound.
    let bind = json!({"type": "EmailVerificationCode", "verificationId": id});
    expect(&b.api(Method::POST, "/profile/mfa", Some(bind.clone())).await, 400, "session.verification_failed");
    let body = json!({"identifier": {"type": "email", "value": address}, "verificationId": id, "code": mail.code()});
    assert_eq!(b.api(Method::POST, "/verification/verification-code/verify", Some(body)).await.status, 200);
    assert_eq!(b.api(Method::POST, "/profile/mfa", Some(bind)).await.status, 204);
    finish(&mut b).await;
    let (_, user) = t.api(Method::GET, &format!("/api/users/{}", w.user_id), None).await;
    assert_eq!(user["primaryEmail"], address);

    // From now on the email is the second factor to prove.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 403, "session.mfa.require_mfa_verification");
    assert_eq!(r.json()["data"]["maskedIdentifiers"], json!({"EmailVerificationCode": "alic****@example.com"}));

    // Another user cannot bind an email someone holds.
    let (status, _) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "carol", "password": "Carol-likes-kites-99"}))).await;
    assert_eq!(status, 200);
    let carol = World { username: "carol".into(), password: "Carol-likes-kites-99".into(), ..w.clone() };
    let mut b = identified(&t, &carol).await;
    let body = json!({"identifier": {"type": "email", "value": address}, "interactionEvent": "SignIn"});
    let id = b.api(Method::POST, "/verification/verification-code", Some(body)).await.json()["verificationId"].clone();
    let mail = smtp.next().await;
    let body = json!({"identifier": {"type": "email", "value": address}, "verificationId": id, "code": mail.code()});
    assert_eq!(b.api(Method::POST, "/verification/verification-code/verify", Some(body)).await.status, 200);
    let r =
        b.api(Method::POST, "/profile/mfa", Some(json!({"type": "EmailVerificationCode", "verificationId": id}))).await;
    expect(&r, 422, "user.email_already_in_use");
    t.stop().await;
}
