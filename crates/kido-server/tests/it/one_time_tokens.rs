//! One-time tokens (magic links): the Management API (issue, read, list, revoke, spend,
//! delete), single use under parallel spends, expiry, and sign-in and registration through
//! the Experience API with the organizations a token names.

use kido_core::TenantId;
use kido_proto::one_time_tokens::CreateOneTimeToken;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, send_raw};
use crate::passwordless::{browser_at_sign_in, email, email_tenant, start, tokens_after_submit};
use crate::signin::Browser;

const TOKENS: &str = "/api/one-time-tokens";

fn code(v: &(u16, Value)) -> (u16, Option<&str>) {
    (v.0, v.1["code"].as_str())
}

async fn issue(t: &TestServer, body: Value) -> Value {
    let (status, token) = t.api(Method::POST, TOKENS, Some(body)).await;
    assert_eq!(status, 201, "{token}");
    token
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

async fn verify(t: &TestServer, token: &str, address: &str) -> (u16, Value) {
    t.api(Method::POST, &format!("{TOKENS}/verify"), Some(json!({"token": token, "email": address}))).await
}

/// Makes every active token of the default tenant expired (tests do not wait).
async fn expire_tokens(t: &TestServer) {
    let mut c = t.server.core.store.conn().await.unwrap();
    kido_store::one_time_tokens::expire_all(&mut c, &TenantId::new("default"), 1).await.unwrap();
}

#[tokio::test]
async fn one_time_tokens_through_the_management_api() {
    let t = TestServer::start().await;
    let before = kido_core::clock::now_ms();
    let first = issue(&t, json!({"email": "ann@acme.test"})).await;
    let after = kido_core::clock::now_ms();
    // Logto's defaults: 10 minutes, active, empty context, a 32-character token.
    assert_eq!((str_of(&first, "status"), str_of(&first, "email")), ("active", "ann@acme.test"));
    assert_eq!(str_of(&first, "tenantId"), "default");
    assert_eq!(first["context"], json!({}));
    assert_eq!(str_of(&first, "token").len(), 32);
    let expires_at = first["expiresAt"].as_i64().unwrap();
    assert!((before + 600_000..=after + 600_000).contains(&expires_at), "{first}");

    let second = issue(&t, json!({"email": "ann@acme.test", "expiresIn": 30})).await;
    let expires_in = second["expiresAt"].as_i64().unwrap() - second["createdAt"].as_i64().unwrap();
    assert_eq!(expires_in, 30_000);
    let third = issue(
        &t,
        json!({"email": "bob@acme.test", "context": {"jitOrganizationIds": ["org-1", "org-1", "org-2"], "interactionEvent": "SignIn"}}),
    )
    .await;
    assert_eq!(third["context"], json!({"jitOrganizationIds": ["org-1", "org-2"], "interactionEvent": "SignIn"}));

    // Reads never show the token: only its digest is stored.
    let first_id = str_of(&first, "id");
    let (status, got) = t.api(Method::GET, &format!("{TOKENS}/{first_id}"), None).await;
    assert_eq!(status, 200, "{got}");
    let mut expected = first.clone();
    expected.as_object_mut().unwrap().remove("token");
    assert_eq!(got, expected);
    let reply = t.api(Method::GET, &format!("{TOKENS}/nope"), None).await;
    assert_eq!(code(&reply), (404, Some("entity.not_exists_with_id")));

    // Lists: newest first, filtered, optionally paginated.
    let (status, all) = t.api(Method::GET, TOKENS, None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|v| str_of(v, "id")).collect();
    assert_eq!(ids, [str_of(&third, "id"), str_of(&second, "id"), first_id]);
    assert!(all.as_array().unwrap().iter().all(|v| v.get("token").is_none()));
    let (_, anns) = t.api(Method::GET, &format!("{TOKENS}?email=ANN@acme.test"), None).await;
    assert_eq!(anns.as_array().unwrap().len(), 2);
    let token = t.management_token().await;
    let page = send_raw(Method::GET, &t.url(&format!("{TOKENS}?page=1&page_size=2")), Some(&token), None).await;
    assert_eq!(page.headers()["total-number"], "3");
    let page: Value = page.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    let filtered =
        send_raw(Method::GET, &t.url(&format!("{TOKENS}?email=ann@acme.test&page_size=1")), Some(&token), None).await;
    assert_eq!(filtered.headers()["total-number"], "2", "the total counts the filtered list");

    // Bad input: 400 in the JSON error format, never a 500.
    for bad in [
        json!({"email": "not-an-email"}),
        json!({"email": ""}),
        json!({"email": format!("{}@acme.test", "a".repeat(300))}),
        json!({"email": "ann@acme.test", "expiresIn": 0}),
        json!({"email": "ann@acme.test", "expiresIn": -5}),
        json!({"email": "ann@acme.test", "expiresIn": 1.5}),
        json!({"email": "ann@acme.test", "expiresIn": 31_536_001}),
        json!({"email": "ann@acme.test", "expiresIn": "600"}),
        json!({"email": "ann@acme.test", "context": {"jitOrganizationIds": (0..21).map(|i| format!("org-{i}")).collect::<Vec<_>>()}}),
        json!({"email": "ann@acme.test", "context": {"jitOrganizationIds": [""]}}),
        json!({"email": "ann@acme.test", "context": {"jitOrganizationIds": "org-1"}}),
        json!({"email": "ann@acme.test", "context": {"interactionEvent": "Nope"}}),
        json!({"expiresIn": 60}),
    ] {
        let reply = t.api(Method::POST, TOKENS, Some(bad.clone())).await;
        assert_eq!(code(&reply), (400, Some("guard.invalid_input")), "{bad}: {}", reply.1);
    }
    for query in ["status=nope", "email=nope", "page=0", "status=active&status=revoked"] {
        let reply = t.api(Method::GET, &format!("{TOKENS}?{query}"), None).await;
        assert_eq!(reply.0, 400, "{query}: {}", reply.1);
    }

    // Spending: a wrong email leaves the token active; the right one spends it, once.
    let first_token = str_of(&first, "token");
    let reply = verify(&t, first_token, "eve@acme.test").await;
    assert_eq!(code(&reply), (400, Some("one_time_token.email_mismatch")));
    let (status, spent) = verify(&t, first_token, "Ann@Acme.test").await;
    assert_eq!(status, 200, "{spent}");
    let mut expected = first.clone();
    expected["status"] = json!("consumed");
    assert_eq!(spent, expected, "the spent token, its value echoed");
    let reply = verify(&t, first_token, "ann@acme.test").await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_consumed")));
    let reply = verify(&t, "not-a-token", "ann@acme.test").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    let reply = verify(&t, &"x".repeat(5000), "ann@acme.test").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    let (_, consumed) = t.api(Method::GET, &format!("{TOKENS}?status=consumed"), None).await;
    assert_eq!(consumed.as_array().unwrap().len(), 1);

    // Status: revoked is final for spending; nothing becomes active again.
    let second_id = str_of(&second, "id");
    let status_of = |id: &str| format!("{TOKENS}/{id}/status");
    let reply = t.api(Method::PUT, &status_of(second_id), Some(json!({"status": "active"}))).await;
    assert_eq!(code(&reply), (400, Some("one_time_token.cannot_reactivate_token")));
    let reply = t.api(Method::PUT, &status_of("nope"), Some(json!({"status": "active"}))).await;
    assert_eq!(code(&reply), (404, Some("entity.not_exists_with_id")));
    let reply = t.api(Method::PUT, &status_of("nope"), Some(json!({"status": "revoked"}))).await;
    assert_eq!(code(&reply), (404, Some("entity.not_exists_with_id")));
    let reply = t.api(Method::PUT, &status_of(second_id), Some(json!({"status": "gone"}))).await;
    assert_eq!(code(&reply), (400, Some("guard.invalid_input")));
    let (status, revoked) = t.api(Method::PUT, &status_of(second_id), Some(json!({"status": "revoked"}))).await;
    assert_eq!((status, str_of(&revoked, "status")), (200, "revoked"));
    assert!(revoked.get("token").is_none());
    let reply = verify(&t, str_of(&second, "token"), "ann@acme.test").await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_revoked")));

    // Delete.
    assert_eq!(t.api(Method::DELETE, &format!("{TOKENS}/{second_id}"), None).await.0, 204);
    let reply = t.api(Method::DELETE, &format!("{TOKENS}/{second_id}"), None).await;
    assert_eq!(code(&reply), (404, Some("entity.not_found")));
    let reply = verify(&t, str_of(&second, "token"), "ann@acme.test").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));

    // Without the `all` scope: refused.
    let reply = crate::harness::send(Method::GET, &t.url(TOKENS), None, None).await;
    assert_eq!(reply.0, 401);
    t.stop().await;
}

#[tokio::test]
async fn expired_tokens_read_expired_and_are_not_spent() {
    let t = TestServer::start().await;
    let token = issue(&t, json!({"email": "ann@acme.test"})).await;
    let id = str_of(&token, "id");
    expire_tokens(&t).await;
    let (_, got) = t.api(Method::GET, &format!("{TOKENS}/{id}"), None).await;
    assert_eq!(str_of(&got, "status"), "expired");
    let (_, listed) = t.api(Method::GET, &format!("{TOKENS}?status=expired"), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, active) = t.api(Method::GET, &format!("{TOKENS}?status=active"), None).await;
    assert_eq!(active, json!([]));
    let reply = verify(&t, str_of(&token, "token"), "ann@acme.test").await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_expired")));
    // The failed spend recorded the expiry; a later one still says so.
    let reply = verify(&t, str_of(&token, "token"), "ann@acme.test").await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_expired")));
    t.stop().await;
}

#[tokio::test]
async fn of_parallel_spends_exactly_one_wins() {
    let t = TestServer::start().await;
    let issued = issue(&t, json!({"email": "ann@acme.test"})).await;
    let token = str_of(&issued, "token").to_owned();
    let bearer = t.management_token().await;
    let url = t.url(&format!("{TOKENS}/verify"));
    let spends = (0..8).map(|_| {
        let (url, bearer, token) = (url.clone(), bearer.clone(), token.clone());
        tokio::spawn(async move {
            let body = json!({"token": token, "email": "ann@acme.test"});
            crate::harness::send(Method::POST, &url, Some(&bearer), Some(body)).await
        })
    });
    let mut won = 0;
    for spend in spends.collect::<Vec<_>>() {
        let reply = spend.await.unwrap();
        match code(&reply) {
            (200, _) => won += 1,
            other => assert_eq!(other, (400, Some("one_time_token.token_consumed")), "{}", reply.1),
        }
    }
    assert_eq!(won, 1);
    t.stop().await;
}

async fn verify_in(b: &mut Browser, address: &str, token: &str) -> (u16, Value) {
    let body = json!({"identifier": email(address), "token": token});
    let r = b.api(Method::POST, "/verification/one-time-token/verify", Some(body)).await;
    (r.status, r.json())
}

/// `{organization id: [role names]}` of a user.
async fn memberships(t: &TestServer, user: &str) -> Value {
    let (status, orgs) = t.api(Method::GET, &format!("/api/users/{user}/organizations"), None).await;
    assert_eq!(status, 200, "{orgs}");
    let mut out = serde_json::Map::new();
    for o in orgs.as_array().unwrap() {
        let roles: Vec<Value> = o["organizationRoles"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect();
        out.insert(str_of(o, "id").to_owned(), Value::Array(roles));
    }
    Value::Object(out)
}

fn subject(tokens: &Value) -> String {
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    claims["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn magic_links_sign_in_and_register_through_the_experience_api() {
    let (t, _smtp, w) = email_tenant().await;
    // Registration closed: only a magic link may bring new users in.
    let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"signInMode": "SignIn"}))).await;
    assert_eq!(status, 200, "{body}");
    let (_, org) = t.api(Method::POST, "/api/organizations", Some(json!({"name": "Acme"}))).await;
    let org = str_of(&org, "id").to_owned();
    let (_, member) = t.api(Method::POST, "/api/organization-roles", Some(json!({"name": "member"}))).await;
    let roles = json!({"organizationRoleIds": [str_of(&member, "id")]});
    assert_eq!(t.api(Method::PUT, &format!("/api/organizations/{org}/jit/roles"), Some(roles)).await.0, 204);
    let (status, bob) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"primaryEmail": "bob@acme.test", "password": "Kido-bob-battery-77"})),
        )
        .await;
    assert_eq!(status, 200, "{bob}");
    let bob = str_of(&bob, "id").to_owned();

    // An existing user signs in by a magic link and joins the token's organizations (an id
    // that names no organization is passed over).
    let link =
        issue(&t, json!({"email": "bob@acme.test", "context": {"jitOrganizationIds": [org, "no-such-org"]}})).await;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let reply = verify_in(&mut b, "bob@acme.test", "wrong-token").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    let reply = verify_in(&mut b, "eve@acme.test", str_of(&link, "token")).await;
    assert_eq!(code(&reply), (400, Some("one_time_token.email_mismatch")));
    let r = b
        .api(
            Method::POST,
            "/verification/one-time-token/verify",
            Some(json!({"identifier": {"type": "username", "value": "bob"}, "token": str_of(&link, "token")})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let (status, verified) = verify_in(&mut b, "BOB@acme.test", str_of(&link, "token")).await;
    assert_eq!(status, 200, "{verified}");
    let verification = str_of(&verified, "verificationId").to_owned();
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": verification}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let tokens = tokens_after_submit(&t, &mut b, &w).await;
    assert_eq!(subject(&tokens), bob);
    assert_eq!(memberships(&t, &bob).await, json!({org.clone(): ["member"]}));
    let (_, spent) = t.api(Method::GET, &format!("{TOKENS}/{}", str_of(&link, "id")), None).await;
    assert_eq!(str_of(&spent, "status"), "consumed");
    // The link works once.
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let reply = verify_in(&mut b, "bob@acme.test", str_of(&link, "token")).await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_consumed")));

    // A new email: sign-in finds nobody, the switch to registration is allowed (registration
    // is closed otherwise), the sign-up's password is asked for, and the new user joins.
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let r = b.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "Register"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("auth.forbidden")), "closed without a token");
    let invite = issue(&t, json!({"email": "cid@acme.test", "context": {"jitOrganizationIds": [org]}})).await;
    let (status, verified) = verify_in(&mut b, "cid@acme.test", str_of(&invite, "token")).await;
    assert_eq!(status, 200, "{verified}");
    let verification = str_of(&verified, "verificationId").to_owned();
    let identify = json!({"verificationId": verification});
    let r = b.api(Method::POST, "/identification", Some(identify.clone())).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("user.user_not_exist")));
    let r = b.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "Register"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // The token opens registration for its own email only.
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("auth.forbidden")), "{}", r.text);
    let r = b.api(Method::POST, "/identification", Some(identify.clone())).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.missing_profile")), "{}", r.text);
    let r = b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "Kido-cid-invited-3141"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let tokens = tokens_after_submit(&t, &mut b, &w).await;
    let cid = subject(&tokens);
    let (_, user) = t.api(Method::GET, &format!("/api/users/{cid}"), None).await;
    assert_eq!(str_of(&user, "primaryEmail"), "cid@acme.test");
    assert_eq!(memberships(&t, &cid).await, json!({org.clone(): ["member"]}));

    // Expired and revoked links are refused.
    let late = issue(&t, json!({"email": "bob@acme.test"})).await;
    let revoked = issue(&t, json!({"email": "bob@acme.test"})).await;
    let status = format!("{TOKENS}/{}/status", str_of(&revoked, "id"));
    assert_eq!(t.api(Method::PUT, &status, Some(json!({"status": "revoked"}))).await.0, 200);
    expire_tokens(&t).await;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let reply = verify_in(&mut b, "bob@acme.test", str_of(&late, "token")).await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_expired")));
    let reply = verify_in(&mut b, "bob@acme.test", str_of(&revoked, "token")).await;
    assert_eq!(code(&reply), (400, Some("one_time_token.token_revoked")));

    // The audit log names the verification, never the token.
    let (_, logs) =
        t.api(Method::GET, "/api/logs?logKey=Interaction.SignIn.Verification.OneTimeToken.Submit", None).await;
    let logs = logs.as_array().unwrap();
    assert!(logs.len() >= 4, "{logs:?}");
    let text = serde_json::to_string(logs).unwrap();
    for secret in [&link, &invite, &late, &revoked] {
        assert!(!text.contains(str_of(secret, "token")), "a token reached the audit log");
    }
    t.stop().await;
}

#[tokio::test]
async fn another_tenants_token_is_not_usable() {
    let (t, _smtp, w) = email_tenant().await;
    let admin = TenantId::new("admin");
    let body = CreateOneTimeToken { email: "ann@acme.test".into(), expires_in: None, context: None };
    let foreign = t.server.core.one_time_tokens().create(&admin, body).await.unwrap();
    let token = foreign.token.clone().unwrap();
    // Not visible, not spendable, not changeable from the default tenant.
    let reply = t.api(Method::GET, &format!("{TOKENS}/{}", foreign.id), None).await;
    assert_eq!(code(&reply), (404, Some("entity.not_exists_with_id")));
    assert_eq!(t.api(Method::GET, TOKENS, None).await.1, json!([]));
    let reply = verify(&t, &token, "ann@acme.test").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    let reply =
        t.api(Method::PUT, &format!("{TOKENS}/{}/status", foreign.id), Some(json!({"status": "revoked"}))).await;
    assert_eq!(code(&reply), (404, Some("entity.not_exists_with_id")));
    assert_eq!(t.api(Method::DELETE, &format!("{TOKENS}/{}", foreign.id), None).await.0, 404);
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let reply = verify_in(&mut b, "ann@acme.test", &token).await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    // Still active in its own tenant.
    let got = t.server.core.one_time_tokens().get(&admin, &foreign.id).await.unwrap();
    assert_eq!(got.status, kido_proto::one_time_tokens::OneTimeTokenStatus::Active);
    t.stop().await;
}

#[tokio::test]
async fn wrong_tokens_count_towards_the_identifiers_lockout() {
    let (t, _smtp, w) = email_tenant().await;
    let policy = json!({"sentinelPolicy": {"maxAttempts": 2, "lockoutDuration": 5}});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(policy)).await.0, 200);
    let link = issue(&t, json!({"email": "ann@acme.test"})).await;
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let reply = verify_in(&mut b, "ann@acme.test", "guess-1").await;
    assert_eq!(code(&reply), (404, Some("one_time_token.token_not_found")));
    // The failure that reaches the limit locks the identifier.
    let reply = verify_in(&mut b, "ann@acme.test", "guess-2").await;
    assert_eq!(code(&reply), (400, Some("session.verification_blocked_too_many_attempts")));
    // Locked: even the right token is not looked at, and stays unspent.
    let reply = verify_in(&mut b, "ANN@acme.test", str_of(&link, "token")).await;
    assert_eq!(code(&reply), (400, Some("session.verification_blocked_too_many_attempts")));
    let (_, got) = t.api(Method::GET, &format!("{TOKENS}/{}", str_of(&link, "id")), None).await;
    assert_eq!(str_of(&got, "status"), "active");
    // Another address is not locked.
    let other = issue(&t, json!({"email": "bob@acme.test"})).await;
    let (status, _) = verify_in(&mut b, "bob@acme.test", str_of(&other, "token")).await;
    assert_eq!(status, 200);
    t.stop().await;
}
