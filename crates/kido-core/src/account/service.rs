//! The Account service, reached from `Core::account()`, and the first-party rule.

use crate::Core;
use crate::TenantContext;
use crate::oidc::clients;

use super::error::{AccountError, Result};

pub struct Account<'a> {
    pub(crate) core: &'a Core,
}

impl Account<'_> {
    /// 403 `auth.third_party_application_forbidden` when the token's client is a third-party
    /// application: the Account API changes accounts for first-party apps only (Logto).
    pub(crate) async fn require_first_party(&self, tenant: &TenantContext, client_id: &str) -> Result<()> {
        let client = clients::find(self.core, tenant, client_id)
            .await
            .map_err(|e| AccountError::Internal(format!("client lookup: {e:?}")))?;
        if client.is_some_and(|c| c.app.is_third_party) { Err(AccountError::ThirdPartyApplication) } else { Ok(()) }
    }
}
