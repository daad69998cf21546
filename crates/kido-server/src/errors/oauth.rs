//! The OAuth endpoints' errors: RFC 6749 JSON with Logto's `code` and `message`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kido_core::oidc::TokenError;
use kido_proto::oauth::OAuthErrorBody;

pub struct OAuthError(pub TokenError);

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        Self(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let error = self.0.code();
        let status = match &self.0 {
            TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            TokenError::AccessDenied(_) | TokenError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            TokenError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            TokenError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let message = match &self.0 {
            TokenError::InvalidRequest(_) => "Request is invalid.".to_owned(),
            TokenError::InvalidClient(_) => "Client authentication failed.".to_owned(),
            TokenError::UnauthorizedClient(_) => "The client is not allowed to use this grant type.".to_owned(),
            TokenError::UnsupportedGrantType(_) => "Unsupported `grant_type` requested.".to_owned(),
            TokenError::InvalidTarget(_) => "Invalid resource indicator.".to_owned(),
            TokenError::InvalidScope(d) => format!("Invalid scope: {d}."),
            TokenError::InvalidGrant(_) => "Grant request is invalid.".to_owned(),
            TokenError::UnsupportedTokenType(_) => "Unsupported `token_type` requested.".to_owned(),
            TokenError::AccessDenied(_) => "Access denied.".to_owned(),
            TokenError::InsufficientScope(_) => "Insufficient scope for access token.".to_owned(),
            TokenError::ServerError(_) => "An unknown OIDC error occurred. Please try again later.".to_owned(),
            TokenError::TemporarilyUnavailable(d) => d.clone(),
        };
        let body = OAuthErrorBody {
            error: error.to_owned(),
            error_description: self.0.to_string(),
            code: format!("oidc.{error}"),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"kido\""));
        }
        response
    }
}
