//! Verification records of the Verification API (`verification_records`): proofs a
//! signed-in user made for a sensitive Account API change, each bound to its user and to the
//! grant of the access token that made it, and expiring. The number a user holds is capped
//! by `insert_capped`.

use kido_proto::TenantId;
use serde_json::Value;

use crate::Json;
use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredVerificationRecord {
    pub tenant_id: String,
    pub id: String,
    pub user_id: String,
    pub grant_id: String,
    /// `Password`, `EmailVerificationCode`, `PhoneVerificationCode`, `WebAuthn`.
    pub kind: String,
    pub data: Json<Value>,
    pub verified: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Stores a record, first dropping the user's expired ones and, beyond the newest
/// `keep - 1`, the oldest (so a user holds at most `keep`). In the caller's transaction.
pub async fn insert_capped(c: &mut impl Exec, record: &StoredVerificationRecord, keep: i64) -> StoreResult<()> {
    const PRUNE: &str = "DELETE FROM verification_records WHERE tenant_id = $1 AND user_id = $2 \
                         AND (expires_at <= $3 OR id NOT IN (SELECT id FROM verification_records \
                         WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3 \
                         ORDER BY created_at DESC, id DESC LIMIT $4))";
    const INSERT: &str = "INSERT INTO verification_records (tenant_id, id, user_id, grant_id, kind, data, verified, \
                          created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    run!(c, |c| sqlx::query(PRUNE)
        .bind(&record.tenant_id)
        .bind(&record.user_id)
        .bind(record.created_at)
        .bind((keep - 1).max(0))
        .execute(&mut *c)
        .await?
        .rows_affected());
    run!(c, |c| sqlx::query(INSERT)
        .bind(&record.tenant_id)
        .bind(&record.id)
        .bind(&record.user_id)
        .bind(&record.grant_id)
        .bind(&record.kind)
        .bind(&record.data)
        .bind(record.verified)
        .bind(record.created_at)
        .bind(record.expires_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// A live record of the user made under the grant (anyone else's, an expired one: none).
pub async fn find_live(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    user_id: &str,
    grant_id: &str,
    now: i64,
) -> StoreResult<Option<StoredVerificationRecord>> {
    const SQL: &str = "SELECT tenant_id, id, user_id, grant_id, kind, data, verified, created_at, expires_at \
                       FROM verification_records WHERE tenant_id = $1 AND id = $2 AND user_id = $3 \
                       AND grant_id = $4 AND expires_at > $5";
    Ok(run!(c, |c| sqlx::query_as(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(user_id)
        .bind(grant_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Records a record's new state (verified, or its kind's data moved on). False when it is
/// gone or expired.
pub async fn update(c: &mut impl Exec, record: &StoredVerificationRecord, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE verification_records SET data = $3, verified = $4 \
                       WHERE tenant_id = $1 AND id = $2 AND expires_at > $5";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(&record.tenant_id)
        .bind(&record.id)
        .bind(&record.data)
        .bind(record.verified)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Removes a record (a passkey registration once bound: it is spent).
pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM verification_records WHERE tenant_id = $1 AND id = $2";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected()) > 0)
}

/// Removes expired records in every tenant (the maintenance sweep).
pub async fn delete_expired(c: &mut impl Exec, now: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM verification_records WHERE expires_at <= $1";
    Ok(run!(c, |c| sqlx::query(SQL).bind(now).execute(&mut *c).await?.rows_affected()))
}
