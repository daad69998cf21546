//! Enterprise SSO connectors (their configuration; signing in through them comes later).

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

const COLUMNS: &str =
    "tenant_id, id, provider_name, connector_name, config, domains, branding, sync_profile, created_at";

/// A connector row; the domain layer gives `config` and `branding` their meaning.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSsoConnector {
    pub tenant_id: String,
    pub id: String,
    pub provider_name: String,
    pub connector_name: String,
    pub config: Json<Value>,
    pub domains: Json<Vec<String>>,
    pub branding: Json<Value>,
    pub sync_profile: bool,
    pub created_at: i64,
}

pub async fn insert(c: &mut impl Exec, s: &StoredSsoConnector) -> StoreResult<()> {
    let sql = format!("INSERT INTO sso_connectors ({COLUMNS}) VALUES ({})", placeholders(1, 9));
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&s.tenant_id)
        .bind(&s.id)
        .bind(&s.provider_name)
        .bind(&s.connector_name)
        .bind(&s.config)
        .bind(&s.domains)
        .bind(&s.branding)
        .bind(s.sync_profile)
        .bind(s.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update(c: &mut impl Exec, s: &StoredSsoConnector) -> StoreResult<()> {
    const SQL: &str = "UPDATE sso_connectors SET connector_name = $3, config = $4, domains = $5, branding = $6, \
                       sync_profile = $7 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&s.tenant_id)
        .bind(&s.id)
        .bind(&s.connector_name)
        .bind(&s.config)
        .bind(&s.domains)
        .bind(&s.branding)
        .bind(s.sync_profile)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredSsoConnector>> {
    Ok(find_many(c, tenant, std::slice::from_ref(&id.to_owned())).await?.pop())
}

/// The connectors among `ids` that exist in this tenant.
pub async fn find_many(c: &mut impl Exec, tenant: &TenantId, ids: &[String]) -> StoreResult<Vec<StoredSsoConnector>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM sso_connectors WHERE tenant_id = $1 AND id IN ({}) ORDER BY created_at, id",
        placeholders(2, ids.len())
    );
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, StoredSsoConnector>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

/// Oldest first; `page` absent means all.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredSsoConnector>, i64)> {
    let binds = vec![tenant.to_string()];
    let query = ListQuery {
        columns: COLUMNS,
        from: "sso_connectors",
        where_clause: "tenant_id = $1",
        order_by: "created_at, id",
        binds: &binds,
    };
    query.fetch(c, page).await
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM sso_connectors WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}
