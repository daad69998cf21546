//! Who an Account API request speaks for: the opaque access token's user, client, grant and
//! scopes (the same check as userinfo: `IssuedTokens::holder`), the tenant's account center,
//! and whether `logto-verification-id` names a record proving the user's identity.

use kido_proto::UserId;
use kido_proto::account::AccountCenter;
use kido_store::users::StoredUser;
use kido_store::verification_records as records_store;

use super::error::{AccountError, Result};
use super::record_kind::{RecordKind, proves_identity};
use super::service::Account;
use crate::oidc::issued_tokens::UserinfoError;
use crate::{TenantContext, clock};

/// The scopes the Account API gates on (Logto's `UserScope`).
pub mod scopes {
    pub const PROFILE: &str = "profile";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const ADDRESS: &str = "address";
    pub const CUSTOM_DATA: &str = "custom_data";
    pub const IDENTITIES: &str = "identities";
}

/// A request's caller, authenticated.
pub struct AccountCaller {
    pub user: StoredUser,
    pub client_id: String,
    pub grant_id: String,
    pub scopes: Vec<String>,
    /// `logto-verification-id` named a live, verified password or permission-code record of
    /// this user made under this grant.
    pub identity_verified: bool,
    pub center: AccountCenter,
}

impl AccountCaller {
    pub fn user_id(&self) -> UserId {
        UserId::new(&self.user.id)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `auth.unauthorized` without the scope: 401 where Logto says so (`explicit`), else 400.
    pub fn require_scope(&self, scope: &str, explicit: bool) -> Result<()> {
        if self.has_scope(scope) { Ok(()) } else { Err(AccountError::MissingScope { explicit }) }
    }

    /// 401 `verification_record.permission_denied` unless identity was proven.
    pub fn require_verified(&self) -> Result<()> {
        if self.identity_verified { Ok(()) } else { Err(AccountError::PermissionDenied) }
    }
}

impl Account<'_> {
    /// Authenticates an Account or Verification API request: the token (401/403), the account
    /// center (`account_center.not_enabled`), and the verification record if one is named.
    pub async fn authenticate(
        &self,
        tenant: &TenantContext,
        token: &str,
        verification_id: Option<&str>,
    ) -> Result<AccountCaller> {
        let mut c = self.core.store.conn().await?;
        let holder = self.core.issued_tokens().holder(&mut c, tenant, token).await.map_err(|e| match e {
            UserinfoError::InvalidToken(_) => AccountError::InvalidToken,
            UserinfoError::InsufficientScope(_) => AccountError::NoOpenId,
            UserinfoError::Server => AccountError::Internal("the token could not be checked".into()),
        })?;
        drop(c);
        let center = self.center(&tenant.id).await?;
        if !center.enabled {
            return Err(AccountError::NotEnabled);
        }
        let identity_verified = match verification_id.filter(|id| !id.is_empty() && id.len() <= 64) {
            Some(id) => {
                let mut c = self.core.store.conn().await?;
                let now = clock::now_ms();
                records_store::find_live(&mut c, &tenant.id, id, &holder.user.id, &holder.grant_id, now)
                    .await?
                    .is_some_and(|r| {
                        let template = r.data.0.get("templateType").and_then(|t| t.as_str());
                        proves_identity(RecordKind::parse(&r.kind), template, r.verified)
                    })
            }
            None => false,
        };
        Ok(AccountCaller {
            user: holder.user,
            client_id: holder.client_id,
            grant_id: holder.grant_id,
            scopes: holder.scopes,
            identity_verified,
            center,
        })
    }
}
