//! The database as the layers above the domain see it: opened from a URL, and failing in the
//! domain's terms, so the server never names a store type.

use std::path::Path;
use std::time::Duration;

use kido_store::{SchemaState, Store, StoreError, StoreOptions};
use thiserror::Error;

/// Why a write or read could not be done, as far as a caller can act on it. Domain error
/// enums carry this (never the store's own error type); `from_store_error!` gives each of
/// them the one conversion from the store's failures, through `From<StoreError>` below.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The entity already exists (a unique constraint the domain did not name more precisely).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// A referenced entity does not exist.
    #[error("referenced row does not exist: {0}")]
    MissingReference(String),
    /// The database's disk is full; writes resume once space is freed.
    #[error("the database's disk is full: {0}")]
    Full(String),
    /// The database cannot do what was asked (e.g. a search pattern it cannot compile).
    #[error("{0}")]
    Unsupported(String),
    /// A stored value cannot be read back, or a value cannot be stored.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Anything else: the database cannot be reached or answered unexpectedly (the
    /// store's error, kept as the source).
    #[error(transparent)]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::MissingReference(what) => Self::MissingReference(what),
            StoreError::Full(what) => Self::Full(what),
            StoreError::Unsupported(what) => Self::Unsupported(what),
            StoreError::Corrupt(what) => Self::Corrupt(what),
            other => Self::Unavailable(Box::new(other)),
        }
    }
}

/// `impl From<StoreError> for E` for domain error enums `E` that convert from
/// `StorageError`, so `?` on a store call needs no `map_err` and the enum never names the
/// store's type.
macro_rules! from_store_error {
    ($($error:ty),+ $(,)?) => {$(
        impl From<kido_store::StoreError> for $error {
            fn from(e: kido_store::StoreError) -> Self {
                Self::from($crate::storage::StorageError::from(e))
            }
        }
    )+};
}
pub(crate) use from_store_error;

/// Connects to the database at `url` and brings its schema up to date.
pub async fn open(url: &str, max_connections: u32) -> Result<Store, StorageError> {
    Ok(Store::connect(&StoreOptions { url: url.to_owned(), max_connections }).await?)
}

/// The database URL of a SQLite file at `path`.
pub fn sqlite_url(path: &Path) -> String {
    Store::sqlite_url(path)
}

/// Why start-up cannot reach the PostgreSQL server a URL names.
#[derive(Debug, Error)]
pub enum Unreachable {
    #[error("PostgreSQL at {0} refused the connection (nothing listens on that port)")]
    Refused(String),
    #[error("PostgreSQL at {0} did not answer within {1} s")]
    TimedOut(String, u64),
    #[error("the host name of PostgreSQL at {0} does not resolve: {1}")]
    UnknownHost(String, String),
    #[error("PostgreSQL at {0} cannot be reached: {1}")]
    Other(String, String),
}

/// Opens (and drops) a TCP connection to the PostgreSQL server `url` names, within
/// `timeout`: a cheap check that names the address and says refused or timed out, where the
/// pool would retry in silence. `Ok` for SQLite, Unix sockets and URLs `open` will reject.
pub async fn probe(url: &str, timeout: std::time::Duration) -> Result<(), Unreachable> {
    let Ok(Some((host, port))) = kido_store::postgres_address(url) else { return Ok(()) };
    let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let attempt = async {
        let targets: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Unreachable::UnknownHost(address.clone(), e.to_string()))?
            .collect();
        let mut last = Unreachable::UnknownHost(address.clone(), "no address".into());
        for target in targets {
            match tokio::net::TcpStream::connect(target).await {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last = Unreachable::Refused(address.clone());
                }
                Err(e) => last = Unreachable::Other(address.clone(), e.to_string()),
            }
        }
        Err(last)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Unreachable::TimedOut(address, timeout.as_secs().max(1))),
    }
}

/// Copies the SQLite database at `url` into the empty file `destination` while the database
/// may be in use (a consistent snapshot); `Ok(false)` when `url` is not a SQLite file.
pub async fn backup_sqlite(url: &str, destination: &Path) -> Result<bool, StorageError> {
    Ok(kido_store::backup::sqlite_snapshot(url, destination).await?)
}

/// Why start-up could not open the database.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The PostgreSQL server stayed unreachable for the whole wait (seconds waited).
    #[error("{0} (gave up after {1} s)")]
    Unreachable(Unreachable, u64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// [`open`], once the PostgreSQL server `url` names answers, waiting up to `patience` for it
/// (a server starting beside Kido, a network still coming up). Each failed try is logged with
/// its cause and the time to the next one, so an operator sees why start-up waits.
pub async fn open_when_reachable(
    url: &str,
    max_connections: u32,
    patience: std::time::Duration,
) -> Result<Store, OpenError> {
    use std::time::Duration;
    let deadline = tokio::time::Instant::now() + patience;
    let mut pause = Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let attempt = left.clamp(Duration::from_millis(200), Duration::from_secs(5));
        match probe(url, attempt).await {
            Ok(()) => return Ok(open(url, max_connections).await?),
            Err(unreachable) => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    return Err(OpenError::Unreachable(unreachable, patience.as_secs()));
                }
                let wait = pause.min(left);
                tracing::warn!(
                    "{unreachable}; retrying in {} s (giving up in {} s; Ctrl-C stops)",
                    wait.as_secs_f64().ceil(),
                    left.as_secs_f64().ceil()
                );
                tokio::time::sleep(wait).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// How long the readiness check waits for the database: a probe must answer before the
/// orchestrator's own timeout (usually 1–5 s), never hang on the pool's acquire timeout.
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the database cannot serve requests now (readiness).
#[derive(Debug, Error)]
pub enum NotReady {
    #[error("the database did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("the database cannot be reached: {0}")]
    Unreachable(#[source] StorageError),
    #[error("the database schema is at migration {applied:?}; this version of Kido needs migration {expected}")]
    SchemaBehind { applied: Option<i64>, expected: i64 },
}

/// Ready when the database answers one cheap query within `timeout` and its schema has
/// every migration this build needs.
pub async fn check_ready(store: &Store, timeout: Duration) -> Result<(), NotReady> {
    match tokio::time::timeout(timeout, store.schema_state()).await {
        Err(_) => Err(NotReady::TimedOut(timeout)),
        Ok(Err(e)) => Err(NotReady::Unreachable(e.into())),
        Ok(Ok(SchemaState::Current)) => Ok(()),
        Ok(Ok(SchemaState::Behind { applied, expected })) => Err(NotReady::SchemaBehind { applied, expected }),
    }
}
