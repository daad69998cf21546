//! User claims by scope (Logto's table): what the ID token and userinfo say about a user.

use kido_proto::TenantId;
use kido_proto::organizations::{MemberKind, OrganizationFilter};
use kido_store::organizations::{self as organization_store, StoredOrganization};
use kido_store::users::StoredUser;
use kido_store::{Exec, StoreResult};
use serde_json::{Map, Value, json};

use super::organizations::{ORGANIZATION_ROLES_SCOPE, ORGANIZATIONS_SCOPE};

/// Lets an access token list and revoke its user's sessions and grants through the Account
/// API (no claim of its own).
pub const SESSIONS_SCOPE: &str = "urn:logto:scope:sessions";

/// Scopes that are about the user rather than about an API resource, in Logto's discovery order.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "offline_access",
    "profile",
    "email",
    "phone",
    "address",
    "custom_data",
    "identities",
    "roles",
    ORGANIZATIONS_SCOPE,
    ORGANIZATION_ROLES_SCOPE,
    SESSIONS_SCOPE,
];

pub fn is_oidc_scope(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope)
}

/// Claims only userinfo carries unless the tenant lists them in `enabledExtendedClaims`;
/// Logto's default list is `roles, organizations, organization_roles`.
const ID_TOKEN_EXTENDED_CLAIMS: &[&str] = &["roles", "organizations", "organization_roles"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    IdToken,
    Userinfo,
}

/// What the claims say beyond the user row: role names, organizations and organization
/// roles, each loaded only when a scope asks for it.
#[derive(Debug, Default)]
pub struct Related {
    pub roles: Vec<String>,
    pub organizations: Vec<StoredOrganization>,
    /// `<organization id>:<role name>`.
    pub organization_roles: Vec<String>,
}

impl Related {
    /// Loads what `scopes` need (one query per scope that needs one). `role_names`: the
    /// user's role names when the caller read them already (the token grants read them with
    /// the token), else they are read here if `roles` is asked for.
    pub async fn load(
        c: &mut impl Exec,
        tenant: &TenantId,
        user_id: &str,
        scopes: &[&str],
        role_names: Option<&[String]>,
    ) -> StoreResult<Self> {
        let mut out = Self::default();
        if scopes.contains(&"roles") {
            out.roles = match role_names {
                Some(names) => names.to_vec(),
                None => kido_store::users::role_names(c, tenant, user_id).await?,
            };
        }
        if scopes.contains(&ORGANIZATIONS_SCOPE) {
            let filter =
                OrganizationFilter { member: Some((MemberKind::User, user_id.to_owned())), ..Default::default() };
            out.organizations = organization_store::list(c, tenant, &filter, None).await?.0;
        }
        if scopes.contains(&ORGANIZATION_ROLES_SCOPE) {
            let ids = [user_id.to_owned()];
            let held = organization_store::member_roles(c, tenant, None, MemberKind::User, &ids).await?;
            let mut names: Vec<String> = held
                .into_values()
                .flatten()
                .map(|(organization_id, role)| format!("{organization_id}:{}", role.name))
                .collect();
            names.sort();
            out.organization_roles = names;
        }
        Ok(out)
    }
}

/// The claims `scopes` grant about `user` (`sub` included); `related` holds what
/// [`Related::load`] found for the same scopes.
pub fn user_claims(user: &StoredUser, related: &Related, scopes: &[&str], audience: Audience) -> Map<String, Value> {
    let extended = |claim: &str| audience == Audience::Userinfo || ID_TOKEN_EXTENDED_CLAIMS.contains(&claim);
    let mut claims = Map::new();
    claims.insert("sub".into(), user.id.clone().into());
    for scope in scopes {
        match *scope {
            "profile" => {
                claims.insert("name".into(), json!(user.name));
                claims.insert("picture".into(), json!(user.avatar));
                claims.insert("username".into(), json!(user.username));
                claims.insert("created_at".into(), user.created_at.into());
                claims.insert("updated_at".into(), user.updated_at.into());
                let p = &user.profile.0;
                let standard = [
                    ("family_name", &p.family_name),
                    ("given_name", &p.given_name),
                    ("middle_name", &p.middle_name),
                    ("nickname", &p.nickname),
                    ("profile", &p.profile),
                    ("website", &p.website),
                    ("gender", &p.gender),
                    ("birthdate", &p.birthdate),
                    ("zoneinfo", &p.zoneinfo),
                    ("locale", &p.locale),
                ];
                for (claim, value) in standard {
                    if let Some(v) = value {
                        claims.insert(claim.into(), v.clone().into());
                    }
                }
                if let Some(preferred) = p.preferred_username.as_ref().or(user.username.as_ref()) {
                    claims.insert("preferred_username".into(), preferred.clone().into());
                }
            }
            "email" => {
                claims.insert("email".into(), json!(user.primary_email));
                claims.insert("email_verified".into(), user.primary_email.is_some().into());
            }
            "phone" => {
                claims.insert("phone_number".into(), json!(user.primary_phone));
                claims.insert("phone_number_verified".into(), user.primary_phone.is_some().into());
            }
            "address" => {
                if let Some(address) = &user.profile.0.address {
                    claims.insert("address".into(), json!(address));
                }
            }
            "custom_data" if extended("custom_data") => {
                claims.insert("custom_data".into(), user.custom_data.0.clone());
            }
            "identities" if extended("identities") => {
                claims.insert("identities".into(), user.identities.0.clone());
                claims.insert("sso_identities".into(), json!([]));
            }
            "roles" if extended("roles") => {
                claims.insert("roles".into(), json!(related.roles));
            }
            ORGANIZATIONS_SCOPE if extended("organizations") => {
                let ids: Vec<&str> = related.organizations.iter().map(|o| o.id.as_str()).collect();
                claims.insert("organizations".into(), json!(ids));
                if audience == Audience::Userinfo {
                    let data: Vec<Value> = related
                        .organizations
                        .iter()
                        .map(|o| json!({"id": o.id, "name": o.name, "description": o.description}))
                        .collect();
                    claims.insert("organization_data".into(), Value::Array(data));
                }
            }
            ORGANIZATION_ROLES_SCOPE if extended("organization_roles") => {
                claims.insert("organization_roles".into(), json!(related.organization_roles));
            }
            _ => {}
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use kido_store::Json;

    fn user() -> StoredUser {
        StoredUser {
            tenant_id: "default".into(),
            id: "u1".into(),
            username: Some("alice".into()),
            primary_email: Some("a@example.com".into()),
            primary_phone: None,
            password_encrypted: Some("secret-hash".into()),
            password_encryption_method: Some("Argon2id".into()),
            name: None,
            avatar: None,
            application_id: None,
            profile: Json(Default::default()),
            identities: Json(json!({"github": {"userId": "1"}})),
            custom_data: Json(json!({"plan": "pro"})),
            is_suspended: false,
            last_sign_in_at: None,
            password_updated_at: None,
            created_at: 1,
            updated_at: 2,
            logto_config: Default::default(),
        }
    }

    #[test]
    fn claims_follow_scopes_and_audience() {
        let roles = Related {
            roles: vec!["admin".to_owned()],
            organization_roles: vec!["o1:member".to_owned()],
            ..Default::default()
        };
        let all =
            ["openid", "profile", "email", "phone", "custom_data", "identities", "roles", ORGANIZATION_ROLES_SCOPE];
        let id = user_claims(&user(), &roles, &all, Audience::IdToken);
        assert_eq!(id["organization_roles"], json!(["o1:member"]));
        assert_eq!(id["username"], "alice");
        assert_eq!(id["preferred_username"], "alice");
        assert_eq!(id["email_verified"], true);
        assert_eq!(id["phone_number_verified"], false);
        assert_eq!(id["roles"], json!(["admin"]));
        assert!(!id.contains_key("custom_data") && !id.contains_key("identities"));
        let info = user_claims(&user(), &roles, &all, Audience::Userinfo);
        assert_eq!(info["custom_data"]["plan"], "pro");
        assert_eq!(info["identities"]["github"]["userId"], "1");
        let bare = user_claims(&user(), &roles, &["openid"], Audience::Userinfo);
        assert_eq!(bare.len(), 1);
        assert!(!info.values().any(|v| v.to_string().contains("secret-hash")));
    }
}
