//! The Account API's sessions, grants, identities, provider tokens, primary email by code and
//! passkeys: each route's gates in Logto's order (identity proven, field switch, scope), and
//! revocations taking effect at once.

use kido_core::mfa::webauthn::soft::SoftAuthenticator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::account::{ALL_SCOPES, access_token, call, code_of, enable_center, password_record, tokens};
use crate::harness::{TestServer, decode_jwt, send, token_at};
use crate::passwordless::email_tenant;
use crate::signin::{World, world};

const SESSION_SCOPES: &str = "openid offline_access urn:logto:scope:sessions";

/// A signed-in browser of its own: its access and refresh tokens and its session id.
struct Signed {
    access: String,
    refresh: String,
    sid: String,
}

async fn signed(t: &TestServer, w: &World, scopes: &str) -> Signed {
    let body = tokens(t, w, scopes).await;
    let (_, id_token) = decode_jwt(body["id_token"].as_str().unwrap());
    Signed {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap_or_default().to_owned(),
        sid: id_token["sid"].as_str().unwrap().to_owned(),
    }
}

async fn refresh_status(t: &TestServer, w: &World, refresh: &str) -> u16 {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await.0
}

async fn userinfo_status(t: &TestServer, access: &str) -> u16 {
    send(Method::GET, &t.url("/oidc/me"), Some(access), None).await.0
}

fn sids(list: &Value) -> Vec<&str> {
    list["sessions"].as_array().unwrap().iter().map(|s| s["payload"]["uid"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn own_sessions_and_grants_are_listed_and_revoked_at_once() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, json!({"session": "ReadOnly"})).await;
    let me = signed(&t, &w, SESSION_SCOPES).await;
    let other = signed(&t, &w, SESSION_SCOPES).await;
    let (get, sessions) = (Method::GET, "/api/my-account/sessions");

    // Identity first, then the field, then the scope.
    let (status, body) = call(&t, get.clone(), sessions, &me.access, None, None).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let record = password_record(&t, &me.access, &w.password).await;
    let (status, list) = call(&t, get.clone(), sessions, &me.access, Some(&record), None).await;
    assert_eq!(status, 200, "{list}");
    let listed = sids(&list);
    assert!(listed.contains(&me.sid.as_str()) && listed.contains(&other.sid.as_str()), "{list}");
    let revoke_other = format!("/api/my-account/sessions/{}?revokeGrantsTarget=all", other.sid);
    let (status, body) = call(&t, Method::DELETE, &revoke_other, &me.access, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_editable"), "read-only: {body}");
    let no_scope = access_token(&t, &w, ALL_SCOPES).await;
    let no_scope_record = password_record(&t, &no_scope, &w.password).await;
    let (status, body) = call(&t, get.clone(), sessions, &no_scope, Some(&no_scope_record), None).await;
    assert_eq!((status, code_of(&body)), (401, "auth.unauthorized"), "{body}");
    enable_center(&t, json!({"session": "Off"})).await;
    let (status, body) = call(&t, get.clone(), sessions, &me.access, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_enabled"), "{body}");

    // Edit: the other browser signed out, its grant revoked with its tokens; mine untouched.
    enable_center(&t, json!({"session": "Edit"})).await;
    let bad = format!("/api/my-account/sessions/{}?revokeGrantsTarget=some", other.sid);
    let (status, body) = call(&t, Method::DELETE, &bad, &me.access, Some(&record), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(refresh_status(&t, &w, &other.refresh).await, 200, "alive before the revocation");
    let (status, body) = call(&t, Method::DELETE, &revoke_other, &me.access, Some(&record), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(userinfo_status(&t, &other.access).await, 401);
    assert_eq!(refresh_status(&t, &w, &other.refresh).await, 400);
    assert_eq!(userinfo_status(&t, &me.access).await, 200);
    let (status, list) = call(&t, get.clone(), sessions, &me.access, Some(&record), None).await;
    assert_eq!(status, 200, "{list}");
    assert!(!sids(&list).contains(&other.sid.as_str()) && sids(&list).contains(&me.sid.as_str()), "{list}");
    let (status, body) = call(&t, Method::DELETE, &revoke_other, &me.access, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (404, "oidc.session_not_found"), "{body}");
    let long = format!("/api/my-account/sessions/{}", "x".repeat(300));
    assert_eq!(call(&t, Method::DELETE, &long, &me.access, Some(&record), None).await.0, 404);

    // Grants: listed (first-party only here), one revoked: that token stops at once.
    let (status, grants) = call(&t, get.clone(), "/api/my-account/grants", &me.access, Some(&record), None).await;
    assert_eq!(status, 200, "{grants}");
    let ids: Vec<String> =
        grants["grants"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.len() >= 2, "my grant and the scope-less token's: {grants}");
    assert!(grants["grants"].as_array().unwrap().iter().all(|g| g["application"]["id"] == w.app.as_str()));
    let third = "/api/my-account/grants?appType=thirdParty";
    let (status, body) = call(&t, get.clone(), third, &me.access, Some(&record), None).await;
    assert_eq!((status, &body["grants"]), (200, &json!([])), "{body}");
    let (status, _) = call(&t, get.clone(), "/api/my-account/grants?appType=x", &me.access, Some(&record), None).await;
    assert_eq!(status, 400);
    assert_eq!(userinfo_status(&t, &no_scope).await, 200);
    let mut revoked = false;
    for id in &ids {
        // Revoke every grant but the one my own token lives in.
        let path = format!("/api/my-account/grants/{id}");
        let (status, body) = call(&t, Method::DELETE, &path, &me.access, Some(&record), None).await;
        assert_eq!(status, 204, "{body}");
        if userinfo_status(&t, &me.access).await == 401 {
            break;
        }
        revoked = true;
    }
    assert!(revoked, "a grant other than mine was revoked");
    let (status, body) =
        call(&t, Method::DELETE, "/api/my-account/grants/unknown-grant", &no_scope, Some(&no_scope_record), None).await;
    assert!(status == 401 || status == 404, "{body}");
    t.stop().await;
}

/// Replaces the user's identities through the Management API (and, when given, the username).
async fn set_identities(t: &TestServer, w: &World, identities: Value, username: Option<Option<&str>>) {
    let (_, user) = t.api(Method::GET, &format!("/api/users/{}", w.user_id), None).await;
    for target in user["identities"].as_object().unwrap().keys() {
        let (status, body) =
            t.api(Method::DELETE, &format!("/api/users/{}/identities/{target}", w.user_id), None).await;
        assert_eq!(status, 200, "{body}");
    }
    for (target, identity) in identities.as_object().unwrap() {
        let path = format!("/api/users/{}/identities/{target}", w.user_id);
        let (status, body) = t.api(Method::PUT, &path, Some(identity.clone())).await;
        assert_eq!(status, 201, "{body}");
    }
    if let Some(username) = username {
        let path = format!("/api/users/{}", w.user_id);
        let (status, body) = t.api(Method::PATCH, &path, Some(json!({"username": username}))).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn identities_are_unlinked_but_never_the_last_way_in_and_provider_tokens_are_not_found() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, json!({"social": "ReadOnly"})).await;
    let token = access_token(&t, &w, ALL_SCOPES).await;
    let record = password_record(&t, &token, &w.password).await;
    let link = json!({"newIdentifierVerificationRecordId": "some-record"});
    let github = "/api/my-account/identities/github";

    let (status, body) = call(&t, Method::POST, "/api/my-account/identities", &token, None, Some(link.clone())).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let (status, body) = call(&t, Method::DELETE, github, &token, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (400, "account_center.field_not_editable"), "{body}");
    enable_center(&t, json!({"social": "Edit", "email": "Edit"})).await;
    let narrow = access_token(&t, &w, "openid profile").await;
    let narrow_record = password_record(&t, &narrow, &w.password).await;
    let (status, body) =
        call(&t, Method::PUT, "/api/my-account/identities", &narrow, Some(&narrow_record), Some(link.clone())).await;
    assert_eq!((status, code_of(&body)), (401, "auth.unauthorized"), "{body}");
    let (status, body) = call(&t, Method::DELETE, github, &narrow, Some(&narrow_record), None).await;
    assert_eq!((status, code_of(&body)), (400, "auth.unauthorized"), "{body}");

    // No social record exists before social sign-in: every id is unknown.
    for method in [Method::POST, Method::PUT] {
        let (status, body) =
            call(&t, method, "/api/my-account/identities", &token, Some(&record), Some(link.clone())).await;
        assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");
    }
    let (status, _) =
        call(&t, Method::POST, "/api/my-account/identities", &token, Some(&record), Some(json!({}))).await;
    assert_eq!(status, 400);
    // Nor can one be made: no social connector exists yet.
    let start = json!({"connectorId": "github-1", "redirectUri": "https://app.test/cb", "state": "s"});
    let (status, body) = call(&t, Method::POST, "/api/verifications/social", &token, None, Some(start)).await;
    assert_eq!((status, code_of(&body)), (404, "entity.not_found"), "{body}");
    let finish = json!({"connectorData": {"code": "c"}, "verificationRecordId": "some-record"});
    let (status, body) = call(&t, Method::POST, "/api/verifications/social/verify", &token, None, Some(finish)).await;
    assert_eq!((status, code_of(&body)), (404, "entity.not_found"), "{body}");

    // Unlink: unknown target; a linked one; never the last identifier.
    let (status, body) = call(&t, Method::DELETE, github, &token, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (404, "user.identity_not_exist"), "{body}");
    set_identities(&t, &w, json!({"github": {"userId": "g-1", "details": {}}}), None).await;
    let (status, body) = call(&t, Method::DELETE, github, &token, Some(&record), None).await;
    assert_eq!(status, 204, "{body}");
    let (_, profile) = call(&t, Method::GET, "/api/my-account", &token, None, None).await;
    assert_eq!(profile["identities"], json!({}), "{profile}");
    set_identities(&t, &w, json!({"google": {"userId": "g-2", "details": {}}}), Some(None)).await;
    let (status, body) =
        call(&t, Method::DELETE, "/api/my-account/identities/google", &token, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (400, "user.last_sign_in_method_required"), "{body}");
    let (_, profile) = call(&t, Method::GET, "/api/my-account", &token, None, None).await;
    assert_eq!(profile["identities"]["google"]["userId"], "g-2", "kept: {profile}");

    // The primary email is not the last way in either, while it is.
    set_identities(&t, &w, json!({}), None).await;
    let (status, body) = t
        .api(Method::PATCH, &format!("/api/users/{}", w.user_id), Some(json!({"primaryEmail": "alice@kido.test"})))
        .await;
    assert_eq!(status, 200, "{body}");
    let email = "/api/my-account/primary-email";
    let (status, body) = call(&t, Method::DELETE, email, &token, Some(&record), None).await;
    assert_eq!((status, code_of(&body)), (400, "user.last_sign_in_method_required"), "{body}");

    // Provider tokens: nothing stored (the vault comes with social sign-in).
    for path in ["/api/my-account/identities/github/access-token", "/api/my-account/sso-identities/c1/access-token"] {
        let (status, body) = call(&t, Method::GET, path, &token, None, None).await;
        assert_eq!((status, code_of(&body)), (404, "secrets.third_party_token_set.token_not_found"), "{body}");
        assert_eq!(send(Method::GET, &t.url(path), None, None).await.0, 401);
    }
    let put = json!({"verificationRecordId": "some-record"});
    let path = "/api/my-account/identities/github/access-token";
    let (status, body) = call(&t, Method::PUT, path, &token, None, Some(put)).await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");
    t.stop().await;
}

#[tokio::test]
async fn primary_email_changes_with_a_code_to_the_new_address() {
    let (t, mut smtp, w) = email_tenant().await;
    enable_center(&t, json!({"email": "Edit"})).await;
    let token = access_token(&t, &w, ALL_SCOPES).await;
    let password = password_record(&t, &token, &w.password).await;
    let new_email = json!({"type": "email", "value": "alice.new@kido.test"});

    // A code to a new address (BindNewIdentifier).
    let send_code = |identifier: Value, template: Option<&str>| {
        let mut body = json!({"identifier": identifier});
        if let Some(template) = template {
            body["templateType"] = json!(template);
        }
        body
    };
    let (status, created) = call(
        &t,
        Method::POST,
        "/api/verifications/verification-code",
        &token,
        None,
        Some(send_code(new_email.clone(), None)),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let bind = created["verificationRecordId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify = |code: &str| json!({"identifier": new_email, "verificationId": bind, "code": code});
    let path = "/api/verifications/verification-code/verify";
    let (status, body) = call(&t, Method::POST, path, &token, None, Some(verify(wrong))).await;
    assert!(status == 400 && code_of(&body).starts_with("verification_code."), "{status} {body}");
    let (status, body) = call(&t, Method::POST, path, &token, None, Some(verify(&code))).await;
    assert_eq!((status, body["verificationRecordId"].as_str()), (200, Some(bind.as_str())), "{body}");

    // The new-address record does not prove identity; another address than its own is refused.
    let set = |email: &str| json!({"email": email, "newIdentifierVerificationRecordId": bind});
    let primary = "/api/my-account/primary-email";
    let (status, body) = call(&t, Method::POST, primary, &token, Some(&bind), Some(set("alice.new@kido.test"))).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let (status, body) = call(&t, Method::POST, primary, &token, Some(&password), Some(set("mallory@kido.test"))).await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");
    let (status, body) =
        call(&t, Method::POST, primary, &token, Some(&password), Some(set("alice.new@kido.test"))).await;
    assert_eq!(status, 204, "{body}");
    let (_, profile) = call(&t, Method::GET, "/api/my-account", &token, None, None).await;
    assert_eq!(profile["primaryEmail"], "alice.new@kido.test", "{profile}");
    // The phone route takes no email record.
    let phone = json!({"phone": "15550107777", "newIdentifierVerificationRecordId": bind});
    enable_center(&t, json!({"email": "Edit", "phone": "Edit"})).await;
    let (status, body) =
        call(&t, Method::POST, "/api/my-account/primary-phone", &token, Some(&password), Some(phone)).await;
    assert_eq!((status, code_of(&body)), (400, "verification_record.not_found"), "{body}");

    // A code to the user's own address proves identity (UserPermissionValidation): accepted as
    // `logto-verification-id`, then the sign-up's need for an email refuses the removal.
    let own = json!({"type": "email", "value": "alice.new@kido.test"});
    let (status, created) = call(
        &t,
        Method::POST,
        "/api/verifications/verification-code",
        &token,
        None,
        Some(send_code(own.clone(), Some("UserPermissionValidation"))),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let permission = created["verificationRecordId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    let body = json!({"identifier": own, "verificationId": permission, "code": code});
    let (status, body) = call(&t, Method::POST, path, &token, None, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&t, Method::DELETE, primary, &token, Some(&permission), None).await;
    assert_eq!((status, code_of(&body)), (400, "user.email_required"), "{body}");
    t.stop().await;
}

#[tokio::test]
async fn a_passkey_is_added_renamed_and_removed_through_the_account_api() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    enable_center(&t, json!({"mfa": "Edit"})).await;
    let token = access_token(&t, &w, ALL_SCOPES).await;
    t.api(
        Method::PATCH,
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["WebAuthn"], "policy": "UserControlled"}})),
    )
    .await;
    let record = password_record(&t, &token, &w.password).await;
    let mut soft = SoftAuthenticator::new().unwrap();
    let origin = t.url("");
    let origin = origin.trim_end_matches('/');

    let (status, created) =
        call(&t, Method::POST, "/api/verifications/web-authn/registration", &token, None, None).await;
    assert_eq!(status, 200, "{created}");
    let id = created["verificationRecordId"].as_str().unwrap().to_owned();
    let payload = soft.create(&created["registrationOptions"], origin);
    let verify = "/api/verifications/web-authn/registration/verify";
    let (status, body) =
        call(&t, Method::POST, verify, &token, None, Some(json!({"verificationRecordId": id, "payload": payload})))
            .await;
    assert_eq!(status, 200, "{body}");

    let add = json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": id, "name": "Laptop"});
    let factors = "/api/my-account/mfa-verifications";
    let (status, body) = call(&t, Method::POST, factors, &token, None, Some(add.clone())).await;
    assert_eq!((status, code_of(&body)), (401, "verification_record.permission_denied"), "{body}");
    let (status, body) = call(&t, Method::POST, factors, &token, Some(&record), Some(add.clone())).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(&t, Method::POST, factors, &token, Some(&record), Some(add)).await;
    assert_eq!(status, 400, "a registration record is spent once: {body}");
    let (_, list) = call(&t, Method::GET, factors, &token, None, None).await;
    let passkey = &list.as_array().unwrap()[0];
    assert_eq!((passkey["type"].as_str(), passkey["name"].as_str()), (Some("WebAuthn"), Some("Laptop")), "{list}");
    let pid = passkey["id"].as_str().unwrap();

    let rename = format!("{factors}/{pid}/name");
    let (status, body) =
        call(&t, Method::PATCH, &rename, &token, Some(&record), Some(json!({"name": "Work laptop"}))).await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = call(&t, Method::GET, factors, &token, None, None).await;
    assert_eq!(list[0]["name"], "Work laptop", "{list}");
    let (status, body) = call(&t, Method::DELETE, &format!("{factors}/{pid}"), &token, Some(&record), None).await;
    assert_eq!(status, 204, "{body}");
    let (_, list) = call(&t, Method::GET, factors, &token, None, None).await;
    assert_eq!(list, json!([]));
    t.stop().await;
}
