//! The user's own sessions and grants through the Account API (`/api/my-account/sessions`,
//! `/grants`): the same service as the Management API's (`Core::user_sessions`), behind
//! Logto's gates in Logto's order — identity proven, the `session` field, the
//! `urn:logto:scope:sessions` scope.

use kido_proto::sessions::{GrantAppType, RevokeGrantsTarget, UserGrants, UserSessions};

use super::caller::AccountCaller;
use super::center::{require_edit, require_readable};
use super::error::Result;
use super::service::Account;
use crate::TenantContext;
use crate::oidc::claims::SESSIONS_SCOPE;

impl Account<'_> {
    /// The gates of every session and grant route; `edit` for the revocations.
    fn session_gates(&self, caller: &AccountCaller, edit: bool) -> Result<()> {
        caller.require_verified()?;
        let field = caller.center.fields.session;
        if edit {
            require_edit(field)?
        } else {
            require_readable(field)?
        }
        caller.require_scope(SESSIONS_SCOPE, true)
    }

    /// `GET /api/my-account/sessions`.
    pub async fn sessions(&self, tenant: &TenantContext, caller: &AccountCaller) -> Result<UserSessions> {
        self.session_gates(caller, false)?;
        Ok(self.core.user_sessions().list(&tenant.id, &caller.user_id()).await?)
    }

    /// `DELETE /api/my-account/sessions/{sessionId}`: that browser must sign in again.
    pub async fn revoke_session(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        session_id: &str,
        target: Option<RevokeGrantsTarget>,
    ) -> Result<()> {
        self.session_gates(caller, true)?;
        Ok(self.core.user_sessions().revoke(&tenant.id, &caller.user_id(), session_id, target).await?)
    }

    /// `GET /api/my-account/grants`: the applications the user is signed in to.
    pub async fn grants(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        app_type: Option<GrantAppType>,
    ) -> Result<UserGrants> {
        self.session_gates(caller, false)?;
        Ok(self.core.user_sessions().grants(&tenant.id, &caller.user_id(), app_type).await?)
    }

    /// `DELETE /api/my-account/grants/{grantId}`: the application's codes and tokens stop working.
    pub async fn revoke_grant(&self, tenant: &TenantContext, caller: &AccountCaller, grant_id: &str) -> Result<()> {
        self.session_gates(caller, true)?;
        Ok(self.core.user_sessions().revoke_grant(&tenant.id, &caller.user_id(), grant_id).await?)
    }
}
