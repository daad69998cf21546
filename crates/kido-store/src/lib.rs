//! Kido's persistence. One `Store` over SQLite (embedded default) or PostgreSQL, with the
//! same repositories on both: one SQL text where the dialects agree, a `match` inside the
//! repository where they do not. No other crate writes SQL.
//!
//! Every repository function takes the tenant it works in; there is no query without one.

mod db;
mod error;

pub mod applications;
pub mod resources;
pub mod roles;
pub mod settings;
pub mod signing_keys;
pub mod tenants;

pub use db::{Backend, Conn, Exec, Store, StoreOptions, Tx, create_postgres_database, drop_postgres_database};
pub use error::{StoreError, StoreResult};

/// Page of a list: `LIMIT`/`OFFSET` as the Management API's `page`/`page_size` ask.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// `$start, $start+1, …` for `IN (…)` lists of `n` binds (the same text works on both dialects).
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
