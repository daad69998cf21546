//! What the account pages (`/account`) do in one form post where the Account API takes two
//! calls or has no route of its own: a new email or phone proven by its code and made
//! primary at once, and a session or grant ended under the account center's `session`
//! switch. The rules stay the Account API's (`records`, `profile`) and `UserSessions`'.

use kido_proto::account::{CodeIdentifier, CodeIdentifierType};
use kido_proto::sessions::RevokeGrantsTarget;

use super::caller::AccountCaller;
use super::center::require_edit;
use super::error::{AccountError, Result};
use super::service::Account;
use crate::TenantContext;
use crate::oidc::user_sessions::UserSessionError;

impl Account<'_> {
    /// The code sent to a new email or phone (record `record_id`), then that address as the
    /// primary one: `POST /api/verifications/verification-code/verify` followed by
    /// `POST /api/my-account/primary-email|phone`.
    pub async fn bind_new_identifier(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        identifier: CodeIdentifier,
        record_id: &str,
        code: &str,
    ) -> Result<()> {
        let value = identifier.value.trim().to_owned();
        let kind = identifier.kind;
        let verified = self.verify_code(tenant, caller, identifier, record_id, code).await?;
        match kind {
            CodeIdentifierType::Email => self.set_primary_email(tenant, caller, &value, &verified).await,
            CodeIdentifierType::Phone => self.set_primary_phone(tenant, caller, &value, &verified).await,
        }
    }

    /// "Sign out this device": ends one of the user's sessions with every grant made in it,
    /// `offline_access` ones too (a device signed out keeps no app signed in); the `session`
    /// switch must be `Edit` and identity proven.
    pub async fn end_session(&self, tenant: &TenantContext, caller: &AccountCaller, session_id: &str) -> Result<()> {
        caller.require_verified()?;
        require_edit(caller.center.fields.session)?;
        self.core
            .user_sessions()
            .revoke(&tenant.id, &caller.user_id(), session_id, Some(RevokeGrantsTarget::All))
            .await
            .map_err(session_error)
    }

    /// Revokes one of the user's grants (a connected app) with its tokens, under the same rules.
    pub async fn end_grant(&self, tenant: &TenantContext, caller: &AccountCaller, grant_id: &str) -> Result<()> {
        caller.require_verified()?;
        require_edit(caller.center.fields.session)?;
        self.core.user_sessions().revoke_grant(&tenant.id, &caller.user_id(), grant_id).await.map_err(session_error)
    }
}

/// Another user's or an unknown session or grant reads as a record not found.
fn session_error(e: UserSessionError) -> AccountError {
    match e {
        UserSessionError::Store(e) => AccountError::Store(e),
        _ => AccountError::RecordNotFound,
    }
}
