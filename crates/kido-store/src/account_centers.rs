//! The account center of a tenant (`account_centers`, one row per tenant): whether the
//! Account API answers, and per field what it may do. A tenant without a row has the
//! domain's default.

use kido_proto::TenantId;
use serde_json::Value;

use crate::Json;
use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredAccountCenter {
    pub enabled: bool,
    /// `{field: "Off" | "ReadOnly" | "Edit"}`, parsed by kido-core.
    pub fields: Json<Value>,
    pub webauthn_related_origins: Json<Vec<String>>,
    pub updated_at: i64,
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Option<StoredAccountCenter>> {
    const SQL: &str = "SELECT enabled, fields, webauthn_related_origins, updated_at FROM account_centers \
                       WHERE tenant_id = $1";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).fetch_optional(&mut *c).await?))
}

/// Stores the tenant's account center, replacing the one it had.
pub async fn put(c: &mut impl Exec, tenant: &TenantId, center: &StoredAccountCenter) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO account_centers (tenant_id, enabled, fields, webauthn_related_origins, updated_at) \
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled, \
                       fields = excluded.fields, webauthn_related_origins = excluded.webauthn_related_origins, \
                       updated_at = excluded.updated_at";
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(center.enabled)
        .bind(&center.fields)
        .bind(&center.webauthn_related_origins)
        .bind(center.updated_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}
