//! Organizations at the token endpoint (Logto's RFC 0001): who may get a token for an
//! organization, and what it grants.

use kido_proto::organizations::MemberKind;
use kido_store::Exec;
use kido_store::mfa_verifications;
use kido_store::organizations as store;

use super::clients::Client;
use super::token_error::{TokenError, server_error};
use crate::TenantContext;

/// The scope that lets a refresh token be traded for organization tokens, and adds the
/// `organizations` claim.
pub const ORGANIZATIONS_SCOPE: &str = "urn:logto:scope:organizations";
/// Adds the `organization_roles` claim (`<organization id>:<role name>`).
pub const ORGANIZATION_ROLES_SCOPE: &str = "urn:logto:scope:organization_roles";
/// The reserved resource SDKs ask for alongside [`ORGANIZATIONS_SCOPE`].
pub const ORGANIZATIONS_RESOURCE: &str = "urn:logto:resource:organizations";
/// Organization tokens live as long as Logto's (not configurable).
pub const ORGANIZATION_TOKEN_TTL_SECS: i64 = 3600;

/// The audience of an organization token.
pub fn audience(organization_id: &str) -> String {
    format!("urn:logto:organization:{organization_id}")
}

/// A user may get tokens for an organization they are a member of, through a first-party
/// application (third-party apps would need the user's consent to the organization, which
/// Kido does not ask for yet); an organization that requires MFA only for users who have
/// bound a second factor (Logto's rule: having one, not having used it in this sign-in).
pub(crate) async fn check_user_access(
    c: &mut impl Exec,
    tenant: &TenantContext,
    client: &Client,
    organization_id: &str,
    user_id: &str,
) -> Result<(), TokenError> {
    if client.app.is_third_party {
        return Err(TokenError::AccessDenied("organization access is not granted to the application".into()));
    }
    let denied = || TokenError::AccessDenied("user is not a member of the organization".into());
    let organization = store::find(c, &tenant.id, organization_id).await.map_err(server_error)?.ok_or_else(denied)?;
    if !store::is_member(c, &tenant.id, organization_id, MemberKind::User, user_id).await.map_err(server_error)? {
        return Err(denied());
    }
    if organization.is_mfa_required
        && !mfa_verifications::has_any(c, &tenant.id, user_id).await.map_err(server_error)?
    {
        return Err(TokenError::AccessDenied("organization requires MFA but user has no MFA configured".into()));
    }
    Ok(())
}
