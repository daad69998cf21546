//! Passkey sign-in (a passkey as the first factor) through the Experience API, driven by a
//! software authenticator: the sign-in experience switch, a passkey added when submit asks
//! for one (`user.passkey_preferred`) or declined, then sign-ins by the passkey alone through
//! the identifier ceremony and the anonymous preflight ceremony, to tokens; and what is
//! refused (switch off, unknown user, no passkey, another user's or an unknown passkey, a
//! replayed or missing ceremony, malformed bodies, too many wrong answers or ceremonies).

use kido_core::mfa::webauthn::soft::SoftAuthenticator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::experience_mfa::{expect, finish, identified, set_mfa};
use crate::harness::TestServer;
use crate::pages_mfa::{code_at_client, password_form};
use crate::passwordless::browser_at_sign_in;
use crate::signin::{Browser, Reply, World, exchange, world};

async fn set_passkey_sign_in(t: &TestServer, passkey_sign_in: Value) -> Value {
    let body = json!({"passkeySignIn": passkey_sign_in});
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(body)).await;
    assert_eq!(status, 200, "{sie}");
    sie["passkeySignIn"].clone()
}

async fn registration(b: &mut Browser) -> (String, Value) {
    let r = b.api(Method::POST, "/verification/web-authn/registration", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    (r.json()["verificationId"].as_str().unwrap().to_owned(), r.json()["registrationOptions"].clone())
}

/// The identified user of `b` registers `soft`, binds it for passkey sign-in and submits.
async fn add_passkey(b: &mut Browser, soft: &mut SoftAuthenticator, origin: &str) {
    let r = b.api(Method::POST, "/submit", None).await;
    expect(&r, 422, "user.passkey_preferred");
    let (id, options) = registration(b).await;
    let body = json!({"verificationId": id, "payload": soft.create(&options, origin)});
    assert_eq!(b.api(Method::POST, "/verification/web-authn/registration/verify", Some(body)).await.status, 200);
    let r = b.api(Method::POST, "/profile/mfa/passkey", Some(json!({"verificationId": id}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    finish(b).await;
}

/// Creates a user with a password; its id.
async fn new_user(t: &TestServer, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password});
    let (status, user) = t.api(Method::POST, "/api/users", Some(body)).await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

/// A fresh sign-in of `w`'s app, started (`PUT /api/experience`).
async fn started(t: &TestServer, w: &World) -> Browser {
    let mut b = browser_at_sign_in(t, w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    b
}

async fn identifier_ceremony(b: &mut Browser, username: &str) -> Reply {
    let body = json!({"identifier": {"type": "username", "value": username}});
    b.api(Method::POST, "/verification/sign-in-passkey/authentication", Some(body)).await
}

async fn preflight(b: &mut Browser) -> Reply {
    b.api(Method::POST, "/preflight/sign-in-passkey/authentication", None).await
}

async fn answer(b: &mut Browser, verification_id: Option<&str>, payload: Value) -> Reply {
    let mut body = json!({"payload": payload});
    if let Some(id) = verification_id {
        body["verificationId"] = json!(id);
    }
    b.api(Method::POST, "/verification/sign-in-passkey/authentication/verify", Some(body)).await
}

async fn identify(b: &mut Browser, verification_id: &str) -> Reply {
    b.api(Method::POST, "/identification", Some(json!({"verificationId": verification_id}))).await
}

#[tokio::test]
async fn a_passkey_alone_signs_in_through_either_ceremony_and_satisfies_mfa() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    let rp_id = url::Url::parse(&origin).unwrap().host_str().unwrap().to_owned();
    let mut soft = SoftAuthenticator::new().unwrap();

    // Off by default; a PATCH may give any subset; wrong types are refused.
    let (_, sie) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    let off = json!({"enabled": false, "showPasskeyButton": false, "allowAutofill": false});
    assert_eq!(sie["passkeySignIn"], off);
    let on = set_passkey_sign_in(&t, json!({"enabled": true})).await;
    assert_eq!(on, json!({"enabled": true, "showPasskeyButton": false, "allowAutofill": false}));
    let on = set_passkey_sign_in(&t, json!({"showPasskeyButton": true})).await;
    assert_eq!(on, json!({"enabled": true, "showPasskeyButton": true, "allowAutofill": false}));
    for bad in [json!({"enabled": "yes"}), json!({"allowAutofill": 1}), json!("on")] {
        let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"passkeySignIn": bad}))).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    }
    let (_, public) = t.api(Method::GET, "/api/.well-known/sign-in-exp", None).await;
    assert_eq!(public["passkeySignIn"]["showPasskeyButton"], true, "{public}");
    // Passkeys are a mandatory second factor: the passkey sign-in must satisfy it.
    set_mfa(&t, json!({"factors": ["WebAuthn"], "policy": "PromptAtSignInAndSignUpMandatory"})).await;

    // The first sign-in (by password) is asked for a passkey, and binds one.
    let mut b = identified(&t, &w).await;
    add_passkey(&mut b, &mut soft, &origin).await;
    // Bound for sign-in: two-step verification was not turned on by it (Logto's).
    let (_, configs) = t.api(Method::GET, &format!("/api/users/{}/logto-configs", w.user_id), None).await;
    assert!(configs["mfa"].get("enabled").is_none_or(Value::is_null), "{configs}");

    // The identifier ceremony lists the user's passkeys.
    let mut b = started(&t, &w).await;
    let r = identifier_ceremony(&mut b, &w.username).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    let options = r.json()["authenticationOptions"].clone();
    assert_eq!(options["rpId"], json!(rp_id));
    assert_eq!(options["userVerification"], "required");
    assert_eq!(
        options["allowCredentials"],
        json!([{"id": soft.id(), "type": "public-key", "transports": ["internal"]}])
    );
    // Not answered yet: it identifies no one.
    expect(&identify(&mut b, &id).await, 400, "session.verification_failed");
    let payload = soft.get(&options, &origin).unwrap();
    let r = answer(&mut b, Some(&id), payload.clone()).await;
    assert_eq!((r.status, r.json()["verificationId"].as_str()), (200, Some(id.as_str())), "{}", r.text);
    // Replayed: the ceremony's challenge is spent.
    expect(&answer(&mut b, Some(&id), payload).await, 404, "session.verification_session_not_found");
    assert_eq!(identify(&mut b, &id).await.status, 204);
    let state = b.api(Method::GET, "/interaction", None).await.json();
    assert_eq!(state["userId"], json!(w.user_id), "{state}");
    // No second factor asked: the passkey was one.
    let code = finish(&mut b).await;
    let (status, tokens) = exchange(&t.url(""), &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string(), "{tokens}");

    // The preflight ceremony: anonymous, begun before the sign-in is (PUT keeps it).
    let mut b = browser_at_sign_in(&t, &w, "").await;
    let r = preflight(&mut b).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let options = r.json()["authenticationOptions"].clone();
    assert_eq!(
        (options["allowCredentials"].clone(), options["userVerification"].clone()),
        (json!([]), json!("preferred"))
    );
    assert_eq!(options["rpId"], json!(rp_id));
    assert!(r.json().get("verificationId").is_none(), "{}", r.text);
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let payload = soft.get(&options, &origin).unwrap();
    let r = answer(&mut b, None, payload.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    // The same answer again finds its challenge spent.
    expect(&answer(&mut b, None, payload).await, 400, "session.mfa.pending_info_not_found");
    assert_eq!(identify(&mut b, &id).await.status, 204);
    let code = finish(&mut b).await;
    let (status, tokens) = exchange(&t.url(""), &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");

    // Audited under Logto's keys, the identification naming the record's type.
    for key in [
        "Interaction.SignIn.Verification.SignInPasskey.Create",
        "Interaction.SignIn.Verification.SignInPasskey.Submit",
        "Interaction.SignIn.SignInPasskey.Submit",
        "Interaction.SignIn.Identifier.Submit",
    ] {
        let (status, logs) = t.api(Method::GET, &format!("/api/logs?userId={}&logKey={key}", w.user_id), None).await;
        assert_eq!(status, 200, "{logs}");
        assert!(!logs.as_array().unwrap().is_empty(), "no {key}");
    }
    t.stop().await;
}

#[tokio::test]
async fn passkey_sign_in_refuses_what_it_must() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let origin = t.url("");
    let mut alice_key = SoftAuthenticator::new().unwrap();

    // Off: both ceremonies are refused as a sign-in method not enabled.
    let mut b = started(&t, &w).await;
    expect(&preflight(&mut b).await, 422, "user.sign_in_method_not_enabled");
    expect(&identifier_ceremony(&mut b, &w.username).await, 422, "user.sign_in_method_not_enabled");
    set_passkey_sign_in(&t, json!({"enabled": true})).await;

    // No interaction at all: nothing to keep a ceremony in.
    let mut stranger = Browser::new(&t.url(""));
    expect(&preflight(&mut stranger).await, 400, "session.not_found");
    // An unknown user; a user without a passkey (Logto's `isNoPasskeyRegisteredError`).
    let mut b = started(&t, &w).await;
    expect(&identifier_ceremony(&mut b, "nobody").await, 404, "user.user_not_exist");
    expect(&identifier_ceremony(&mut b, &w.username).await, 400, "session.mfa.webauthn_verification_not_found");
    let r = b.api(Method::POST, "/verification/sign-in-passkey/authentication", Some(json!({"identifier": {}}))).await;
    expect(&r, 400, "guard.invalid_input");
    let long = "a".repeat(300);
    expect(&identifier_ceremony(&mut b, &long).await, 400, "guard.invalid_input");
    // Nothing begun: nothing to answer.
    let any = alice_key.get(&json!({"rpId": "x", "challenge": "y"}), &origin).unwrap();
    expect(&answer(&mut b, None, any.clone()).await, 400, "session.mfa.pending_info_not_found");
    expect(&answer(&mut b, Some("nope"), any).await, 404, "session.verification_session_not_found");

    // Alice and Bob each add a passkey (asked for at their first sign-in).
    let mut b = identified(&t, &w).await;
    add_passkey(&mut b, &mut alice_key, &origin).await;
    let bob_password = "Kido-bob-battery-77";
    new_user(&t, "bob", bob_password).await;
    let bob = World { username: "bob".into(), password: bob_password.into(), ..w.clone() };
    let mut bob_key = SoftAuthenticator::new().unwrap();
    let mut b = identified(&t, &bob).await;
    add_passkey(&mut b, &mut bob_key, &origin).await;

    // Bob's passkey answering Alice's ceremony; a passkey nobody registered.
    let mut b = started(&t, &w).await;
    let r = identifier_ceremony(&mut b, &w.username).await;
    let (id, options) =
        (r.json()["verificationId"].as_str().unwrap().to_owned(), r.json()["authenticationOptions"].clone());
    expect(
        &answer(&mut b, Some(&id), bob_key.get(&options, &origin).unwrap()).await,
        400,
        "session.mfa.webauthn_verification_failed",
    );
    let mut unknown = SoftAuthenticator::new().unwrap();
    let options = preflight(&mut b).await.json()["authenticationOptions"].clone();
    let r = answer(&mut b, None, unknown.get(&options, &origin).unwrap()).await;
    expect(&r, 400, "session.mfa.webauthn_verification_failed");
    // A user handle naming someone else than the passkey's user.
    let options = preflight(&mut b).await.json()["authenticationOptions"].clone();
    let mut payload = alice_key.get(&options, &origin).unwrap();
    payload["response"]["userHandle"] = json!(kido_core::mfa::webauthn::user_handle("someone-else"));
    expect(&answer(&mut b, None, payload).await, 400, "session.mfa.webauthn_verification_failed");
    // Malformed payloads.
    let options = preflight(&mut b).await.json()["authenticationOptions"].clone();
    let mut payload = alice_key.get(&options, &origin).unwrap();
    payload["response"]["authenticatorData"] = json!("!!");
    expect(&answer(&mut b, None, payload).await, 400, "session.mfa.webauthn_verification_failed");
    for bad in [json!({}), json!({"payload": {"id": "x"}}), json!({"payload": "x", "verificationId": 3})] {
        let r = b.api(Method::POST, "/verification/sign-in-passkey/authentication/verify", Some(bad.clone())).await;
        expect(&r, 400, "guard.invalid_input");
    }

    // Identified as Alice by password, then Bob's passkey: another user.
    let mut b = identified(&t, &w).await;
    let options = preflight(&mut b).await.json()["authenticationOptions"].clone();
    expect(&answer(&mut b, None, bob_key.get(&options, &origin).unwrap()).await, 409, "session.identity_conflict");
    // A passkey record creates no account.
    let mut b = started(&t, &w).await;
    let options = preflight(&mut b).await.json()["authenticationOptions"].clone();
    let r = answer(&mut b, None, alice_key.get(&options, &origin).unwrap()).await;
    let id = r.json()["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(
        b.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "Register"}))).await.status,
        204
    );
    expect(&identify(&mut b, &id).await, 400, "session.verification_failed");
    // Switched off after the answer: the record no longer identifies.
    assert_eq!(b.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    set_passkey_sign_in(&t, json!({"enabled": false})).await;
    expect(&identify(&mut b, &id).await, 422, "user.sign_in_method_not_enabled");
    set_passkey_sign_in(&t, json!({"enabled": true})).await;

    // Wrong answers count in the user's second-factor sentinel, as the MFA path's.
    let (status, _) =
        t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"sentinelPolicy": {"maxAttempts": 2}}))).await;
    assert_eq!(status, 200);
    let mut b = started(&t, &bob).await;
    for _ in 0..2 {
        let r = identifier_ceremony(&mut b, "bob").await;
        let (id, options) =
            (r.json()["verificationId"].as_str().unwrap().to_owned(), r.json()["authenticationOptions"].clone());
        let mut payload = bob_key.get(&options, &origin).unwrap();
        SoftAuthenticator::tamper_signature(&mut payload);
        let r = answer(&mut b, Some(&id), payload).await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let r = identifier_ceremony(&mut b, "bob").await;
    let (id, options) =
        (r.json()["verificationId"].as_str().unwrap().to_owned(), r.json()["authenticationOptions"].clone());
    let r = answer(&mut b, Some(&id), bob_key.get(&options, &origin).unwrap()).await;
    expect(&r, 400, "session.verification_blocked_too_many_attempts");
    t.stop().await;
}

#[tokio::test]
async fn a_declined_passkey_is_not_asked_for_again_and_the_hosted_pages_never_ask() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_passkey_sign_in(&t, json!({"enabled": true})).await;

    // The hosted form cannot register a passkey (no script): it is never asked to.
    let (mut b, r) = password_form(&t, &w, "").await;
    code_at_client(&mut b, r).await;

    let mut b = identified(&t, &w).await;
    expect(&b.api(Method::POST, "/submit", None).await, 422, "user.passkey_preferred");
    let state = b.api(Method::POST, "/profile/mfa/passkey-skipped", None).await;
    assert_eq!(state.status, 204, "{}", state.text);
    assert_eq!(b.api(Method::GET, "/interaction", None).await.json()["mfa"]["passkeySkipped"], true);
    finish(&mut b).await;
    // Kept on the user: the next sign-in is not asked.
    let (_, configs) = t.api(Method::GET, &format!("/api/users/{}/logto-configs", w.user_id), None).await;
    assert_eq!(configs["passkeySignIn"]["skipped"], true, "{configs}");
    let mut b = identified(&t, &w).await;
    finish(&mut b).await;

    // Binding needs a verified registration of this user.
    let mut b = identified(&t, &w).await;
    let r = b.api(Method::POST, "/profile/mfa/passkey", Some(json!({"verificationId": "nope"}))).await;
    expect(&r, 404, "session.verification_session_not_found");
    let (id, _) = registration(&mut b).await;
    let r = b.api(Method::POST, "/profile/mfa/passkey", Some(json!({"verificationId": id}))).await;
    expect(&r, 400, "session.verification_failed");
    expect(&b.api(Method::POST, "/profile/mfa/passkey", Some(json!({}))).await, 400, "guard.invalid_input");
    // Not identified yet: no choices to make.
    let mut b = started(&t, &w).await;
    expect(&b.api(Method::POST, "/profile/mfa/passkey-skipped", None).await, 404, "session.identifier_not_found");
    t.stop().await;
}

#[tokio::test]
async fn ceremonies_an_address_begins_are_rate_limited() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    set_passkey_sign_in(&t, json!({"enabled": true})).await;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    let mut last = None;
    for _ in 0..=kido_core::rate_limits::PASSKEY_CEREMONIES_PER_IP {
        last = Some(preflight(&mut b).await);
        if last.as_ref().is_some_and(|r| r.status != 200) {
            break;
        }
    }
    expect(&last.unwrap(), 429, "guard.too_many_requests");
    t.stop().await;
}
