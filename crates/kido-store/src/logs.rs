//! The audit log: append-only entries, read back by time, user, application and key.

use kido_proto::TenantId;
use kido_proto::logs::LogFilter;
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Exec, run};
use crate::error::StoreResult;
use crate::{ListQuery, Page};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

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
    insert_many(c, std::slice::from_ref(log)).await
}

/// Rows one `INSERT` carries (7 parameters each, well under both databases' limits).
const ROWS_PER_INSERT: usize = 500;

/// Several entries, one statement per [`ROWS_PER_INSERT`] (the audit queue's batches).
pub async fn insert_many(c: &mut impl Exec, logs: &[StoredLog]) -> StoreResult<()> {
    for chunk in logs.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 7;
                format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7)
            })
            .collect();
        let sql = format!("INSERT INTO logs ({COLUMNS}) VALUES {}", rows.join(", "));
        run!(c, |c| {
            // A single row's statement is always the same text, worth preparing once; a
            // batch's text varies with its size, and caching every size would push the
            // request paths' prepared statements out of the connection's cache.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).persistent(chunk.len() == 1);
            for log in chunk {
                query = query
                    .bind(&log.tenant_id)
                    .bind(&log.id)
                    .bind(&log.key)
                    .bind(&log.user_id)
                    .bind(&log.application_id)
                    .bind(&log.payload)
                    .bind(log.created_at);
            }
            query.execute(&mut *c).await?.rows_affected()
        });
    }
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
