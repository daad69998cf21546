//! Organizations and their members (users and machine-to-machine applications), with the
//! organization roles each member holds in each organization, and what those roles grant.

use std::collections::HashMap;

use kido_proto::TenantId;
use kido_proto::organizations::{MemberKind, OrganizationFilter};
use kido_proto::organizations::{OrganizationBranding, OrganizationColor};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::StoredIdName;
use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::users::StoredFeaturedUser;
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

const COLUMNS: &str =
    "tenant_id, id, name, description, custom_data, is_mfa_required, color, branding, custom_css, created_at";

/// An organization row (members and their roles live in relation tables).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredOrganization {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub custom_data: Json<Value>,
    pub is_mfa_required: bool,
    pub color: Json<OrganizationColor>,
    pub branding: Json<OrganizationBranding>,
    pub custom_css: Option<String>,
    pub created_at: i64,
}

fn prefixed(alias: &str) -> String {
    COLUMNS.split(", ").map(|col| format!("{alias}.{col}")).collect::<Vec<_>>().join(", ")
}

pub async fn insert(c: &mut impl Exec, o: &StoredOrganization) -> StoreResult<()> {
    let sql = format!("INSERT INTO organizations ({COLUMNS}) VALUES ({})", placeholders(1, 10));
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&o.tenant_id)
        .bind(&o.id)
        .bind(&o.name)
        .bind(&o.description)
        .bind(&o.custom_data)
        .bind(o.is_mfa_required)
        .bind(&o.color)
        .bind(&o.branding)
        .bind(&o.custom_css)
        .bind(o.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update(c: &mut impl Exec, o: &StoredOrganization) -> StoreResult<()> {
    const SQL: &str = "UPDATE organizations SET name = $3, description = $4, custom_data = $5, is_mfa_required = $6, \
                       color = $7, branding = $8, custom_css = $9 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&o.tenant_id)
        .bind(&o.id)
        .bind(&o.name)
        .bind(&o.description)
        .bind(&o.custom_data)
        .bind(o.is_mfa_required)
        .bind(&o.color)
        .bind(&o.branding)
        .bind(&o.custom_css)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredOrganization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM organizations WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Newest first; `page` absent means all.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &OrganizationFilter,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredOrganization>, i64)> {
    let mut conditions = vec!["o.tenant_id = $1".to_owned()];
    let mut binds: Vec<String> = vec![tenant.to_string()];
    if let Some(s) = &filter.search {
        binds.push(format!("%{}%", s.to_lowercase()));
        let n = binds.len();
        conditions.push(format!(
            "(lower(o.id) LIKE ${n} OR lower(o.name) LIKE ${n} OR lower(COALESCE(o.description, '')) LIKE ${n})"
        ));
    }
    if let Some((kind, member_id)) = &filter.member {
        binds.push(member_id.clone());
        let (relation, key) = (kind.relation(), kind.key());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM {relation} m WHERE m.tenant_id = o.tenant_id AND m.organization_id = o.id \
             AND m.{key} = ${})",
            binds.len()
        ));
    }
    let columns = prefixed("o");
    let query = ListQuery {
        columns: &columns,
        from: "organizations o",
        where_clause: &conditions.join(" AND "),
        order_by: "o.created_at DESC, o.id",
        binds: &binds,
    };
    query.fetch::<StoredOrganization>(c, page).await
}

/// Per organization: how many users are members, and the first three of them.
pub async fn user_stats(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_ids: &[String],
) -> StoreResult<HashMap<String, (i64, Vec<StoredFeaturedUser>)>> {
    crate::users::featured_users(c, tenant, "organization_user_relations", "organization_id", organization_ids).await
}

// --- members ----------------------------------------------------------------------------------

/// The membership and role tables of each kind of member.
trait MemberTables {
    fn relation(self) -> &'static str;
    fn role_relation(self) -> &'static str;
    fn key(self) -> &'static str;
}

impl MemberTables for MemberKind {
    fn relation(self) -> &'static str {
        match self {
            Self::User => "organization_user_relations",
            Self::Application => "organization_application_relations",
        }
    }

    fn role_relation(self) -> &'static str {
        match self {
            Self::User => "organization_role_user_relations",
            Self::Application => "organization_role_application_relations",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::User => "user_id",
            Self::Application => "application_id",
        }
    }
}

/// Adds members; those already in are left as they are.
pub async fn add_members(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, organization_id, {}, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        kind.relation(),
        kind.key()
    );
    for id in member_ids {
        run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(organization_id)
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

/// Removes every member of this kind (and so their roles in the organization).
pub async fn remove_all_members(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2", kind.relation());
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Removes one member with their roles in the organization; false when not a member.
pub async fn remove_member(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2 AND {} = $3",
        kind.relation(),
        kind.key()
    );
    let done = run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .bind(member_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// Which of `member_ids` are members of the organization.
pub async fn members_among(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_ids: &[String],
) -> StoreResult<Vec<String>> {
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {key} FROM {} WHERE tenant_id = $1 AND organization_id = $2 AND {key} IN ({})",
        kind.relation(),
        placeholders(3, member_ids.len()),
        key = kind.key()
    );
    run!(c, |c| {
        let mut q =
            sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(organization_id);
        for id in member_ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

/// Gives roles to a member; roles already held are left as they are.
pub async fn add_member_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
    role_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, organization_id, organization_role_id, {}, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        kind.role_relation(),
        kind.key()
    );
    for role_id in role_ids {
        run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(organization_id)
            .bind(role_id)
            .bind(member_id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

/// Takes away every role a member holds in the organization.
pub async fn remove_all_member_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> StoreResult<()> {
    let sql = format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2 AND {} = $3",
        kind.role_relation(),
        kind.key()
    );
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .bind(member_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Takes one role away from a member; false when it was not held.
pub async fn remove_member_role(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
    role_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2 AND {} = $3 AND organization_role_id = $4",
        kind.role_relation(),
        kind.key()
    );
    let done = run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .bind(member_id)
        .bind(role_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// The roles members hold: per member id, `(organization id, role)` pairs, oldest first.
/// With `organization_id`, only roles in that organization.
pub async fn member_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: Option<&str>,
    kind: MemberKind,
    member_ids: &[String],
) -> StoreResult<HashMap<String, Vec<(String, StoredIdName)>>> {
    if member_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let key = kind.key();
    let mut sql = format!(
        "SELECT m.{key}, m.organization_id, r.id, r.name FROM {} m \
         JOIN organization_roles r ON r.tenant_id = m.tenant_id AND r.id = m.organization_role_id \
         WHERE m.tenant_id = $1 AND m.{key} IN ({})",
        kind.role_relation(),
        placeholders(2, member_ids.len())
    );
    if organization_id.is_some() {
        sql.push_str(&format!(" AND m.organization_id = ${}", member_ids.len() + 2));
    }
    sql.push_str(" ORDER BY m.created_at, r.name");
    let rows: Vec<(String, String, String, String)> = run!(c, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in member_ids {
            q = q.bind(id);
        }
        if let Some(org) = organization_id {
            q = q.bind(org);
        }
        q.fetch_all(&mut *c).await?
    });
    let mut out: HashMap<String, Vec<(String, StoredIdName)>> = HashMap::new();
    for (member, org, id, name) in rows {
        out.entry(member).or_default().push((org, StoredIdName { id, name }));
    }
    Ok(out)
}

/// The organization scopes (id, name, description) a member's roles grant.
pub async fn member_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> StoreResult<Vec<(String, String, Option<String>)>> {
    let sql = format!(
        "SELECT DISTINCT s.id, s.name, s.description FROM {} m \
         JOIN organization_role_scope_relations rs ON rs.tenant_id = m.tenant_id \
              AND rs.organization_role_id = m.organization_role_id \
         JOIN organization_scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.organization_scope_id \
         WHERE m.tenant_id = $1 AND m.organization_id = $2 AND m.{} = $3 ORDER BY s.name",
        kind.role_relation(),
        kind.key()
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .bind(member_id)
        .fetch_all(&mut *c)
        .await?))
}

/// Names of the organization scopes a member's roles in the organization grant.
pub async fn member_scope_names(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> StoreResult<Vec<String>> {
    let scopes = member_scopes(c, tenant, organization_id, kind, member_id).await?;
    Ok(scopes.into_iter().map(|(_, name, _)| name).collect())
}

/// Names of the scopes of an API resource a member's organization roles grant: in one
/// organization, or (`None`) in all of the member's organizations.
pub async fn member_resource_scope_names(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: Option<&str>,
    kind: MemberKind,
    member_id: &str,
    resource_id: &str,
) -> StoreResult<Vec<String>> {
    let in_organization = if organization_id.is_some() { " AND m.organization_id = $4" } else { "" };
    let sql = format!(
        "SELECT DISTINCT s.name FROM {} m \
         JOIN organization_role_resource_scope_relations rs ON rs.tenant_id = m.tenant_id \
              AND rs.organization_role_id = m.organization_role_id \
         JOIN scopes s ON s.tenant_id = rs.tenant_id AND s.id = rs.scope_id \
         WHERE m.tenant_id = $1 AND m.{} = $2 AND s.resource_id = $3{in_organization} ORDER BY s.name",
        kind.role_relation(),
        kind.key()
    );
    Ok(run!(c, |c| {
        let mut q =
            sqlx::query_scalar(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(member_id).bind(resource_id);
        if let Some(org) = organization_id {
            q = q.bind(org);
        }
        q.fetch_all(&mut *c).await?
    }))
}

/// Whether the member belongs to the organization (one indexed lookup).
pub async fn is_member(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> StoreResult<bool> {
    Ok(!members_among(c, tenant, organization_id, kind, std::slice::from_ref(&member_id.to_owned())).await?.is_empty())
}

/// The ids of the organizations a user belongs to, oldest membership first.
pub async fn organization_ids_of_user(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT organization_id FROM organization_user_relations WHERE tenant_id = $1 AND user_id = $2 \
                       ORDER BY created_at, organization_id";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(user_id).fetch_all(&mut *c).await?))
}

/// Whether the user belongs to an organization that requires MFA of its members.
pub async fn in_mfa_required_organization(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<bool> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM organization_user_relations r JOIN organizations o \
                       ON o.tenant_id = r.tenant_id AND o.id = r.organization_id \
                       WHERE r.tenant_id = $1 AND r.user_id = $2 AND o.is_mfa_required)";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(user_id).fetch_one(&mut *c).await?))
}

/// Every member of this kind, oldest first.
pub async fn member_ids(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "SELECT {key} FROM {} WHERE tenant_id = $1 AND organization_id = $2 ORDER BY created_at, {key}",
        kind.relation(),
        key = kind.key()
    );
    Ok(run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .fetch_all(&mut *c)
        .await?))
}

/// The SQL condition "role `r` is held by the member `$n_member` in organization `$n_org`".
pub(crate) fn held_by_member(kind: MemberKind, org_bind: usize, member_bind: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM {} m WHERE m.tenant_id = r.tenant_id AND m.organization_role_id = r.id \
         AND m.organization_id = ${org_bind} AND m.{} = ${member_bind})",
        kind.role_relation(),
        kind.key()
    )
}

/// Whether any member of this kind holds the role in any organization.
pub async fn role_is_held(c: &mut impl Exec, tenant: &TenantId, kind: MemberKind, role_id: &str) -> StoreResult<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE tenant_id = $1 AND organization_role_id = $2 LIMIT 1) held",
        kind.role_relation()
    );
    let n: i64 = run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(role_id)
        .fetch_one(&mut *c)
        .await?);
    Ok(n > 0)
}
