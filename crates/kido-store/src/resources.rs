//! API resources and their scopes.

use kido_proto::TenantId;

use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

const RESOURCE_COLUMNS: &str = "tenant_id, id, name, indicator, is_default, access_token_ttl";
const SCOPE_COLUMNS: &str = "tenant_id, id, resource_id, name, description, created_at";

/// A resource row (its scopes live in their own table).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredResource {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub indicator: String,
    pub is_default: bool,
    pub access_token_ttl: i64,
}

/// A scope row of an API resource.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredScope {
    pub tenant_id: String,
    pub id: String,
    pub resource_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

pub async fn insert(c: &mut impl Exec, resource: &StoredResource, created_at: i64) -> StoreResult<()> {
    let sql = format!("INSERT INTO resources ({RESOURCE_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&resource.tenant_id)
        .bind(&resource.id)
        .bind(&resource.name)
        .bind(&resource.indicator)
        .bind(resource.is_default)
        .bind(resource.access_token_ttl)
        .bind(created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update(c: &mut impl Exec, resource: &StoredResource) -> StoreResult<()> {
    const SQL: &str = "UPDATE resources SET name = $3, access_token_ttl = $4 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&resource.tenant_id)
        .bind(&resource.id)
        .bind(&resource.name)
        .bind(resource.access_token_ttl)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Makes `id` the tenant's default resource (clearing the previous one), or clears it.
pub async fn set_default(c: &mut impl Exec, tenant: &TenantId, id: &str, is_default: bool) -> StoreResult<()> {
    const CLEAR: &str = "UPDATE resources SET is_default = $2 WHERE tenant_id = $1 AND is_default";
    const SET: &str = "UPDATE resources SET is_default = $3 WHERE tenant_id = $1 AND id = $2";
    if is_default {
        run!(c, |c| sqlx::query(CLEAR).bind(tenant.as_str()).bind(false).execute(&mut *c).await?.rows_affected());
    }
    run!(c, |c| sqlx::query(SET)
        .bind(tenant.as_str())
        .bind(id)
        .bind(is_default)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredResource>> {
    let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE tenant_id = $1 AND id = $2");
    let row: Option<StoredResource> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row)
}

pub async fn find_by_indicator(
    c: &mut impl Exec,
    tenant: &TenantId,
    indicator: &str,
) -> StoreResult<Option<StoredResource>> {
    let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE tenant_id = $1 AND indicator = $2");
    let row: Option<StoredResource> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(indicator)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row)
}

pub async fn find_default(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Option<StoredResource>> {
    let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE tenant_id = $1 AND is_default");
    let row: Option<StoredResource> =
        run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).fetch_optional(&mut *c).await?);
    Ok(row)
}

/// Oldest first; `page` absent means all.
pub async fn list(c: &mut impl Exec, tenant: &TenantId, page: Option<Page>) -> StoreResult<(Vec<StoredResource>, i64)> {
    let binds = [tenant.to_string()];
    let query = ListQuery {
        columns: RESOURCE_COLUMNS,
        from: "resources",
        where_clause: "tenant_id = $1",
        order_by: "created_at, id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<StoredResource>(c, page).await?;
    Ok((rows, total))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM resources WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

// --- scopes ----------------------------------------------------------------------------

pub async fn insert_scope(c: &mut impl Exec, scope: &StoredScope) -> StoreResult<()> {
    let sql = format!("INSERT INTO scopes ({SCOPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&scope.tenant_id)
        .bind(&scope.id)
        .bind(&scope.resource_id)
        .bind(&scope.name)
        .bind(&scope.description)
        .bind(scope.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_scope(c: &mut impl Exec, scope: &StoredScope) -> StoreResult<()> {
    const SQL: &str = "UPDATE scopes SET name = $3, description = $4 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&scope.tenant_id)
        .bind(&scope.id)
        .bind(&scope.name)
        .bind(&scope.description)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find_scope(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredScope>> {
    let sql = format!("SELECT {SCOPE_COLUMNS} FROM scopes WHERE tenant_id = $1 AND id = $2");
    let row: Option<StoredScope> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row)
}

/// The scopes among `ids` that exist in this tenant.
pub async fn find_scopes(c: &mut impl Exec, tenant: &TenantId, ids: &[String]) -> StoreResult<Vec<StoredScope>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql =
        format!("SELECT {SCOPE_COLUMNS} FROM scopes WHERE tenant_id = $1 AND id IN ({})", placeholders(2, ids.len()));
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, StoredScope>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

/// Scopes of one resource (or of `resource_ids` when several), by name; `search` is a
/// case-insensitive substring of name or description.
pub async fn list_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    resource_ids: &[String],
    search: Option<&str>,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredScope>, i64)> {
    if resource_ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut binds: Vec<String> = vec![tenant.to_string()];
    binds.extend(resource_ids.iter().cloned());
    let mut where_clause = format!("tenant_id = $1 AND resource_id IN ({})", placeholders(2, resource_ids.len()));
    if let Some(s) = search {
        binds.push(format!("%{}%", s.to_lowercase()));
        let n = binds.len();
        where_clause.push_str(&format!(" AND (lower(name) LIKE ${n} OR lower(COALESCE(description, '')) LIKE ${n})"));
    }
    let query = ListQuery {
        columns: SCOPE_COLUMNS,
        from: "scopes",
        where_clause: &where_clause,
        order_by: "created_at, id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<StoredScope>(c, page).await?;
    Ok((rows, total))
}

pub async fn delete_scope(c: &mut impl Exec, tenant: &TenantId, resource_id: &str, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM scopes WHERE tenant_id = $1 AND resource_id = $2 AND id = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(resource_id)
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// The API-resource scopes an organization role grants, by name.
pub async fn scopes_of_organization_role(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_role_id: &str,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredScope>, i64)> {
    let binds = vec![tenant.to_string(), organization_role_id.to_owned()];
    let query = ListQuery {
        columns: "s.tenant_id, s.id, s.resource_id, s.name, s.description, s.created_at",
        from: "scopes s",
        where_clause: "s.tenant_id = $1 AND EXISTS (SELECT 1 FROM organization_role_resource_scope_relations rs \
                       WHERE rs.tenant_id = s.tenant_id AND rs.scope_id = s.id AND rs.organization_role_id = $2)",
        order_by: "s.name, s.id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<StoredScope>(c, page).await?;
    Ok((rows, total))
}
