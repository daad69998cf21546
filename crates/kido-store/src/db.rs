//! The two backends and the one way to run a query on either.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, Connection, Executor, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};

use crate::changes::{self, ChangeSink, SinkSlot, TableChange};
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://…`/`sqlite:…` or `postgres://…`/`postgresql://…`.
    pub url: String,
    pub max_connections: u32,
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// Where committed changes to cached tables are reported (`changes.rs`).
    sink: SinkSlot,
    /// SQLite `max_page_count` applied to every connection (0: SQLite's own limit); only
    /// tests set it, to make writes fail with SQLITE_FULL without filling a disk.
    sqlite_page_cap: Arc<AtomicU64>,
    max_connections: u32,
    /// SQL statements run through this store's connections and transactions (see [`Store::statements_run`]).
    statements: Arc<AtomicU64>,
}

#[derive(Clone, Debug)]
enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// A pooled connection for reads and single-statement writes.
pub struct Conn {
    inner: ConnInner,
    statements: Arc<AtomicU64>,
}

enum ConnInner {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

/// A write transaction. Rolled back on drop unless committed; on commit, the changes it made
/// to cached tables are reported (`changes.rs`).
pub struct Tx {
    inner: TxInner,
    sink: SinkSlot,
    statements: Arc<AtomicU64>,
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// The concrete connection a repository function runs its SQL on.
pub enum Raw<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

/// Anything a repository function can run SQL on: a `Conn` or a `Tx`.
pub trait Exec: Send {
    /// The connection for ONE statement: each call is counted as one statement run
    /// ([`Store::statements_run`]), so a repository runs one statement per `run!`.
    fn raw(&mut self) -> Raw<'_>;
    fn backend(&self) -> Backend;
}

/// One relaxed add per statement: the counter orders nothing, it only sums.
fn count_statement(statements: &AtomicU64) {
    statements.fetch_add(1, Ordering::Relaxed);
}

impl Exec for Conn {
    fn raw(&mut self) -> Raw<'_> {
        count_statement(&self.statements);
        match &mut self.inner {
            ConnInner::Sqlite(c) => Raw::Sqlite(c),
            ConnInner::Pg(c) => Raw::Pg(c),
        }
    }
    fn backend(&self) -> Backend {
        match self.inner {
            ConnInner::Sqlite(_) => Backend::Sqlite,
            ConnInner::Pg(_) => Backend::Postgres,
        }
    }
}

impl Exec for Tx {
    fn raw(&mut self) -> Raw<'_> {
        count_statement(&self.statements);
        match &mut self.inner {
            TxInner::Sqlite(t) => Raw::Sqlite(t),
            TxInner::Pg(t) => Raw::Pg(t),
        }
    }
    fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Pg(_) => Backend::Postgres,
        }
    }
}

/// Runs the same expression against whichever backend `$exec` is on; `$c` is the
/// concrete `&mut SqliteConnection` / `&mut PgConnection`. The body runs exactly one SQL
/// statement: the store counts statements one per `run!` (a second statement takes a second
/// `run!`; `tests/conformance/statements.rs` checks the sources).
macro_rules! run {
    ($exec:expr, |$c:ident| $body:expr) => {
        match $crate::db::Exec::raw($exec) {
            $crate::db::Raw::Sqlite($c) => $body,
            $crate::db::Raw::Pg($c) => $body,
        }
    };
}
pub(crate) use run;

impl Store {
    /// Connects and applies the embedded migrations of the backend (PostgreSQL takes an
    /// advisory lock for that, so several nodes may start at once).
    pub async fn connect(options: &StoreOptions) -> StoreResult<Self> {
        let url = options.url.as_str();
        let sqlite_page_cap = Arc::new(AtomicU64::new(0));
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url)?.application_name("kido");
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .after_release(|conn, _| Box::pin(async move { Ok(is_clean(&*conn)) }))
                .connect_with(connect)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Db::Pg(pool)
        } else if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // REGEXP for the `posix` search mode.
                .with_regexp();
            let cap = sqlite_page_cap.clone();
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    let cap = cap.load(Ordering::Acquire);
                    Box::pin(async move { set_max_page_count(conn, cap).await })
                })
                .after_release(|conn, _| Box::pin(async move { Ok(is_clean(&*conn)) }))
                .connect_with(connect)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            Db::Sqlite(pool)
        } else {
            return Err(StoreError::Corrupt(format!("unsupported database URL `{url}`: use postgres://… or sqlite:…")));
        };
        Ok(Self {
            db,
            sink: SinkSlot::default(),
            sqlite_page_cap,
            max_connections: options.max_connections,
            statements: Arc::default(),
        })
    }

    /// Caps the SQLite database at `pages` pages on every connection, present and future
    /// (`None` lifts the cap): writes beyond it fail with SQLITE_FULL as on a full disk.
    /// For tests of the disk-full path; no effect on PostgreSQL.
    pub async fn cap_sqlite_pages(&self, pages: Option<u64>) -> StoreResult<()> {
        let Db::Sqlite(pool) = &self.db else { return Ok(()) };
        self.sqlite_page_cap.store(pages.unwrap_or(0), Ordering::Release);
        // Holding every connection at once reaches each one the pool has (or opens them).
        let mut held = Vec::new();
        for _ in 0..self.max_connections {
            let mut conn = pool.acquire().await?;
            set_max_page_count(&mut conn, pages.unwrap_or(0)).await?;
            held.push(conn);
        }
        Ok(())
    }

    /// The SQLite URL for a database file at `path`.
    pub fn sqlite_url(path: &Path) -> String {
        format!("sqlite://{}", path.display())
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    pub async fn conn(&self) -> StoreResult<Conn> {
        let inner = match &self.db {
            Db::Sqlite(p) => ConnInner::Sqlite(p.acquire().await?),
            Db::Pg(p) => ConnInner::Pg(p.acquire().await?),
        };
        Ok(Conn { inner, statements: self.statements.clone() })
    }

    /// How many SQL statements this store (and its clones) has run so far: one per
    /// repository statement, plus BEGIN, the change-note read and COMMIT of each transaction
    /// and each `Tx::lock`. Round trips of connection set-up, ROLLBACK on drop and the
    /// change listener are not counted. For tests and diagnostics.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails with SQLITE_BUSY midway.
    pub async fn begin(&self) -> StoreResult<Tx> {
        count_statement(&self.statements);
        let inner = match &self.db {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(p) => TxInner::Pg(p.begin().await?),
        };
        Ok(Tx { inner, sink: self.sink.clone(), statements: self.statements.clone() })
    }

    /// Where this store reports committed changes; the first sink set wins.
    pub fn on_change(&self, sink: ChangeSink) {
        self.sink.set(sink);
    }

    /// On PostgreSQL, a task that hears every node's committed changes (`LISTEN kido_cache`)
    /// and reports them to the sink; `None` on SQLite (one process per database). When the
    /// channel is down the caches fall back to their TTL: it warns once per outage, and on
    /// reconnecting reports [`changes::ChangeEvent::Missed`]. Ends when the store is closed.
    pub fn spawn_change_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        let Db::Pg(pool) = &self.db else { return None };
        Some(tokio::spawn(changes::listen(pool.clone(), self.sink.clone())))
    }

    /// Refreshes the query planner's statistics where the backend needs telling: SQLite
    /// (`PRAGMA optimize`, cheap when little changed; without statistics it scans a
    /// million users for an indexed search). PostgreSQL's autovacuum does this itself.
    pub async fn optimize(&self) -> StoreResult<()> {
        if let Db::Sqlite(pool) = &self.db {
            sqlx::query("PRAGMA optimize=0x10002").execute(pool).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

/// A connection goes back to the pool only outside any transaction. A failed BEGIN, COMMIT
/// or ROLLBACK (SQLITE_FULL rolls the transaction back behind sqlx's back, so the ROLLBACK on
/// drop fails too) leaves sqlx's transaction depth non-zero; such a connection is closed
/// instead of poisoning every later `begin` with "non-zero transaction depth".
fn is_clean<C: Connection>(conn: &C) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left inside a failed transaction");
    }
    clean
}

async fn set_max_page_count(conn: &mut SqliteConnection, pages: u64) -> Result<(), sqlx::Error> {
    // 0 means "no cap": SQLite's largest page count.
    let pages = if pages == 0 { 4_294_967_294 } else { pages };
    conn.execute(AssertSqlSafe(format!("PRAGMA max_page_count = {pages}"))).await?;
    Ok(())
}

impl Tx {
    /// Commits, then reports what the transaction changed in cached tables, so this node's
    /// caches drop it before the caller answers. The notes are read inside the transaction:
    /// SQLite's are rows drained here (writers are serialised, so they are this transaction's,
    /// plus any left by single-statement writes since), PostgreSQL's a transaction-local setting.
    pub async fn commit(self) -> StoreResult<()> {
        let Tx { inner, sink, statements } = self;
        // The change-note read and COMMIT.
        count_statement(&statements);
        count_statement(&statements);
        let changes = match inner {
            TxInner::Sqlite(mut t) => {
                const DRAIN: &str = "DELETE FROM pending_cache_changes RETURNING tenant_id, table_name";
                let rows: Vec<(String, String)> = sqlx::query_as(DRAIN).fetch_all(&mut *t).await?;
                t.commit().await?;
                rows.into_iter()
                    .map(|(tenant, table)| TableChange { tenant: kido_proto::TenantId::new(tenant), table })
                    .collect()
            }
            TxInner::Pg(mut t) => {
                const NOTES: &str = "SELECT current_setting('kido.changes', true)";
                let notes: Option<String> = sqlx::query_scalar(NOTES).fetch_one(&mut *t).await?;
                t.commit().await?;
                changes::parse_notes(notes.as_deref().unwrap_or_default())
            }
        };
        changes::report(&sink, &changes);
        Ok(())
    }

    /// Serialises concurrent holders of `key` until the end of this transaction
    /// (SQLite already serialises writers).
    pub async fn lock(&mut self, key: i64) -> StoreResult<()> {
        if let TxInner::Pg(t) = &mut self.inner {
            count_statement(&self.statements);
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut **t).await?;
        }
        Ok(())
    }
}

/// Creates database `name` on the PostgreSQL server behind `admin_url` (tests, tooling).
pub async fn create_postgres_database(admin_url: &str, name: &str) -> StoreResult<String> {
    check_database_name(name)?;
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await?;
    admin.close().await?;
    Ok(with_database(admin_url, name))
}

/// Drops database `name`, disconnecting anyone still on it.
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> StoreResult<()> {
    check_database_name(name)?;
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).execute(&mut admin).await?;
    admin.close().await?;
    Ok(())
}

fn check_database_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Corrupt(format!("invalid database name `{name}`")));
    }
    Ok(())
}

/// `admin_url` with its database path replaced by `database` (credentials and query kept).
fn with_database(admin_url: &str, database: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{database}{query}", &base[..host_end])
}
