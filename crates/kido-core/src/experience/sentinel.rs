//! Brute-force protection per sign-in identifier (Logto's sentinel): failures are counted
//! in a one-hour window; at `maxAttempts` the identifier is locked for `lockoutDuration`
//! minutes, whether or not the next password is right. Identifiers are stored as digests.
//!
//! An attempt reserves its place in the window atomically in the database *before* the
//! expensive check, so a parallel burst (on one node or many) gets exactly `maxAttempts`
//! checks; a success gives its place back, a failure keeps it and locks at the limit.

use kido_proto::TenantId;
use kido_proto::sign_in_experience::SentinelPolicy;
use kido_store::Exec;
use kido_store::oidc as store;

use crate::ids;
use crate::storage::StorageError;

const WINDOW_MS: i64 = 3600 * 1000;
const DEFAULT_MAX_ATTEMPTS: u32 = 100;
const DEFAULT_LOCKOUT_MINUTES: u32 = 60;

/// The policy with Logto's defaults filled in.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_attempts: u32,
    pub lockout_ms: i64,
}

impl From<&SentinelPolicy> for Limits {
    fn from(p: &SentinelPolicy) -> Self {
        Self {
            max_attempts: p.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1),
            lockout_ms: i64::from(p.lockout_duration.unwrap_or(DEFAULT_LOCKOUT_MINUTES)) * 60_000,
        }
    }
}

impl Limits {
    fn max(self) -> i32 {
        i32::try_from(self.max_attempts).unwrap_or(i32::MAX)
    }
}

/// The counter key of an identifier (its type and case-folded value, hashed).
pub fn key(kind: &str, value: &str) -> String {
    ids::digest(&format!("{kind}:{}", value.to_lowercase()))
}

/// An attempt that may go ahead: its number in the window.
#[derive(Debug, Clone, Copy)]
#[must_use = "an attempt ends with `failed` or `not_a_failure`"]
pub struct Attempt {
    number: i32,
}

/// Reserves an attempt for `key`, or says until when (epoch ms) the identifier is locked.
pub async fn begin(
    c: &mut impl Exec,
    tenant: &TenantId,
    key: &str,
    limits: Limits,
    now: i64,
) -> Result<Result<Attempt, i64>, StorageError> {
    match store::reserve_sign_in_attempt(c, tenant, key, now, now - WINDOW_MS, limits.max()).await? {
        Some(number) => Ok(Ok(Attempt { number })),
        None => {
            // Locked, or the window is full and its last attempt is still being checked.
            let row = store::sign_in_failures(c, tenant, key).await?;
            let until = row.and_then(|r| r.locked_until).filter(|u| *u > now).unwrap_or(now + limits.lockout_ms);
            Ok(Err(until))
        }
    }
}

/// The attempt failed: it stays counted; returns the lock's end when it reached the limit.
pub async fn failed(
    c: &mut impl Exec,
    tenant: &TenantId,
    key: &str,
    attempt: Attempt,
    limits: Limits,
    now: i64,
) -> Result<Option<i64>, StorageError> {
    if attempt.number < limits.max() {
        return Ok(None);
    }
    Ok(Some(store::lock_sign_in_failures(c, tenant, key, now + limits.lockout_ms).await?))
}

/// The attempt succeeded or did not test a secret: it gives its place back.
pub async fn not_a_failure(c: &mut impl Exec, tenant: &TenantId, key: &str, _: Attempt) -> Result<(), StorageError> {
    Ok(store::release_sign_in_attempt(c, tenant, key).await?)
}

/// Deletes windows that no longer count (all tenants).
pub async fn sweep(c: &mut impl Exec, now: i64) -> Result<u64, StorageError> {
    Ok(store::delete_expired_sign_in_failures(c, now, now - WINDOW_MS).await?)
}
