//! The tenant's sign-in experience: one JSON document per tenant (id `default`).

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

pub const DEFAULT_ID: &str = "default";

pub async fn get(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Option<Value>> {
    const SQL: &str = "SELECT config FROM sign_in_experiences WHERE tenant_id = $1 AND id = $2";
    let row: Option<Json<Value>> =
        run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(DEFAULT_ID).fetch_optional(&mut *c).await?);
    Ok(row.map(|Json(v)| v))
}

/// Replaces the tenant's sign-in experience (creating it the first time).
///
/// An UPDATE, then an INSERT when there was nothing to update — not `ON CONFLICT DO UPDATE`:
/// on SQLite an upsert's conflict policy overrides the `INSERT OR IGNORE` of the cache-note
/// trigger (migration 0010), so a second write before the notes are drained would fail with a
/// unique violation on `pending_cache_changes`. Rule for every cached table: no upserts.
pub async fn put(c: &mut impl Exec, tenant: &TenantId, config: &Value) -> StoreResult<()> {
    const UPDATE: &str = "UPDATE sign_in_experiences SET config = $3 WHERE tenant_id = $1 AND id = $2";
    const INSERT: &str = "INSERT INTO sign_in_experiences (tenant_id, id, config) VALUES ($1, $2, $3)";
    let updated = run!(c, |c| sqlx::query(UPDATE)
        .bind(tenant.as_str())
        .bind(DEFAULT_ID)
        .bind(Json(config))
        .execute(&mut *c)
        .await?
        .rows_affected());
    if updated == 0 {
        run!(c, |c| sqlx::query(INSERT)
            .bind(tenant.as_str())
            .bind(DEFAULT_ID)
            .bind(Json(config))
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}
