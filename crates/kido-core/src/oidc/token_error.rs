//! The token endpoint's errors (RFC 6749 §5.2), shared by every grant, client
//! authentication and the organization checks.

use thiserror::Error;

use crate::storage::StorageError;

/// RFC 6749 §5.2 errors (plus RFC 8707 `invalid_target`).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidTarget(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnsupportedTokenType(String),
    /// The client or user may not have what was asked (e.g. not an organization member).
    #[error("{0}")]
    AccessDenied(String),
    /// The refresh token lacks a scope the request needs (RFC 6750 §3.1).
    #[error("{0}")]
    InsufficientScope(String),
    #[error("{0}")]
    ServerError(String),
    /// Storage cannot take writes for now (disk full); RFC 6749's `temporarily_unavailable`.
    #[error("{0}")]
    TemporarilyUnavailable(String),
}

impl TokenError {
    /// The RFC 6749 `error` value.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidTarget(_) => "invalid_target",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::AccessDenied(_) => "access_denied",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::ServerError(_) => "server_error",
            Self::TemporarilyUnavailable(_) => "temporarily_unavailable",
        }
    }
}

/// A storage failure as the token endpoint reports it: `temporarily_unavailable` while the
/// disk is full, `server_error` otherwise (the cause is logged, never sent).
pub(crate) fn server_error(e: impl Into<StorageError>) -> TokenError {
    let e = e.into();
    if let StorageError::Full(_) = e {
        tracing::error!(error = %e, "the database's disk is full: free disk space");
        return TokenError::TemporarilyUnavailable(crate::STORAGE_FULL_MESSAGE.into());
    }
    tracing::error!(error = %e, "token endpoint storage failure");
    TokenError::ServerError("the server could not complete the request".into())
}
