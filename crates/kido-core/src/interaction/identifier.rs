//! What a user signs in with: a username, an email address or a phone number.

use kido_proto::sign_in_experience::SignInIdentifier;
use kido_store::users::SignInIdentifier as StoreIdentifier;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentifierType {
    Username,
    Email,
    Phone,
}

impl IdentifierType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }

    pub fn sign_in(self) -> SignInIdentifier {
        match self {
            Self::Username => SignInIdentifier::Username,
            Self::Email => SignInIdentifier::Email,
            Self::Phone => SignInIdentifier::Phone,
        }
    }

    pub(crate) fn store(self) -> StoreIdentifier {
        match self {
            Self::Username => StoreIdentifier::Username,
            Self::Email => StoreIdentifier::Email,
            Self::Phone => StoreIdentifier::Phone,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    pub value: String,
}

impl Identifier {
    /// The identifier as users are stored under it: a phone number normalized as the
    /// Management API stores it (one that is not a number is kept, and matches nobody).
    /// Each step taking an identifier from a client applies it once, on entry.
    pub fn canonical(self) -> Self {
        match self.kind {
            IdentifierType::Phone => {
                Self { value: crate::identifiers::normalize_phone(&self.value).unwrap_or(self.value), ..self }
            }
            IdentifierType::Username | IdentifierType::Email => self,
        }
    }
}
