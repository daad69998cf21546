//! Request extractors: the tenant's state, Management API authorisation, JSON bodies and
//! query strings, each failing with the Logto error the client expects.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use kido_core::account::AccountCaller;
use kido_core::oidc::ManagementAuthError;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::errors::ApiError;
use crate::state::AppState;

/// The bearer token of the `Authorization` header, or Logto's 401 for a missing header or
/// another scheme.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.authorization_header_missing",
            "Authorization header is missing.",
        ));
    };
    let token = header.to_str().ok().and_then(|h| h.strip_prefix("Bearer ")).map(str::trim).filter(|t| !t.is_empty());
    token.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.authorization_token_type_not_supported",
            "Authorization type is not supported.",
        )
        .with_data(json!({"supportedTypes": ["Bearer"]}))
    })
}

/// The header naming a verification record that proves the user's identity.
pub const VERIFICATION_ID_HEADER: &str = "logto-verification-id";

/// The signed-in user an Account or Verification API request speaks for: an opaque access
/// token with `openid` (checked as userinfo checks it), the account center on, and whether
/// `logto-verification-id` proves the user's identity.
pub struct AccountAuth(pub AccountCaller);

impl<S> FromRequestParts<S> for AccountAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let token = bearer_token(parts)?;
        let verification_id = parts.headers.get(VERIFICATION_ID_HEADER).and_then(|v| v.to_str().ok());
        Ok(Self(app.core.account().authenticate(&app.tenant.context, token, verification_id).await?))
    }
}

/// Proof that the request carries a valid Management API token (scope `all`) of this
/// tenant. Checked in memory: signature, issuer, audience, expiry.
pub struct ManagementScope;

impl<S> FromRequestParts<S> for ManagementScope
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let token = bearer_token(parts)?;
        match app.core.management_auth().verify(&app.tenant.context, token) {
            Ok(claims) => {
                let caller = claims.get("client_id").or_else(|| claims.get("sub")).and_then(|v| v.as_str());
                crate::events::note_management_caller(app.tenant.id(), caller.unwrap_or_default());
                Ok(ManagementScope)
            }
            Err(ManagementAuthError::Forbidden) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "Forbidden. Please check your user roles and permissions.",
            )),
            Err(ManagementAuthError::Unauthorized(why)) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.unauthorized",
                "Unauthorized. Please check credentials and its scope.",
            )
            .with_data(json!({"reason": why.to_string()}))),
            Err(e @ ManagementAuthError::NoKeys) => Err(ApiError::internal(&e)),
        }
    }
}

/// A JSON body; a missing body counts as `{}` (as in Logto), anything unparsable is a 400
/// `guard.invalid_input` saying where.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let declared_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .map(|v| v == "application/json" || v.starts_with("application/") && v.ends_with("+json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request.entity_too_large", e.body_text())
            }
            _ => ApiError::invalid_input("body", e.body_text()),
        })?;
        let empty = bytes.iter().all(u8::is_ascii_whitespace);
        // A body is JSON only when it says so: `text/plain` (what a cross-site form can
        // send without a preflight) is never parsed as JSON.
        if !empty && declared_json != Some(true) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
                "The request body must be JSON, sent with `Content-Type: application/json`.",
            ));
        }
        let bytes: &[u8] = if empty { b"{}" } else { &bytes };
        if let Some(literal) = inexact_integer(bytes) {
            return Err(ApiError::invalid_input(
                "body",
                format!("the integer {literal} is too large to keep exactly; send it as a string"),
            ));
        }
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_input("body", e.to_string()))?;
        if let Some(path) = nul_in(&json, String::new()) {
            return Err(ApiError::invalid_input(
                "body",
                format!("Error in key path \"{path}\": NUL characters are not allowed"),
            ));
        }
        let value = serde_path_to_error::deserialize(crate::strict_json::Strict(json)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let details =
                if path == "." { inner.to_string() } else { format!("Error in key path \"{path}\": {inner}") };
            ApiError::invalid_input("body", details)
        })?;
        Ok(ApiJson(value))
    }
}

/// The first integer literal outside strings that does not fit 64 bits: serde_json would
/// silently turn it into a float (losing digits), so it is refused instead.
fn inexact_integer(json: &[u8]) -> Option<String> {
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < json.len() && matches!(json[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                i += 1;
            }
            let literal = std::str::from_utf8(&json[start..i]).unwrap_or_default();
            let integer = !literal.contains(['.', 'e', 'E']);
            if integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                return Some(literal.chars().take(64).collect());
            }
            continue;
        }
        i += 1;
    }
    None
}

/// Where a NUL character hides in a JSON document (databases cannot store it in text).
fn nul_in(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() { ".".into() } else { path }),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| nul_in(v, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.contains('\0') { Some(here) } else { nul_in(v, here) }
        }),
        _ => None,
    }
}

/// The raw query string as decoded pairs, keeping repeated keys (`types=a&types=b`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A non-empty string parameter.
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// An enumerated parameter given at most once; an unknown value is a 400.
    pub fn one_of<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
        let mut values = self.all(key);
        let Some(value) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(ApiError::invalid_input("query", format!("`{key}` may be given once")));
        }
        parse(value).map(Some).ok_or_else(|| ApiError::invalid_input("query", format!("`{key}` `{value}` is unknown")))
    }

    /// A boolean parameter: absent, `true` or `false`; anything else is a 400.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(other) => Err(ApiError::invalid_input(
                "query",
                format!("`{key}` must be `true` or `false` (or `1`/`0`), got `{other}`"),
            )),
        }
    }

    /// `search` (or `search.<field>`) as one substring to look for, `%` wildcards removed.
    pub fn search(&self) -> Option<String> {
        self.0
            .iter()
            .find(|(k, v)| (k == "search" || k.starts_with("search.")) && !v.is_empty())
            .map(|(_, v)| v.trim_matches('%').to_owned())
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(ApiError::invalid_input("query", "NUL characters are not allowed"));
        }
        Ok(QueryPairs(pairs))
    }
}

/// Path parameters; a malformed one is a 400 `guard.invalid_input` (params).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.path().contains("%00") {
            return Err(ApiError::invalid_input("params", "NUL characters are not allowed"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::invalid_input("params", e.body_text()))
    }
}

/// The client's address: the connection's peer, or the first `X-Forwarded-For` entry when
/// the operator said a proxy in front sets it (`trust_proxy_header`).
pub struct ClientIp(pub Option<String>);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        if app.tenant.trust_proxy_header
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        {
            return Ok(Self(Some(ip.to_string())));
        }
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Self(peer.map(|c| c.0.ip().to_string())))
    }
}

/// The first language tag of `Accept-Language`, for the message a code goes out in (used
/// by the Experience API and the hosted pages alike).
pub fn first_language(headers: &axum::http::HeaderMap) -> Option<String> {
    let header = headers.get(axum::http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let tag = header.split(',').next()?.split(';').next()?.trim();
    (!tag.is_empty() && tag != "*" && tag.len() <= 16).then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::inexact_integer;

    #[test]
    fn integers_beyond_64_bits_are_found_outside_strings() {
        assert_eq!(inexact_integer(br#"{"a": 18446744073709551615, "b": -9223372036854775808}"#), None);
        assert_eq!(inexact_integer(br#"{"a": 1.5e300, "s": "123456789012345678901234567890"}"#), None);
        assert_eq!(
            inexact_integer(br#"{"a": "x\"", "b": [123456789012345678901234567890]}"#).as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(inexact_integer(br#"{"a": -18446744073709551616}"#).as_deref(), Some("-18446744073709551616"));
    }
}
