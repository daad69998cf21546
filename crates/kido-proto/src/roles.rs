//! Global roles (RBAC): a role bundles API-resource scopes and is given to users or to
//! machine-to-machine applications.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::applications::Application;
use crate::resources::{Resource, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum RoleType {
    User,
    MachineToMachine,
}

impl RoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::MachineToMachine => "MachineToMachine",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::MachineToMachine].into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub role_type: RoleType,
    pub is_default: bool,
}

/// A role in `GET /api/roles`, with the counts the console shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleWithStats {
    #[serde(flatten)]
    pub role: Role,
    pub users_count: i64,
    pub featured_users: Vec<FeaturedUser>,
    pub applications_count: i64,
    pub featured_applications: Vec<FeaturedApplication>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeaturedUser {
    pub id: String,
    pub avatar: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeaturedApplication {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub app_type: crate::applications::ApplicationType,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRole {
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[schema(max_length = 128)]
    pub description: String,
    #[serde(default, rename = "type")]
    pub role_type: Option<RoleType>,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub scope_ids: Option<Vec<crate::ScopeId>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRole {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_default: Option<bool>,
}

/// A scope of a role, with the resource it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeWithResource {
    #[serde(flatten)]
    pub scope: Scope,
    pub resource: Resource,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeIds {
    #[schema(min_items = 1, value_type = Vec<String>)]
    pub scope_ids: Vec<crate::ScopeId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationIds {
    #[schema(min_items = 1, value_type = Vec<String>)]
    pub application_ids: Vec<crate::ApplicationId>,
}

/// Applications holding a role (`GET /api/roles/{id}/applications`).
pub type RoleApplications = Vec<Application>;

/// Which global roles `list` returns.
#[derive(Debug, Default, Clone)]
pub struct RoleFilter {
    pub role_type: Option<RoleType>,
    /// Case-insensitive substring of name or description.
    pub search: Option<String>,
    /// Only roles held by this application.
    pub application_id: Option<String>,
    /// Leave out roles held by this application.
    pub exclude_application_id: Option<String>,
    /// Only roles held by this user.
    pub user_id: Option<String>,
    /// Leave out roles held by this user.
    pub exclude_user_id: Option<String>,
}
