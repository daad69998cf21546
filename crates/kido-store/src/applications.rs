//! Applications and their secrets.

use kido_proto::TenantId;
use kido_proto::applications::{ACCOUNT_APP_ID, ApplicationFilter, DEMO_APP_ID};
use kido_proto::applications::{ApplicationType, CustomClientMetadata, OidcClientMetadata};
use serde_json::Value;
use sqlx::types::Json;

use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::{StoreError, StoreResult};
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): its tables (or their cascades) feed a cache.
const TOUCHES_CACHED_TABLES: bool = true;

const COLUMNS: &str = "tenant_id, id, name, description, type, oidc_client_metadata, \
                       custom_client_metadata, custom_data, is_third_party, created_at";

/// An application row (its secrets live in their own table).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredApplication {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub app_type: ApplicationType,
    pub oidc_client_metadata: Json<OidcClientMetadata>,
    pub custom_client_metadata: Json<CustomClientMetadata>,
    pub custom_data: Json<Value>,
    pub is_third_party: bool,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    id: String,
    name: String,
    description: Option<String>,
    #[sqlx(rename = "type")]
    app_type: String,
    oidc_client_metadata: Json<OidcClientMetadata>,
    custom_client_metadata: Json<CustomClientMetadata>,
    custom_data: Json<Value>,
    is_third_party: bool,
    created_at: i64,
}

impl TryFrom<Row> for StoredApplication {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        let app_type = ApplicationType::parse(&r.app_type)
            .ok_or_else(|| StoreError::Corrupt(format!("application {} has type {}", r.id, r.app_type)))?;
        Ok(StoredApplication {
            tenant_id: r.tenant_id,
            id: r.id,
            name: r.name,
            description: r.description,
            app_type,
            oidc_client_metadata: r.oidc_client_metadata,
            custom_client_metadata: r.custom_client_metadata,
            custom_data: r.custom_data,
            is_third_party: r.is_third_party,
            created_at: r.created_at,
        })
    }
}

fn rows_to_apps(rows: Vec<Row>) -> StoreResult<Vec<StoredApplication>> {
    rows.into_iter().map(StoredApplication::try_from).collect()
}

pub async fn insert(c: &mut impl Exec, app: &StoredApplication) -> StoreResult<()> {
    let sql = format!("INSERT INTO applications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&app.tenant_id)
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.description)
        .bind(app.app_type.as_str())
        .bind(&app.oidc_client_metadata)
        .bind(&app.custom_client_metadata)
        .bind(&app.custom_data)
        .bind(app.is_third_party)
        .bind(app.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Writes the mutable fields of `app` back.
pub async fn update(c: &mut impl Exec, app: &StoredApplication) -> StoreResult<()> {
    const SQL: &str = "UPDATE applications SET name = $3, description = $4, oidc_client_metadata = $5, \
                       custom_client_metadata = $6, custom_data = $7 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&app.tenant_id)
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.description)
        .bind(&app.oidc_client_metadata)
        .bind(&app.custom_client_metadata)
        .bind(&app.custom_data)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredApplication>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE tenant_id = $1 AND id = $2");
    let row: Option<Row> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?);
    row.map(StoredApplication::try_from).transpose()
}

/// Newest first; `page` absent means the whole list. Returns the page and the total.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &ApplicationFilter,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredApplication>, i64)> {
    // Binds: $1 tenant, then the optional filters in order.
    // The built-in apps are never listed (Logto keeps its Live Preview app out of its table).
    let mut conditions =
        vec!["a.tenant_id = $1".to_owned(), format!("a.id NOT IN ('{DEMO_APP_ID}', '{ACCOUNT_APP_ID}')")];
    let mut binds: Vec<String> = vec![tenant.to_string()];
    if !filter.types.is_empty() {
        conditions.push(format!("a.type IN ({})", placeholders(1 + binds.len(), filter.types.len())));
        binds.extend(filter.types.iter().map(|t| t.as_str().to_owned()));
    }
    let holds_role = "SELECT 1 FROM applications_roles ar WHERE ar.tenant_id = a.tenant_id AND ar.application_id = a.id AND ar.role_id";
    if let Some(role) = &filter.role_id {
        binds.push(role.clone());
        conditions.push(format!("EXISTS ({holds_role} = ${})", binds.len()));
    }
    if let Some(role) = &filter.exclude_role_id {
        binds.push(role.clone());
        conditions.push(format!("NOT EXISTS ({holds_role} = ${})", binds.len()));
    }
    let member = "SELECT 1 FROM organization_application_relations oa \
                  WHERE oa.tenant_id = a.tenant_id AND oa.application_id = a.id AND oa.organization_id";
    if let Some(org) = &filter.organization_id {
        binds.push(org.clone());
        conditions.push(format!("EXISTS ({member} = ${})", binds.len()));
    }
    if let Some(org) = &filter.exclude_organization_id {
        binds.push(org.clone());
        conditions.push(format!("NOT EXISTS ({member} = ${})", binds.len()));
    }
    if let Some(third_party) = filter.is_third_party {
        conditions.push(format!("a.is_third_party = {}", if third_party { "TRUE" } else { "FALSE" }));
    }
    if let Some(search) = &filter.search {
        binds.push(format!("%{}%", search.to_lowercase()));
        let n = binds.len();
        conditions.push(format!(
            "(lower(a.id) LIKE ${n} OR lower(a.name) LIKE ${n} OR lower(COALESCE(a.description, '')) LIKE ${n})"
        ));
    }
    let columns = COLUMNS.split(", ").map(|col| format!("a.{col}")).collect::<Vec<_>>().join(", ");
    let query = ListQuery {
        columns: &columns,
        from: "applications a",
        where_clause: &conditions.join(" AND "),
        order_by: "a.created_at DESC, a.id",
        binds: &binds,
    };
    let (rows, total) = query.fetch::<Row>(c, page).await?;
    Ok((rows_to_apps(rows)?, total))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM applications WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

// --- secrets ---------------------------------------------------------------------------

/// A secret of an application.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredApplicationSecret {
    pub tenant_id: String,
    pub application_id: String,
    pub name: String,
    pub value: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub async fn insert_secret(c: &mut impl Exec, secret: &StoredApplicationSecret) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO application_secrets (tenant_id, application_id, name, value, created_at, expires_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    run!(c, |c| sqlx::query(SQL)
        .bind(&secret.tenant_id)
        .bind(&secret.application_id)
        .bind(&secret.name)
        .bind(&secret.value)
        .bind(secret.created_at)
        .bind(secret.expires_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Oldest first, as Logto lists them.
pub async fn list_secrets(
    c: &mut impl Exec,
    tenant: &TenantId,
    app_id: &str,
) -> StoreResult<Vec<StoredApplicationSecret>> {
    const SQL: &str = "SELECT tenant_id, application_id, name, value, created_at, expires_at FROM application_secrets \
                       WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at, name";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).bind(app_id).fetch_all(&mut *c).await?))
}

/// Renames a secret; false when there is no secret of that name.
pub async fn rename_secret(
    c: &mut impl Exec,
    tenant: &TenantId,
    app_id: &str,
    name: &str,
    new_name: &str,
) -> StoreResult<bool> {
    const SQL: &str =
        "UPDATE application_secrets SET name = $4 WHERE tenant_id = $1 AND application_id = $2 AND name = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(app_id)
        .bind(name)
        .bind(new_name)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

pub async fn delete_secret(c: &mut impl Exec, tenant: &TenantId, app_id: &str, name: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM application_secrets WHERE tenant_id = $1 AND application_id = $2 AND name = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(app_id)
        .bind(name)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}
