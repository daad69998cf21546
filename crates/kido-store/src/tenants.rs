//! Tenants: the isolation boundary every other row hangs off.

use kido_proto::TenantId;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

/// Creates the tenant unless it exists; returns whether it was created.
pub async fn ensure(c: &mut impl Exec, tenant: &TenantId, name: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str = "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(name)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done == 1)
}

pub async fn exists(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM tenants WHERE id = $1";
    let n: i64 = run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).fetch_one(&mut *c).await?);
    Ok(n > 0)
}
