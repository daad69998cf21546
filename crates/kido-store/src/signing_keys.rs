//! Token signing keys (private keys as PKCS#8 PEM), per tenant.

use kido_proto::TenantId;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSigningKey {
    pub id: String,
    pub algorithm: String,
    pub private_key: String,
    pub status: String,
    pub created_at: i64,
}

pub async fn list(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Vec<StoredSigningKey>> {
    const SQL: &str = "SELECT id, algorithm, private_key, status, created_at FROM signing_keys \
                       WHERE tenant_id = $1 ORDER BY created_at DESC, id";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).fetch_all(&mut *c).await?))
}

pub async fn insert(c: &mut impl Exec, tenant: &TenantId, key: &StoredSigningKey) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO signing_keys (tenant_id, id, algorithm, private_key, status, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(&key.id)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(&key.status)
        .bind(key.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}
