//! An online copy of a SQLite database (`kido backup`). `VACUUM INTO` reads the database in
//! one read transaction, so the copy is a consistent snapshot even while a server writes to
//! it (WAL lets that server go on writing meanwhile); the live file is never locked for long.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::error::{StoreError, StoreResult};

/// Copies the SQLite database at `url` into `destination`, which must not exist or be an
/// empty file (the caller creates it, owner-only, so nothing is overwritten). `Ok(false)`
/// when `url` is not a SQLite database file.
pub async fn sqlite_snapshot(url: &str, destination: &Path) -> StoreResult<bool> {
    if !url.starts_with("sqlite:") {
        return Ok(false);
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(e.to_string()))?
        // Never create an empty database where the live one was expected.
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = options.connect().await?;
    let target = destination.to_str().ok_or_else(|| StoreError::InvalidUrl("the backup path is not UTF-8".into()))?;
    let copied = sqlx::query("VACUUM INTO $1").bind(target).execute(&mut conn).await;
    conn.close().await?;
    copied?;
    Ok(true)
}
