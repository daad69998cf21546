//! The account center settings (`/api/account-center`), the Verification API
//! (`/api/verifications`) and the Account API (`/api/my-account`): what a signed-in user sends
//! and reads about their own account.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::users::UserProfile;

/// What the Account API may do with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AccountCenterControl {
    Off,
    ReadOnly,
    Edit,
}

/// Per field, Off | ReadOnly | Edit; a field not given is `Off` (Logto's partial object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountCenterFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<AccountCenterControl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_device: Option<AccountCenterControl>,
}

/// `GET /api/account-center`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountCenter {
    pub tenant_id: String,
    /// Always `default` (one account center per tenant).
    pub id: String,
    /// Whether the Account API answers at all.
    pub enabled: bool,
    pub fields: AccountCenterFields,
    /// Other origins allowed to register passkeys for this tenant.
    pub webauthn_related_origins: Vec<String>,
}

/// `PATCH /api/account-center`: what is given replaces what is stored (`fields` as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccountCenter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<AccountCenterFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub webauthn_related_origins: Option<Vec<String>>,
}

/// An email address or phone number a code goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CodeIdentifier {
    #[serde(rename = "type")]
    pub kind: CodeIdentifierType,
    #[schema(max_length = 256)]
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CodeIdentifierType {
    Email,
    Phone,
}

/// `POST /api/verifications/password`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyPassword {
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

/// A new verification record: its id (the `logto-verification-id` header's value once
/// verified) and when it expires (ISO 8601).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedVerificationRecord {
    pub verification_record_id: String,
    pub expires_at: String,
}

/// The template a code to the user's own identifier is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum VerificationCodeTemplate {
    BindMfa,
    UserPermissionValidation,
}

/// `POST /api/verifications/verification-code`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendAccountVerificationCode {
    pub identifier: CodeIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_type: Option<VerificationCodeTemplate>,
}

/// `POST /api/verifications/verification-code/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAccountVerificationCode {
    pub identifier: CodeIdentifier,
    #[schema(max_length = 64)]
    pub verification_id: String,
    #[schema(max_length = 64)]
    pub code: String,
}

/// A verified record's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRecordId {
    pub verification_record_id: String,
}

/// `POST /api/verifications/social`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartSocialVerification {
    #[schema(max_length = 128)]
    pub connector_id: String,
    #[schema(max_length = 2048)]
    pub redirect_uri: String,
    #[schema(max_length = 512)]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub scope: Option<String>,
}

/// `POST /api/verifications/social/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifySocialVerification {
    #[schema(value_type = Object)]
    pub connector_data: Value,
    #[schema(max_length = 64)]
    pub verification_record_id: String,
}

/// `POST /api/verifications/web-authn/registration`: the options to hand to
/// `navigator.credentials.create`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnRegistrationRecord {
    pub verification_record_id: String,
    #[schema(value_type = Object)]
    pub registration_options: Value,
    pub expires_at: String,
}

/// `POST /api/verifications/web-authn/registration/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyWebAuthnRegistration {
    #[schema(max_length = 64)]
    pub verification_record_id: String,
    #[schema(value_type = Object)]
    pub payload: Value,
}

/// `GET /api/my-account`: the fields the token's scopes and the account center let the user
/// read (each may be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProfile {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub identities: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<UserProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<Option<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_suspended: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_password: Option<bool>,
}

/// `PATCH /api/my-account`: `null` clears a field, an absent key keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccount {
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub name: Option<Option<String>>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub avatar: Option<Option<String>>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[A-Z_a-z]\\w*$", max_length = 128)]
    pub username: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
}

/// `POST /api/my-account/password`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewAccountPassword {
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

/// `POST /api/my-account/primary-email`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetPrimaryEmail {
    #[schema(max_length = 128)]
    pub email: String,
    #[schema(max_length = 64)]
    pub new_identifier_verification_record_id: String,
}

/// `POST /api/my-account/primary-phone`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetPrimaryPhone {
    #[schema(max_length = 128)]
    pub phone: String,
    #[schema(max_length = 64)]
    pub new_identifier_verification_record_id: String,
}

/// `GET|PATCH /api/my-account/mfa-settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountMfaSettings {
    pub skip_mfa_on_sign_in: bool,
}

/// `POST /api/my-account/mfa-verifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum AddAccountMfaVerification {
    #[serde(rename_all = "camelCase")]
    WebAuthn {
        #[schema(max_length = 64)]
        new_identifier_verification_record_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(max_length = 128)]
        name: Option<String>,
    },
    Totp {
        #[schema(max_length = 128)]
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(max_length = 16)]
        code: Option<String>,
    },
    BackupCode {
        #[schema(max_items = 10)]
        codes: Vec<String>,
    },
}

/// `PUT /api/my-account/mfa-verifications/totp`: a new secret replacing the user's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplaceAccountTotp {
    #[schema(max_length = 128)]
    pub secret: String,
    #[schema(max_length = 16)]
    pub code: String,
}

/// `POST /api/my-account/mfa-verifications/totp-secret/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GeneratedTotpSecret {
    pub secret: String,
}

/// `POST /api/my-account/mfa-verifications/backup-codes/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GeneratedBackupCodes {
    pub codes: Vec<String>,
}

/// One of the user's backup codes and when it was used (ISO 8601; absent while unused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBackupCode {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<String>,
}

/// `GET /api/my-account/mfa-verifications/backup-codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountBackupCodes {
    pub codes: Vec<AccountBackupCode>,
}

/// `PATCH /api/my-account/mfa-verifications/{verificationId}/name`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenameMfaVerification {
    #[schema(max_length = 128)]
    pub name: String,
}

/// `POST|PUT /api/my-account/identities`: the social verification record proving the identity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkIdentity {
    #[schema(max_length = 64)]
    pub new_identifier_verification_record_id: String,
}

/// An identity provider's access token read from the secret vault.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThirdPartyAccessToken {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}
