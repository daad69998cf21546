//! What a WebAuthn response can be refused for.

use thiserror::Error;

use super::authenticator_data;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebAuthnError {
    #[error("malformed WebAuthn response: {0}")]
    Malformed(&'static str),
    #[error("the client data is not of this ceremony")]
    Type,
    #[error("the response does not answer the challenge issued")]
    Challenge,
    #[error("the response comes from another origin")]
    Origin,
    #[error("the authenticator signed for another relying party")]
    RpId,
    #[error("the user was not present")]
    UserNotPresent,
    #[error("the user could not be verified")]
    UserNotVerified,
    #[error("the credential's key type or algorithm is not supported")]
    UnsupportedKey,
    #[error("the attestation format is not supported")]
    UnsupportedFormat,
    #[error("the signature does not verify")]
    Signature,
    #[error("the response names another credential")]
    CredentialMismatch,
    #[error("the signature counter did not move forward: the authenticator may be cloned")]
    Counter,
}

impl From<authenticator_data::DataError> for WebAuthnError {
    fn from(e: authenticator_data::DataError) -> Self {
        match e {
            authenticator_data::DataError::Malformed => Self::Malformed("authenticator data"),
            authenticator_data::DataError::UnsupportedKey => Self::UnsupportedKey,
        }
    }
}
