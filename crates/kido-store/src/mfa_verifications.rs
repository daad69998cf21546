//! Second factors bound to users (`user_mfa_verifications`) and the backup codes of a set
//! (`user_backup_codes`: a position in the set and when it was used; the codes
//! themselves sealed on the set's row). Single use is one conditional statement each: a TOTP step moves
//! `last_step` forward only, a backup code is marked used only while unused.

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::AssertSqlSafe;

use crate::Json;
use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMfaVerification {
    pub tenant_id: String,
    pub id: String,
    pub user_id: String,
    /// `Totp`, `BackupCode` or `WebAuthn`.
    #[sqlx(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    /// The TOTP secret, sealed by kido-core.
    pub sealed_secret: Option<String>,
    pub details: Json<Value>,
    pub last_step: Option<i64>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    /// Unused backup codes of a `BackupCode` set (0 for other kinds).
    pub remaining_codes: i64,
    /// A `WebAuthn` credential's id (base64url), unique in the tenant.
    pub credential_id: Option<String>,
}

const COLUMNS: &str = "v.tenant_id, v.id, v.user_id, v.type, v.name, v.sealed_secret, v.details, v.last_step, \
                       v.last_used_at, v.created_at, (SELECT COUNT(*) FROM user_backup_codes b \
                       WHERE b.tenant_id = v.tenant_id AND b.verification_id = v.id AND b.used_at IS NULL) \
                       AS remaining_codes, v.credential_id";

/// A user's verifications, oldest first.
pub async fn list(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<Vec<StoredMfaVerification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM user_mfa_verifications v WHERE v.tenant_id = $1 AND v.user_id = $2 \
         ORDER BY v.created_at, v.id"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?))
}

/// Whether the user has bound any second factor.
pub async fn has_any(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<bool> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM user_mfa_verifications WHERE tenant_id = $1 AND user_id = $2)";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(user_id).fetch_one(&mut *c).await?))
}

/// Adds a verification (a second TOTP or a second live backup-code set is a
/// `Conflict("user_mfa_verifications__one_…")`, a WebAuthn credential id the tenant already
/// holds a `Conflict` too). `remaining_codes` is ignored.
pub async fn insert(c: &mut impl Exec, v: &StoredMfaVerification) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO user_mfa_verifications (tenant_id, id, user_id, type, name, sealed_secret, \
                       details, last_step, last_used_at, created_at, credential_id) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    run!(c, |c| sqlx::query(SQL)
        .bind(&v.tenant_id)
        .bind(&v.id)
        .bind(&v.user_id)
        .bind(&v.kind)
        .bind(&v.name)
        .bind(&v.sealed_secret)
        .bind(&v.details)
        .bind(v.last_step)
        .bind(v.last_used_at)
        .bind(v.created_at)
        .bind(&v.credential_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Stores the code slots of a backup-code set, one per position (one statement for the set):
/// `None` for a sealed set (its codes are on the verification row), a salted digest for a set
/// bound before sets were sealed.
pub async fn insert_backup_codes(
    c: &mut impl Exec,
    tenant: &TenantId,
    verification_id: &str,
    digests: &[Option<String>],
) -> StoreResult<()> {
    if digests.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..digests.len()).map(|i| format!("($1, $2, {i}, ${}, NULL)", i + 3)).collect();
    let sql = format!(
        "INSERT INTO user_backup_codes (tenant_id, verification_id, position, code_digest, used_at) VALUES {}",
        rows.join(", ")
    );
    run!(c, |c| {
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(verification_id);
        for digest in digests {
            query = query.bind(digest);
        }
        query.execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// One code of a backup-code set: its position, its digest (sets from before sealing) and
/// when it was used.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredBackupCode {
    pub position: i64,
    pub code_digest: Option<String>,
    pub used_at: Option<i64>,
}

/// The codes of a backup-code set, by position.
pub async fn backup_codes(
    c: &mut impl Exec,
    tenant: &TenantId,
    verification_id: &str,
) -> StoreResult<Vec<StoredBackupCode>> {
    const SQL: &str = "SELECT position, code_digest, used_at FROM user_backup_codes \
                       WHERE tenant_id = $1 AND verification_id = $2 ORDER BY position";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).bind(verification_id).fetch_all(&mut *c).await?))
}

/// Drops the user's backup-code sets with no unused code left (before a new set is bound).
pub async fn delete_exhausted_backup_codes(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM user_mfa_verifications WHERE tenant_id = $1 AND user_id = $2 AND type = 'BackupCode' \
                       AND NOT EXISTS (SELECT 1 FROM user_backup_codes b WHERE b.tenant_id = $1 \
                       AND b.verification_id = user_mfa_verifications.id AND b.used_at IS NULL)";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected()))
}

/// Drops the user's backup-code set, used or not (a new set replaces it).
pub async fn delete_backup_codes(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<u64> {
    const SQL: &str =
        "DELETE FROM user_mfa_verifications WHERE tenant_id = $1 AND user_id = $2 AND type = 'BackupCode'";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected()))
}

/// Removes one of the user's verifications; false when the user has none by that id.
pub async fn delete(c: &mut impl Exec, tenant: &TenantId, user_id: &str, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM user_mfa_verifications WHERE tenant_id = $1 AND user_id = $2 AND id = $3";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Records that a TOTP code of `step` was accepted. False when that step (or a later one) was
/// already used: of two uses of one code, one wins.
pub async fn use_totp_step(c: &mut impl Exec, tenant: &TenantId, id: &str, step: i64, now: i64) -> StoreResult<bool> {
    const SQL: &str = "UPDATE user_mfa_verifications SET last_step = $3, last_used_at = $4 \
                       WHERE tenant_id = $1 AND id = $2 AND type = 'Totp' AND (last_step IS NULL OR last_step < $3)";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(step)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Marks the backup code at `position` of set `verification_id` used. False when there is no
/// such code or it was used already: of two uses of one code, one wins.
pub async fn use_backup_code(
    c: &mut impl Exec,
    tenant: &TenantId,
    verification_id: &str,
    position: i64,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE user_backup_codes SET used_at = $4 \
                       WHERE tenant_id = $1 AND verification_id = $2 AND position = $3 AND used_at IS NULL";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(verification_id)
        .bind(position)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Renames one of the user's verifications; false when the user has none by that id and kind.
pub async fn rename(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    id: &str,
    kind: &str,
    name: &str,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE user_mfa_verifications SET name = $5 \
                       WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND type = $4";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(id)
        .bind(kind)
        .bind(name)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Drops the user's TOTP verification, if any (a new secret replaces it).
pub async fn delete_totp(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM user_mfa_verifications WHERE tenant_id = $1 AND user_id = $2 AND type = 'Totp'";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected()))
}

/// Whether a WebAuthn credential id is bound to any user of the tenant.
pub async fn credential_in_use(c: &mut impl Exec, tenant: &TenantId, credential_id: &str) -> StoreResult<bool> {
    const SQL: &str =
        "SELECT EXISTS (SELECT 1 FROM user_mfa_verifications WHERE tenant_id = $1 AND credential_id = $2)";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(credential_id).fetch_one(&mut *c).await?))
}

/// The WebAuthn verification holding `credential_id` in the tenant, if any.
pub async fn find_by_credential(
    c: &mut impl Exec,
    tenant: &TenantId,
    credential_id: &str,
) -> StoreResult<Option<StoredMfaVerification>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM user_mfa_verifications v WHERE v.tenant_id = $1 AND v.credential_id = $2 \
         AND v.type = 'WebAuthn'"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(credential_id)
        .fetch_optional(&mut *c)
        .await?))
}

/// Records a WebAuthn assertion's signature counter. False when the counter did not move
/// forward from the one last accepted (a cloned authenticator, or a lost race with another
/// use), except when both are 0: an authenticator that keeps no counter.
pub async fn use_webauthn_counter(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    counter: i64,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE user_mfa_verifications SET last_step = $3, last_used_at = $4 \
                       WHERE tenant_id = $1 AND id = $2 AND type = 'WebAuthn' \
                       AND (last_step IS NULL OR last_step < $3 OR ($3 = 0 AND last_step = 0))";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(counter)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// A sealed value of a second factor (a TOTP secret, a backup-code set), for re-wrapping
/// under a new key-encryption key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedFactor {
    pub tenant_id: String,
    pub id: String,
    pub user_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub sealed_secret: String,
}

/// The sealed values of every tenant after `(tenant, id)` in key order, at most `limit`.
pub async fn sealed_after(c: &mut impl Exec, after: (&str, &str), limit: i64) -> StoreResult<Vec<SealedFactor>> {
    const SQL: &str = "SELECT tenant_id, id, user_id, type, sealed_secret FROM user_mfa_verifications \
                       WHERE sealed_secret IS NOT NULL AND (tenant_id > $1 OR (tenant_id = $1 AND id > $2)) \
                       ORDER BY tenant_id, id LIMIT $3";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(after.0).bind(after.1).bind(limit).fetch_all(&mut *c).await?))
}

/// Replaces a sealed value if it is still `old` (a change made meanwhile wins); whether it did.
pub async fn replace_sealed(c: &mut impl Exec, tenant: &str, id: &str, old: &str, new: &str) -> StoreResult<bool> {
    const SQL: &str = "UPDATE user_mfa_verifications SET sealed_secret = $4 \
                       WHERE tenant_id = $1 AND id = $2 AND sealed_secret = $3";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant).bind(id).bind(old).bind(new).execute(&mut *c).await?.rows_affected())
        > 0)
}
