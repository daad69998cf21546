//! What the account pages (`/account`) do in one form post where the Account API takes two
//! calls: a new email or phone proven by its code and made primary at once. The rules stay
//! the Account API's (`records`, `profile`). Sessions and grants are ended through
//! `sessions.rs`, as the Account API ends them.

use kido_proto::account::{CodeIdentifier, CodeIdentifierType};

use super::caller::AccountCaller;
use super::error::Result;
use super::service::Account;
use crate::TenantContext;

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
}
