//! The user's social identities and the provider tokens stored for them, through the Account
//! API: `POST|PUT /identities` link the identity a social verification record proved,
//! `DELETE /identities/{target}` unlinks one, and `…/access-token` hands out the provider's
//! access token from the secret vault.
//!
//! Kido makes no social verification records and stores no provider tokens until social
//! sign-in and the vault land (issue 21), so links answer Logto's `verification_record.not_found`
//! and token reads its `secrets.third_party_token_set.token_not_found`: what Logto answers
//! for a user with no such record or token.

use kido_proto::account::ThirdPartyAccessToken;

use super::caller::{AccountCaller, scopes};
use super::center::require_edit;
use super::error::{AccountError, Result};
use super::service::Account;
use crate::TenantContext;
use crate::limits;
use crate::users::UserError;

impl Account<'_> {
    /// The gates of the identity routes, in Logto's order: identity proven, the `social`
    /// field editable, the `identities` scope (401 on the link routes, 400 on unlink).
    fn identity_gates(&self, caller: &AccountCaller, explicit_scope: bool) -> Result<()> {
        caller.require_verified()?;
        require_edit(caller.center.fields.social)?;
        caller.require_scope(scopes::IDENTITIES, explicit_scope)
    }

    /// `POST /api/my-account/identities` (`replace: false`) and `PUT` (`replace: true`).
    /// No record of the `Social` kind exists before social sign-in (issue 21), so after the
    /// gates every record id is unknown.
    pub fn link_identity(&self, caller: &AccountCaller) -> Result<()> {
        self.identity_gates(caller, true)?;
        Err(AccountError::RecordNotFound)
    }

    /// `DELETE /api/my-account/identities/{target}`: 404 `user.identity_not_exist` for a target
    /// the user has not linked; the user must keep an identifier to sign in with.
    pub async fn unlink_identity(&self, tenant: &TenantContext, caller: &AccountCaller, target: &str) -> Result<()> {
        self.identity_gates(caller, false)?;
        if !limits::is_plausible_id(target) {
            return Err(UserError::IdentityNotFound.into());
        }
        self.core.users().remove_identity(&tenant.id, &caller.user_id(), target, true).await?;
        Ok(())
    }

    /// `GET /api/my-account/identities/{target}/access-token` and
    /// `GET /api/my-account/sso-identities/{connectorId}/access-token`: the vault holds no token
    /// set for the user yet.
    pub fn third_party_access_token(&self) -> Result<ThirdPartyAccessToken> {
        Err(AccountError::TokenSetNotFound)
    }

    /// `PUT /api/my-account/identities/{target}/access-token`: refresh the stored token set from a
    /// social verification record; none exists before social sign-in.
    pub fn store_third_party_tokens(&self) -> Result<ThirdPartyAccessToken> {
        Err(AccountError::RecordNotFound)
    }
}
