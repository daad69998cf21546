//! Which user a social identity (connector target + the provider's user id) belongs to:
//! `user_social_identities`, one row per identity, unique per tenant. Kept in step with
//! `users.identities` by kido-core in the transaction that changes the user.

use kido_proto::TenantId;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

/// The unique index a second user's link of the same identity breaks (`StoreError::Conflict`).
pub const IDENTITY_IN_USE: &str = "user_social_identities__identity";

/// Links (or re-links) the user's identity of `target` to the provider's `identity_id`.
pub async fn link(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    target: &str,
    identity_id: &str,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO user_social_identities (tenant_id, user_id, target, identity_id) \
                       VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, user_id, target) \
                       DO UPDATE SET identity_id = excluded.identity_id";
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(target)
        .bind(identity_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Unlinks the user's identity of `target`; whether there was one.
pub async fn unlink(c: &mut impl Exec, tenant: &TenantId, user_id: &str, target: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM user_social_identities WHERE tenant_id = $1 AND user_id = $2 AND target = $3";
    Ok(run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(target)
        .execute(&mut *c)
        .await?
        .rows_affected())
        > 0)
}

/// The user a provider account is linked to, if any.
pub async fn owner(
    c: &mut impl Exec,
    tenant: &TenantId,
    target: &str,
    identity_id: &str,
) -> StoreResult<Option<String>> {
    const SQL: &str =
        "SELECT user_id FROM user_social_identities WHERE tenant_id = $1 AND target = $2 AND identity_id = $3";
    Ok(run!(c, |c| sqlx::query_scalar(SQL)
        .bind(tenant.as_str())
        .bind(target)
        .bind(identity_id)
        .fetch_optional(&mut *c)
        .await?))
}
