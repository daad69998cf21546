//! Global roles, the scopes they hold and the applications holding them.

use std::collections::HashMap;

use kido_proto::TenantId;
use kido_proto::applications::ApplicationType;
use kido_proto::roles::RoleFilter;
use kido_proto::roles::RoleType;

use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::{StoreError, StoreResult};
use crate::resources::{StoredResource, StoredScope};
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

const COLUMNS: &str = "tenant_id, id, name, description, type, is_default";

/// A global role row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRole {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub role_type: RoleType,
    pub is_default: bool,
}

/// An application among the first few holding a role.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFeaturedApplication {
    pub id: String,
    pub name: String,
    pub app_type: ApplicationType,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    id: String,
    name: String,
    description: String,
    #[sqlx(rename = "type")]
    role_type: String,
    is_default: bool,
}

impl TryFrom<Row> for StoredRole {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        let role_type = RoleType::parse(&r.role_type)
            .ok_or_else(|| StoreError::Corrupt(format!("role {} has type {}", r.id, r.role_type)))?;
        Ok(StoredRole {
            tenant_id: r.tenant_id,
            id: r.id,
            name: r.name,
            description: r.description,
            role_type,
            is_default: r.is_default,
        })
    }
}

fn to_roles(rows: Vec<Row>) -> StoreResult<Vec<StoredRole>> {
    rows.into_iter().map(StoredRole::try_from).collect()
}

pub async fn insert(c: &mut impl Exec, role: &StoredRole, created_at: i64) -> StoreResult<()> {
    let sql = format!("INSERT INTO roles ({COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&role.tenant_id)
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.role_type.as_str())
        .bind(role.is_default)
        .bind(created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update(c: &mut impl Exec, role: &StoredRole) -> StoreResult<()> {
    const SQL: &str = "UPDATE roles SET name = $3, description = $4, is_default = $5 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&role.tenant_id)
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.is_default)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredRole>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE tenant_id = $1 AND id = $2");
    let row: Option<Row> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?);
    row.map(StoredRole::try_from).transpose()
}

pub async fn find_by_name(c: &mut impl Exec, tenant: &TenantId, name: &str) -> StoreResult<Option<StoredRole>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE tenant_id = $1 AND name = $2");
    let row: Option<Row> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(name)
        .fetch_optional(&mut *c)
        .await?);
    row.map(StoredRole::try_from).transpose()
}

/// The roles among `ids` that exist in this tenant.
pub async fn find_many(c: &mut impl Exec, tenant: &TenantId, ids: &[String]) -> StoreResult<Vec<StoredRole>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE tenant_id = $1 AND id IN ({})", placeholders(2, ids.len()));
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, Row>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in ids {
            q = q.bind(id);
        }
        to_roles(q.fetch_all(&mut *c).await?)
    })
}

/// Newest first; `page` absent means all.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &RoleFilter,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredRole>, i64)> {
    let mut conditions = vec!["r.tenant_id = $1".to_owned()];
    let mut binds: Vec<String> = vec![tenant.to_string()];
    if let Some(t) = filter.role_type {
        binds.push(t.as_str().to_owned());
        conditions.push(format!("r.type = ${}", binds.len()));
    }
    if let Some(s) = &filter.search {
        binds.push(format!("%{}%", s.to_lowercase()));
        let n = binds.len();
        conditions.push(format!("(lower(r.name) LIKE ${n} OR lower(r.description) LIKE ${n})"));
    }
    let held_by = "SELECT 1 FROM applications_roles ar WHERE ar.tenant_id = r.tenant_id AND ar.role_id = r.id AND ar.application_id";
    if let Some(app) = &filter.application_id {
        binds.push(app.clone());
        conditions.push(format!("EXISTS ({held_by} = ${})", binds.len()));
    }
    if let Some(app) = &filter.exclude_application_id {
        binds.push(app.clone());
        conditions.push(format!("NOT EXISTS ({held_by} = ${})", binds.len()));
    }
    let held_by_user =
        "SELECT 1 FROM users_roles ur WHERE ur.tenant_id = r.tenant_id AND ur.role_id = r.id AND ur.user_id";
    if let Some(user) = &filter.user_id {
        binds.push(user.clone());
        conditions.push(format!("EXISTS ({held_by_user} = ${})", binds.len()));
    }
    if let Some(user) = &filter.exclude_user_id {
        binds.push(user.clone());
        conditions.push(format!("NOT EXISTS ({held_by_user} = ${})", binds.len()));
    }
    let query = ListQuery {
        columns: "r.tenant_id, r.id, r.name, r.description, r.type, r.is_default",
        from: "roles r",
        where_clause: &conditions.join(" AND "),
        order_by: "r.created_at DESC, r.id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<Row>(c, page).await?;
    Ok((to_roles(rows)?, total))
}

/// How many applications hold each role, and the first three of them.
pub async fn application_stats(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_ids: &[String],
) -> StoreResult<HashMap<String, (i64, Vec<StoredFeaturedApplication>)>> {
    let holders = Holders {
        relation: "applications_roles",
        group_key: "role_id",
        holder_table: "applications",
        holder_key: "application_id",
        columns: &["id", "name", "type"],
    };
    let (counts, featured) = holders.stats::<(String, String, String, String)>(c, tenant, role_ids).await?;
    let mut stats: HashMap<String, (i64, Vec<StoredFeaturedApplication>)> =
        counts.into_iter().map(|(role, n)| (role, (n, Vec::new()))).collect();
    for (role_id, id, name, app_type) in featured {
        let app_type = ApplicationType::parse(&app_type)
            .ok_or_else(|| StoreError::Corrupt(format!("application {id} has type {app_type}")))?;
        stats.entry(role_id).or_default().1.push(StoredFeaturedApplication { id, name, app_type });
    }
    Ok(stats)
}

/// Who is in a group (a role, an organization) through one relation table: per group how
/// many, and the first three holders as rows `(group id, columns…)`.
pub(crate) struct Holders {
    pub relation: &'static str,
    /// The relation's column naming the group.
    pub group_key: &'static str,
    pub holder_table: &'static str,
    pub holder_key: &'static str,
    /// Columns of the holder to return after the role id.
    pub columns: &'static [&'static str],
}

impl Holders {
    pub(crate) async fn stats<R>(
        &self,
        c: &mut impl Exec,
        tenant: &TenantId,
        group_ids: &[String],
    ) -> StoreResult<(HashMap<String, i64>, Vec<R>)>
    where
        R: Send + Unpin,
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        if group_ids.is_empty() {
            return Ok((HashMap::new(), Vec::new()));
        }
        let Holders { relation, group_key, holder_table, holder_key, columns } = self;
        let inner = columns.iter().map(|c| format!("h.{c}")).collect::<Vec<_>>().join(", ");
        let outer = columns.join(", ");
        let list = placeholders(2, group_ids.len());
        let count_sql = format!(
            "SELECT {group_key}, COUNT(*) FROM {relation} WHERE tenant_id = $1 AND {group_key} IN ({list}) \
             GROUP BY {group_key}"
        );
        let featured_sql = format!(
            "SELECT {group_key}, {outer} FROM (SELECT r.{group_key}, {inner}, \
             ROW_NUMBER() OVER (PARTITION BY r.{group_key} ORDER BY r.created_at, h.id) AS n \
             FROM {relation} r JOIN {holder_table} h ON h.tenant_id = r.tenant_id AND h.id = r.{holder_key} \
             WHERE r.tenant_id = $1 AND r.{group_key} IN ({list})) ranked WHERE n <= 3 ORDER BY {group_key}, n"
        );
        let counts = run!(c, |c| {
            let mut q = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(count_sql.as_str())).bind(tenant.as_str());
            for id in group_ids {
                q = q.bind(id);
            }
            q.fetch_all(&mut *c).await?
        });
        let featured = run!(c, |c| {
            let mut q = sqlx::query_as::<_, R>(AssertSqlSafe(featured_sql.as_str())).bind(tenant.as_str());
            for id in group_ids {
                q = q.bind(id);
            }
            q.fetch_all(&mut *c).await?
        });
        Ok((counts.into_iter().collect(), featured))
    }
}

/// Ids of the user roles every new user receives.
pub async fn default_user_role_ids(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Vec<String>> {
    const SQL: &str =
        "SELECT id FROM roles WHERE tenant_id = $1 AND is_default AND type = 'User' ORDER BY created_at, id";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).fetch_all(&mut *c).await?))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM roles WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

// --- role ↔ scope ------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct ScopeAndResourceRow {
    tenant_id: String,
    id: String,
    resource_id: String,
    name: String,
    description: Option<String>,
    created_at: i64,
    r_name: String,
    r_indicator: String,
    r_is_default: bool,
    r_access_token_ttl: i64,
}

/// The scopes a role holds, each with its resource; oldest grant first.
pub async fn list_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_id: &str,
    page: Option<Page>,
) -> StoreResult<(Vec<(StoredScope, StoredResource)>, i64)> {
    const COUNT: &str = "SELECT COUNT(*) FROM roles_scopes WHERE tenant_id = $1 AND role_id = $2";
    let mut sql = "SELECT s.tenant_id, s.id, s.resource_id, s.name, s.description, s.created_at, \
                   r.name AS r_name, r.indicator AS r_indicator, r.is_default AS r_is_default, \
                   r.access_token_ttl AS r_access_token_ttl \
                   FROM roles_scopes rs \
                   JOIN scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.scope_id \
                   JOIN resources r ON r.tenant_id = s.tenant_id AND r.id = s.resource_id \
                   WHERE rs.tenant_id = $1 AND rs.role_id = $2 ORDER BY rs.created_at, s.id"
        .to_owned();
    if let Some(p) = page {
        sql.push_str(&format!(" LIMIT {} OFFSET {}", p.limit, p.offset));
    }
    let total: i64 =
        run!(c, |c| sqlx::query_scalar(COUNT).bind(tenant.as_str()).bind(role_id).fetch_one(&mut *c).await?);
    let rows: Vec<ScopeAndResourceRow> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(role_id)
        .fetch_all(&mut *c)
        .await?);
    {
        let pairs = rows
            .into_iter()
            .map(|r| {
                let resource = StoredResource {
                    tenant_id: r.tenant_id.clone(),
                    id: r.resource_id.clone(),
                    name: r.r_name,
                    indicator: r.r_indicator,
                    is_default: r.r_is_default,
                    access_token_ttl: r.r_access_token_ttl,
                };
                let scope = StoredScope {
                    tenant_id: r.tenant_id,
                    id: r.id,
                    resource_id: r.resource_id,
                    name: r.name,
                    description: r.description,
                    created_at: r.created_at,
                };
                (scope, resource)
            })
            .collect();
        Ok((pairs, total))
    }
}

pub async fn scope_ids(c: &mut impl Exec, tenant: &TenantId, role_id: &str) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT scope_id FROM roles_scopes WHERE tenant_id = $1 AND role_id = $2";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(role_id).fetch_all(&mut *c).await?))
}

pub async fn add_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_id: &str,
    scope_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO roles_scopes (tenant_id, role_id, scope_id, created_at) VALUES ($1, $2, $3, $4)";
    for scope_id in scope_ids {
        run!(c, |c| sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(role_id)
            .bind(scope_id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn remove_scope(c: &mut impl Exec, tenant: &TenantId, role_id: &str, scope_id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM roles_scopes WHERE tenant_id = $1 AND role_id = $2 AND scope_id = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(role_id)
        .bind(scope_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

// --- application ↔ role --------------------------------------------------------------------

pub async fn role_ids_of_application(c: &mut impl Exec, tenant: &TenantId, app_id: &str) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT role_id FROM applications_roles WHERE tenant_id = $1 AND application_id = $2";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(app_id).fetch_all(&mut *c).await?))
}

pub async fn assign_to_application(
    c: &mut impl Exec,
    tenant: &TenantId,
    app_id: &str,
    role_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    const SQL: &str =
        "INSERT INTO applications_roles (tenant_id, application_id, role_id, created_at) VALUES ($1, $2, $3, $4)";
    for role_id in role_ids {
        run!(c, |c| sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(app_id)
            .bind(role_id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn remove_all_from_application(c: &mut impl Exec, tenant: &TenantId, app_id: &str) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM applications_roles WHERE tenant_id = $1 AND application_id = $2";
    run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(app_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn remove_from_application(
    c: &mut impl Exec,
    tenant: &TenantId,
    app_id: &str,
    role_id: &str,
) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM applications_roles WHERE tenant_id = $1 AND application_id = $2 AND role_id = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(app_id)
        .bind(role_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// Names of the scopes of `resource_id` that `app_id` holds through its roles.
pub async fn application_scope_names(
    c: &mut impl Exec,
    tenant: &TenantId,
    app_id: &str,
    resource_id: &str,
) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT DISTINCT s.name FROM applications_roles ar \
                       JOIN roles_scopes rs ON rs.tenant_id = ar.tenant_id AND rs.role_id = ar.role_id \
                       JOIN scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.scope_id \
                       WHERE ar.tenant_id = $1 AND ar.application_id = $2 AND s.resource_id = $3 ORDER BY s.name";
    Ok(run!(c, |c| sqlx::query_scalar(SQL)
        .bind(tenant.as_str())
        .bind(app_id)
        .bind(resource_id)
        .fetch_all(&mut *c)
        .await?))
}

/// Names of a resource's scopes a user holds through their roles.
pub async fn user_scope_names(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    resource_id: &str,
) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT DISTINCT s.name FROM users_roles ur \
                       JOIN roles_scopes rs ON rs.tenant_id = ur.tenant_id AND rs.role_id = ur.role_id \
                       JOIN scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.scope_id \
                       WHERE ur.tenant_id = $1 AND ur.user_id = $2 AND s.resource_id = $3 ORDER BY s.name";
    Ok(run!(c, |c| sqlx::query_scalar(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(resource_id)
        .fetch_all(&mut *c)
        .await?))
}
