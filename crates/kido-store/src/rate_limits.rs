//! Rate-limit counters: hits per bucket (e.g. a client IP) in fixed windows, each counted
//! by one atomic upsert so parallel requests and other nodes never lose a hit.

use kido_proto::TenantId;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

/// Counts one hit in `bucket`'s window starting at `window_start`; returns the hits in
/// that window, this one included.
pub async fn hit(
    c: &mut impl Exec,
    tenant: &TenantId,
    bucket: &str,
    window_start: i64,
    expires_at: i64,
) -> StoreResult<i64> {
    Ok(hit_both(c, tenant, (bucket, i64::MAX), None, window_start, expires_at).await?.0)
}

/// Counts one hit in `bucket` (whose limit is `limit`) and, with `also`, one in `also` too,
/// by one statement; returns both counts, this hit included. `also` is not counted (`None`)
/// when `bucket` already held `limit` hits before this one: that attempt is refused by
/// `bucket`'s limit, and a refused attempt must not use up the other bucket. `also`'s row
/// is written first, so two requests (each an `also` then a `bucket` of another kind, as
/// an address and an identifier) always take row locks in the same order.
pub async fn hit_both(
    c: &mut impl Exec,
    tenant: &TenantId,
    (bucket, limit): (&str, i64),
    also: Option<&str>,
    window_start: i64,
    expires_at: i64,
) -> StoreResult<(i64, Option<i64>)> {
    // The SELECTs read the table as it was before the statement (PostgreSQL's snapshot;
    // SQLite computes a SELECT that reads the target table before inserting), so `also`'s
    // condition sees `bucket`'s count without this hit. `WHERE true` keeps SQLite from
    // reading `ON CONFLICT` as a join constraint.
    const ONE: &str = "INSERT INTO rate_limit_hits (tenant_id, bucket, window_start, expires_at, hits) \
        SELECT $1, $2, $3, $4, 1 WHERE true \
        ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
        RETURNING bucket, hits";
    const BOTH: &str = "INSERT INTO rate_limit_hits (tenant_id, bucket, window_start, expires_at, hits) \
        SELECT $1, $5, $3, $4, 1 WHERE COALESCE((SELECT hits FROM rate_limit_hits \
          WHERE tenant_id = $1 AND bucket = $2 AND window_start = $3), 0) < $6 \
        UNION ALL SELECT $1, $2, $3, $4, 1 WHERE true \
        ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
        RETURNING bucket, hits";
    let also = also.filter(|a| *a != bucket);
    let counted: Vec<(String, i32)> = run!(c, |c| {
        let q = sqlx::query_as(if also.is_some() { BOTH } else { ONE })
            .bind(tenant.as_str())
            .bind(bucket)
            .bind(window_start)
            .bind(expires_at);
        let q = match also {
            Some(also) => q.bind(also).bind(limit),
            None => q,
        };
        q.fetch_all(&mut *c).await?
    });
    let hits_of = |name: &str| counted.iter().find(|(b, _)| b == name).map(|(_, hits)| i64::from(*hits));
    Ok((hits_of(bucket).unwrap_or(0), also.and_then(hits_of)))
}

/// Removes the counters of windows that have ended.
pub async fn delete_expired(c: &mut impl Exec, now: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM rate_limit_hits WHERE expires_at <= $1";
    Ok(run!(c, |c| sqlx::query(SQL).bind(now).execute(&mut *c).await?.rows_affected()))
}
