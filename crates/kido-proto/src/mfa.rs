//! A user's second factors as the Management API shows and creates them
//! (`/api/users/{userId}/mfa-verifications`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::sign_in_experience::MfaFactor;

/// One bound factor. Secrets and codes are never shown again after creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserMfaVerification {
    pub id: String,
    /// ISO 8601.
    pub created_at: String,
    #[serde(rename = "type")]
    pub kind: MfaFactor,
    /// The authenticator's user agent (WebAuthn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The name the user gave a passkey (WebAuthn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unused codes left (BackupCode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remain_codes: Option<u32>,
}

/// What to bind: a TOTP secret (generated unless given) or a backup-code set (generated
/// unless given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum CreateUserMfaVerification {
    Totp {
        /// Base32, 16–64 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    BackupCode {
        /// Ten codes of ten hex digits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        codes: Option<Vec<String>>,
    },
}

/// The bound factor's secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum CreatedUserMfaVerification {
    #[serde(rename_all = "camelCase")]
    Totp {
        secret: String,
        /// The `otpauth://` URI as a QR code image (data URI).
        secret_qr_code: String,
    },
    BackupCode {
        codes: Vec<String>,
    },
}

/// What a user chose about second factors (Logto's `logto_config`, as
/// `/api/users/{userId}/logto-configs` shows it; stored in this shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserLogtoConfig {
    #[serde(default)]
    pub mfa: UserMfaChoices,
    #[serde(default)]
    pub passkey_sign_in: PasskeySignInChoices,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserMfaChoices {
    /// Whether the user turned two-step verification on (unknown for users who never chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The user declined to bind a factor when a skippable policy asked.
    #[serde(default)]
    pub skipped: bool,
    /// The user asked not to be asked for a second factor at sign-in (ignored under a
    /// policy that cannot be skipped).
    #[serde(default)]
    pub skip_mfa_on_sign_in: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySignInChoices {
    #[serde(default)]
    pub skipped: bool,
}

/// `PATCH /api/users/{userId}/logto-configs`: the fields given are changed, the rest kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserLogtoConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<UpdateUserMfaChoices>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_sign_in: Option<UpdatePasskeySignInChoices>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserMfaChoices {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_mfa_on_sign_in: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePasskeySignInChoices {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
}

impl UserLogtoConfig {
    /// This configuration with `update`'s given fields applied.
    pub fn updated(mut self, update: UpdateUserLogtoConfig) -> Self {
        if let Some(mfa) = update.mfa {
            if mfa.enabled.is_some() {
                self.mfa.enabled = mfa.enabled;
            }
            if let Some(skipped) = mfa.skipped {
                self.mfa.skipped = skipped;
            }
            if let Some(skip) = mfa.skip_mfa_on_sign_in {
                self.mfa.skip_mfa_on_sign_in = skip;
            }
        }
        if let Some(skipped) = update.passkey_sign_in.and_then(|p| p.skipped) {
            self.passkey_sign_in.skipped = skipped;
        }
        self
    }
}
