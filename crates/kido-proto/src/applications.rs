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
    /// Logto Cloud's protected apps (a Cloudflare-hosted gate); Kido cannot create them,
    /// but the type is part of the wire vocabulary (list filters, errors).
    Protected,
    /// SAML apps live under `/api/saml-applications` in Logto; never created here.
    #[serde(rename = "SAML")]
    Saml,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "Native",
            Self::Spa => "SPA",
            Self::Traditional => "Traditional",
            Self::MachineToMachine => "MachineToMachine",
            Self::Protected => "Protected",
            Self::Saml => "SAML",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Native, Self::Spa, Self::Traditional, Self::MachineToMachine, Self::Protected, Self::Saml]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// Confidential clients hold a secret; public ones (SPA, Native) cannot keep one.
    pub fn is_confidential(self) -> bool {
        matches!(self, Self::Traditional | Self::MachineToMachine | Self::Protected)
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

/// The client id of the built-in Live Preview app (Logto's `demo-app`): one per tenant,
/// not listed, not editable, its redirect URIs follow the tenant's endpoint.
pub const DEMO_APP_ID: &str = "demo-app";

/// The client id of the built-in account pages (`/account`): a first-party public client of
/// every tenant, hidden from the Management API, signing in at `<endpoint>/account/callback`.
pub const ACCOUNT_APP_ID: &str = "account";

/// Whether `id` names a built-in application (not the operator's to list or change).
pub fn is_built_in(id: &str) -> bool {
    id == DEMO_APP_ID || id == ACCOUNT_APP_ID
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

/// `GET /api/applications/{id}`: the application and whether it holds the tenant's
/// Management API role (Logto's `isAdmin`, only on this read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationWithAdmin {
    #[serde(flatten)]
    pub application: Application,
    pub is_admin: bool,
}

/// What a protected app is created with in Logto: the subdomain it is served on and the
/// origin it guards.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateProtectedAppMetadata {
    #[schema(max_length = 63)]
    pub sub_domain: String,
    pub origin: String,
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
    /// Required for `Protected` apps (which Kido, as Logto OSS, cannot host).
    #[serde(default)]
    pub protected_app_metadata: Option<CreateProtectedAppMetadata>,
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
    /// `true` gives the app the tenant's Management API role, `false` takes it away.
    #[serde(default)]
    pub is_admin: Option<bool>,
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
    #[schema(value_type = Vec<String>)]
    pub role_ids: Vec<crate::RoleId>,
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
