//! `/oidc/*`: discovery, JWKS and the token endpoint.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kido_core::oidc::keys::KeyRing;
use kido_core::oidc::{ClientCredentialsRequest, ClientSecretPresented, TokenError};
use kido_proto::oauth::TokenResponse;
use serde_json::json;

use crate::errors::{ApiError, OAuthError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oidc/.well-known/openid-configuration", get(discovery))
        .route("/oidc/.well-known/oauth-authorization-server", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/token", post(token))
}

/// The discovery document for a tenant, rendered once at start. Lists what Kido serves.
pub fn render_discovery(issuer: &str, keys: &KeyRing) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/me"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": keys.algorithms(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "offline_access", "profile", "email", "phone", "custom_data", "identities", "roles"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
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
    let ring =
        app.core.key_ring(&app.tenant.context.id).ok_or_else(|| ApiError::internal(&"no signing keys loaded"))?;
    Ok(json_bytes(ring.jwks_json.clone(), "application/jwk-set+json; charset=utf-8"))
}

/// `POST /oidc/token` (RFC 6749 §3.2), form-encoded.
async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let form = TokenForm::parse(&headers, &body)?;
    let grant_type = form
        .single("grant_type")?
        .ok_or_else(|| TokenError::InvalidRequest("missing required parameter 'grant_type'".into()))?;
    let credentials = client_credentials(&headers, &form)?;
    let issued = match grant_type {
        "client_credentials" => {
            let request = ClientCredentialsRequest {
                resources: form.all("resource"),
                scope: form.single("scope")?.map(str::to_owned),
            };
            app.core.oidc().client_credentials(&app.tenant.context, &credentials, &request).await?
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
    };
    Ok(([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(body)).into_response())
}

struct TokenForm(Vec<(String, String)>);

impl TokenForm {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, TokenError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(TokenError::InvalidRequest(
                "only application/x-www-form-urlencoded content-type bodies are supported".into(),
            ));
        }
        Ok(Self(url::form_urlencoded::parse(body).into_owned().collect()))
    }

    /// A parameter that may appear at most once (RFC 6749 §3.2); empty counts as absent.
    fn single(&self, key: &str) -> Result<Option<&str>, TokenError> {
        let mut values = self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(TokenError::InvalidRequest(format!("'{key}' parameter must not be provided twice")));
        }
        Ok(first)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.clone()).collect()
    }
}

/// Client authentication: `client_secret_basic` or `client_secret_post`, never both.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Result<ClientSecretPresented, TokenError> {
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
            return Err(TokenError::InvalidRequest("mismatch in body and authorization client ids".into()));
        }
        return Ok(ClientSecretPresented { client_id: id, client_secret: secret });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => {
            Ok(ClientSecretPresented { client_id: id.to_owned(), client_secret: secret.to_owned() })
        }
        (Some(_), None) => Err(TokenError::InvalidClient(
            "client authentication failed: this client must authenticate with its secret".into(),
        )),
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
