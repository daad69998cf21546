//! The audit log: append-only entries, read back by time, user, application and key.

use kido_proto::TenantId;
use kido_proto::logs::LogFilter;
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::{ListQuery, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredLog {
    pub tenant_id: String,
    pub id: String,
    pub key: String,
    pub user_id: Option<String>,
    pub application_id: Option<String>,
    pub payload: Json<Value>,
    pub created_at: i64,
}

const COLUMNS: &str = "tenant_id, id, key, user_id, application_id, payload, created_at";

pub async fn insert(c: &mut impl Exec, log: &StoredLog) -> StoreResult<()> {
    let sql = format!("INSERT INTO logs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    run!(c, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&log.tenant_id)
        .bind(&log.id)
        .bind(&log.key)
        .bind(&log.user_id)
        .bind(&log.application_id)
        .bind(&log.payload)
        .bind(log.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredLog>> {
    let sql = format!("SELECT {COLUMNS} FROM logs WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

/// Newest first.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &LogFilter,
    page: Page,
) -> StoreResult<(Vec<StoredLog>, i64)> {
    let mut binds = vec![tenant.to_string()];
    let mut conditions = vec!["tenant_id = $1".to_owned()];
    for (column, value) in [("user_id", &filter.user_id), ("application_id", &filter.application_id)] {
        if let Some(v) = value {
            binds.push(v.clone());
            conditions.push(format!("{column} = ${}", binds.len()));
        }
    }
    if !filter.keys.is_empty() {
        conditions.push(format!("key IN ({})", crate::placeholders(binds.len() + 1, filter.keys.len())));
        binds.extend(filter.keys.iter().cloned());
    }
    // Times are numbers we parsed: safe to inline.
    if let Some(start) = filter.start {
        conditions.push(format!("created_at >= {start}"));
    }
    if let Some(end) = filter.end {
        conditions.push(format!("created_at < {end}"));
    }
    let query = ListQuery {
        columns: COLUMNS,
        from: "logs",
        where_clause: &conditions.join(" AND "),
        order_by: "created_at DESC, id",
        binds: &binds,
    };
    query.fetch(c, Some(page)).await
}
