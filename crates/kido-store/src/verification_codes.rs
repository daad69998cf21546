//! One-time verification codes (by digest) and the message-send log behind rate limits.

use kido_proto::TenantId;
use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCode {
    pub tenant_id: String,
    pub id: String,
    /// `email:<address>` or `phone:<digits>`, normalised.
    pub identifier: String,
    /// The message template it was sent with (`SignIn`, `Register`, `ForgotPassword`, `Generic`…).
    pub template_type: String,
    pub code_hash: String,
    pub try_count: i32,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str =
    "tenant_id, id, identifier, template_type, code_hash, try_count, expires_at, consumed_at, created_at";

/// Stores a new code and retires every earlier code for the same identifier and purpose.
pub async fn replace(c: &mut impl Exec, code: &StoredCode) -> StoreResult<()> {
    const RETIRE: &str =
        "DELETE FROM verification_codes WHERE tenant_id = $1 AND identifier = $2 AND template_type = $3";
    let insert = format!("INSERT INTO verification_codes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    run!(c, |c| sqlx::query(RETIRE)
        .bind(&code.tenant_id)
        .bind(&code.identifier)
        .bind(&code.template_type)
        .execute(&mut *c)
        .await?
        .rows_affected());
    run!(c, |c| {
        sqlx::query(AssertSqlSafe(insert.as_str()))
            .bind(&code.tenant_id)
            .bind(&code.id)
            .bind(&code.identifier)
            .bind(&code.template_type)
            .bind(&code.code_hash)
            .bind(code.try_count)
            .bind(code.expires_at)
            .bind(code.consumed_at)
            .bind(code.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The live (not consumed) code for an identifier and purpose, expired or not.
pub async fn find_current(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: &str,
    template_type: &str,
) -> StoreResult<Option<StoredCode>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM verification_codes WHERE tenant_id = $1 AND identifier = $2 \
         AND template_type = $3 AND consumed_at IS NULL ORDER BY created_at DESC LIMIT 1"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(identifier)
        .bind(template_type)
        .fetch_optional(&mut *c)
        .await?))
}

/// Counts a wrong guess; returns the new count (0 when the code is gone).
pub async fn add_try(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<i32> {
    const SQL: &str = "UPDATE verification_codes SET try_count = try_count + 1 \
                       WHERE tenant_id = $1 AND id = $2 RETURNING try_count";
    let n: Option<i32> =
        run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(id).fetch_optional(&mut *c).await?);
    Ok(n.unwrap_or(0))
}

/// Moves the expiry of every live code of the tenant to `at` (tests and repairs: the shortest
/// policy is a minute, and tests do not wait). Returns how many codes it touched.
pub async fn expire_all(c: &mut impl Exec, tenant: &TenantId, at: i64) -> StoreResult<u64> {
    const SQL: &str = "UPDATE verification_codes SET expires_at = $2 WHERE tenant_id = $1 AND consumed_at IS NULL";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(at).execute(&mut *c).await?.rows_affected()))
}

/// Marks a code used. False when it already was: of two concurrent uses one wins.
pub async fn consume(c: &mut impl Exec, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE verification_codes SET consumed_at = $3 \
                       WHERE tenant_id = $1 AND id = $2 AND consumed_at IS NULL";
    let n =
        run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

// --- message sends --------------------------------------------------------------------------

/// Records one message sent under each of `buckets` (e.g. per identifier, per IP).
pub async fn record_send(c: &mut impl Exec, tenant: &TenantId, buckets: &[&str], now: i64) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO message_sends (tenant_id, bucket, sent_at) VALUES ($1, $2, $3)";
    for bucket in buckets {
        run!(c, |c| sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(*bucket)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

/// How many messages went out under `bucket` since `since`, and when the latest did.
pub async fn sends_since(
    c: &mut impl Exec,
    tenant: &TenantId,
    bucket: &str,
    since: i64,
) -> StoreResult<(i64, Option<i64>)> {
    const SQL: &str =
        "SELECT COUNT(*), MAX(sent_at) FROM message_sends WHERE tenant_id = $1 AND bucket = $2 AND sent_at > $3";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).bind(bucket).bind(since).fetch_one(&mut *c).await?))
}

/// Removes codes that have expired and send records older than `sends_before`.
pub async fn delete_expired(c: &mut impl Exec, now: i64, sends_before: i64) -> StoreResult<u64> {
    let codes = run!(c, |c| sqlx::query("DELETE FROM verification_codes WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    let sends = run!(c, |c| sqlx::query("DELETE FROM message_sends WHERE sent_at <= $1")
        .bind(sends_before)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(codes + sends)
}
