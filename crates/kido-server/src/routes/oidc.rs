//! `/oidc/*`: discovery, JWKS, the authorization endpoint and its resume step, the token
//! endpoint (client_credentials, authorization_code, refresh_token), userinfo,
//! introspection, revocation and RP-initiated logout.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kido_core::oidc::authorize::{AuthorizeOutcome, INTERACTION_TTL_MS, PageError, ResumeOutcome, SESSION_TTL_MS};
use kido_core::oidc::grants::{CodeRequest, RefreshRequest, TokenSet};
use kido_core::oidc::issued_tokens::UserinfoError;
use kido_core::oidc::keys::KeyRing;
use kido_core::oidc::logout::LogoutRequest;
use kido_core::oidc::params::{self, Charset, Params};
use kido_core::oidc::{ClientAuth, ClientCredentialsRequest, TokenError};
use kido_proto::oauth::{OAuthErrorBody, TokenResponse};
use serde_json::json;

use crate::cookies;
use crate::errors::{ApiError, OAuthError};
use crate::extract::ClientIp;
use crate::interaction_cookie::InteractionMap;
use crate::pages;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oidc/.well-known/openid-configuration", get(discovery))
        .route("/oidc/.well-known/oauth-authorization-server", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/auth", get(authorize_get).post(authorize_post))
        .route("/oidc/auth/{uid}", get(resume))
        .route("/oidc/token", post(token))
        .route("/oidc/me", get(userinfo_get).post(userinfo_post))
        .route("/oidc/token/introspection", post(introspection))
        .route("/oidc/token/revocation", post(revocation))
        .route("/oidc/session/end", get(end_session_get).post(end_session_post))
        .route("/oidc/session/end/confirm", post(end_session_confirm))
        .route("/oidc/session/end/success", get(end_session_success))
        .method_not_allowed_fallback(unrecognized)
}

/// Any other `/oidc/*` request, or a method a route does not take: 404 in the OAuth error
/// format, naming the method and the path under the issuer (as oidc-provider does).
pub(super) async fn unrecognized(method: Method, uri: Uri) -> Response {
    let path = uri.path().strip_prefix("/oidc").filter(|p| !p.is_empty()).unwrap_or("/");
    let path: String = path.chars().take(256).collect();
    let body = OAuthErrorBody {
        error: "invalid_request".into(),
        error_description: format!("unrecognized route or not allowed method ({method} on {path})"),
        code: "oidc.invalid_request".into(),
        message: "Request is invalid.".into(),
    };
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// The discovery document for a tenant, rendered once at start. Lists what Kido serves.
pub fn render_discovery(issuer: &str, keys: &KeyRing) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/me"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "revocation_endpoint": format!("{issuer}/token/revocation"),
        "introspection_endpoint": format!("{issuer}/token/introspection"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": keys.algorithms(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": kido_core::oidc::claims::OIDC_SCOPES,
        // The claims Kido issues by scope (`claims.rs`); like Logto, not the JWT's own
        // `aud`, `exp`, `iat`, `nonce`, `at_hash`.
        "claims_supported": [
            "sub", "iss", "auth_time", "sid", "name", "family_name",
            "given_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website",
            "gender", "birthdate", "zoneinfo", "locale", "updated_at", "username", "created_at", "email",
            "email_verified", "phone_number", "phone_number_verified", "address", "custom_data", "identities",
            "sso_identities", "roles", "organizations", "organization_data", "organization_roles"
        ],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
    })
    .to_string()
}

fn json_bytes(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

async fn discovery(State(app): State<AppState>) -> Response {
    json_bytes(app.tenant.discovery_json.clone(), "application/json; charset=utf-8")
}

async fn jwks(State(app): State<AppState>) -> Result<Response, ApiError> {
    let ring = app.core.key_ring(app.tenant.id()).ok_or_else(|| ApiError::internal(&"no signing keys loaded"))?;
    Ok(json_bytes(ring.jwks_json.clone(), "application/jwk-set+json; charset=utf-8"))
}

/// The parameters of a query or form, bounded in size (`params::parse`).
fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, PageError> {
    params::parse(raw).map_err(|d| PageError { error: "invalid_request", description: d })
}

/// `303 See Other` to `location`, with extra `Set-Cookie` headers.
fn see_other(location: &str, set_cookies: Vec<HeaderValue>) -> Response {
    let mut response = Redirect::to(location).into_response();
    for c in set_cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Kido's error page for a request that cannot go back to the client.
async fn page_error(app: &AppState, headers: &HeaderMap, query: &[(String, String)], e: PageError) -> Response {
    let ui_locales = query.iter().find(|(k, _)| k == "ui_locales").map(|(_, v)| v.as_str());
    let status = match e.error {
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        PageError::TOO_MANY_PENDING => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    pages::error_page(app, headers, ui_locales, status, e.error, &e.description).await
}

async fn authorize_get(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(app, headers, ip, query.unwrap_or_default().as_bytes()).await
}

/// OIDC Core §3.1.2.1: the authorization endpoint also takes a form POST. A body that
/// cannot be read, or repeats a parameter, is answered in JSON as Logto does.
async fn authorize_post(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = match params::parse_form(&body, Charset::Utf8) {
        Ok(query) => query,
        Err(e) => return OAuthError(TokenError::InvalidRequest(e)).into_response(),
    };
    if let Some(key) = params::duplicated(&query) {
        let e = TokenError::InvalidRequest(format!("'{key}' parameter must not be provided twice"));
        return OAuthError(e).into_response();
    }
    authorize_with(app, headers, ip, query).await
}

async fn authorize(app: AppState, headers: HeaderMap, ip: Option<String>, raw: &[u8]) -> Response {
    match pairs(raw) {
        Ok(query) => authorize_with(app, headers, ip, query).await,
        Err(e) => page_error(&app, &headers, &[], e).await,
    }
}

async fn authorize_with(
    app: AppState,
    headers: HeaderMap,
    ip: Option<String>,
    query: Vec<(String, String)>,
) -> Response {
    let session = session_cookie(&app, &headers);
    match app.core.authorization().authorize(&app.tenant.context, &query, session, ip.as_deref()).await {
        Ok(AuthorizeOutcome::Redirect(location)) => see_other(&location, vec![]),
        Ok(AuthorizeOutcome::SignIn { interaction_cookie, client_id, location }) => {
            // Beside the sign-ins other clients have pending in this browser.
            let map = InteractionMap::from_headers(&headers).start(&client_id, &interaction_cookie);
            see_other(&location, vec![interaction_cookie_header(&app, &map)])
        }
        Err(e) => page_error(&app, &headers, &query, e).await,
    }
}

/// `GET /oidc/auth/{uid}`: back from the sign-in, then back from `/consent`.
async fn resume(State(app): State<AppState>, headers: HeaderMap, Path(uid): Path<String>) -> Response {
    let map = InteractionMap::from_headers(&headers);
    let session = session_cookie(&app, &headers);
    let outcome = match app.core.authorization().resume(&app.tenant.context, &uid, &map.values(), session).await {
        Ok(outcome) => outcome,
        Err(e) => return page_error(&app, &headers, &[], e).await,
    };
    match outcome {
        ResumeOutcome::SignIn { location } => see_other(&location, vec![]),
        ResumeOutcome::Consent { location, session_cookie } => {
            let mut set = set_session(&app, &session_cookie);
            // Logto's clients keep only the cookies this answer sets for the next steps.
            set.push(interaction_cookie_header(&app, &map));
            see_other(&location, set)
        }
        ResumeOutcome::Done { location, session_cookie, client_id } => {
            let mut set = session_cookie.map(|s| set_session(&app, &s)).unwrap_or_default();
            let rest = map.without(&client_id);
            let secure = app.tenant.secure_cookies();
            set.push(if rest.is_empty() {
                cookies::clear(cookies::INTERACTION, secure)
            } else {
                interaction_cookie_header(&app, &rest)
            });
            see_other(&location, set)
        }
    }
}

/// `Set-Cookie` for the interaction cookie holding `map`.
fn interaction_cookie_header(app: &AppState, map: &InteractionMap) -> HeaderValue {
    cookies::set(cookies::INTERACTION, &map.encode(), INTERACTION_TTL_MS / 1000, app.tenant.secure_cookies())
}

/// The browser's `_session` cookie, if its `_session.sig` checks out.
fn session_cookie<'a>(app: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let value = cookies::get(headers, cookies::SESSION)?;
    let sig = cookies::get(headers, cookies::SESSION_SIG)?;
    let key = app.core.cookie_key(app.tenant.id())?;
    key.verify(cookies::SESSION, value, sig).then_some(value)
}

/// `Set-Cookie` for `_session` and its signature `_session.sig`.
fn set_session(app: &AppState, value: &str) -> Vec<HeaderValue> {
    let (secure, max_age) = (app.tenant.secure_cookies(), SESSION_TTL_MS / 1000);
    let mut set = vec![cookies::set(cookies::SESSION, value, max_age, secure)];
    if let Some(key) = app.core.cookie_key(app.tenant.id()) {
        set.push(cookies::set(cookies::SESSION_SIG, &key.sign(cookies::SESSION, value), max_age, secure));
    }
    set
}

/// `POST /oidc/token` (RFC 6749 §3.2), form-encoded (or JSON, as Logto accepts).
async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let form = TokenForm::parse(&headers, &body, "/token")?;
    let grant_type = form
        .single("grant_type")?
        .ok_or_else(|| TokenError::InvalidRequest("missing required parameter 'grant_type'".into()))?;
    let auth = client_auth(&headers, &form)?;
    let tenant = &app.tenant.context;
    let issued = match grant_type {
        "client_credentials" => {
            let request = ClientCredentialsRequest {
                resources: form.all("resource"),
                scope: form.single("scope")?.map(str::to_owned),
                organization_id: form.single("organization_id")?.map(str::to_owned),
            };
            let t = app.core.client_credentials().issue(tenant, &auth, &request).await?;
            TokenSet {
                access_token: t.access_token,
                expires_in: t.expires_in,
                scope: t.scope,
                id_token: None,
                refresh_token: None,
            }
        }
        "authorization_code" => {
            let request = CodeRequest {
                code: form.required("code")?.to_owned(),
                redirect_uri: form.single("redirect_uri")?.map(str::to_owned),
                code_verifier: form.single("code_verifier")?.map(str::to_owned),
                resources: form.all("resource"),
            };
            app.core.user_grants().authorization_code(tenant, &auth, &request).await?
        }
        "refresh_token" => {
            let request = RefreshRequest {
                refresh_token: form.required("refresh_token")?.to_owned(),
                scope: form.single("scope")?.map(str::to_owned),
                resources: form.all("resource"),
                organization_id: form.single("organization_id")?.map(str::to_owned),
            };
            app.core.user_grants().refresh_token(tenant, &auth, &request).await?
        }
        other => {
            return Err(TokenError::UnsupportedGrantType(format!("unsupported grant_type `{other}` requested")).into());
        }
    };
    let body = TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in.max(0) as u64,
        scope: issued.scope,
        id_token: issued.id_token,
        refresh_token: issued.refresh_token,
    };
    Ok(([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(body)).into_response())
}

async fn userinfo_get(State(app): State<AppState>, headers: HeaderMap) -> Response {
    userinfo(app, bearer(&headers)).await
}

/// Userinfo by POST: the token in the `Authorization` header or in the form body (RFC 6750 §2.2).
async fn userinfo_post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = params::parse(&body) else {
        return userinfo_error(&app, StatusCode::BAD_REQUEST, "invalid_request", "the request is too large");
    };
    let from_body = form.into_iter().find(|(k, _)| k == "access_token").map(|(_, v)| v);
    match (bearer(&headers), from_body) {
        (Some(_), Some(_)) => userinfo_error(
            &app,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "access token must only be provided using one mechanism",
        ),
        (header_token, body_token) => userinfo(app, header_token.or(body_token)).await,
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

async fn userinfo(app: AppState, token: Option<String>) -> Response {
    let Some(token) = token else {
        return userinfo_error(&app, StatusCode::UNAUTHORIZED, "invalid_token", "no access token provided");
    };
    match app.core.issued_tokens().userinfo(&app.tenant.context, &token).await {
        Ok(claims) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(claims)).into_response(),
        Err(UserinfoError::InvalidToken(d)) => userinfo_error(&app, StatusCode::UNAUTHORIZED, "invalid_token", d),
        Err(UserinfoError::InsufficientScope(d)) => {
            userinfo_error(&app, StatusCode::FORBIDDEN, "insufficient_scope", d)
        }
        Err(UserinfoError::Server) => ApiError::internal(&"userinfo storage failure").into_response(),
    }
}

/// RFC 6750 §3: the error in `WWW-Authenticate` and, as Logto does, in a JSON body.
fn userinfo_error(app: &AppState, status: StatusCode, error: &str, description: &str) -> Response {
    let message = match error {
        "invalid_token" => "Invalid token provided.",
        "insufficient_scope" => "Access token missing requested scope.",
        _ => "Request is invalid.",
    };
    let body = OAuthErrorBody {
        error: error.to_owned(),
        error_description: description.to_owned(),
        code: format!("oidc.{error}"),
        message: message.to_owned(),
    };
    let challenge = format!(
        "Bearer realm=\"{}\", error=\"{error}\", error_description=\"{description}\"",
        app.tenant.context.issuer
    );
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// `POST /oidc/token/introspection` (RFC 7662).
async fn introspection(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let form = TokenForm::parse(&headers, &body, "/token/introspection")?;
    let auth = client_auth(&headers, &form)?;
    let token = form.required("token")?;
    let answer = app.core.issued_tokens().introspect(&app.tenant.context, &auth, token).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response())
}

/// `POST /oidc/token/revocation` (RFC 7009): 200 with an empty body, known token or not.
async fn revocation(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let form = TokenForm::parse(&headers, &body, "/token/revocation")?;
    let auth = client_auth(&headers, &form)?;
    let token = form.required("token")?;
    app.core.issued_tokens().revoke(&app.tenant.context, &auth, token).await?;
    Ok(StatusCode::OK.into_response())
}

fn logout_request(params: &[(String, String)]) -> LogoutRequest {
    let get = |k: &str| params.iter().find(|(key, v)| key == k && !v.is_empty()).map(|(_, v)| v.clone());
    LogoutRequest {
        client_id: get("client_id"),
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    }
}

async fn end_session_get(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    end_session(app, headers, query.unwrap_or_default().as_bytes()).await
}

async fn end_session_post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    end_session(app, headers, &body).await
}

/// The logout confirmation page (a form posting to `/oidc/session/end/confirm`).
async fn end_session(app: AppState, headers: HeaderMap, raw: &[u8]) -> Response {
    let params = match pairs(raw) {
        Ok(params) => params,
        Err(e) => return page_error(&app, &headers, &[], e).await,
    };
    let request = logout_request(&params);
    let session = session_cookie(&app, &headers);
    match app.core.logout().prompt(&app.tenant.context, &request, session).await {
        Ok(prompt) => pages::logout_page(&app, &headers, &params, &request, &prompt).await,
        Err(e) => page_error(&app, &headers, &params, e).await,
    }
}

async fn end_session_confirm(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match pairs(&body) {
        Ok(params) => params,
        Err(e) => return page_error(&app, &headers, &[], e).await,
    };
    let request = logout_request(&params);
    let value = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    if value("logout") != Some("yes") {
        let e = PageError { error: "invalid_request", description: "logout was not confirmed".into() };
        return page_error(&app, &headers, &params, e).await;
    }
    let session = session_cookie(&app, &headers);
    match app.core.logout().confirm(&app.tenant.context, &request, value("xsrf"), session).await {
        Ok(location) => {
            let secure = app.tenant.secure_cookies();
            see_other(
                &location,
                vec![cookies::clear(cookies::SESSION, secure), cookies::clear(cookies::SESSION_SIG, secure)],
            )
        }
        Err(e) => page_error(&app, &headers, &params, e).await,
    }
}

async fn end_session_success(State(app): State<AppState>, headers: HeaderMap) -> Response {
    pages::signed_out_page(&app, &headers).await
}

struct TokenForm(Vec<(String, String)>);

impl TokenForm {
    /// A form body in its declared charset (UTF-8 by default, read in place), or a JSON
    /// object; `endpoint` (under the issuer) names the route in the refusal of other types.
    fn parse(headers: &HeaderMap, body: &[u8], endpoint: &str) -> Result<Self, TokenError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut parts = content_type.split(';');
        let media_type = parts.next().unwrap_or_default().trim();
        let pairs = if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            let label = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, label)| label);
            let charset = match label {
                None => Charset::Utf8,
                Some(label) => Charset::from_label(label).ok_or_else(|| {
                    let label: String = label.trim().chars().take(32).collect();
                    TokenError::InvalidRequest(format!("unsupported charset \"{label}\""))
                })?,
            };
            params::parse_form(body, charset)
        } else if media_type.eq_ignore_ascii_case("application/json") {
            params::parse_json(body)
        } else {
            return Err(TokenError::InvalidRequest(format!(
                "only application/x-www-form-urlencoded content-type bodies are supported on POST {endpoint}"
            )));
        };
        pairs.map(Self).map_err(TokenError::InvalidRequest)
    }

    /// A parameter that may appear at most once (RFC 6749 §3.2); empty counts as absent.
    fn single(&self, key: &str) -> Result<Option<&str>, TokenError> {
        Params(&self.0).single(key).map_err(TokenError::InvalidRequest)
    }

    fn required(&self, key: &str) -> Result<&str, TokenError> {
        self.single(key)?.ok_or_else(|| TokenError::InvalidRequest(format!("missing required parameter '{key}'")))
    }

    fn all(&self, key: &str) -> Vec<String> {
        Params(&self.0).all(key).into_iter().map(str::to_owned).collect()
    }
}

/// Client authentication: `client_secret_basic` or `client_secret_post` (never both), or
/// `none` (a `client_id` alone, for public clients; the core refuses it for the others).
fn client_auth(headers: &HeaderMap, form: &TokenForm) -> Result<ClientAuth, TokenError> {
    let body_id = form.single("client_id")?;
    let body_secret = form.single("client_secret")?;
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let (id, secret) = parse_basic(auth)
            .ok_or_else(|| TokenError::InvalidRequest("invalid authorization header value format".into()))?;
        if body_secret.is_some() {
            return Err(TokenError::InvalidRequest(
                "client authentication must only be provided using one mechanism".into(),
            ));
        }
        if body_id.is_some_and(|b| b != id) {
            return Err(TokenError::InvalidRequest("client_id mismatch".into()));
        }
        return Ok(ClientAuth::Secret { client_id: id, client_secret: secret });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => {
            Ok(ClientAuth::Secret { client_id: id.to_owned(), client_secret: secret.to_owned() })
        }
        (Some(id), None) => Ok(ClientAuth::None { client_id: id.to_owned() }),
        _ => Err(TokenError::InvalidRequest("no client authentication mechanism provided".into())),
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        let plus_as_space = s.replace('+', "%20");
        Some(url::form_urlencoded::parse(format!("v={plus_as_space}").as_bytes()).next()?.1.into_owned())
    };
    let id = unescape(id)?;
    if id.is_empty() {
        return None;
    }
    Some((id, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        let h = |s: &str| HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(s))).unwrap();
        assert_eq!(parse_basic(&h("app:s3cr%3At")), Some(("app".into(), "s3cr:t".into())));
        assert_eq!(parse_basic(&h("app:a+b")), Some(("app".into(), "a b".into())));
        assert_eq!(parse_basic(&h("no-colon")), None);
        assert_eq!(parse_basic(&h(":secret")), None);
        assert_eq!(parse_basic(&HeaderValue::from_static("Bearer x")), None);
        assert_eq!(parse_basic(&HeaderValue::from_static("Basic !!!")), None);
    }
}
