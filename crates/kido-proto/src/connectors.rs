//! Connectors (configured instances of a connector factory), email templates and the
//! Management API's verification codes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ConnectorType {
    Email,
    Sms,
    Social,
}

impl ConnectorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Sms => "Sms",
            Self::Social => "Social",
        }
    }
}

/// What a message is for; picks the template (Logto's `TemplateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum TemplateType {
    SignIn,
    Register,
    ForgotPassword,
    OrganizationInvitation,
    Generic,
    UserPermissionValidation,
    BindNewIdentifier,
    MfaVerification,
    BindMfa,
}

impl TemplateType {
    pub const ALL: [TemplateType; 9] = [
        Self::SignIn,
        Self::Register,
        Self::ForgotPassword,
        Self::OrganizationInvitation,
        Self::Generic,
        Self::UserPermissionValidation,
        Self::BindNewIdentifier,
        Self::MfaVerification,
        Self::BindMfa,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "SignIn",
            Self::Register => "Register",
            Self::ForgotPassword => "ForgotPassword",
            Self::OrganizationInvitation => "OrganizationInvitation",
            Self::Generic => "Generic",
            Self::UserPermissionValidation => "UserPermissionValidation",
            Self::BindNewIdentifier => "BindNewIdentifier",
            Self::MfaVerification => "MfaVerification",
            Self::BindMfa => "BindMfa",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the `Generic` template may stand in for a missing one: it carries a code,
    /// so it may for every code message, never for an invitation (which carries a link).
    pub fn generic_may_stand_in(self) -> bool {
        self != Self::OrganizationInvitation
    }
}

/// A connector factory: a kind of connector this server can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorFactory {
    #[serde(rename = "type")]
    pub kind: ConnectorType,
    pub is_demo: bool,
    pub id: String,
    pub target: String,
    /// `Native`, `Web`, `Universal`, or null for passwordless connectors.
    pub platform: Option<String>,
    pub is_standard: bool,
    pub is_token_storage_supported: bool,
    /// Display name by language tag (`en` always present).
    #[schema(value_type = Object)]
    pub name: Map<String, Value>,
    #[schema(value_type = Object)]
    pub description: Map<String, Value>,
    pub logo: String,
    pub logo_dark: Option<String>,
    pub readme: String,
    /// An example `config`, as JSON text.
    pub config_template: String,
}

/// A configured connector: its factory's metadata, its id and its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    #[serde(flatten)]
    pub factory: ConnectorFactory,
    /// The factory id (`simple-mail-transfer-protocol`, `http-sms`…).
    pub connector_id: String,
    pub sync_profile: bool,
    pub enable_token_storage: bool,
    /// Per-instance display overrides (`target`, `name`, `logo`, `logoDark`).
    #[schema(value_type = Object)]
    pub metadata: Value,
    #[schema(value_type = Object)]
    pub extra_info: Value,
    #[schema(value_type = Object)]
    pub config: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateConnector {
    /// The factory to instantiate.
    pub connector_id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub sync_profile: Option<bool>,
    #[serde(default)]
    pub enable_token_storage: Option<bool>,
    /// A pre-chosen id (lowercase letters, digits, `-` and `_`, at most 128 characters).
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConnector {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub sync_profile: Option<bool>,
    #[serde(default)]
    pub enable_token_storage: Option<bool>,
}

/// `POST /api/connectors/{factoryId}/test`: send a test message with an unsaved config.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestConnector {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[schema(value_type = Object)]
    pub config: Value,
    #[serde(default)]
    pub locale: Option<String>,
}

// --- email templates ------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplateDetails {
    pub subject: String,
    pub content: String,
    /// `text/html` (default) or `text/plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplate {
    pub tenant_id: String,
    pub id: String,
    pub language_tag: String,
    pub template_type: TemplateType,
    pub details: EmailTemplateDetails,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewEmailTemplate {
    pub language_tag: String,
    pub template_type: TemplateType,
    pub details: EmailTemplateDetails,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PutEmailTemplates {
    pub templates: Vec<NewEmailTemplate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEmailTemplateDetails {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub send_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRows {
    pub row_count: u64,
}

// --- verification codes ---------------------------------------------------------------------

/// `POST /api/verification-codes`: exactly one of `email` and `phone`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestVerificationCode {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyVerificationCode {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub verification_code: String,
}
