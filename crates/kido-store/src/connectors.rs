//! Configured connectors (instances of a connector factory) and per-language email templates.

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredConnector {
    pub tenant_id: String,
    pub id: String,
    /// The factory (`simple-mail-transfer-protocol`, `http-sms`…).
    pub connector_id: String,
    /// `Email`, `Sms` or `Social`; the database keeps one `Email` and one `Sms` per tenant.
    pub kind: String,
    pub config: Json<Value>,
    pub metadata: Json<Value>,
    pub sync_profile: bool,
    pub enable_token_storage: bool,
    pub created_at: i64,
}

const COLUMNS: &str =
    "tenant_id, id, connector_id, kind, config, metadata, sync_profile, enable_token_storage, created_at";

pub async fn insert(c: &mut impl Exec, r: &StoredConnector) -> StoreResult<()> {
    let sql = format!("INSERT INTO connectors ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&r.tenant_id)
        .bind(&r.id)
        .bind(&r.connector_id)
        .bind(&r.kind)
        .bind(&r.config)
        .bind(&r.metadata)
        .bind(r.sync_profile)
        .bind(r.enable_token_storage)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update(c: &mut impl Exec, r: &StoredConnector) -> StoreResult<()> {
    const SQL: &str = "UPDATE connectors SET config = $3, metadata = $4, sync_profile = $5, \
                       enable_token_storage = $6 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&r.tenant_id)
        .bind(&r.id)
        .bind(&r.config)
        .bind(&r.metadata)
        .bind(r.sync_profile)
        .bind(r.enable_token_storage)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredConnector>> {
    let sql = format!("SELECT {COLUMNS} FROM connectors WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

/// The tenant's connector of a kind (`Email` or `Sms`: there is at most one).
pub async fn find_by_kind(c: &mut impl Exec, tenant: &TenantId, kind: &str) -> StoreResult<Option<StoredConnector>> {
    let sql =
        format!("SELECT {COLUMNS} FROM connectors WHERE tenant_id = $1 AND kind = $2 ORDER BY created_at LIMIT 1");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(kind)
        .fetch_optional(&mut *c)
        .await?))
}

pub async fn list(c: &mut impl Exec, tenant: &TenantId) -> StoreResult<Vec<StoredConnector>> {
    let sql = format!("SELECT {COLUMNS} FROM connectors WHERE tenant_id = $1 ORDER BY created_at, id");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).fetch_all(&mut *c).await?))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM connectors WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

// --- email templates ------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEmailTemplate {
    pub tenant_id: String,
    pub id: String,
    pub language_tag: String,
    pub template_type: String,
    pub details: Json<Value>,
    pub created_at: i64,
}

const TEMPLATE_COLUMNS: &str = "tenant_id, id, language_tag, template_type, details, created_at";

/// Inserts or replaces the template of a (language, type); returns the stored row.
pub async fn upsert_template(c: &mut impl Exec, t: &StoredEmailTemplate) -> StoreResult<StoredEmailTemplate> {
    let sql = format!(
        "INSERT INTO email_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, language_tag, template_type) DO UPDATE SET details = excluded.details \
         RETURNING {TEMPLATE_COLUMNS}"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(&t.tenant_id)
        .bind(&t.id)
        .bind(&t.language_tag)
        .bind(&t.template_type)
        .bind(&t.details)
        .bind(t.created_at)
        .fetch_one(&mut *c)
        .await?))
}

pub async fn update_template_details(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    details: &Value,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE email_templates SET details = $3 WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(Json(details))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

pub async fn find_template(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredEmailTemplate>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM email_templates WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

/// Templates, optionally only of one language and/or type.
pub async fn list_templates(
    c: &mut impl Exec,
    tenant: &TenantId,
    language_tag: Option<&str>,
    template_type: Option<&str>,
) -> StoreResult<Vec<StoredEmailTemplate>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM email_templates WHERE tenant_id = $1 \
         AND ($2 = '' OR language_tag = $2) AND ($3 = '' OR template_type = $3) \
         ORDER BY language_tag, template_type"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(language_tag.unwrap_or(""))
        .bind(template_type.unwrap_or(""))
        .fetch_all(&mut *c)
        .await?))
}

/// Deletes by id, or all matching a language and/or type; returns how many went.
pub async fn delete_templates(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: Option<&str>,
    language_tag: Option<&str>,
    template_type: Option<&str>,
) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM email_templates WHERE tenant_id = $1 AND ($2 = '' OR id = $2) \
                       AND ($3 = '' OR language_tag = $3) AND ($4 = '' OR template_type = $4)";
    Ok(run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id.unwrap_or(""))
        .bind(language_tag.unwrap_or(""))
        .bind(template_type.unwrap_or(""))
        .execute(&mut *c)
        .await?
        .rows_affected()))
}
