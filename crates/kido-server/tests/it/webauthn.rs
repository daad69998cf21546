//! Passkeys (WebAuthn) in the Experience API, driven by a software authenticator: registered
//! and bound at sign-in, proven at the next one; challenges answered once; another origin or
//! RP id, a bad signature, a counter going back and malformed payloads refused; wrong
//! assertions locking the user's second factors.

use kido_core::mfa::webauthn::soft::SoftAuthenticator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::experience_mfa::{expect, finish, identified, set_mfa};
use crate::harness::TestServer;
use crate::signin::{BROWSER_AGENT, Browser, world};

/// Starts a ceremony (`registration` or `authentication`): its verification id and options.
async fn ceremony(b: &mut Browser, kind: &str) -> (String, Value) {
    let r = b.api(Method::POST, &format!("/verification/web-authn/{kind}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let options = if kind == "registration" { "registrationOptions" } else { "authenticationOptions" };
    (body["verificationId"].as_str().unwrap().to_owned(), body[options].clone())
}

async fn answer(b: &mut Browser, kind: &str, id: &str, payload: Value) -> crate::signin::Reply {
    let body = json!({"verificationId": id, "payload": payload});
    b.api(Method::POST, &format!("/verification/web-authn/{kind}/verify"), Some(body)).await
}

/// An assertion by `soft` for a fresh authentication, from `origin`, `tweak`ed before it is
/// signed (the options) — returns the answer.
async fn assert_with(
    b: &mut Browser,
    soft: &mut SoftAuthenticator,
    origin: &str,
    tweak: impl FnOnce(&mut Value),
) -> crate::signin::Reply {
    let (id, mut options) = ceremony(b, "authentication").await;
    tweak(&mut options);
    let payload = soft.get(&options, origin).unwrap();
    answer(b, "authentication", &id, payload).await
}

fn failed(r: &crate::signin::Reply) {
    expect(r, 400, "session.mfa.webauthn_verification_failed");
}

#[tokio::test]
async fn a_passkey_is_registered_bound_and_proven_at_the_next_sign_in() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    let rp_id = url::Url::parse(&origin).unwrap().host_str().unwrap().to_owned();
    set_mfa(&t, json!({"factors": ["WebAuthn"], "policy": "PromptAtSignInAndSignUpMandatory"})).await;
    let mut soft = SoftAuthenticator::new().unwrap();

    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.missing_mfa");
    assert_eq!(r.json()["data"]["availableFactors"], json!(["WebAuthn"]));
    // Proving a passkey needs one.
    let r = b.api(Method::POST, "/verification/web-authn/authentication", None).await;
    expect(&r, 400, "session.mfa.webauthn_verification_not_found");

    let (id, options) = ceremony(&mut b, "registration").await;
    assert_eq!(options["rp"], json!({"name": rp_id, "id": rp_id}));
    assert_eq!(options["user"]["name"], json!(w.username));
    assert_eq!(options["attestation"], "none");
    assert_eq!(options["excludeCredentials"], json!([]));
    // Malformed bodies are refused before the challenge is looked at.
    let r = answer(&mut b, "registration", &id, json!({"id": "x"})).await;
    expect(&r, 400, "guard.invalid_input");
    let r = b.api(Method::POST, "/verification/web-authn/registration/verify", Some(json!({"payload": {}}))).await;
    expect(&r, 400, "guard.invalid_input");
    // An unknown verification.
    let r = answer(&mut b, "registration", "nope", soft.create(&options, &origin)).await;
    expect(&r, 404, "session.verification_session_not_found");
    // Another origin is refused, and spends the challenge.
    let r = answer(&mut b, "registration", &id, soft.create(&options, "https://evil.example.com")).await;
    failed(&r);
    let r = answer(&mut b, "registration", &id, soft.create(&options, &origin)).await;
    expect(&r, 400, "session.mfa.pending_info_not_found");
    // Garbage in the attestation object.
    let (id, options) = ceremony(&mut b, "registration").await;
    let mut payload = soft.create(&options, &origin);
    payload["response"]["attestationObject"] = json!("o2NmbXRkbm9uZQ");
    failed(&answer(&mut b, "registration", &id, payload).await);
    // Another RP id.
    let (id, mut options) = ceremony(&mut b, "registration").await;
    options["rp"]["id"] = json!("example.com");
    failed(&answer(&mut b, "registration", &id, soft.create(&options, &origin)).await);

    // Not verified yet: it cannot be bound.
    let (id, options) = ceremony(&mut b, "registration").await;
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "WebAuthn", "verificationId": id}))).await;
    expect(&r, 400, "session.verification_failed");
    let payload = soft.create(&options, &origin);
    let r = answer(&mut b, "registration", &id, payload.clone()).await;
    assert_eq!((r.status, r.json()["verificationId"].as_str()), (200, Some(id.as_str())), "{}", r.text);
    // The same answer again: its challenge is spent.
    expect(&answer(&mut b, "registration", &id, payload).await, 400, "session.mfa.pending_info_not_found");
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "WebAuthn", "verificationId": id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let state = b.api(Method::GET, "/interaction", None).await;
    assert_eq!(state.json()["mfa"]["webAuthn"], json!([{"type": "WebAuthn"}]), "{}", state.text);
    finish(&mut b).await;

    let path = format!("/api/users/{}/mfa-verifications", w.user_id);
    let (status, list) = t.api(Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!((list[0]["type"].as_str(), list[0]["agent"].as_str()), (Some("WebAuthn"), Some(BROWSER_AGENT)));

    // The next sign-in must prove it.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 403, "session.mfa.require_mfa_verification");
    assert_eq!(r.json()["data"]["availableFactors"], json!(["WebAuthn"]));
    let (_, options) = ceremony(&mut b, "authentication").await;
    assert_eq!(options["rpId"], json!(rp_id));
    assert_eq!(options["userVerification"], "required");
    assert_eq!(
        options["allowCredentials"],
        json!([{"id": soft.id(), "type": "public-key", "transports": ["internal"]}])
    );
    // Another RP id, another origin, a bad signature, no user verification: refused.
    failed(&assert_with(&mut b, &mut soft, &origin, |o| o["rpId"] = json!("example.com")).await);
    failed(&assert_with(&mut b, &mut soft, "http://evil.example.com", |_| {}).await);
    let (id, options) = ceremony(&mut b, "authentication").await;
    let mut payload = soft.get(&options, &origin).unwrap();
    SoftAuthenticator::tamper_signature(&mut payload);
    failed(&answer(&mut b, "authentication", &id, payload).await);
    soft.user_verified = false;
    failed(&assert_with(&mut b, &mut soft, &origin, |_| {}).await);
    soft.user_verified = true;
    // Malformed payloads.
    let (id, options) = ceremony(&mut b, "authentication").await;
    let mut payload = soft.get(&options, &origin).unwrap();
    payload["response"]["authenticatorData"] = json!("!!");
    failed(&answer(&mut b, "authentication", &id, payload).await);
    let r = answer(&mut b, "authentication", &id, json!({"id": soft.id(), "rawId": soft.id()})).await;
    expect(&r, 400, "guard.invalid_input");
    // Not proven yet.
    expect(&b.api(Method::POST, "/submit", None).await, 403, "session.mfa.require_mfa_verification");

    let (id, options) = ceremony(&mut b, "authentication").await;
    let payload = soft.get(&options, &origin).unwrap();
    let r = answer(&mut b, "authentication", &id, payload.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Replayed: the challenge was answered.
    expect(&answer(&mut b, "authentication", &id, payload).await, 400, "session.mfa.pending_info_not_found");
    finish(&mut b).await;

    // Audited under Logto's keys: options made (Create), responses checked (Submit).
    for key in ["Interaction.SignIn.Verification.WebAuthn.Create", "Interaction.SignIn.Verification.WebAuthn.Submit"] {
        let (status, logs) = t.api(Method::GET, &format!("/api/logs?userId={}&logKey={key}", w.user_id), None).await;
        assert_eq!(status, 200, "{logs}");
        assert!(!logs.as_array().unwrap().is_empty(), "no {key}");
    }

    // A counter going back is a cloned authenticator: refused; moving on, accepted.
    let mut b = identified(&t, &w).await;
    let current = soft.sign_count;
    soft.sign_count = 0;
    let r = assert_with(&mut b, &mut soft, &origin, |_| {}).await;
    failed(&r);
    assert!(r.json()["message"].as_str().unwrap().contains("counter"), "{}", r.text);
    soft.sign_count = current + 10;
    assert_eq!(assert_with(&mut b, &mut soft, &origin, |_| {}).await.status, 200);
    finish(&mut b).await;
    t.stop().await;
}

/// Registers `soft` in `b`'s sign-in and binds it at submit.
async fn register_and_bind(b: &mut Browser, soft: &mut SoftAuthenticator, origin: &str) -> Value {
    let (id, options) = ceremony(b, "registration").await;
    let r = answer(b, "registration", &id, soft.create(&options, origin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "WebAuthn", "verificationId": id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    finish(b).await;
    options
}

#[tokio::test]
async fn several_passkeys_per_user_one_owner_per_credential_and_wrong_assertions_lock() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    set_mfa(&t, json!({"factors": ["WebAuthn"], "policy": "PromptAtSignInAndSignUpMandatory"})).await;
    let mut first = SoftAuthenticator::new().unwrap();
    let mut second = SoftAuthenticator::new().unwrap();

    let mut b = identified(&t, &w).await;
    register_and_bind(&mut b, &mut first, &origin).await;
    // A second passkey, registered after the first was proven (the proof stays).
    let mut b = identified(&t, &w).await;
    // A password alone does not let anyone bind another passkey: the first must be proven.
    let (id, options) = ceremony(&mut b, "registration").await;
    assert_eq!(answer(&mut b, "registration", &id, second.create(&options, &origin)).await.status, 200);
    let r = b.api(Method::POST, "/profile/mfa", Some(json!({"type": "WebAuthn", "verificationId": id}))).await;
    expect(&r, 403, "session.mfa.require_mfa_verification");
    assert_eq!(assert_with(&mut b, &mut first, &origin, |_| {}).await.status, 200);
    let options = register_and_bind(&mut b, &mut second, &origin).await;
    assert_eq!(options["excludeCredentials"][0]["id"], json!(first.id()));
    let path = format!("/api/users/{}/mfa-verifications", w.user_id);
    let (_, list) = t.api(Method::GET, &path, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    // Either proves the factor.
    let mut b = identified(&t, &w).await;
    let (_, options) = ceremony(&mut b, "authentication").await;
    assert_eq!(options["allowCredentials"].as_array().unwrap().len(), 2);
    assert_eq!(assert_with(&mut b, &mut second, &origin, |_| {}).await.status, 200);
    finish(&mut b).await;

    // Another user cannot register a credential someone in the tenant holds.
    let body = json!({"username": "bob_passkeys", "password": w.password});
    let (status, bob) = t.api(Method::POST, "/api/users", Some(body)).await;
    assert_eq!(status, 200, "{bob}");
    let bob = crate::signin::World {
        app: w.app.clone(),
        secret: w.secret.clone(),
        spa: w.spa.clone(),
        username: "bob_passkeys".into(),
        password: w.password.clone(),
        user_id: bob["id"].as_str().unwrap().to_owned(),
    };
    let mut b = identified(&t, &bob).await;
    let (id, options) = ceremony(&mut b, "registration").await;
    failed(&answer(&mut b, "registration", &id, first.create(&options, &origin)).await);
    // Nor prove w's passkey in bob's sign-in.
    let mut b = identified(&t, &bob).await;
    let r = b.api(Method::POST, "/verification/web-authn/authentication", None).await;
    expect(&r, 400, "session.mfa.webauthn_verification_not_found");

    // Wrong assertions count in the user's second-factor lockout.
    let policy = json!({"sentinelPolicy": {"maxAttempts": 3, "lockoutDuration": 5}});
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(policy)).await;
    assert_eq!(status, 200, "{body}");
    let mut b = identified(&t, &w).await;
    for _ in 0..2 {
        failed(&assert_with(&mut b, &mut second, "https://evil.example.com", |_| {}).await);
    }
    let r = assert_with(&mut b, &mut second, "https://evil.example.com", |_| {}).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    let r = assert_with(&mut b, &mut second, &origin, |_| {}).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    expect(&b.api(Method::POST, "/submit", None).await, 403, "session.mfa.require_mfa_verification");
    t.stop().await;
}
