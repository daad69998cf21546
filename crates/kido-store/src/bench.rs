//! Bulk fills for the benchmark (`kido-bench seed-users`): generated rows straight in SQL,
//! because a million rows take seconds this way and hours through the API. Not a request path.

use kido_proto::TenantId;

use crate::db::{Backend, Exec, run};
use crate::error::{StoreError, StoreResult};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

/// Inserts users number `from..=to` (of `count`) into `tenant` on PostgreSQL: ids, usernames
/// and emails carry the row number (unique, and searchable by the bench), sign-ups spread
/// `step_ms` apart ending at `now`. Returns the rows inserted.
pub async fn seed_users(
    c: &mut impl Exec,
    tenant: &TenantId,
    from: i64,
    to: i64,
    count: i64,
    now: i64,
    step_ms: i64,
) -> StoreResult<u64> {
    if c.backend() != Backend::Postgres {
        return Err(StoreError::Unsupported("seed-users fills a PostgreSQL database".into()));
    }
    const SQL: &str = "INSERT INTO users (tenant_id, id, username, primary_email, name, profile, identities, \
                       custom_data, created_at, updated_at) \
                       SELECT $1, 'seed' || lpad(i::text, 8, '0'), 'user-' || lpad(i::text, 7, '0'), \
                              'user-' || lpad(i::text, 7, '0') || '@example.com', 'Bench User ' || i, \
                              '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, $4 - ($3 - i) * $5, $4 - ($3 - i) * $5 \
                       FROM generate_series($2::bigint, $6::bigint) AS i";
    Ok(run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(from)
        .bind(count)
        .bind(now)
        .bind(step_ms)
        .bind(to)
        .execute(&mut *c)
        .await?
        .rows_affected()))
}

/// Refreshes the planner's statistics of `users` after a bulk fill (PostgreSQL; SQLite's are
/// refreshed by [`crate::Store::optimize`]).
pub async fn analyze_users(c: &mut impl Exec) -> StoreResult<()> {
    if c.backend() == Backend::Postgres {
        run!(c, |c| sqlx::query("ANALYZE users").execute(&mut *c).await?.rows_affected());
    }
    Ok(())
}
