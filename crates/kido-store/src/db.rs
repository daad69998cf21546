//! The two backends and the one way to run a query on either.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, Connection, Executor, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};

use crate::changes::{self, ChangeSink, SinkSlot, TableChange};
use crate::error::{StoreError, StoreResult};

/// The embedded migrations of each backend (applied at connect; readiness compares).
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// The connection pool's use at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open (idle or lent out).
    pub open: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The pool's bound.
    pub max: u32,
}

/// What the schema of a database that answered looks like to this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration this build embeds is applied (newer ones of a newer node may be too).
    Current,
    /// The database lacks migrations this build needs (`applied`: its newest, if any).
    Behind { applied: Option<i64>, expected: i64 },
}

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
    /// SQLite: a connection outside any transaction ran a statement that may have changed a
    /// cached table, so the next transaction's commit drains the notes whatever it touched.
    notes_left: Arc<AtomicBool>,
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
    /// Set on drop when a statement of a module touching cached tables ran (SQLite: its note
    /// row waits for the next commit; PostgreSQL delivers its NOTIFY by itself).
    notes_left: Option<Arc<AtomicBool>>,
    touched_cached: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // On drop, so the flag is raised only once the statements have run: a commit that
        // sees it drains notes that are already there.
        if let (true, Some(left)) = (self.touched_cached, &self.notes_left) {
            left.store(true, Ordering::Release);
        }
    }
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
    /// A statement of a module that may change a cached table ran: read the notes at commit.
    noted: bool,
    notes_left: Arc<AtomicBool>,
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
    /// `touches_cached` is the calling module's `TOUCHES_CACHED_TABLES` (see [`run!`]).
    fn raw(&mut self, touches_cached: bool) -> Raw<'_>;
    fn backend(&self) -> Backend;
}

/// One relaxed add per statement: the counter orders nothing, it only sums.
fn count_statement(statements: &AtomicU64) {
    statements.fetch_add(1, Ordering::Relaxed);
}

impl Exec for Conn {
    fn raw(&mut self, touches_cached: bool) -> Raw<'_> {
        count_statement(&self.statements);
        self.touched_cached |= touches_cached;
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
    fn raw(&mut self, touches_cached: bool) -> Raw<'_> {
        count_statement(&self.statements);
        self.noted |= touches_cached;
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
///
/// Every module that runs SQL declares `const TOUCHES_CACHED_TABLES: bool`, which `run!`
/// names at its call site: whether the module's statements may change a table a cache reads
/// (migration 0010's triggers), directly or by a cascade. A transaction reads its change
/// notes at commit only after such a statement, so a sign-in's transactions (users, logs,
/// oidc rows) spend no statement on notes; the conformance test `statements` derives which
/// modules must say `true` from their SQL.
macro_rules! run {
    ($exec:expr, |$c:ident| $body:expr) => {
        match $crate::db::Exec::raw($exec, TOUCHES_CACHED_TABLES) {
            $crate::db::Raw::Sqlite($c) => $body,
            $crate::db::Raw::Pg($c) => $body,
        }
    };
}
pub(crate) use run;

/// How long connecting may take before the pool gives up (also each later acquire's bound).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn postgres_options(url: &str) -> StoreResult<PgConnectOptions> {
    // sqlx's message names the part that is wrong (port, parameter…), never the password.
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
    // On a loopback address TLS protects nothing (whoever can read loopback traffic can read
    // the process) and each connection's handshake costs the server and us; `prefer`, the
    // default, would negotiate it. A URL that names an `sslmode` keeps it.
    if !names_ssl_mode(url) && is_loopback(options.get_host()) {
        return Ok(options.ssl_mode(PgSslMode::Disable));
    }
    Ok(options)
}

/// Whether the URL's query sets `sslmode`.
fn names_ssl_mode(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|pair| pair.split('=').next().is_some_and(|k| k.eq_ignore_ascii_case("sslmode")))
    })
}

/// Whether `host` is this machine over loopback (or a Unix socket directory).
fn is_loopback(host: &str) -> bool {
    host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The TCP address (host, port) of the PostgreSQL server `url` names, so start-up can tell
/// "refused" from "no answer" before the pool's silent retries; `None` for SQLite and for
/// Unix-socket connections.
pub fn postgres_address(url: &str) -> StoreResult<Option<(String, u16)>> {
    if !is_postgres_url(url) {
        return Ok(None);
    }
    let options = postgres_options(url)?;
    if options.get_socket().is_some() || options.get_host().starts_with('/') {
        return Ok(None);
    }
    Ok(Some((options.get_host().to_owned(), options.get_port())))
}

impl Store {
    /// Connects and applies the embedded migrations of the backend (PostgreSQL takes an
    /// advisory lock for that, so several nodes may start at once).
    pub async fn connect(options: &StoreOptions) -> StoreResult<Self> {
        let url = options.url.as_str();
        let sqlite_page_cap = Arc::new(AtomicU64::new(0));
        let db = if is_postgres_url(url) {
            let connect = postgres_options(url)?.application_name("kido");
            let address = format!("{}:{}", connect.get_host(), connect.get_port());
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(CONNECT_TIMEOUT)
                .after_release(|conn, _| Box::pin(async move { Ok(is_clean(&*conn)) }))
                .connect_with(connect)
                .await
                .map_err(|e| match e {
                    // At connect, the pool's timeout means no connection ever completed.
                    sqlx::Error::PoolTimedOut => StoreError::NoAnswer(format!(
                        "PostgreSQL at {address} took the connection but did not complete its start-up within {} s \
                         (is it a PostgreSQL server, and is it overloaded?)",
                        CONNECT_TIMEOUT.as_secs()
                    )),
                    other => other.into(),
                })?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Db::Pg(pool)
        } else if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::InvalidUrl(e.to_string()))?
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
            SQLITE_MIGRATIONS.run(&pool).await?;
            Db::Sqlite(pool)
        } else {
            return Err(StoreError::InvalidUrl("use postgres://user:password@host:5432/database or sqlite:…".into()));
        };
        Ok(Self {
            db,
            sink: SinkSlot::default(),
            sqlite_page_cap,
            max_connections: options.max_connections,
            statements: Arc::default(),
            notes_left: Arc::default(),
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
        let notes_left = matches!(inner, ConnInner::Sqlite(_)).then(|| self.notes_left.clone());
        Ok(Conn { inner, statements: self.statements.clone(), notes_left, touched_cached: false })
    }

    /// How many SQL statements this store (and its clones) has run so far: one per
    /// repository statement, plus BEGIN and COMMIT of each transaction, the change-note read
    /// of each that may have changed a cached table, and each `Tx::lock`. Round trips of connection set-up, ROLLBACK on drop and the
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
        let (sink, statements, notes_left) = (self.sink.clone(), self.statements.clone(), self.notes_left.clone());
        Ok(Tx { inner, sink, statements, noted: false, notes_left })
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

    /// The pool's open and idle connections (two atomic reads; for the metrics).
    pub fn pool_usage(&self) -> PoolUsage {
        let (open, idle) = match &self.db {
            Db::Sqlite(p) => (p.size(), p.num_idle()),
            Db::Pg(p) => (p.size(), p.num_idle()),
        };
        PoolUsage { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max: self.max_connections }
    }

    /// One cheap query that proves the database answers and says whether its schema has
    /// every migration this build embeds (readiness). Not counted in `statements_run`.
    pub async fn schema_state(&self) -> StoreResult<SchemaState> {
        const NEWEST: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        let (applied, migrations): (Option<i64>, &Migrator) = match &self.db {
            Db::Sqlite(p) => (sqlx::query_scalar(NEWEST).fetch_one(p).await?, &SQLITE_MIGRATIONS),
            Db::Pg(p) => (sqlx::query_scalar(NEWEST).fetch_one(p).await?, &POSTGRES_MIGRATIONS),
        };
        let expected = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        Ok(match applied {
            Some(applied) if applied >= expected => SchemaState::Current,
            _ => SchemaState::Behind { applied, expected },
        })
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
    /// caches drop it before the caller answers. The notes are read inside the transaction,
    /// and only when a statement of a module that may change a cached table ran
    /// (`TOUCHES_CACHED_TABLES`, see [`run!`]) or, on SQLite, a connection outside any
    /// transaction ran one since the last drain: SQLite's are rows drained here (writers are
    /// serialised, so they are this transaction's plus those single-statement writes left),
    /// PostgreSQL's a transaction-local setting (its single-statement writes reach every
    /// node, this one included, by NOTIFY).
    pub async fn commit(self) -> StoreResult<()> {
        let Tx { inner, sink, statements, noted, notes_left } = self;
        count_statement(&statements);
        // Notes a connection left outside a transaction (SQLite) are drained by the next
        // commit; if this one fails they are left for the one after.
        let left = matches!(inner, TxInner::Sqlite(_)) && notes_left.swap(false, Ordering::AcqRel);
        if !noted && !left {
            match inner {
                TxInner::Sqlite(t) => t.commit().await?,
                TxInner::Pg(t) => t.commit().await?,
            }
            return Ok(());
        }
        count_statement(&statements);
        let changes = match inner {
            TxInner::Sqlite(mut t) => {
                const DRAIN: &str = "DELETE FROM pending_cache_changes RETURNING tenant_id, table_name";
                let drained = async {
                    let rows: Vec<(String, String)> = sqlx::query_as(DRAIN).fetch_all(&mut *t).await?;
                    t.commit().await?;
                    Ok::<_, sqlx::Error>(rows)
                };
                let rows = match drained.await {
                    Ok(rows) => rows,
                    Err(e) => {
                        notes_left.fetch_or(left, Ordering::AcqRel);
                        return Err(e.into());
                    }
                };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_postgres_skips_tls_unless_the_url_asks() {
        let mode = |url: &str| format!("{:?}", postgres_options(url).unwrap().get_ssl_mode());
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@localhost/db"), "Disable");
        assert_eq!(mode("postgres://u@[::1]:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=require"), "Require");
        assert_eq!(mode("postgres://u@127.0.0.1/db?application_name=x&SSLMODE=prefer"), "Prefer");
        assert_eq!(mode("postgres://u@db.example.com/db"), "Prefer");
        assert_eq!(mode("postgres://u@10.0.0.5/db"), "Prefer");
    }
}
