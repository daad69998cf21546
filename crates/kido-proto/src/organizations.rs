//! Organizations (multi-tenant B2B apps): the organizations themselves, the organization
//! template (roles and scopes shared by every organization), memberships of users and
//! machine-to-machine applications, and invitations.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::applications::{Application, double_option};
use crate::roles::RoleType;
use crate::users::User;

/// Organization roles have the same two kinds as global roles: for users or for
/// machine-to-machine applications.
pub type OrganizationRoleType = RoleType;

/// Colors of an organization's sign-in pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationColor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_dark_mode_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_primary_color: Option<String>,
}

/// Logos and favicons of an organization's sign-in pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationBranding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_favicon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub custom_data: Value,
    pub is_mfa_required: bool,
    pub color: OrganizationColor,
    pub branding: OrganizationBranding,
    pub custom_css: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganization {
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub is_mfa_required: Option<bool>,
    #[serde(default)]
    pub color: Option<OrganizationColor>,
    #[serde(default)]
    pub branding: Option<OrganizationBranding>,
    #[serde(default)]
    pub custom_css: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrganization {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    /// `null` clears the description.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 256)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub is_mfa_required: Option<bool>,
    #[serde(default)]
    pub color: Option<OrganizationColor>,
    #[serde(default)]
    pub branding: Option<OrganizationBranding>,
    /// `null` clears the custom CSS.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub custom_css: Option<Option<String>>,
}

/// An organization in `GET /api/organizations`; with `showFeatured=true` also its member
/// count and first members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationWithFeatured {
    #[serde(flatten)]
    pub organization: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured_users: Option<Vec<crate::roles::FeaturedUser>>,
}

/// `{id, name}` of an organization role or scope, as relation lists show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdName {
    pub id: String,
    pub name: String,
}

/// An organization of a user or application, with the roles held in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationWithRoles {
    #[serde(flatten)]
    pub organization: Organization,
    pub organization_roles: Vec<IdName>,
}

// --- template ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRole {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub role_type: OrganizationRoleType,
}

/// An API-resource scope granted through an organization role, with its resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceScopeRef {
    pub id: String,
    pub name: String,
    pub resource: IdName,
}

/// An organization role in `GET /api/organization-roles`, with what it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRoleWithScopes {
    #[serde(flatten)]
    pub role: OrganizationRole,
    pub scopes: Vec<IdName>,
    pub resource_scopes: Vec<ResourceScopeRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganizationRole {
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub role_type: Option<OrganizationRoleType>,
    /// Organization scopes the role grants.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub organization_scope_ids: Option<Vec<crate::OrganizationScopeId>>,
    /// API-resource scopes the role grants.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub resource_scope_ids: Option<Vec<crate::ScopeId>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrganizationRole {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 256)]
    pub description: Option<Option<String>>,
    #[serde(default, rename = "type")]
    pub role_type: Option<OrganizationRoleType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationScope {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganizationScope {
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrganizationScope {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 256)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationScopeIds {
    #[schema(value_type = Vec<String>)]
    pub organization_scope_ids: Vec<crate::OrganizationScopeId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceScopeIds {
    #[schema(value_type = Vec<String>)]
    pub scope_ids: Vec<crate::ScopeId>,
}

// --- members -------------------------------------------------------------------------------

/// A member in `GET /api/organizations/{id}/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserWithOrganizationRoles {
    #[serde(flatten)]
    pub user: User,
    pub organization_roles: Vec<IdName>,
}

/// An application in `GET /api/organizations/{id}/applications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationWithOrganizationRoles {
    #[serde(flatten)]
    pub application: Application,
    pub organization_roles: Vec<IdName>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationUserIds {
    #[schema(min_items = 1)]
    pub user_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationApplicationIds {
    #[schema(min_items = 1)]
    pub application_ids: Vec<String>,
}

/// `PUT /api/organizations/{id}/users`: the members afterwards (an empty list removes all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceOrganizationUsers {
    pub user_ids: Vec<String>,
}

/// `PUT /api/organizations/{id}/applications`: the applications afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceOrganizationApplications {
    pub application_ids: Vec<String>,
}

/// Roles by id and/or by name (`organizationRoleNames`, Logto's convenience).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRoleRefs {
    #[serde(default)]
    pub organization_role_ids: Option<Vec<String>>,
    #[serde(default)]
    pub organization_role_names: Option<Vec<String>>,
}

/// `POST /api/organizations/{id}/users/roles`: every listed role to every listed member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsersRolesBody {
    #[schema(min_items = 1)]
    pub user_ids: Vec<String>,
    #[schema(min_items = 1)]
    pub organization_role_ids: Vec<String>,
}

/// `POST /api/organizations/{id}/applications/roles`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationsRolesBody {
    #[schema(min_items = 1)]
    pub application_ids: Vec<String>,
    #[schema(min_items = 1)]
    pub organization_role_ids: Vec<String>,
}

// --- invitations ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Accepted => "Accepted",
            Self::Expired => "Expired",
            Self::Revoked => "Revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Accepted, Self::Expired, Self::Revoked].into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationInvitation {
    pub tenant_id: String,
    pub id: String,
    pub inviter_id: Option<String>,
    pub invitee: String,
    pub accepted_user_id: Option<String>,
    pub organization_id: String,
    pub status: InvitationStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub organization_roles: Vec<IdName>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganizationInvitation {
    pub organization_id: String,
    /// The invitee's email address.
    pub invitee: String,
    /// Epoch milliseconds; must be in the future.
    pub expires_at: i64,
    #[serde(default)]
    pub inviter_id: Option<String>,
    #[serde(default)]
    pub organization_role_ids: Option<Vec<String>>,
    /// The variables of the invitation email (`link` and any other template variable);
    /// `false` or absent sends nothing.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub message_payload: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationStatusBody {
    pub status: InvitationStatus,
    /// Required when accepting: the user who accepted (becomes a member).
    #[serde(default)]
    pub accepted_user_id: Option<String>,
}

/// `POST /api/organization-invitations/{id}/message`: the template variables.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationMessage {
    /// The link the invitee follows to accept.
    #[serde(default)]
    pub link: Option<String>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, Value>,
}

// --- just-in-time provisioning --------------------------------------------------------------

/// An email domain whose newly registered users join the organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JitEmailDomain {
    pub tenant_id: String,
    pub organization_id: String,
    pub email_domain: String,
    /// Present when an SSO connector also claims this domain: email sign-in for it goes to
    /// SSO, so email-domain provisioning will never fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<SsoDomainConflict>,
}

/// Email-domain provisioning and SSO claim the same domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoDomainConflict {
    /// `organization.jit_email_domain_sso_conflict`.
    pub code: String,
    pub message: String,
    pub email_domain: String,
    /// Organizations provisioning this domain by email.
    pub organization_ids: Vec<String>,
    /// SSO connectors claiming this domain.
    pub sso_connector_ids: Vec<String>,
}

impl SsoDomainConflict {
    /// The warning's code (a Logto-style code, so clients can match on it).
    pub const CODE: &'static str = "organization.jit_email_domain_sso_conflict";
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JitEmailDomainBody {
    /// A domain such as `example.com` (normalized to lower case; no `@`, no scheme).
    #[schema(min_length = 1, max_length = 128)]
    pub email_domain: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JitEmailDomainsBody {
    pub email_domains: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRoleIds {
    #[schema(min_items = 1)]
    pub organization_role_ids: Vec<String>,
}

/// `PUT …/jit/roles`: the default roles afterwards (an empty list removes all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceOrganizationRoleIds {
    pub organization_role_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SsoConnectorIds {
    #[schema(min_items = 1)]
    pub sso_connector_ids: Vec<String>,
}

/// `PUT …/jit/sso-connectors`: the connectors afterwards (an empty list removes all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceSsoConnectorIds {
    pub sso_connector_ids: Vec<String>,
}

// --- list filters and member kinds of the Management API ---

/// Who can be a member of an organization. Both kinds work alike, through their own
/// membership and role tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Application,
}

#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    /// Case-insensitive substring of id, name or description.
    pub search: Option<String>,
    /// Only organizations this user / application is a member of.
    pub member: Option<(MemberKind, String)>,
}

/// Organization roles `list` returns.
#[derive(Debug, Default, Clone)]
pub struct RoleFilter {
    /// Case-insensitive substring of id, name or description.
    pub search: Option<String>,
    pub role_type: Option<RoleType>,
    /// Only the roles this member holds in this organization: (organization, kind, member).
    pub held_by: Option<(String, MemberKind, String)>,
    /// Only the default (just-in-time) roles of this organization.
    pub jit_of: Option<String>,
}

/// The two kinds of scope an organization role grants, each through its own relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grants {
    /// Organization scopes (`organization_role_scope_relations`).
    OrganizationScopes,
    /// API-resource scopes (`organization_role_resource_scope_relations`).
    ResourceScopes,
}

#[derive(Debug, Default, Clone)]
pub struct InvitationFilter {
    pub organization_id: Option<String>,
    pub inviter_id: Option<String>,
    /// Compared case-insensitively.
    pub invitee: Option<String>,
}
