//! `kido vault rotate-kek`: re-wraps every sealed secret's data key under the current
//! key-encryption key (`KIDO_SECRET_VAULT_KEK`), opening older values with the keys in
//! `KIDO_SECRET_VAULT_PREVIOUS_KEKS`. Safe beside running servers: each value is replaced only
//! if it did not change meanwhile, and a run can be repeated.

use kido_core::storage::{self, StorageError};
use kido_core::vault::{Rotation, RotationError};
use thiserror::Error;

use crate::config::Config;
use crate::server::{ServerError, sealing_key};

#[derive(Debug, Error)]
pub enum VaultError {
    #[error("{0}")]
    Key(#[from] ServerError),
    #[error("cannot open the database: {0}")]
    Database(#[from] StorageError),
    #[error("{0}")]
    Rotation(#[from] RotationError),
}

/// Rotates; returns what was done and the id of the key values are now under.
pub async fn rotate_kek(config: &Config) -> Result<(Rotation, String), VaultError> {
    let url = config.database_url();
    let shared = crate::data_dir::sqlite_file(&url).is_none();
    let key = sealing_key(config, shared)?;
    let db = storage::open(&url, config.db_max_connections).await?;
    let done = kido_core::vault::rotate(&db, &key).await?;
    Ok((done, key.id().to_owned()))
}
