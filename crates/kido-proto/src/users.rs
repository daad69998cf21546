//! Users as the Management API shows and changes them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::applications::double_option;

/// OpenID Connect standard profile claims (camelCase), all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<UserAddress>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A user as the Management API returns it. Never carries a password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    #[schema(value_type = Object)]
    pub custom_data: Value,
    #[schema(value_type = Object)]
    pub identities: Value,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub profile: UserProfile,
    pub application_id: Option<String>,
    pub is_suspended: bool,
    pub has_password: bool,
}

/// `GET /api/users/{id}?includePasswordHash=true`: the user with the stored password hash
/// and its algorithm (`null` without a password), for exporting users elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserWithPasswordHash {
    #[serde(flatten)]
    pub user: User,
    pub password_digest: Option<String>,
    pub password_algorithm: Option<String>,
}

/// Hash algorithms accepted for imported password digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum PasswordAlgorithm {
    Argon2i,
    Argon2id,
    Argon2d,
    Bcrypt,
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "MD5")]
    Md5,
}

impl PasswordAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Argon2i => "Argon2i",
            Self::Argon2id => "Argon2id",
            Self::Argon2d => "Argon2d",
            Self::Bcrypt => "Bcrypt",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Md5 => "MD5",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Argon2i, Self::Argon2id, Self::Argon2d, Self::Bcrypt, Self::Sha1, Self::Sha256, Self::Md5]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    #[serde(default)]
    #[schema(pattern = "^[A-Z_a-z]\\w*$", max_length = 128)]
    pub username: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub primary_email: Option<String>,
    #[serde(default)]
    #[schema(pattern = "^\\d+$", max_length = 128)]
    pub primary_phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub password: Option<String>,
    /// An existing hash to import, with `passwordAlgorithm`.
    #[serde(default)]
    pub password_digest: Option<String>,
    #[serde(default)]
    pub password_algorithm: Option<PasswordAlgorithm>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub avatar: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub profile: Option<UserProfile>,
}

/// `PATCH /api/users/{userId}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[A-Z_a-z]\\w*$", max_length = 128)]
    pub username: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub primary_email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^\\d+$", max_length = 128)]
    pub primary_phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub avatar: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Value>,
    #[serde(default)]
    pub profile: Option<UserProfile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomDataBody {
    #[schema(value_type = Object)]
    pub custom_data: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    pub profile: UserProfile,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordBody {
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HasPassword {
    pub has_password: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuspensionBody {
    pub is_suspended: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIds {
    #[schema(min_items = 1, value_type = Vec<String>)]
    pub user_ids: Vec<crate::UserId>,
}

// --- the user search of the Management API (`search.*`, `mode.*`, `joint`, `isCaseSensitive`) ---

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    PrimaryEmail,
    PrimaryPhone,
    Username,
    Name,
}

impl UserField {
    pub const ALL: [UserField; 5] = [Self::Id, Self::PrimaryEmail, Self::PrimaryPhone, Self::Username, Self::Name];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id" => Some(Self::Id),
            "primaryEmail" => Some(Self::PrimaryEmail),
            "primaryPhone" => Some(Self::PrimaryPhone),
            "username" => Some(Self::Username),
            "name" => Some(Self::Name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    Exact,
    /// SQL LIKE: `%` any run, `_` any character.
    Like,
    SimilarTo,
    Posix,
}

#[derive(Debug, Clone)]
pub struct FieldMatch {
    pub field: UserField,
    pub mode: MatchMode,
    pub value: String,
}

#[derive(Debug, Default, Clone)]
pub struct UserSearch {
    /// Groups of alternatives: a group matches when any of its matches does.
    pub groups: Vec<Vec<FieldMatch>>,
    /// Groups are joined with AND (true) or OR (false).
    pub match_all: bool,
    pub case_sensitive: bool,
    /// Only users holding this role / not holding it.
    pub role_id: Option<String>,
    pub exclude_role_id: Option<String>,
    /// Only members of this organization / not members of it.
    pub organization_id: Option<String>,
    pub exclude_organization_id: Option<String>,
}

/// A social identity of a user (`users.identities[target]`), as Logto stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialIdentity {
    /// The user's id at the identity provider.
    #[schema(max_length = 256)]
    pub user_id: String,
    /// What the provider said about the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Map<String, Value>>,
}

/// `GET /api/users/{userId}/identities/{target}`: the identity (its stored provider tokens
/// come with the secret vault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserIdentity {
    pub identity: SocialIdentity,
}
