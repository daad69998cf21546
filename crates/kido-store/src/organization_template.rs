//! The organization template: organization roles, organization scopes, and what each role
//! grants (organization scopes and API-resource scopes). Shared by every organization.

use std::collections::HashMap;

use kido_proto::TenantId;
use kido_proto::organizations::{Grants, RoleFilter};
use kido_proto::roles::RoleType;
use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::{StoreError, StoreResult};
use crate::organizations::held_by_member;
use crate::{ListQuery, Page, StoredIdName, placeholders};

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

// --- roles ---------------------------------------------------------------------------------

const ROLE_COLUMNS: &str = "tenant_id, id, name, description, type";

/// An organization role of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrganizationRole {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_type: RoleType,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    tenant_id: String,
    id: String,
    name: String,
    description: Option<String>,
    #[sqlx(rename = "type")]
    role_type: String,
}

impl TryFrom<RoleRow> for StoredOrganizationRole {
    type Error = StoreError;
    fn try_from(r: RoleRow) -> StoreResult<Self> {
        let role_type = RoleType::parse(&r.role_type)
            .ok_or_else(|| StoreError::Corrupt(format!("organization role {} has type {}", r.id, r.role_type)))?;
        Ok(StoredOrganizationRole {
            tenant_id: r.tenant_id,
            id: r.id,
            name: r.name,
            description: r.description,
            role_type,
        })
    }
}

fn to_roles(rows: Vec<RoleRow>) -> StoreResult<Vec<StoredOrganizationRole>> {
    rows.into_iter().map(StoredOrganizationRole::try_from).collect()
}

pub async fn insert_role(c: &mut impl Exec, role: &StoredOrganizationRole, created_at: i64) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO organization_roles (tenant_id, id, name, description, type, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    run!(c, |c| sqlx::query(SQL)
        .bind(&role.tenant_id)
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.role_type.as_str())
        .bind(created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_role(c: &mut impl Exec, role: &StoredOrganizationRole) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE organization_roles SET name = $3, description = $4, type = $5 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&role.tenant_id)
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.role_type.as_str())
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// The roles among `ids` that exist in this tenant.
pub async fn find_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    ids: &[String],
) -> StoreResult<Vec<StoredOrganizationRole>> {
    find_roles_by(c, tenant, "id", ids).await
}

/// The roles among `names` that exist in this tenant.
pub async fn find_roles_by_name(
    c: &mut impl Exec,
    tenant: &TenantId,
    names: &[String],
) -> StoreResult<Vec<StoredOrganizationRole>> {
    find_roles_by(c, tenant, "name", names).await
}

async fn find_roles_by(
    c: &mut impl Exec,
    tenant: &TenantId,
    column: &'static str,
    values: &[String],
) -> StoreResult<Vec<StoredOrganizationRole>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ROLE_COLUMNS} FROM organization_roles WHERE tenant_id = $1 AND {column} IN ({})",
        placeholders(2, values.len())
    );
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, RoleRow>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for v in values {
            q = q.bind(v);
        }
        to_roles(q.fetch_all(&mut *c).await?)
    })
}

pub async fn find_role(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredOrganizationRole>> {
    Ok(find_roles(c, tenant, std::slice::from_ref(&id.to_owned())).await?.pop())
}

pub async fn delete_role(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM organization_roles WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Roles by name; `page` absent means all.
pub async fn list_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &RoleFilter,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredOrganizationRole>, i64)> {
    let mut conditions = vec!["r.tenant_id = $1".to_owned()];
    let mut binds: Vec<String> = vec![tenant.to_string()];
    search_condition(&filter.search, "r", &mut conditions, &mut binds);
    if let Some(t) = filter.role_type {
        binds.push(t.as_str().to_owned());
        conditions.push(format!("r.type = ${}", binds.len()));
    }
    if let Some((org, kind, member)) = &filter.held_by {
        binds.push(org.clone());
        binds.push(member.clone());
        conditions.push(held_by_member(*kind, binds.len() - 1, binds.len()));
    }
    if let Some(org) = &filter.jit_of {
        binds.push(org.clone());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM organization_jit_roles j WHERE j.tenant_id = r.tenant_id \
             AND j.organization_role_id = r.id AND j.organization_id = ${})",
            binds.len()
        ));
    }
    let columns = ROLE_COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    let query = ListQuery {
        columns: &columns,
        from: "organization_roles r",
        where_clause: &conditions.join(" AND "),
        order_by: "r.name, r.id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<RoleRow>(c, page).await?;
    Ok((to_roles(rows)?, total))
}

/// `q`: a case-insensitive substring of the id, the name or the description.
fn search_condition(search: &Option<String>, alias: &str, conditions: &mut Vec<String>, binds: &mut Vec<String>) {
    if let Some(s) = search {
        binds.push(format!("%{}%", s.to_lowercase()));
        let n = binds.len();
        conditions.push(format!(
            "(lower({alias}.id) LIKE ${n} OR lower({alias}.name) LIKE ${n} \
             OR lower(COALESCE({alias}.description, '')) LIKE ${n})"
        ));
    }
}

// --- scopes --------------------------------------------------------------------------------

const SCOPE_COLUMNS: &str = "tenant_id, id, name, description";

/// An organization scope of the template.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredOrganizationScope {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

pub async fn insert_scope(c: &mut impl Exec, scope: &StoredOrganizationScope, created_at: i64) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO organization_scopes (tenant_id, id, name, description, created_at) \
                       VALUES ($1, $2, $3, $4, $5)";
    run!(c, |c| sqlx::query(SQL)
        .bind(&scope.tenant_id)
        .bind(&scope.id)
        .bind(&scope.name)
        .bind(&scope.description)
        .bind(created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_scope(c: &mut impl Exec, scope: &StoredOrganizationScope) -> StoreResult<()> {
    const SQL: &str = "UPDATE organization_scopes SET name = $3, description = $4 WHERE tenant_id = $1 AND id = $2";
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

pub async fn find_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    ids: &[String],
) -> StoreResult<Vec<StoredOrganizationScope>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SCOPE_COLUMNS} FROM organization_scopes WHERE tenant_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, StoredOrganizationScope>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

pub async fn find_scope(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
) -> StoreResult<Option<StoredOrganizationScope>> {
    Ok(find_scopes(c, tenant, std::slice::from_ref(&id.to_owned())).await?.pop())
}

pub async fn delete_scope(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM organization_scopes WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Scopes by name; `page` absent means all. With `role_id`, only the scopes that role grants.
pub async fn list_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    search: &Option<String>,
    role_id: Option<&str>,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredOrganizationScope>, i64)> {
    let mut conditions = vec!["s.tenant_id = $1".to_owned()];
    let mut binds: Vec<String> = vec![tenant.to_string()];
    search_condition(search, "s", &mut conditions, &mut binds);
    if let Some(role) = role_id {
        binds.push(role.to_owned());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM organization_role_scope_relations rs WHERE rs.tenant_id = s.tenant_id \
             AND rs.organization_scope_id = s.id AND rs.organization_role_id = ${})",
            binds.len()
        ));
    }
    let columns = SCOPE_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let query = ListQuery {
        columns: &columns,
        from: "organization_scopes s",
        where_clause: &conditions.join(" AND "),
        order_by: "s.name, s.id",
        binds: &binds,
    };
    query.fetch::<StoredOrganizationScope>(c, page).await
}

// --- what roles grant ----------------------------------------------------------------------

/// The relation table of each kind of grant and its scope column.
trait GrantTables {
    fn relation(self) -> &'static str;
    fn key(self) -> &'static str;
}

impl GrantTables for Grants {
    fn relation(self) -> &'static str {
        match self {
            Self::OrganizationScopes => "organization_role_scope_relations",
            Self::ResourceScopes => "organization_role_resource_scope_relations",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::OrganizationScopes => "organization_scope_id",
            Self::ResourceScopes => "scope_id",
        }
    }
}

/// Ids of the scopes of this kind the role grants.
pub async fn granted_ids(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_id: &str,
    kind: Grants,
) -> StoreResult<Vec<String>> {
    let sql =
        format!("SELECT {} FROM {} WHERE tenant_id = $1 AND organization_role_id = $2", kind.key(), kind.relation());
    Ok(run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(role_id)
        .fetch_all(&mut *c)
        .await?))
}

pub async fn grant(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_id: &str,
    kind: Grants,
    scope_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, organization_role_id, {}, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        kind.relation(),
        kind.key()
    );
    for id in scope_ids {
        run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(role_id)
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn revoke_all(c: &mut impl Exec, tenant: &TenantId, role_id: &str, kind: Grants) -> StoreResult<()> {
    let sql = format!("DELETE FROM {} WHERE tenant_id = $1 AND organization_role_id = $2", kind.relation());
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(role_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// False when the role did not grant the scope.
pub async fn revoke(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_id: &str,
    kind: Grants,
    scope_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND organization_role_id = $2 AND {} = $3",
        kind.relation(),
        kind.key()
    );
    let done = run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(role_id)
        .bind(scope_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// Per role: the organization scopes it grants, by name.
pub async fn scopes_of_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_ids: &[String],
) -> StoreResult<HashMap<String, Vec<StoredIdName>>> {
    if role_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT rs.organization_role_id, s.id, s.name FROM organization_role_scope_relations rs \
         JOIN organization_scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.organization_scope_id \
         WHERE rs.tenant_id = $1 AND rs.organization_role_id IN ({}) ORDER BY s.name",
        placeholders(2, role_ids.len())
    );
    let rows: Vec<(String, String, String)> = run!(c, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in role_ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *c).await?
    });
    let mut out: HashMap<String, Vec<StoredIdName>> = HashMap::new();
    for (role, id, name) in rows {
        out.entry(role).or_default().push(StoredIdName { id, name });
    }
    Ok(out)
}

/// An API-resource scope an organization role grants, with its resource's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResourceScope {
    pub id: String,
    pub name: String,
    pub resource_id: String,
    pub resource_name: String,
}

/// Per role: the API-resource scopes it grants, each with its resource.
pub async fn resource_scopes_of_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_ids: &[String],
) -> StoreResult<HashMap<String, Vec<StoredResourceScope>>> {
    if role_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT rs.organization_role_id, s.id, s.name, r.id, r.name FROM organization_role_resource_scope_relations rs \
         JOIN scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.scope_id \
         JOIN resources r ON r.tenant_id = s.tenant_id AND r.id = s.resource_id \
         WHERE rs.tenant_id = $1 AND rs.organization_role_id IN ({}) ORDER BY r.name, s.name",
        placeholders(2, role_ids.len())
    );
    let rows: Vec<(String, String, String, String, String)> = run!(c, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in role_ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *c).await?
    });
    let mut out: HashMap<String, Vec<StoredResourceScope>> = HashMap::new();
    for (role, id, name, resource_id, resource_name) in rows {
        out.entry(role).or_default().push(StoredResourceScope { id, name, resource_id, resource_name });
    }
    Ok(out)
}
