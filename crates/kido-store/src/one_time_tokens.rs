//! One-time tokens (magic links), stored by the SHA-256 digest of the token. Spending one is a
//! single conditional statement, so of two parallel spends (on one node or several) one wins.

use kido_proto::{Page, TenantId};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::ListQuery;
use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

const COLUMNS: &str = "tenant_id, id, email, token_digest, context, status, created_at, expires_at";

/// The columns with the status as read at `now`: an active token past its expiry is `expired`.
fn columns_at(now: &str) -> String {
    format!(
        "tenant_id, id, email, token_digest, context, \
         CASE WHEN status = 'active' AND expires_at <= {now} THEN 'expired' ELSE status END AS status, \
         created_at, expires_at"
    )
}

/// A token row. `status` is one of `active`, `consumed`, `revoked`, `expired`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredOneTimeToken {
    pub tenant_id: String,
    pub id: String,
    pub email: String,
    pub token_digest: String,
    pub context: Json<Value>,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What a list keeps (both optional; the status as read at `now`).
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// Compared case-insensitively.
    pub email: Option<String>,
    pub status: Option<String>,
}

pub async fn insert(c: &mut impl Exec, t: &StoredOneTimeToken) -> StoreResult<()> {
    let sql = format!("INSERT INTO one_time_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&t.tenant_id)
        .bind(&t.id)
        .bind(&t.email)
        .bind(&t.token_digest)
        .bind(&t.context)
        .bind(&t.status)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// The token with this id, its status as read at `now`.
pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str, now: i64) -> StoreResult<Option<StoredOneTimeToken>> {
    let sql = format!("SELECT {} FROM one_time_tokens WHERE tenant_id = $1 AND id = $2", columns_at("$3"));
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// The token whose digest this is, with its stored status (what a failed spend explains).
pub async fn find_by_digest(
    c: &mut impl Exec,
    tenant: &TenantId,
    token_digest: &str,
) -> StoreResult<Option<StoredOneTimeToken>> {
    let sql = format!("SELECT {COLUMNS} FROM one_time_tokens WHERE tenant_id = $1 AND token_digest = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(token_digest)
        .fetch_optional(&mut *c)
        .await?))
}

/// Newest first, filtered, one page (all when `None`), with the filtered total.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &TokenFilter,
    now: i64,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredOneTimeToken>, i64)> {
    // `now` is an integer the server made, written into the text (the list query binds text only).
    let now = now.to_string();
    let status_at = format!("CASE WHEN status = 'active' AND expires_at <= {now} THEN 'expired' ELSE status END");
    let mut binds = vec![tenant.to_string()];
    let mut conditions = vec!["tenant_id = $1".to_owned()];
    if let Some(email) = &filter.email {
        binds.push(email.clone());
        // Both sides lowered by the database, so each dialect compares one way.
        conditions.push(format!("lower(email) = lower(${})", binds.len()));
    }
    if let Some(status) = &filter.status {
        binds.push(status.clone());
        conditions.push(format!("{status_at} = ${}", binds.len()));
    }
    let columns = columns_at(&now);
    let where_clause = conditions.join(" AND ");
    let query = ListQuery {
        columns: &columns,
        from: "one_time_tokens",
        where_clause: &where_clause,
        order_by: "created_at DESC, id",
        binds: &binds,
    };
    query.fetch(c, page).await
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM one_time_tokens WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Sets the status of the token with this id; the row as it now is, or `None` when there is none.
pub async fn set_status(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    status: &str,
) -> StoreResult<Option<StoredOneTimeToken>> {
    let sql = format!("UPDATE one_time_tokens SET status = $3 WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .bind(status)
        .fetch_optional(&mut *c)
        .await?))
}

/// Spends the token: one statement that requires it active, unexpired at `now` and issued for
/// `email` (case-insensitively). The spent row, or `None` when any of that fails.
pub async fn consume(
    c: &mut impl Exec,
    tenant: &TenantId,
    token_digest: &str,
    email: &str,
    now: i64,
) -> StoreResult<Option<StoredOneTimeToken>> {
    let sql = format!(
        "UPDATE one_time_tokens SET status = 'consumed' WHERE tenant_id = $1 AND token_digest = $2 \
         AND lower(email) = lower($3) AND status = 'active' AND expires_at > $4 RETURNING {COLUMNS}"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(token_digest)
        .bind(email)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Records that an active token is past its expiry (what a spend that came too late leaves).
pub async fn mark_expired(c: &mut impl Exec, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE one_time_tokens SET status = 'expired' \
                       WHERE tenant_id = $1 AND id = $2 AND status = 'active' AND expires_at <= $3";
    let done =
        run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Moves the expiry of every active token of the tenant to `at` (tests: expiry without waiting).
pub async fn expire_all(c: &mut impl Exec, tenant: &TenantId, at: i64) -> StoreResult<u64> {
    const SQL: &str = "UPDATE one_time_tokens SET expires_at = $2 WHERE tenant_id = $1 AND status = 'active'";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(at).execute(&mut *c).await?.rows_affected()))
}
