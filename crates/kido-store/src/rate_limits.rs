//! Rate-limit counters: hits per bucket (e.g. a client IP) in fixed windows, each counted
//! by one atomic upsert so parallel requests and other nodes never lose a hit.

use kido_proto::TenantId;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Counts one hit in `bucket`'s window starting at `window_start`; returns the hits in
/// that window, this one included.
pub async fn hit(
    c: &mut impl Exec,
    tenant: &TenantId,
    bucket: &str,
    window_start: i64,
    expires_at: i64,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO rate_limit_hits (tenant_id, bucket, window_start, expires_at, hits) \
                       VALUES ($1, $2, $3, $4, 1) ON CONFLICT (tenant_id, bucket, window_start) \
                       DO UPDATE SET hits = rate_limit_hits.hits + 1 RETURNING hits";
    let hits: i32 = run!(c, |c| sqlx::query_scalar(SQL)
        .bind(tenant.as_str())
        .bind(bucket)
        .bind(window_start)
        .bind(expires_at)
        .fetch_one(&mut *c)
        .await?);
    Ok(i64::from(hits))
}

/// Removes the counters of windows that have ended.
pub async fn delete_expired(c: &mut impl Exec, now: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM rate_limit_hits WHERE expires_at <= $1";
    Ok(run!(c, |c| sqlx::query(SQL).bind(now).execute(&mut *c).await?.rows_affected()))
}
