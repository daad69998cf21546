//! Per-tenant settings: small JSON documents under a key (bootstrap markers and the like).

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

pub async fn get(c: &mut impl Exec, tenant: &TenantId, key: &str) -> StoreResult<Option<Value>> {
    const SQL: &str = "SELECT value FROM tenant_settings WHERE tenant_id = $1 AND key = $2";
    let row: Option<Json<Value>> =
        run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(key).fetch_optional(&mut *c).await?);
    Ok(row.map(|Json(v)| v))
}

pub async fn put(c: &mut impl Exec, tenant: &TenantId, key: &str, value: &Value) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO tenant_settings (tenant_id, key, value) VALUES ($1, $2, $3) \
                       ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value";
    insert(c, SQL, tenant, key, value).await.map(|_| ())
}

/// Writes `value` under `key` unless the tenant already has one (the first writer wins).
pub async fn put_if_absent(c: &mut impl Exec, tenant: &TenantId, key: &str, value: &Value) -> StoreResult<bool> {
    const SQL: &str = "INSERT INTO tenant_settings (tenant_id, key, value) VALUES ($1, $2, $3) \
                       ON CONFLICT (tenant_id, key) DO NOTHING";
    Ok(insert(c, SQL, tenant, key, value).await? == 1)
}

/// Runs one of the inserts above; the rows it wrote.
async fn insert(c: &mut impl Exec, sql: &'static str, tenant: &TenantId, key: &str, value: &Value) -> StoreResult<u64> {
    Ok(run!(c, |c| sqlx::query(sql)
        .bind(tenant.as_str())
        .bind(key)
        .bind(Json(value))
        .execute(&mut *c)
        .await?
        .rows_affected()))
}
