//! Kido's persistence. One `Store` over SQLite (embedded default) or PostgreSQL, with the
//! same repositories on both: one SQL text where the dialects agree, a `match` inside the
//! repository where they do not. No other crate writes SQL.
//!
//! Every repository function takes the tenant it works in; there is no query without one.

pub mod changes;
mod db;
mod error;

pub mod account_centers;
pub mod applications;
pub mod backup;
pub mod bench;
pub mod connectors;
pub mod logs;
pub mod mfa_verifications;
pub mod oidc;
pub mod one_time_tokens;
pub mod organization_invitations;
pub mod organization_jit;
pub mod organization_template;
pub mod organizations;
pub mod rate_limits;
pub mod resources;
pub mod roles;
pub mod settings;
pub mod sign_in_experiences;
pub mod signing_keys;
pub mod sso_connectors;
pub mod tenants;
pub mod user_sessions;
pub mod user_social_identities;
pub mod users;
pub mod verification_codes;
pub mod verification_records;

pub use db::{
    Backend, Conn, Exec, PoolUsage, SchemaState, Store, StoreOptions, Tx, create_postgres_database,
    drop_postgres_database, postgres_address,
};
pub use error::{StoreError, StoreResult};
use kido_proto::Page;
pub use sqlx::types::Json;

/// A row referred to by id with its name (a role, a scope, a resource) in a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIdName {
    pub id: String,
    pub name: String,
}

/// Whether this module's statements may change a cached table (`run!`): the list query only reads.
const TOUCHES_CACHED_TABLES: bool = false;

/// `$start, $start+1, …` for `IN (…)` lists of `n` binds (the same text works on both dialects).
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A filtered list query: `SELECT {columns} FROM {from} WHERE {where}` with text binds
/// `$1…$n` (the tenant first), counted in full and fetched one page at a time.
pub(crate) struct ListQuery<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub where_clause: &'a str,
    pub order_by: &'a str,
    pub binds: &'a [String],
}

impl ListQuery<'_> {
    /// The rows of `page` (all when `None`) and the total count.
    pub(crate) async fn fetch<R>(&self, c: &mut impl db::Exec, page: Option<Page>) -> StoreResult<(Vec<R>, i64)>
    where
        R: Send + Unpin,
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let count_sql = format!("SELECT COUNT(*) FROM {} WHERE {}", self.from, self.where_clause);
        self.fetch_with_total(c, page, &count_sql).await
    }

    /// As [`Self::fetch`], with the total from `count_sql` (same binds) instead of a count
    /// of the matching rows.
    pub(crate) async fn fetch_with_total<R>(
        &self,
        c: &mut impl db::Exec,
        page: Option<Page>,
        count_sql: &str,
    ) -> StoreResult<(Vec<R>, i64)>
    where
        R: Send + Unpin,
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        use sqlx::AssertSqlSafe;
        let mut list_sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {}",
            self.columns, self.from, self.where_clause, self.order_by
        );
        if let Some(p) = page {
            list_sql.push_str(&format!(" LIMIT {} OFFSET {}", p.limit, p.offset));
        }
        let total = db::run!(c, |c| {
            let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
            for b in self.binds {
                count = count.bind(b);
            }
            count.fetch_one(&mut *c).await?
        });
        let rows = db::run!(c, |c| {
            let mut rows = sqlx::query_as::<_, R>(AssertSqlSafe(list_sql.as_str()));
            for b in self.binds {
                rows = rows.bind(b);
            }
            rows.fetch_all(&mut *c).await?
        });
        Ok((rows, total))
    }
}
