//! What goes wrong in the Account and Verification APIs, in Logto's terms.

use kido_proto::sign_in_experience::PasswordIssue;
use thiserror::Error;

use crate::connectors::ConnectorError;
use crate::mfa::MfaError;
use crate::oidc::user_sessions::UserSessionError;
use crate::storage::{self, StorageError};
use crate::users::UserError;
use crate::verification_codes::CodeError;

#[derive(Debug, Error)]
pub enum AccountError {
    #[error("the access token is missing, unknown or expired")]
    InvalidToken,
    #[error("the access token lacks the `openid` scope")]
    NoOpenId,
    #[error("the account center is not enabled")]
    NotEnabled,
    #[error("the account center does not let this field be changed")]
    FieldNotEditable,
    #[error("the account center does not let this field be read")]
    FieldNotEnabled,
    /// A scope the route needs is missing; `explicit` routes answer 401, the others 400 (Logto).
    #[error("the access token lacks a scope this needs")]
    MissingScope { explicit: bool },
    #[error("this change needs a verified record in `logto-verification-id`")]
    PermissionDenied,
    #[error("third-party applications cannot change accounts")]
    ThirdPartyApplication,
    #[error("no such verification record")]
    RecordNotFound,
    #[error("the user has no backup codes")]
    BackupCodesNotFound,
    #[error("this second factor is not enabled in the sign-in experience")]
    FactorNotEnabled,
    #[error("the TOTP secret is not valid base32")]
    TotpSecretInvalid,
    #[error("backup codes must be {0}")]
    BackupCodeFormat(String),
    #[error("the email address is the only sign-up identifier")]
    EmailRequired,
    #[error("the phone number is the only sign-up identifier")]
    PhoneRequired,
    #[error("an email address or phone number is required")]
    EmailOrPhoneRequired,
    #[error("no provider token set is stored for this identity")]
    TokenSetNotFound,
    #[error("no such social connector")]
    ConnectorNotFound,
    #[error("the password does not meet the policy")]
    PasswordRejected(Vec<PasswordIssue>),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Sessions(#[from] UserSessionError),
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("{0}")]
    WebAuthn(String),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(AccountError);

pub type Result<T> = std::result::Result<T, AccountError>;
