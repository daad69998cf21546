//! `kido backup FILE`: an online, consistent copy of the SQLite database, taken while a
//! server may be serving from it (SQLite's `VACUUM INTO`, in kido-store). PostgreSQL is
//! backed up with its own tools; this says how instead of copying anything.

use std::path::{Path, PathBuf};

use kido_core::storage::{self, StorageError};
use thiserror::Error;

use crate::config::{Config, redact_database_url};
use crate::data_dir;

#[derive(Debug, Error)]
pub enum BackupError {
    #[error(
        "{0} already exists: kido backup never overwrites a file. Choose a new name (e.g. kido-$(date +%F).db) \
         or move the old copy away first."
    )]
    Exists(PathBuf),
    #[error("cannot create {0}: {1}")]
    Create(PathBuf, std::io::Error),
    #[error(
        "the database is PostgreSQL ({0}); kido backup copies SQLite databases only. Back PostgreSQL up with its \
         own tools: pg_dump --format=custom --file=kido.dump \"$DATABASE_URL\", and restore with \
         pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" kido.dump (docs/OPERATIONS.md)."
    )]
    Postgres(String),
    #[error("{0} is not a database file on disk: there is nothing to copy")]
    NotAFile(String),
    #[error("there is no database at {0}: check KIDO_DATA_DIR / --data-dir (or DATABASE_URL)")]
    Missing(PathBuf),
    #[error("copying {0} failed: {1}")]
    Copy(PathBuf, StorageError),
}

/// What was copied where.
#[derive(Debug)]
pub struct Backup {
    pub source: PathBuf,
    pub bytes: u64,
}

/// Copies the configured SQLite database to `file` (created owner-only; it holds signing
/// keys and client secrets). A failed copy leaves no partial file behind.
pub async fn run(config: &Config, file: &Path) -> Result<Backup, BackupError> {
    let url = config.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(BackupError::Postgres(redact_database_url(&url)));
    }
    let source = data_dir::sqlite_file(&url).ok_or_else(|| BackupError::NotAFile(redact_database_url(&url)))?;
    if !source.is_file() {
        return Err(BackupError::Missing(source));
    }
    // Created here, empty and exclusively: an existing file is refused without a race, and
    // SQLite writes into an empty file as into a new one.
    match data_dir::private_options().write(true).create_new(true).open(file) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(BackupError::Exists(file.to_owned())),
        Err(e) => return Err(BackupError::Create(file.to_owned(), e)),
    }
    let copied = storage::backup_sqlite(&url, file).await.and_then(|_| {
        // On disk before we say it is done.
        std::fs::File::open(file)
            .and_then(|f| f.sync_all().and_then(|()| f.metadata()))
            .map(|m| m.len())
            .map_err(|e| StorageError::Unavailable(Box::new(e)))
    });
    match copied {
        Ok(bytes) => Ok(Backup { source, bytes }),
        Err(e) => {
            let _ = std::fs::remove_file(file);
            Err(BackupError::Copy(source, e))
        }
    }
}
