//! Applications (OIDC clients), their secrets and their roles.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum ApplicationType {
    Native,
    #[serde(rename = "SPA")]
    Spa,
    Traditional,
    MachineToMachine,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "Native",
            Self::Spa => "SPA",
            Self::Traditional => "Traditional",
            Self::MachineToMachine => "MachineToMachine",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Native, Self::Spa, Self::Traditional, Self::MachineToMachine].into_iter().find(|t| t.as_str() == s)
    }

    /// Confidential clients hold a secret; public ones (SPA, Native) cannot keep one.
    pub fn is_confidential(self) -> bool {
        matches!(self, Self::Traditional | Self::MachineToMachine)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcClientMetadata {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomClientMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 86400)]
    pub id_token_ttl: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 90)]
    pub refresh_token_ttl_in_days: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_issue_refresh_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_refresh_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_token_exchange: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_device_flow: Option<bool>,
    /// Most grants (signed-in sessions) one user may hold with this app at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_allowed_grants: Option<u64>,
}

/// An application as the Management API returns it. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub app_type: ApplicationType,
    pub oidc_client_metadata: OidcClientMetadata,
    pub custom_client_metadata: CustomClientMetadata,
    #[schema(value_type = Option<Object>)]
    pub protected_app_metadata: Option<Value>,
    #[schema(value_type = Object)]
    pub custom_data: Value,
    pub is_third_party: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplication {
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    #[serde(rename = "type")]
    pub app_type: ApplicationType,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub oidc_client_metadata: Option<OidcClientMetadata>,
    #[serde(default)]
    pub custom_client_metadata: Option<CustomClientMetadata>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub is_third_party: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateApplication {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 256)]
    pub name: Option<String>,
    /// `null` clears the description.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub oidc_client_metadata: Option<OidcClientMetadata>,
    #[serde(default)]
    pub custom_client_metadata: Option<CustomClientMetadata>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSecret {
    pub tenant_id: String,
    pub application_id: String,
    pub name: String,
    pub value: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplicationSecret {
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    /// Epoch milliseconds; must be in the future. Absent means the secret never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateApplicationSecret {
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleIds {
    pub role_ids: Vec<String>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }
}

/// Which applications `list` returns.
#[derive(Debug, Default, Clone)]
pub struct ApplicationFilter {
    /// Only these types (all when empty).
    pub types: Vec<ApplicationType>,
    /// Only applications holding this role.
    pub role_id: Option<String>,
    /// Leave out applications holding this role.
    pub exclude_role_id: Option<String>,
    /// Case-insensitive substring of id, name or description.
    pub search: Option<String>,
    /// Only third-party (`Some(true)`) or first-party (`Some(false)`) applications.
    pub is_third_party: Option<bool>,
    /// Only members of this organization / not members of it.
    pub organization_id: Option<String>,
    pub exclude_organization_id: Option<String>,
}
