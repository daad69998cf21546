//! Just-in-time provisioning settings of organizations: the email domains and SSO
//! connectors whose new users join, and the organization roles they receive. The three are
//! plain (organization, value) relations and share one implementation.

use kido_proto::TenantId;
use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::{Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jit {
    EmailDomains,
    Roles,
    SsoConnectors,
}

impl Jit {
    fn table(self) -> &'static str {
        match self {
            Self::EmailDomains => "organization_jit_email_domains",
            Self::Roles => "organization_jit_roles",
            Self::SsoConnectors => "organization_jit_sso_connectors",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::EmailDomains => "email_domain",
            Self::Roles => "organization_role_id",
            Self::SsoConnectors => "sso_connector_id",
        }
    }
}

/// The organization's values of this kind, oldest first, and how many there are.
pub async fn values(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: Jit,
    page: Option<Page>,
) -> StoreResult<(Vec<String>, i64)> {
    let (table, key) = (kind.table(), kind.key());
    let count_sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1 AND organization_id = $2");
    let mut sql =
        format!("SELECT {key} FROM {table} WHERE tenant_id = $1 AND organization_id = $2 ORDER BY created_at, {key}");
    if let Some(p) = page {
        sql.push_str(&format!(" LIMIT {} OFFSET {}", p.limit, p.offset));
    }
    let total: i64 = run!(c, |c| sqlx::query_scalar(AssertSqlSafe(count_sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .fetch_one(&mut *c)
        .await?);
    let rows: Vec<String> = run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .fetch_all(&mut *c)
        .await?);
    Ok((rows, total))
}

/// Adds values; those already there stay.
pub async fn add(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: Jit,
    values: &[String],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, organization_id, {}, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        kind.table(),
        kind.key()
    );
    for v in values {
        run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(organization_id)
            .bind(v)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn remove_all(c: &mut impl Exec, tenant: &TenantId, organization_id: &str, kind: Jit) -> StoreResult<()> {
    let sql = format!("DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2", kind.table());
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// False when the value was not there.
pub async fn remove(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: Jit,
    value: &str,
) -> StoreResult<bool> {
    let sql =
        format!("DELETE FROM {} WHERE tenant_id = $1 AND organization_id = $2 AND {} = $3", kind.table(), kind.key());
    let done = run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(organization_id)
        .bind(value)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// The organizations listing any of `values` (e.g. an email domain), oldest setting first.
pub async fn organizations_with(
    c: &mut impl Exec,
    tenant: &TenantId,
    kind: Jit,
    values: &[String],
) -> StoreResult<Vec<String>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT organization_id FROM {} WHERE tenant_id = $1 AND {} IN ({}) ORDER BY organization_id",
        kind.table(),
        kind.key(),
        placeholders(2, values.len())
    );
    run!(c, |c| {
        let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for v in values {
            q = q.bind(v);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}
