//! The database as the layers above the domain see it: opened from a URL, and failing in the
//! domain's terms, so the server never names a store type.

use std::path::Path;

use kido_store::{Store, StoreError, StoreOptions};
use thiserror::Error;

/// Why a write or read could not be done, as far as a caller can act on it.
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
    /// Anything else: the database cannot be reached or answered unexpectedly.
    #[error(transparent)]
    Unavailable(StoreError),
}

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::MissingReference(what) => Self::MissingReference(what),
            StoreError::Full(what) => Self::Full(what),
            other => Self::Unavailable(other),
        }
    }
}

/// Connects to the database at `url` and brings its schema up to date.
pub async fn open(url: &str, max_connections: u32) -> Result<Store, StorageError> {
    Ok(Store::connect(&StoreOptions { url: url.to_owned(), max_connections }).await?)
}

/// The database URL of a SQLite file at `path`.
pub fn sqlite_url(path: &Path) -> String {
    Store::sqlite_url(path)
}
