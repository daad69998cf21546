//! Enterprise SSO connectors: their configuration (signing in through them comes later).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::organizations::SsoDomainConflict;

/// The identity providers Kido knows, as Logto names them.
pub const PROVIDERS: &[(&str, &str, &str)] = &[
    // (providerName, providerType, display name)
    ("OIDC", "oidc", "OIDC"),
    ("SAML", "saml", "SAML"),
    ("AzureAD", "saml", "Microsoft Entra ID (SAML)"),
    ("AzureAdOidc", "oidc", "Microsoft Entra ID (OIDC)"),
    ("GoogleWorkspace", "oidc", "Google Workspace"),
    ("Okta", "oidc", "Okta"),
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SsoBranding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_logo: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoConnector {
    pub tenant_id: String,
    pub id: String,
    pub provider_name: String,
    pub connector_name: String,
    #[schema(value_type = Object)]
    pub config: Value,
    pub domains: Vec<String>,
    pub branding: SsoBranding,
    pub sync_profile: bool,
    pub created_at: i64,
}

/// A connector as `GET /api/sso-connectors[/{id}]` shows it: with its provider's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoConnectorWithProvider {
    #[serde(flatten)]
    pub connector: SsoConnector,
    /// The provider's display name.
    pub name: String,
    pub provider_type: String,
    pub provider_logo: String,
    pub provider_logo_dark: String,
    /// Present when one of `domains` is also an organization's email-provisioning domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<SsoDomainConflict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoConnectorProvider {
    pub provider_name: String,
    pub provider_type: String,
    pub name: String,
    pub description: String,
    pub logo: String,
    pub logo_dark: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSsoConnector {
    pub provider_name: String,
    #[schema(min_length = 1, max_length = 128)]
    pub connector_name: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    #[serde(default)]
    pub branding: Option<SsoBranding>,
    #[serde(default)]
    pub sync_profile: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSsoConnector {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub connector_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    #[serde(default)]
    pub branding: Option<SsoBranding>,
    #[serde(default)]
    pub sync_profile: Option<bool>,
}

/// An SSO connector as the sign-in pages see it (`/api/.well-known/sign-in-exp`): the
/// branding's name and logos, and the email domains it signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoConnectorMetadata {
    pub id: String,
    pub connector_name: String,
    pub logo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_logo: Option<String>,
    pub domains: Vec<String>,
}
