//! Key rotation of the secrets sealed at rest (`sealing`): `kido vault rotate-kek` walks every
//! sealed value of the database and re-wraps its data key under the current key-encryption
//! key, leaving each ciphertext as it is. Idempotent: a value already under the current key is
//! left alone, so an interrupted rotation is finished by running it again.

use kido_proto::TenantId;
use kido_store::Store;
use kido_store::mfa_verifications::{self as store, SealedFactor};
use thiserror::Error;

use crate::mfa::{backup_codes_context, totp_context};
use crate::sealing::{SealingError, SealingKey};
use crate::storage::{self, StorageError};

/// Values read per statement.
const PAGE: i64 = 500;

#[derive(Debug, Error)]
pub enum RotationError {
    /// A value that no key of the server opens: the rotation stops there (run it again with
    /// the missing key in `KIDO_SECRET_VAULT_PREVIOUS_KEKS`).
    #[error("the sealed value of verification {id} (tenant {tenant}) cannot be re-wrapped: {cause}")]
    Unopenable { tenant: String, id: String, cause: SealingError },
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(RotationError);

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Values whose data key is now wrapped under the current key (or sealed afresh).
    pub rewrapped: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values changed by someone else during the rotation (they were sealed anew, under the
    /// current key).
    pub changed_meanwhile: u64,
}

/// What a sealed factor is bound to; `None` for a kind that seals nothing.
fn context(row: &SealedFactor) -> Option<String> {
    let tenant = TenantId::new(&row.tenant_id);
    match row.kind.as_str() {
        "Totp" => Some(totp_context(&tenant, &row.user_id, &row.id)),
        "BackupCode" => Some(backup_codes_context(&tenant, &row.user_id, &row.id)),
        _ => None,
    }
}

/// Whether `key` opens the secrets already in the database, tried on one of them: a server
/// started with the wrong `KIDO_SECRET_VAULT_KEK` must refuse to start rather than fail each
/// user's second factor later. A database with nothing sealed passes.
pub async fn check_key(db: &Store, key: &SealingKey) -> Result<(), RotationError> {
    let mut c = db.conn().await?;
    let Some(row) = store::sealed_after(&mut c, ("", ""), 1).await?.into_iter().next() else { return Ok(()) };
    let Some(context) = context(&row) else { return Ok(()) };
    key.open(&context, &row.sealed_secret).map(|_| ()).map_err(|cause| RotationError::Unopenable {
        tenant: row.tenant_id,
        id: row.id,
        cause,
    })
}

/// Re-wraps every sealed value under `key`'s current key-encryption key.
pub async fn rotate(db: &Store, key: &SealingKey) -> Result<Rotation, RotationError> {
    let mut done = Rotation::default();
    let mut after = (String::new(), String::new());
    loop {
        let mut c = db.conn().await?;
        let rows = store::sealed_after(&mut c, (&after.0, &after.1), PAGE).await?;
        let Some(last) = rows.last() else { return Ok(done) };
        after = (last.tenant_id.clone(), last.id.clone());
        for row in &rows {
            let Some(context) = context(row) else { continue };
            let unopenable =
                |cause| RotationError::Unopenable { tenant: row.tenant_id.clone(), id: row.id.clone(), cause };
            match key.rewrap(&context, &row.sealed_secret).map_err(unopenable)? {
                None => done.current += 1,
                Some(new) => {
                    if store::replace_sealed(&mut c, &row.tenant_id, &row.id, &row.sealed_secret, &new).await? {
                        done.rewrapped += 1;
                    } else {
                        done.changed_meanwhile += 1;
                    }
                }
            }
        }
    }
}
