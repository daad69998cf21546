//! A user's sessions and grants through the Management API: listed as Logto shows them, and
//! revoked with immediate effect (refresh refused at the token endpoint, the opaque access
//! token refused at userinfo and introspection), other sessions untouched; another user's or
//! another tenant's ids are not found.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, decode_jwt, send, token_at};
use crate::signin::{Browser, World, auth_url, code_for, exchange, exchange_public, world};

/// What a sign-in handed an application.
struct Tokens {
    client: String,
    /// Confidential clients authenticate with Basic; public ones send `client_id`.
    secret: Option<String>,
    access: String,
    refresh: Option<String>,
    sid: String,
}

impl Tokens {
    fn of(client: &str, secret: Option<&str>, body: &Value) -> Self {
        let (_, id_token) = decode_jwt(body["id_token"].as_str().unwrap());
        Self {
            client: client.to_owned(),
            secret: secret.map(str::to_owned),
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().map(str::to_owned),
            sid: id_token["sid"].as_str().unwrap().to_owned(),
        }
    }

    fn basic(&self) -> Option<(&str, &str)> {
        self.secret.as_deref().map(|s| (self.client.as_str(), s))
    }

    /// A refresh at the token endpoint (status, body); a public client's token rotates.
    async fn refresh(&mut self, t: &TestServer) -> (u16, Value) {
        let refresh = self.refresh.clone().unwrap();
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
        if self.secret.is_none() {
            form.push(("client_id", &self.client));
        }
        let (status, body) = token_at(&t.url("/oidc/token"), &form, self.basic()).await;
        if let Some(next) = body["refresh_token"].as_str() {
            self.refresh = Some(next.to_owned());
        }
        (status, body)
    }

    async fn userinfo(&self, t: &TestServer) -> u16 {
        send(Method::GET, &t.url("/oidc/me"), Some(&self.access), None).await.0
    }

    /// Whether introspection calls `token` active (asked by this client).
    async fn active(&self, t: &TestServer, token: &str) -> bool {
        let mut form = vec![("token", token)];
        if self.secret.is_none() {
            form.push(("client_id", &self.client));
        }
        let (status, body) = token_at(&t.url("/oidc/token/introspection"), &form, self.basic()).await;
        assert_eq!(status, 200, "{body}");
        body["active"].as_bool().unwrap()
    }

    /// Every way the application uses its tokens still works.
    async fn assert_alive(&mut self, t: &TestServer) {
        assert_eq!(self.userinfo(t).await, 200);
        assert!(self.active(t, &self.access.clone()).await);
        let (status, body) = self.refresh(t).await;
        assert_eq!(status, 200, "{body}");
    }

    /// Every way the application uses its tokens is refused.
    async fn assert_revoked(&mut self, t: &TestServer) {
        assert_eq!(self.userinfo(t).await, 401, "userinfo must refuse a revoked access token");
        assert!(!self.active(t, &self.access.clone()).await, "introspection must call it inactive");
        if let Some(refresh) = self.refresh.clone() {
            assert!(!self.active(t, &refresh).await);
            let (status, body) = self.refresh(t).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        }
    }
}

/// Signs `b` in (or reuses its session) for the confidential app.
async fn sign_in_app(t: &TestServer, b: &mut Browser, w: &World, extra: &str) -> Tokens {
    let code = code_for(b, w, &w.app, extra).await;
    let (status, body) = exchange(&t.url(""), w, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    Tokens::of(&w.app, Some(&w.secret), &body)
}

/// Signs `b` in (or reuses its session) for the public SPA.
async fn sign_in_spa(t: &TestServer, b: &mut Browser, w: &World) -> Tokens {
    let code = code_for(b, w, &w.spa, "").await;
    let (status, body) = exchange_public(&t.url(""), &w.spa, &code).await;
    assert_eq!(status, 200, "{body}");
    Tokens::of(&w.spa, None, &body)
}

fn session_with<'a>(list: &'a Value, sid: &str) -> &'a Value {
    list["sessions"].as_array().unwrap().iter().find(|s| s["payload"]["uid"] == sid).unwrap_or_else(|| {
        panic!("no session {sid} in {list}");
    })
}

#[tokio::test]
async fn sessions_and_grants_are_listed_and_revoked_at_once() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let user = &w.user_id;
    // Two browsers: the first signs in to the app, then to the SPA through its session; the
    // second signs in to the SPA.
    let mut first = Browser::new(&t.url(""));
    let mut second = Browser::new(&t.url(""));
    let mut first_app = sign_in_app(&t, &mut first, &w, "").await;
    let mut first_spa = sign_in_spa(&t, &mut first, &w).await;
    let mut second_spa = sign_in_spa(&t, &mut second, &w).await;
    assert_eq!(first_app.sid, first_spa.sid, "one browser, one session");
    assert_ne!(first_app.sid, second_spa.sid);

    let (status, list) = t.api(Method::GET, &format!("/api/users/{user}/sessions"), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2, "{list}");
    let session = session_with(&list, &first_app.sid);
    let payload = &session["payload"];
    assert_eq!((payload["kind"].as_str(), payload["jti"].as_str()), (Some("Session"), Some(first_app.sid.as_str())));
    assert_eq!(payload["accountId"], user.as_str());
    assert_eq!((&session["accountId"], &session["clientId"]), (&json!(user), &json!(w.app)));
    assert!(session["lastSubmission"].is_null(), "Kido keeps no sign-in submission");
    let now = kido_core::clock::now_ms();
    assert!(session["expiresAt"].as_i64().unwrap() > now && payload["exp"].as_i64().unwrap() * 1000 > now);
    assert!(payload["loginTs"].as_i64().unwrap() <= now / 1000 && payload["iat"].as_i64().unwrap() <= now / 1000);
    let authorizations = payload["authorizations"].as_object().unwrap();
    assert_eq!(authorizations.len(), 2, "{payload}");
    for client in [&w.app, &w.spa] {
        let a = &authorizations[client.as_str()];
        assert_eq!((a["sid"].as_str(), a["persistsLogout"].as_bool()), (Some(first_app.sid.as_str()), Some(true)));
    }
    let other = session_with(&list, &second_spa.sid);
    assert_eq!(other["payload"]["authorizations"].as_object().unwrap().len(), 1);
    let (status, one) = t.api(Method::GET, &format!("/api/users/{user}/sessions/{}", first_app.sid), None).await;
    assert_eq!((status, &one), (200, session));

    // Grants: three, one per sign-in, named by their application.
    let (status, grants) = t.api(Method::GET, &format!("/api/users/{user}/grants"), None).await;
    assert_eq!(status, 200, "{grants}");
    let grants = grants["grants"].as_array().unwrap().clone();
    assert_eq!(grants.len(), 3, "{grants:?}");
    let app_grant = grants.iter().find(|g| g["application"]["id"] == w.app.as_str()).unwrap();
    assert_eq!(app_grant["application"]["name"], "Traditional app");
    assert_eq!(app_grant["id"], authorizations[w.app.as_str()]["grantId"]);
    assert_eq!(
        (app_grant["payload"]["kind"].as_str(), app_grant["payload"]["clientId"].as_str()),
        (Some("Grant"), Some(w.app.as_str()))
    );
    assert_eq!(app_grant["payload"]["openid"]["scope"], "openid offline_access profile email roles");
    assert_eq!(app_grant["payload"]["resources"][crate::signin::API], "read:foo");
    for (query, count) in [("?appType=firstParty", 3), ("?appType=thirdParty", 0)] {
        let (status, body) = t.api(Method::GET, &format!("/api/users/{user}/grants{query}"), None).await;
        assert_eq!((status, body["grants"].as_array().map(Vec::len)), (200, Some(count)), "{query}: {body}");
    }
    for bad in ["?appType=secondParty", "?appType=firstParty&appType=thirdParty"] {
        let (status, body) = t.api(Method::GET, &format!("/api/users/{user}/grants{bad}"), None).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{bad}");
    }

    // Revoking the first session with all its grants: both of its applications lose their
    // tokens at once, the browser must sign in again, the second session is untouched.
    let path = format!("/api/users/{user}/sessions/{}", first_app.sid);
    let (status, body) = t.api(Method::DELETE, &format!("{path}?revokeGrantsTarget=everything"), None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")));
    let (status, _) = t.api(Method::DELETE, &format!("{path}?revokeGrantsTarget=all"), None).await;
    assert_eq!(status, 204);
    first_app.assert_revoked(&t).await;
    first_spa.assert_revoked(&t).await;
    second_spa.assert_alive(&t).await;
    let r = first.get(&auth_url(&w.app, "")).await;
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in?"), "{:?}", r.location);
    let (status, body) = t.api(Method::GET, &path, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.session_not_found")));
    let (status, body) = t.api(Method::DELETE, &path, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.session_not_found")));
    let (_, list) = t.api(Method::GET, &format!("/api/users/{user}/sessions"), None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    let (_, grants) = t.api(Method::GET, &format!("/api/users/{user}/grants"), None).await;
    assert_eq!(grants["grants"].as_array().unwrap().len(), 1, "{grants}");

    // Revoking the second session's grant: its tokens die, the session stays (without it).
    let grant = grants["grants"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = t.api(Method::DELETE, &format!("/api/users/{user}/grants/{grant}"), None).await;
    assert_eq!(status, 204);
    second_spa.assert_revoked(&t).await;
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{user}/grants/{grant}"), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.invalid_grant")));
    let (_, session) = t.api(Method::GET, &format!("/api/users/{user}/sessions/{}", second_spa.sid), None).await;
    assert_eq!(session["payload"]["authorizations"], json!({}), "{session}");
    t.stop().await;
}

#[tokio::test]
async fn a_session_revoked_without_a_target_keeps_its_offline_grants() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    // With `prompt=consent`, offline_access is granted: a refresh token outliving the session.
    let mut offline = sign_in_app(&t, &mut b, &w, "").await;
    // Without it the grant is online only, bound to the browser session.
    let code = {
        let url = auth_url(&w.spa, "").replace("&prompt=consent", "");
        let r = b.get(&url).await;
        r.param("code").unwrap_or_else(|| panic!("silent sign-in expected: {:?}", r.location))
    };
    let (status, body) = exchange_public(&t.url(""), &w.spa, &code).await;
    assert_eq!(status, 200, "{body}");
    let mut online = Tokens::of(&w.spa, None, &body);
    assert!(online.refresh.is_none(), "{body}");
    let (_, session) = t.api(Method::GET, &format!("/api/users/{}/sessions/{}", w.user_id, offline.sid), None).await;
    let authorizations = &session["payload"]["authorizations"];
    assert_eq!(authorizations[w.spa.as_str()]["persistsLogout"], false, "{session}");
    assert_eq!(authorizations[w.app.as_str()]["persistsLogout"], true, "{session}");

    let (status, _) = t.api(Method::DELETE, &format!("/api/users/{}/sessions/{}", w.user_id, offline.sid), None).await;
    assert_eq!(status, 204);
    online.assert_revoked(&t).await;
    offline.assert_alive(&t).await;
    let (_, grants) = t.api(Method::GET, &format!("/api/users/{}/grants", w.user_id), None).await;
    let grants = grants["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["application"]["id"], w.app.as_str());
    t.stop().await;
}

#[tokio::test]
async fn another_users_or_another_tenants_ids_are_not_found() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let mut alice = sign_in_app(&t, &mut b, &w, "").await;
    let (_, grants) = t.api(Method::GET, &format!("/api/users/{}/grants", w.user_id), None).await;
    let grant = grants["grants"][0]["id"].as_str().unwrap().to_owned();
    let (status, bob) =
        t.api(Method::POST, "/api/users", Some(json!({"username": "bob", "password": "Kido-correct-horse-43"}))).await;
    assert_eq!(status, 200, "{bob}");
    let bob = bob["id"].as_str().unwrap();

    // Alice's ids under Bob: not found, nothing revoked.
    let (status, body) = t.api(Method::GET, &format!("/api/users/{bob}/sessions/{}", alice.sid), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.session_not_found")));
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{bob}/sessions/{}", alice.sid), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.invalid_session_account_id")));
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{bob}/grants/{grant}"), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.invalid_grant")));
    for list in ["sessions", "grants"] {
        let (status, body) = t.api(Method::GET, &format!("/api/users/{bob}/{list}"), None).await;
        assert_eq!((status, &body[list]), (200, &json!([])), "{list}");
        // An unknown user has none either (as Logto answers).
        let (status, body) = t.api(Method::GET, &format!("/api/users/nobody/{list}"), None).await;
        assert_eq!((status, &body[list]), (200, &json!([])), "{list}");
    }
    // Ids no one could have issued are not looked up.
    let long = "x".repeat(500);
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{}/sessions/{long}", w.user_id), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.session_not_found")));
    let (status, body) = t.api(Method::DELETE, &format!("/api/users/{}/grants/{long}", w.user_id), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.invalid_grant")));

    // The admin tenant does not see the default tenant's user, session or grant.
    let (admin_id, admin_secret) = crate::tenancy::admin_m2m_app(&t).await;
    let form = [("grant_type", "client_credentials"), ("resource", "https://admin.logto.app/api"), ("scope", "all")];
    let (status, body) = token_at(&t.admin_url("/oidc/token"), &form, Some((&admin_id, &admin_secret))).await;
    assert_eq!(status, 200, "{body}");
    let admin = body["access_token"].as_str().unwrap().to_owned();
    let at_admin = |path: String| {
        let (url, admin) = (t.admin_url(&path), admin.clone());
        async move { send(Method::DELETE, &url, Some(&admin), None).await }
    };
    let (status, body) = at_admin(format!("/api/users/{}/sessions/{}", w.user_id, alice.sid)).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.session_not_found")));
    let (status, body) = at_admin(format!("/api/users/{}/grants/{grant}", w.user_id)).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("oidc.invalid_grant")));
    let url = t.admin_url(&format!("/api/users/{}/sessions", w.user_id));
    let (status, body) = send(Method::GET, &url, Some(&admin), None).await;
    assert_eq!((status, &body["sessions"]), (200, &json!([])));

    // After all that, Alice's sign-in still works.
    alice.assert_alive(&t).await;
    t.stop().await;
}

#[tokio::test]
async fn discovery_advertises_the_sessions_scope_and_tokens_carry_it() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let doc: Value = crate::harness::http()
        .get(t.url("/oidc/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scopes: Vec<&str> = doc["scopes_supported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let at = scopes.iter().position(|s| *s == "urn:logto:scope:sessions").expect("sessions scope advertised");
    assert_eq!(scopes[at - 1], "urn:logto:scope:organization_roles", "Logto's order: {scopes:?}");

    // Asked for at authorization, it is granted to the opaque access token (what the Account
    // API reads) and listed with the grant's user scopes.
    let mut b = Browser::new(&t.url(""));
    sign_in_app(&t, &mut b, &w, "").await;
    let url = auth_url(&w.app, "").replace(
        "scope=openid%20offline_access%20profile%20email%20roles%20read:foo",
        "scope=openid%20urn%3Alogto%3Ascope%3Asessions",
    );
    let r = b.get(&url).await;
    let code = r.param("code").unwrap_or_else(|| panic!("silent sign-in expected: {:?}", r.location));
    let (status, body) = exchange(&t.url(""), &w, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    let tokens = Tokens::of(&w.app, Some(&w.secret), &body);
    let form = [("token", tokens.access.as_str())];
    let (_, info) = token_at(&t.url("/oidc/token/introspection"), &form, tokens.basic()).await;
    assert!(info["scope"].as_str().unwrap().split(' ').any(|s| s == "urn:logto:scope:sessions"), "{info}");
    let (_, grants) = t.api(Method::GET, &format!("/api/users/{}/grants", w.user_id), None).await;
    let granted = grants["grants"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["payload"]["openid"]["scope"] == "openid urn:logto:scope:sessions");
    assert!(granted, "{grants}");
    t.stop().await;
}
