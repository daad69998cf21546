//! Writing and reading the audit log. Entries are written in the transaction of the change
//! they describe, so the log never claims what did not happen.

use kido_proto::Page;
use kido_proto::TenantId;
use kido_proto::logs::Log;
use kido_proto::logs::LogFilter;
use kido_store::Exec;
use kido_store::logs::{self as store, StoredLog};
use serde_json::{Map, Value, json};

use crate::storage::StorageError;
use crate::{Core, clock, ids};

/// Log keys written by Kido.
pub mod keys {
    pub const USER_CREATED: &str = "User.Created";
    pub const USER_DATA_UPDATED: &str = "User.Data.Updated";
    pub const USER_DELETED: &str = "User.Deleted";
    pub const USER_PASSWORD_UPDATED: &str = "User.Password.Updated";
    pub const USER_SUSPENSION_UPDATED: &str = "User.SuspensionStatus.Updated";
    pub const USER_ROLES_UPDATED: &str = "User.Roles.Updated";
    pub const EXCHANGE_TOKEN_BY_AUTHORIZATION_CODE: &str = "ExchangeTokenBy.AuthorizationCode";
    pub const EXCHANGE_TOKEN_BY_REFRESH_TOKEN: &str = "ExchangeTokenBy.RefreshToken";
    pub const EXCHANGE_TOKEN_BY_CLIENT_CREDENTIALS: &str = "ExchangeTokenBy.ClientCredentials";

    // Organization changes. Those named like Logto's webhook events ("data hooks") are the
    // events the webhook dispatcher will announce; the others are Kido's own audit keys.
    pub const ORGANIZATION_CREATED: &str = "Organization.Created";
    pub const ORGANIZATION_DATA_UPDATED: &str = "Organization.Data.Updated";
    pub const ORGANIZATION_DELETED: &str = "Organization.Deleted";
    pub const ORGANIZATION_MEMBERSHIP_UPDATED: &str = "Organization.Membership.Updated";
    pub const ORGANIZATION_MEMBER_ROLES_UPDATED: &str = "Organization.MemberRoles.Updated";
    pub const ORGANIZATION_JIT_UPDATED: &str = "Organization.Jit.Updated";
    pub const SSO_CONNECTOR_CREATED: &str = "SsoConnector.Created";
    pub const SSO_CONNECTOR_UPDATED: &str = "SsoConnector.Updated";
    pub const SSO_CONNECTOR_DELETED: &str = "SsoConnector.Deleted";
    pub const ORGANIZATION_ROLE_CREATED: &str = "OrganizationRole.Created";
    pub const ORGANIZATION_ROLE_DATA_UPDATED: &str = "OrganizationRole.Data.Updated";
    pub const ORGANIZATION_ROLE_DELETED: &str = "OrganizationRole.Deleted";
    pub const ORGANIZATION_ROLE_SCOPES_UPDATED: &str = "OrganizationRole.Scopes.Updated";
    pub const ORGANIZATION_SCOPE_CREATED: &str = "OrganizationScope.Created";
    pub const ORGANIZATION_SCOPE_DATA_UPDATED: &str = "OrganizationScope.Data.Updated";
    pub const ORGANIZATION_SCOPE_DELETED: &str = "OrganizationScope.Deleted";
    pub const ORGANIZATION_INVITATION_CREATED: &str = "OrganizationInvitation.Created";
    pub const ORGANIZATION_INVITATION_STATUS_UPDATED: &str = "OrganizationInvitation.Status.Updated";
    pub const ORGANIZATION_INVITATION_DELETED: &str = "OrganizationInvitation.Deleted";
    pub const ORGANIZATION_INVITATION_MESSAGE_SENT: &str = "OrganizationInvitation.Message.Sent";
}

/// Whether entries of `key` are announced to webhooks (Logto's data-hook events). The
/// webhook dispatcher subscribes to exactly these.
pub fn is_data_hook_event(key: &str) -> bool {
    use keys::*;
    [
        USER_CREATED,
        USER_DATA_UPDATED,
        USER_DELETED,
        USER_SUSPENSION_UPDATED,
        ORGANIZATION_CREATED,
        ORGANIZATION_DATA_UPDATED,
        ORGANIZATION_DELETED,
        ORGANIZATION_MEMBERSHIP_UPDATED,
        ORGANIZATION_ROLE_CREATED,
        ORGANIZATION_ROLE_DATA_UPDATED,
        ORGANIZATION_ROLE_DELETED,
        ORGANIZATION_ROLE_SCOPES_UPDATED,
        ORGANIZATION_SCOPE_CREATED,
        ORGANIZATION_SCOPE_DATA_UPDATED,
        ORGANIZATION_SCOPE_DELETED,
    ]
    .contains(&key)
}

/// Appends an entry. `details` is merged into the payload (no secrets, ever).
pub async fn record(
    c: &mut impl Exec,
    tenant: &TenantId,
    key: &str,
    user_id: Option<&str>,
    details: Value,
) -> Result<(), StorageError> {
    Ok(store::insert(c, &entry(tenant, key, user_id, details)).await?)
}

/// Queues an entry for the background writer (`audit_buffer.rs`): for the hot paths,
/// where a round trip per answer is too dear and the change is no database write.
pub fn record_buffered(core: &Core, tenant: &TenantId, key: &str, user_id: Option<&str>, details: Value) {
    core.audit_buffer.push(entry(tenant, key, user_id, details));
}

/// The row of an entry, for a caller that writes it with its change (`record` writes it alone).
pub(crate) fn entry(tenant: &TenantId, key: &str, user_id: Option<&str>, details: Value) -> StoredLog {
    let mut payload = Map::new();
    payload.insert("key".into(), key.into());
    payload.insert("result".into(), "Success".into());
    if let Some(user_id) = user_id {
        payload.insert("userId".into(), user_id.into());
    }
    if let Value::Object(extra) = details {
        payload.extend(extra);
    }
    StoredLog {
        tenant_id: tenant.to_string(),
        id: ids::new_id(),
        key: key.to_owned(),
        user_id: user_id.map(str::to_owned),
        application_id: payload.get("applicationId").and_then(Value::as_str).map(str::to_owned),
        payload: kido_store::Json(Value::Object(payload)),
        created_at: clock::now_ms(),
    }
}

fn to_log(l: StoredLog) -> Log {
    Log { tenant_id: l.tenant_id, id: l.id, key: l.key, payload: l.payload.0, created_at: l.created_at }
}

pub struct Logs<'a> {
    pub(crate) core: &'a Core,
}

impl Logs<'_> {
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &LogFilter,
        page: Page,
    ) -> Result<(Vec<Log>, i64), StorageError> {
        self.core.flush_audit().await;
        let mut c = self.core.store.conn().await?;
        let (rows, total) = store::list(&mut c, tenant, filter, page).await?;
        Ok((rows.into_iter().map(to_log).collect(), total))
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<Log>, StorageError> {
        self.core.flush_audit().await;
        let mut c = self.core.store.conn().await?;
        Ok(store::find(&mut c, tenant, id).await?.map(to_log))
    }
}

/// `{"changed": [fields]}` for update entries.
pub fn changed(fields: &[&str]) -> Value {
    json!({ "changed": fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_hook_events_are_logtos_names() {
        assert!(is_data_hook_event("Organization.Membership.Updated"));
        assert!(is_data_hook_event("OrganizationRole.Scopes.Updated"));
        // Kido's own audit keys are not announced.
        assert!(!is_data_hook_event(keys::ORGANIZATION_MEMBER_ROLES_UPDATED));
        assert!(!is_data_hook_event(keys::ORGANIZATION_INVITATION_CREATED));
        assert!(!is_data_hook_event(keys::EXCHANGE_TOKEN_BY_REFRESH_TOKEN));
    }
}
