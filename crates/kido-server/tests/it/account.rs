//! The Account API (`/api/my-account`), the Verification API (`/api/verifications`) and the
//! account center settings: field switches, scope gates, verification records (expired,
//! another user's, another kind), the TOTP and backup-code flow of seed 001.

use kido_core::mfa::totp;
use kido_proto::TenantId;
use kido_store::verification_records::StoredVerificationRecord;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, http};
use crate::signin::{Browser, REDIRECT, VERIFIER, World, challenge, exchange, urlencode, world};

/// A user's tokens for `scopes` (with `openid`), from a code flow of the world's first-party
/// app in a browser of its own (a session of its own).
pub(crate) async fn tokens(t: &TestServer, w: &World, scopes: &str) -> Value {
    let mut b = Browser::new(&t.url(""));
    let url = format!(
        "/oidc/auth?client_id={}&redirect_uri={}&response_type=code&scope={}&state=st4te&code_challenge={}&code_challenge_method=S256&prompt=consent",
        w.app,
        urlencode(REDIRECT),
        urlencode(scopes),
        challenge(VERIFIER)
    );
    let r = b.get(&url).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let next = b.sign_in(&w.username, &w.password).await;
    let r = b.follow(next).await;
    let code = r.param("code").unwrap_or_else(|| panic!("no code in {:?} {}", r.location, r.text));
    let (status, tokens) = exchange(&t.url(""), w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// A user's opaque access token for `scopes`.
pub(crate) async fn access_token(t: &TestServer, w: &World, scopes: &str) -> String {
    tokens(t, w, scopes).await["access_token"].as_str().unwrap().to_owned()
}

pub(crate) const ALL_SCOPES: &str = "openid profile email phone identities custom_data address";

/// A call with the user's token and, optionally, `logto-verification-id`.
pub(crate) async fn call(
    t: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    record: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http().request(method, t.url(path)).bearer_auth(token);
    if let Some(id) = record {
        req = req.header("logto-verification-id", id);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub(crate) fn code_of(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

pub(crate) async fn enable_center(t: &TestServer, fields: Value) {
    let (status, body) =
        t.api(Method::PATCH, "/api/account-center", Some(json!({"enabled": true, "fields": fields}))).await;
    assert_eq!(status, 200, "{body}");
}

pub(crate) async fn password_record(t: &TestServer, token: &str, password: &str) -> String {
    let (status, body) =
        call(t, Method::POST, "/api/verifications/password", token, None, Some(json!({"password": password}))).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
    body["verificationRecordId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn account_center_settings_default_and_update() {
    let t = TestServer::start().await;
    let (status, center) = t.api(Method::GET, "/api/account-center", None).await;
    assert_eq!(status, 200, "{center}");
    assert_eq!(center["enabled"], false, "off for the default tenant, as Logto's seed");
    assert_eq!(center["fields"], json!({}));
    assert_eq!(center["webauthnRelatedOrigins"], json!([]));

    let (status, center) = t
        .api(
            Method::PATCH,
            "/api/account-center",
            Some(json!({"enabled": true, "fields": {"name": "Edit", "mfa": "ReadOnly"}, "webauthnRelatedOrigins": ["https://a.example/x"]})),
        )
        .await;
    assert_eq!(status, 200, "{center}");
    assert_eq!(center["fields"], json!({"name": "Edit", "mfa": "ReadOnly"}));
    assert_eq!(center["webauthnRelatedOrigins"], json!(["https://a.example"]));
    let (_, again) = t.api(Method::GET, "/api/account-center", None).await;
    assert_eq!(again, center);

    let (status, body) =
        t.api(Method::PATCH, "/api/account-center", Some(json!({"fields": {"name": "Sometimes"}}))).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = t.api(Method::PATCH, "/api/account-center", Some(json!({"fields": {"bogus": "Edit"}}))).await;
    assert_eq!(status, 400, "{body}");

    let res = http().get(t.url("/api/account-center")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401, "the Management API needs a token");
    t.stop().await;
}

#[tokio::test]
async fn tokens_center_switch_and_profile_fields() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let token = access_token(&t, &w, ALL_SCOPES).await;

    // No header, another scheme, an unknown token.
    let res = http().get(t.url("/api/my-account")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let (status, body) = call(&t, Method::GET, "/api/my-account", "not-a-token", None, None).await;
    assert_eq!((status, code_of(&body)), (401, "auth.unauthorized"));

    // The account center is off by default.
    let (status, body) = call(&t, Method::GET, "/api/my-account", &token, None, None).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.not_enabled"), "{body}");

    enable_center(&t, json!({"name": "Edit", "username": "ReadOnly", "customData": "Edit"})).await;
    let (status, body) = call(&t, Method::GET, "/api/my-account", &token, None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], w.user_id.as_str());
    assert_eq!(body["username"], "alice", "ReadOnly is shown");
    assert!(body.get("name").is_some(), "Edit is shown");
    assert!(body.get("primaryEmail").is_none() && body.get("avatar").is_none(), "Off is hidden: {body}");

    // Edit: changed; ReadOnly and Off: refused, nothing written.
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, None, Some(json!({"name": "Alice A."}))).await;
    assert_eq!((status, &body["name"]), (200, &json!("Alice A.")), "{body}");
    for field in [json!({"username": "alice2"}), json!({"avatar": "https://a.example/a.png"})] {
        let (status, body) = call(&t, Method::PATCH, "/api/my-account", &token, None, Some(field)).await;
        assert_eq!((status, code_of(&body)), (400, "account_center.field_not_editable"), "{body}");
    }
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, None, Some(json!({"customData": {"k": 1}}))).await;
    assert_eq!((status, &body["customData"]), (200, &json!({"k": 1})), "{body}");
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account/profile", &token, None, Some(json!({"nickname": "al"}))).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_editable"), "{body}");

    // A token without `openid`-dependent scopes: no profile scope → 400 auth.unauthorized on writes.
    let narrow = access_token(&t, &w, "openid").await;
    let (status, body) = call(&t, Method::GET, "/api/my-account", &narrow, None, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("name").is_none() && body.get("username").is_none(), "{body}");
    let (status, body) = call(&t, Method::PATCH, "/api/my-account", &narrow, None, Some(json!({"name": "x"}))).await;
    assert_eq!((status, code_of(&body)), (400, "auth.unauthorized"), "{body}");
    let (status, body) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &narrow, None, None).await;
    assert!(status == 400 || status == 401, "{body}");
    t.stop().await;
}

#[tokio::test]
async fn verification_records_are_bound_to_user_grant_kind_and_time() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, json!({"name": "Edit", "username": "Edit", "password": "Edit", "mfa": "Edit"})).await;
    let token = access_token(&t, &w, ALL_SCOPES).await;

    // Wrong password: no record.
    let (status, body) =
        call(&t, Method::POST, "/api/verifications/password", &token, None, Some(json!({"password": "nope"}))).await;
    assert_eq!((status, code_of(&body)), (422, "session.invalid_credentials"), "{body}");

    // Username change needs a record; with one it goes through.
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, None, Some(json!({"username": "alice_b"}))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let record = password_record(&t, &token, &w.password).await;
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, Some(&record), Some(json!({"username": "alice_b"}))).await;
    assert_eq!((status, &body["username"]), (200, &json!("alice_b")), "{body}");

    // Another grant of the same user (another sign-in) cannot use the record.
    let mut other_world = w.clone();
    other_world.username = "alice_b".into();
    let other = access_token(&t, &other_world, ALL_SCOPES).await;
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &other, Some(&record), Some(json!({"username": "alice_c"}))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");

    // Another user's record does not prove this one.
    let (status, bob) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "bob", "password": "Kido-correct-horse-43"}))).await;
    assert_eq!(status, 200, "{bob}");
    let bob_world = World {
        username: "bob".into(),
        password: "Kido-correct-horse-43".into(),
        user_id: bob["id"].as_str().unwrap().into(),
        ..w.clone()
    };
    let bob_token = access_token(&t, &bob_world, ALL_SCOPES).await;
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &bob_token, Some(&record), Some(json!({"username": "bob2"}))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");

    // A record of another kind (a passkey registration) proves nothing.
    t.api(
        Method::PATCH,
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["Totp", "WebAuthn", "BackupCode"], "policy": "UserControlled"}})),
    )
    .await;
    let (status, reg) = call(&t, Method::POST, "/api/verifications/web-authn/registration", &token, None, None).await;
    assert_eq!(status, 200, "{reg}");
    let reg_id = reg["verificationRecordId"].as_str().unwrap();
    assert!(reg["registrationOptions"]["challenge"].is_string(), "{reg}");
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, Some(reg_id), Some(json!({"username": "alice_d"}))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    // …nor does an unverified one bind: the passkey record is not verified.
    let fresh = password_record(&t, &token, &w.password).await;
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/mfa-verifications",
        &token,
        Some(&fresh),
        Some(json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": reg_id})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");

    // An expired record: moved past its expiry in the database.
    let expired = expired_password_record(&t, &token, &w.user_id).await;
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account", &token, Some(&expired), Some(json!({"username": "alice_e"}))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");

    // Password: a new one under the policy, proven.
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/password",
        &token,
        None,
        Some(json!({"password": "Kido-new-horse-77"})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/password",
        &token,
        Some(&fresh),
        Some(json!({"password": "Kido-new-horse-77"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/verifications/password",
        &token,
        None,
        Some(json!({"password": "Kido-new-horse-77"})),
    )
    .await;
    assert_eq!(status, 201, "the new password verifies: {body}");
    t.stop().await;
}

fn tenant() -> TenantId {
    TenantId::new("default")
}

/// A verified password record of the token's user and grant that expired a minute ago (what
/// ten minutes would make of one).
async fn expired_password_record(t: &TestServer, token: &str, user_id: &str) -> String {
    let mut c = t.server.core.store.conn().await.unwrap();
    let row = kido_store::oidc::find_token(&mut c, &tenant(), &kido_core::ids::digest(token)).await.unwrap().unwrap();
    let now = kido_core::clock::now_ms();
    let record = StoredVerificationRecord {
        tenant_id: "default".into(),
        id: kido_core::ids::new_id(),
        user_id: user_id.into(),
        grant_id: row.grant_id,
        kind: "Password".into(),
        data: kido_store::Json(json!({})),
        verified: true,
        created_at: now - 11 * 60_000,
        expires_at: now - 60_000,
    };
    kido_store::verification_records::insert_capped(&mut c, &record, 20).await.unwrap();
    record.id
}

#[tokio::test]
async fn totp_and_backup_codes_through_the_account_api_as_seed_001() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, json!({"mfa": "Edit"})).await;
    // Signed in before the factors are enabled (a user-controlled policy would prompt to bind).
    let token = access_token(&t, &w, ALL_SCOPES).await;
    t.api(
        Method::PATCH,
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["Totp", "BackupCode"], "policy": "UserControlled"}})),
    )
    .await;
    let record = password_record(&t, &token, &w.password).await;

    let (status, body) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &token, None, None).await;
    assert_eq!((status, &body), (200, &json!([])), "{body}");
    let (status, generated) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications/totp-secret/generate", &token, None, None).await;
    assert_eq!(status, 200, "{generated}");
    let secret = generated["secret"].as_str().unwrap().to_owned();

    // Without a record; with a wrong code; then right.
    let add = |code: &str| json!({"type": "Totp", "secret": secret, "code": code});
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications", &token, None, Some(add("000000"))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let key = totp::decode_secret(&secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let right = totp::code_at(&key, now);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications", &token, Some(&record), Some(add(wrong))).await;
    assert_eq!((status, code_of(&body)), (400, "session.mfa.invalid_totp_code"), "{body}");
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/mfa-verifications",
        &token,
        Some(&record),
        Some(json!({"type": "Totp", "secret": "not base32!"})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "user.totp_secret_invalid"), "{body}");
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications", &token, Some(&record), Some(add(&right))).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications", &token, Some(&record), Some(add(&right))).await;
    assert_eq!((status, code_of(&body)), (422, "user.totp_already_in_use"), "{body}");

    // Backup codes: generated, a malformed set refused, then added and read back.
    let (status, generated) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications/backup-codes/generate", &token, None, None).await;
    assert_eq!(status, 200, "{generated}");
    let codes: Vec<String> = serde_json::from_value(generated["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/mfa-verifications",
        &token,
        Some(&record),
        Some(json!({"type": "BackupCode", "codes": ["xyz"]})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (422, "user.wrong_backup_code_format"), "{body}");
    let (status, body) =
        call(&t, Method::GET, "/api/my-account/mfa-verifications/backup-codes", &token, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (404, "verification_record.not_found"), "{body}");
    let (status, body) = call(
        &t,
        Method::POST,
        "/api/my-account/mfa-verifications",
        &token,
        Some(&record),
        Some(json!({"type": "BackupCode", "codes": codes})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) =
        call(&t, Method::GET, "/api/my-account/mfa-verifications/backup-codes", &token, None, None).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let (status, body) =
        call(&t, Method::GET, "/api/my-account/mfa-verifications/backup-codes", &token, Some(&record), None).await;
    assert_eq!(status, 200, "{body}");
    let read: Vec<&str> = body["codes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(read, codes.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(body["codes"][0].get("usedAt").is_none());

    // A code spent at sign-in shows as used.
    let core = &t.server.core;
    let mut c = core.store.conn().await.unwrap();
    let user = kido_core::UserId::new(&w.user_id);
    assert!(core.mfa().verify_backup_code(&mut c, &tenant(), &user, &codes[3].to_uppercase()).await.unwrap());
    assert!(!core.mfa().verify_backup_code(&mut c, &tenant(), &user, &codes[3]).await.unwrap(), "once");
    drop(c);
    let (_, body) =
        call(&t, Method::GET, "/api/my-account/mfa-verifications/backup-codes", &token, Some(&record), None).await;
    assert!(body["codes"][3]["usedAt"].as_str().is_some_and(|s| s.ends_with('Z')), "{body}");

    // Listed; the user's choice turned on; TOTP replaced by a new secret proven by a code.
    let (status, list) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &token, None, None).await;
    assert_eq!(status, 200, "{list}");
    let kinds: Vec<&str> = list.as_array().unwrap().iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Totp", "BackupCode"]);
    let (status, config) = call(&t, Method::GET, "/api/my-account/logto-configs", &token, None, None).await;
    assert_eq!((status, &config["mfa"]["enabled"]), (200, &json!(true)), "{config}");
    let new_secret = totp::generate_secret().unwrap();
    let new_code = totp::code_at(&totp::decode_secret(&new_secret).unwrap(), now);
    let (status, body) = call(
        &t,
        Method::PUT,
        "/api/my-account/mfa-verifications/totp",
        &token,
        Some(&record),
        Some(json!({"secret": new_secret, "code": new_code})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, list2) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &token, None, None).await;
    assert_ne!(list2[0]["id"], list[0]["id"], "a new TOTP verification replaced the old");

    // Rename is for passkeys; delete removes; settings and choices.
    let totp_id =
        list2.as_array().unwrap().iter().find(|v| v["type"] == "Totp").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &t,
        Method::PATCH,
        &format!("/api/my-account/mfa-verifications/{totp_id}/name"),
        &token,
        Some(&record),
        Some(json!({"name": "phone"})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");
    let (status, body) = call(
        &t,
        Method::PATCH,
        "/api/my-account/mfa-settings",
        &token,
        Some(&record),
        Some(json!({"skipMfaOnSignIn": true})),
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"skipMfaOnSignIn": true})), "{body}");
    let (status, body) =
        call(&t, Method::PATCH, "/api/my-account/logto-configs", &token, None, Some(json!({"mfa": {"skipped": true}})))
            .await;
    assert_eq!((status, &body["mfa"]["skipped"]), (200, &json!(true)), "{body}");
    let (status, body) =
        call(&t, Method::DELETE, &format!("/api/my-account/mfa-verifications/{totp_id}"), &token, Some(&record), None)
            .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) =
        call(&t, Method::DELETE, &format!("/api/my-account/mfa-verifications/{totp_id}"), &token, Some(&record), None)
            .await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");

    // ReadOnly: listed, not changed; Off: not even listed.
    enable_center(&t, json!({"mfa": "ReadOnly"})).await;
    let (status, _) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &token, None, None).await;
    assert_eq!(status, 200);
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/mfa-verifications", &token, Some(&record), Some(add(&right))).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_editable"), "{body}");
    enable_center(&t, json!({})).await;
    let (status, body) = call(&t, Method::GET, "/api/my-account/mfa-verifications", &token, None, None).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_enabled"), "{body}");
    t.stop().await;
}
