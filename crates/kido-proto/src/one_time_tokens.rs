//! One-time tokens (Logto's magic links): `/api/one-time-tokens` and the Experience API's
//! `verification/one-time-token/verify`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a token stands. An `active` token past its `expiresAt` reads as `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OneTimeTokenStatus {
    Active,
    Consumed,
    Revoked,
    Expired,
}

impl OneTimeTokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Consumed => "consumed",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Consumed, Self::Revoked, Self::Expired].into_iter().find(|t| t.as_str() == s)
    }
}

/// The interaction event a token is meant for (Logto's `InteractionEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OneTimeTokenEvent {
    SignIn,
    Register,
    ForgotPassword,
}

/// What a token carries besides the email it was issued for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeTokenContext {
    /// Organizations the user joins (with their default JIT roles) when signing in or
    /// registering with this token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jit_organization_ids: Option<Vec<String>>,
    /// The interaction event the token is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_event: Option<OneTimeTokenEvent>,
}

/// A one-time token. `token` is present only in the answer that creates it (Kido keeps a
/// digest, never the token itself) and in the answer of a verification, which echoes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeToken {
    pub tenant_id: String,
    pub id: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub context: OneTimeTokenContext,
    pub status: OneTimeTokenStatus,
    pub created_at: i64,
    pub expires_at: i64,
}

/// `POST /api/one-time-tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOneTimeToken {
    /// The email address the token is issued for.
    #[schema(max_length = 256)]
    pub email: String,
    /// Seconds until the token expires (default 600).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31536000)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub context: Option<OneTimeTokenContext>,
}

/// `POST /api/one-time-tokens/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOneTimeToken {
    pub token: String,
    pub email: String,
}

/// `PUT /api/one-time-tokens/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeTokenStatusBody {
    pub status: OneTimeTokenStatus,
}
