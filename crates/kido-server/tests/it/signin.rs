//! End-user sign-in: the authorization endpoint, the Experience API, the hosted forms, the
//! code and refresh grants, userinfo, introspection, revocation and logout — and every
//! way each of them refuses.

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::{TestServer, decode_jwt, token_at};

pub const REDIRECT: &str = "https://app.test/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const API: &str = "https://api.signin.test";

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// The User-Agent the test browser sends.
pub const BROWSER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) kido-tests";

/// A cookie-keeping client that never follows redirects.
pub struct Browser {
    http: reqwest::Client,
    pub base: String,
    pub jar: HashMap<String, String>,
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A response header, empty when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// A query parameter of the redirect target.
    pub fn param(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(self.location.as_deref()?).ok()?;
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(BROWSER_AGENT)
            .build()
            .unwrap();
        Self { http, base: base.to_owned(), jar: HashMap::new() }
    }

    pub async fn send(
        &mut self,
        method: Method,
        url: &str,
        json_body: Option<Value>,
        form: Option<&[(&str, &str)]>,
    ) -> Reply {
        let url = if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.base) };
        let mut request = self.http.request(method, &url);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(COOKIE, cookies.join("; "));
        }
        if let Some(body) = json_body {
            request = request.json(&body);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        for c in response.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax") && attrs.contains("Path=/"), "{c}");
            if value.is_empty() || attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Reply { status, location, text, headers }
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        self.send(Method::GET, url, None, None).await
    }

    pub async fn api(&mut self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(method, &format!("/api/experience{path}"), body, None).await
    }

    /// Follows redirects until one leaves for the client (or a page answers).
    pub async fn follow(&mut self, mut url: String) -> Reply {
        for _ in 0..10 {
            let reply = self.get(&url).await;
            match &reply.location {
                Some(next) if !next.starts_with(REDIRECT) && reply.status / 100 == 3 => {
                    url = next.clone();
                }
                _ => return reply,
            }
        }
        panic!("redirect loop from {url}");
    }

    /// The Experience API's sign-in walk; returns where `submit` sends the browser.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> String {
        assert_eq!(self.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
        let r = self
            .api(
                Method::POST,
                "/verification/password",
                Some(json!({"identifier": {"type": "username", "value": username}, "password": password})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let id = r.json()["verificationId"].as_str().unwrap().to_owned();
        let r = self.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
        assert_eq!(r.status, 204, "{}", r.text);
        let r = self.api(Method::POST, "/submit", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["redirectTo"].as_str().unwrap().to_owned()
    }
}

/// The anti-forgery token of a hosted form.
pub fn csrf_of(html: &str) -> String {
    html.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// A tenant with a Traditional app, a public SPA, an API with one scope granted to a user.
#[derive(Clone)]
pub struct World {
    pub app: String,
    pub secret: String,
    pub spa: String,
    pub username: String,
    pub password: String,
    pub user_id: String,
}

pub async fn world(t: &TestServer) -> World {
    let (app, secret) = t.new_app("Traditional").await;
    let (spa, _) = t.new_app("SPA").await;
    let (status, resource) =
        t.api(Method::POST, "/api/resources", Some(json!({"name": "API", "indicator": API}))).await;
    assert_eq!(status, 201, "{resource}");
    let rid = resource["id"].as_str().unwrap();
    let (_, scope) =
        t.api(Method::POST, &format!("/api/resources/{rid}/scopes"), Some(json!({"name": "read:foo"}))).await;
    let (_, role) = t.api(Method::POST, "/api/roles", Some(json!({"name": "reader", "description": "reads"}))).await;
    let role_id = role["id"].as_str().unwrap();
    let (status, _) =
        t.api(Method::POST, &format!("/api/roles/{role_id}/scopes"), Some(json!({"scopeIds": [scope["id"]]}))).await;
    assert!(status < 300);
    let (username, password) = ("alice".to_owned(), "Kido-correct-horse-42".to_owned());
    let (status, user) =
        t.api(Method::POST, "/api/users", Some(json!({"username": username, "password": password}))).await;
    assert_eq!(status, 200, "{user}");
    let user_id = user["id"].as_str().unwrap().to_owned();
    let (status, _) =
        t.api(Method::POST, &format!("/api/users/{user_id}/roles"), Some(json!({"roleIds": [role_id]}))).await;
    assert!(status < 300);
    World { app, secret: secret.unwrap(), spa, username, password, user_id }
}

/// `/oidc/auth?…` for `client` with PKCE, `extra` appended.
pub fn auth_url(client: &str, extra: &str) -> String {
    format!(
        "/oidc/auth?client_id={client}&redirect_uri={}&response_type=code&scope=openid%20offline_access%20profile%20email%20roles%20read:foo&state=st4te&code_challenge={}&code_challenge_method=S256&prompt=consent&resource={}{extra}",
        urlencode(REDIRECT),
        challenge(VERIFIER),
        urlencode(API)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Signs in through the Experience API and returns the authorization code.
pub async fn code_for(b: &mut Browser, w: &World, client: &str, extra: &str) -> String {
    let r = b.get(&auth_url(client, extra)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    if let Some(code) = r.param("code") {
        return code; // the browser's session signed the user in silently
    }
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in?app_id="), "{:?}", r.location);
    let next = b.sign_in(&w.username, &w.password).await;
    let r = b.follow(next).await;
    assert_eq!(r.param("state").as_deref(), Some("st4te"), "{} {:?} {}", r.status, r.location, r.text);
    r.param("code").unwrap_or_else(|| panic!("no code in {:?}", r.location))
}

/// The code exchange of a public client (`client_id` in the body, no secret).
pub async fn exchange_public(base: &str, client: &str, code: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", client),
    ];
    token_at(&format!("{base}/oidc/token"), &form, None).await
}

pub async fn exchange(base: &str, w: &World, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    form.extend_from_slice(extra);
    token_at(&format!("{base}/oidc/token"), &form, Some((&w.app, &w.secret))).await
}

#[tokio::test]
async fn code_flow_issues_verified_tokens() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let code = code_for(&mut b, &w, &w.app, "&nonce=n0nce").await;
    let (status, tokens) = exchange(&t.url(""), &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.matches('.').count(), 0, "no resource at the exchange: an opaque token");
    let (header, id) = decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES384");
    assert!(header["kid"].is_string());
    assert_eq!(id["iss"], t.url("/oidc"));
    assert_eq!(id["aud"], w.app.as_str());
    assert_eq!(id["sub"], w.user_id.as_str());
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["username"], "alice");
    assert_eq!(id["roles"], json!(["reader"]));
    assert!(id["at_hash"].is_string() && id["sid"].is_string() && id["auth_time"].is_i64());
    assert!(id.get("custom_data").is_none(), "userinfo-only claim");

    let r = crate::harness::send(Method::GET, &t.url("/oidc/me"), Some(access), None).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["sub"], w.user_id.as_str());
    assert_eq!((&r.1["username"], &r.1["email_verified"]), (&json!("alice"), &json!(false)));
    assert!(r.1.get("custom_data").is_none(), "only the claims of granted scopes");

    // Refresh for the API: a JWT with the user's scope for it.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", API)];
    let (status, api) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(status, 200, "{api}");
    let (header, at) = decode_jwt(api["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(
        (at["aud"].as_str(), at["scope"].as_str(), at["sub"].as_str()),
        (Some(API), Some("read:foo"), Some(w.user_id.as_str()))
    );
    assert_eq!(api["refresh_token"], refresh, "a confidential client keeps its young refresh token");

    // Scope narrowing, and a scope the grant never had.
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid")];
    let (status, narrow) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!((status, narrow["scope"].as_str()), (200, Some("openid")), "{narrow}");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid phone")];
    let (status, wide) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!((status, wide["error"].as_str()), (400, Some("invalid_scope")), "{wide}");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", "https://other.test")];
    let (status, other) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!((status, other["error"].as_str()), (400, Some("invalid_target")), "{other}");

    // Introspection, then revocation ends the grant.
    let intro = |token: String| {
        let url = t.url("/oidc/token/introspection");
        let (app, secret) = (w.app.clone(), w.secret.clone());
        async move { token_at(&url, &[("token", &token)], Some((&app, &secret))).await }
    };
    let (status, info) = intro(refresh.to_owned()).await;
    assert_eq!((status, &info["active"], &info["sub"]), (200, &json!(true), &json!(w.user_id)), "{info}");
    let (status, info) = intro(api["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!((status, info["error"].as_str()), (400, Some("unsupported_token_type")));
    let (status, _) =
        token_at(&t.url("/oidc/token/revocation"), &[("token", refresh)], Some((&w.app, &w.secret))).await;
    assert_eq!(status, 200);
    assert_eq!(intro(refresh.to_owned()).await.1["active"], false);
    assert_eq!(intro(access.to_owned()).await.1["active"], false, "the grant's access tokens go too");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    assert_eq!(token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await.1["error"], "invalid_grant");

    // The audit log saw the sign-in and the exchange.
    let (_, logs) = t.api(Method::GET, "/api/logs?page_size=100", None).await;
    let keys: Vec<&str> = logs.as_array().unwrap().iter().filter_map(|l| l["key"].as_str()).collect();
    assert!(
        keys.contains(&"Interaction.SignIn.Submit") && keys.contains(&"ExchangeTokenBy.AuthorizationCode"),
        "{keys:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_client_redirect_and_verifier() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let base = t.url("");
    let mut b = Browser::new(&base);

    let code = code_for(&mut b, &w, &w.app, "").await;
    let (status, wrong) = exchange(&base, &w, &code, &[("code_verifier", "x")]).await;
    assert_eq!(status, 400, "{wrong}");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://app.test/other"),
        ("code_verifier", VERIFIER),
    ];
    let (_, mismatch) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(mismatch["error"], "invalid_grant");
    let other = "A".repeat(43);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", other.as_str()),
    ];
    let (_, pkce) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(
        (pkce["error"].as_str(), pkce["error_description"].as_str()),
        (Some("invalid_grant"), Some("PKCE verification failed"))
    );
    let (status, foreign) = exchange_public(&t.url(""), &w.spa, &code).await;
    assert_eq!((status, foreign["error"].as_str()), (400, Some("invalid_grant")), "another client's code");

    // The failures above did not use the code up; the first real exchange does.
    let (status, first) = exchange(&base, &w, &code, &[]).await;
    assert_eq!(status, 200, "{first}");
    let (status, replay) = exchange(&base, &w, &code, &[]).await;
    assert_eq!(
        (status, replay["error"].as_str(), replay["code"].as_str()),
        (400, Some("invalid_grant"), Some("oidc.invalid_grant"))
    );
    let form = [("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())];
    let (_, revoked) = token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await;
    assert_eq!(revoked["error"], "invalid_grant", "a replayed code revokes what it issued");
    let me = crate::harness::send(Method::GET, &t.url("/oidc/me"), first["access_token"].as_str(), None).await;
    assert_eq!(me.0, 401);

    // A Traditional app must authenticate; a public client may not present a secret.
    let code = code_for(&mut b, &w, &w.app, "").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", w.app.as_str()),
    ];
    let (status, body) = token_at(&t.url("/oidc/token"), &form, None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    t.stop().await;
}

#[tokio::test]
async fn public_clients_rotate_refresh_tokens_and_reuse_revokes_the_grant() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let code = code_for(&mut b, &w, &w.spa, "").await;
    let (status, tokens) = exchange_public(&t.url(""), &w.spa, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let (url, spa) = (t.url("/oidc/token"), w.spa.clone());
        async move {
            token_at(&url, &[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", &spa)], None)
                .await
        }
    };
    let (status, second) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{second}");
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "public clients rotate on every use");
    let (status, reused) = refresh(first).await;
    assert_eq!((status, reused["error"].as_str()), (400, Some("invalid_grant")));
    let (_, after) = refresh(second).await;
    assert_eq!(after["error"], "invalid_grant", "reuse of a rotated-out token revokes the whole grant");

    // rotateRefreshToken=false keeps the token.
    let (status, _) = t
        .api(
            Method::PATCH,
            &format!("/api/applications/{}", w.spa),
            Some(json!({"customClientMetadata": {"rotateRefreshToken": false}})),
        )
        .await;
    assert_eq!(status, 200);
    let code = code_for(&mut b, &w, &w.spa, "").await;
    let (_, tokens) = exchange_public(&t.url(""), &w.spa, &code).await;
    let kept = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(kept.clone()).await.1["refresh_token"], kept.as_str());
    t.stop().await;
}

#[tokio::test]
async fn authorization_errors_are_shown_or_redirected_as_the_spec_says() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let page = |r: &Reply| r.status == 400 && r.location.is_none() && r.text.contains("<html");

    let r = b.get("/oidc/auth?client_id=nope&redirect_uri=https://app.test/callback&response_type=code").await;
    assert!(page(&r), "unknown client: an error page, not a redirect ({})", r.status);
    let r = b.get(&auth_url(&w.app, "").replace(&urlencode(REDIRECT), &urlencode("https://evil.test/callback"))).await;
    assert!(page(&r) && r.text.contains("invalid_redirect_uri"));
    let r =
        b.get(&auth_url(&w.app, "").replace(&urlencode(REDIRECT), &urlencode("https://app.test/callback?x=1"))).await;
    assert!(page(&r), "an added query is another URI");

    let expect = |r: &Reply, error: &str| {
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(r.location.as_deref().unwrap().starts_with(REDIRECT), "{:?}", r.location);
        assert_eq!(r.param("error").as_deref(), Some(error), "{:?}", r.location);
        assert_eq!(r.param("iss"), Some(t.url("/oidc")));
    };
    expect(
        &b.get(&auth_url(&w.app, "").replace("response_type=code", "response_type=token")).await,
        "unsupported_response_type",
    );
    let no_pkce = auth_url(&w.spa, "")
        .replace(&format!("&code_challenge={}&code_challenge_method=S256", challenge(VERIFIER)), "");
    expect(&b.get(&no_pkce).await, "invalid_request");
    expect(
        &b.get(&auth_url(&w.app, "").replace("code_challenge_method=S256", "code_challenge_method=plain")).await,
        "invalid_request",
    );
    expect(&b.get(&auth_url(&w.app, "&resource=https://unknown.test")).await, "invalid_target");
    expect(&b.get(&auth_url(&w.app, "&prompt=none").replace("&prompt=consent", "")).await, "login_required");
    expect(&b.get(&auth_url(&w.app, "&prompt=none%20login").replace("&prompt=consent", "")).await, "invalid_request");

    // Signed in once, the session signs in silently; prompt=login asks again.
    let code = code_for(&mut b, &w, &w.app, "").await;
    assert!(!code.is_empty());
    let r = b.get(&auth_url(&w.app, "&prompt=none").replace("&prompt=consent", "")).await;
    assert!(r.param("code").is_some(), "{:?}", r.location);
    let r = b.get(&auth_url(&w.app, "").replace("prompt=consent", "prompt=login")).await;
    assert!(r.location.as_deref().unwrap().starts_with("/sign-in"));
    // Without prompt=consent there is no offline_access and so no refresh token.
    let r = b.get(&auth_url(&w.app, "").replace("&prompt=consent", "")).await;
    let (_, tokens) = exchange(&t.url(""), &w, &r.param("code").unwrap(), &[]).await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");

    // Logout: confirmation form, then the session is gone.
    let r = b
        .get(&format!(
            "/oidc/session/end?client_id={}&post_logout_redirect_uri={}",
            w.app,
            urlencode("https://evil.test/")
        ))
        .await;
    assert!(page(&r), "unregistered post-logout URI");
    let r = b.get(&format!("/oidc/session/end?client_id={}", w.app)).await;
    assert_eq!(r.status, 200);
    let xsrf = r.text.split(r#"name="xsrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let forged = b
        .send(
            Method::POST,
            "/oidc/session/end/confirm",
            None,
            Some(&[("logout", "yes"), ("xsrf", "forged"), ("client_id", &w.app)]),
        )
        .await;
    assert_eq!(forged.status, 400);
    let r = b
        .send(
            Method::POST,
            "/oidc/session/end/confirm",
            None,
            Some(&[("logout", "yes"), ("xsrf", &xsrf), ("client_id", &w.app)]),
        )
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/oidc/session/end/success")));
    assert!(!b.jar.contains_key("_session"));
    t.stop().await;
}

#[tokio::test]
async fn experience_api_refuses_what_it_should() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let r = b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.not_found")));

    b.get(&auth_url(&w.app, "")).await;
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("session.interaction_not_found")));
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let r = b.api(Method::PUT, "", Some(json!({"interactionEvent": "Nope"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")));
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("session.identifier_not_found")));
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")));
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": "nope"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("session.verification_session_not_found")));

    let verify =
        |user: &str, password: &str| json!({"identifier": {"type": "username", "value": user}, "password": password});
    let wrong = b.api(Method::POST, "/verification/password", Some(verify("alice", "wrong-password"))).await;
    let unknown = b.api(Method::POST, "/verification/password", Some(verify("nobody", "wrong-password"))).await;
    assert_eq!((wrong.status, wrong.json()["code"].as_str()), (422, Some("session.invalid_credentials")));
    assert_eq!(wrong.text, unknown.text, "no hint whether the account exists");
    let email = json!({"identifier": {"type": "email", "value": "a@b.io"}, "password": "x"});
    let r = b.api(Method::POST, "/verification/password", Some(email)).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.sign_in_method_not_enabled")));

    // Registration: taken username, weak password, then a real one (201 creates the user).
    assert_eq!(
        b.api(Method::PUT, "/interaction-event", Some(json!({"interactionEvent": "Register"}))).await.status,
        204
    );
    let r = b.api(Method::POST, "/profile", Some(json!({"type": "username", "value": "alice"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.username_already_in_use")));
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("user.missing_profile")));
    assert_eq!(r.json()["data"]["missingProfile"], json!(["username", "password"]));
    assert_eq!(b.api(Method::POST, "/profile", Some(json!({"type": "username", "value": "bob"}))).await.status, 204);
    let r = b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "123456aA"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("password.rejected")));
    assert_eq!(
        b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "Bob-is-a-good-builder-7"})))
            .await
            .status,
        204
    );
    let state = b.api(Method::GET, "/interaction", None).await;
    assert_eq!(state.json()["profile"], json!({"username": "bob"}), "no password hash leaves the server");
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({}))).await.status, 201);
    let next = b.api(Method::POST, "/submit", None).await.json()["redirectTo"].as_str().unwrap().to_owned();
    assert!(b.follow(next).await.param("code").is_some());

    // signInMode Register: no sign-in.
    let (status, _) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"signInMode": "Register"}))).await;
    assert_eq!(status, 200);
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    let r = b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("auth.forbidden")));
    t.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_an_identifier_out() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let (status, _) = t
        .api(
            Method::PATCH,
            "/api/sign-in-exp",
            Some(json!({"sentinelPolicy": {"maxAttempts": 3, "lockoutDuration": 5}})),
        )
        .await;
    assert_eq!(status, 200);
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    let attempt = |password: &str| json!({"identifier": {"type": "username", "value": "ALICE"}, "password": password});
    for _ in 0..2 {
        assert_eq!(b.api(Method::POST, "/verification/password", Some(attempt("bad"))).await.status, 422);
    }
    let r = b.api(Method::POST, "/verification/password", Some(attempt("bad"))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.verification_blocked_too_many_attempts")));
    let r = b.api(Method::POST, "/verification/password", Some(attempt(&w.password))).await;
    assert_eq!(r.json()["code"], "session.verification_blocked_too_many_attempts", "even the right password waits");
    // Another identifier is not affected.
    let r = b
        .api(
            Method::POST,
            "/verification/password",
            Some(json!({"identifier": {"type": "username", "value": "zed"}, "password": "x"})),
        )
        .await;
    assert_eq!(r.json()["code"], "session.invalid_credentials");
    t.stop().await;
}

#[tokio::test]
async fn suspension_and_terms_are_enforced_on_the_server() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let code = code_for(&mut b, &w, &w.app, "").await;
    let (_, tokens) = exchange(&t.url(""), &w, &code, &[]).await;
    let (status, _) = t
        .api(Method::PATCH, &format!("/api/users/{}/is-suspended", w.user_id), Some(json!({"isSuspended": true})))
        .await;
    assert_eq!(status, 200);
    let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    assert_eq!(token_at(&t.url("/oidc/token"), &form, Some((&w.app, &w.secret))).await.1["error"], "invalid_grant");
    let r = b.get(&auth_url(&w.app, "&prompt=none").replace("&prompt=consent", "")).await;
    assert_eq!(r.param("error").as_deref(), Some("login_required"), "the session ended with the suspension");
    b.get(&auth_url(&w.app, "")).await;
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    let r = b
        .api(
            Method::POST,
            "/verification/password",
            Some(json!({"identifier": {"type": "username", "value": "alice"}, "password": w.password})),
        )
        .await;
    assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("user.suspended")));

    let sie = json!({"termsOfUseUrl": "https://app.test/terms", "agreeToTermsPolicy": "ManualRegistrationOnly"});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(sie)).await.0, 200);
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "Register"}))).await;
    b.api(Method::POST, "/profile", Some(json!({"type": "username", "value": "carol"}))).await;
    b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "Carol-sings-loud-99"}))).await;
    let r = b.api(Method::POST, "/identification", Some(json!({}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (422, Some("session.terms_not_agreed")));
    assert_eq!(b.api(Method::PUT, "/terms-agreement", None).await.status, 204);
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({}))).await.status, 201);
    t.stop().await;
}

#[tokio::test]
async fn hosted_forms_sign_in_and_register_without_javascript() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let r = b.get("/sign-in").await;
    assert_eq!(r.status, 400, "no interaction, no form");
    let r = b.get(&auth_url(&w.app, "&ui_locales=zh-TW")).await;
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"<html lang="zh-TW">"#) && page.text.contains("登入"));
    let csrf = page.text.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let forged = b
        .send(
            Method::POST,
            "/sign-in",
            None,
            Some(&[("csrf", "x"), ("identifier", "alice"), ("password", &w.password)]),
        )
        .await;
    assert_eq!(forged.status, 403);
    let wrong = b
        .send(Method::POST, "/sign-in", None, Some(&[("csrf", &csrf), ("identifier", "alice"), ("password", "nope")]))
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text.contains(r#"role="alert""#));
    let ok = b
        .send(
            Method::POST,
            "/sign-in",
            None,
            Some(&[("csrf", &csrf), ("identifier", "alice"), ("password", &w.password)]),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert!(b.follow(ok.location.unwrap()).await.param("code").is_some());

    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "&first_screen=register")).await;
    assert!(r.location.as_deref().unwrap().starts_with("/register"));
    let page = b.get(r.location.as_deref().unwrap()).await;
    let csrf = page.text.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let pw = "Dave-plays-bass-31";
    let mismatch = b
        .send(
            Method::POST,
            "/register",
            None,
            Some(&[("csrf", &csrf), ("username", "dave"), ("password", pw), ("confirm_password", "other")]),
        )
        .await;
    assert_eq!(mismatch.status, 400);
    let ok = b
        .send(
            Method::POST,
            "/register",
            None,
            Some(&[("csrf", &csrf), ("username", "dave"), ("password", pw), ("confirm_password", pw)]),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert!(b.follow(ok.location.unwrap()).await.param("code").is_some());
    let (_, users) = t.api(Method::GET, "/api/users?search=dave", None).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    t.stop().await;
}
