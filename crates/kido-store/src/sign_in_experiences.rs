//! The tenant's sign-in experience: one JSON document per tenant (id `default`).

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;

pub const DEFAULT_ID: &str = "default";

pub async fn get(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Option<Value>> {
    const SQL: &str = "SELECT config FROM sign_in_experiences WHERE tenant_id = $1 AND id = $2";
    let row: Option<Json<Value>> =
        run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(DEFAULT_ID).fetch_optional(&mut *c).await?);
    Ok(row.map(|Json(v)| v))
}

pub async fn put(c: &mut impl Exec, tenant: &TenantId, config: &Value) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO sign_in_experiences (tenant_id, id, config) VALUES ($1, $2, $3) \
                       ON CONFLICT (tenant_id, id) DO UPDATE SET config = excluded.config";
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(DEFAULT_ID)
        .bind(Json(config))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}
