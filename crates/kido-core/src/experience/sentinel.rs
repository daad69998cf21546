//! Brute-force protection per sign-in identifier (Logto's sentinel): failures are counted
//! in a one-hour window; at `maxAttempts` the identifier is locked for `lockoutDuration`
//! minutes, whether or not the next password is right. Identifiers are stored as digests.

use kido_proto::TenantId;
use kido_proto::sign_in_experience::SentinelPolicy;
use kido_store::Exec;
use kido_store::oidc::{self as store, SignInFailures};

use crate::{StoreError, ids};

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

/// The counter key of an identifier (its type and case-folded value, hashed).
pub fn key(kind: &str, value: &str) -> String {
    ids::digest(&format!("{kind}:{}", value.to_lowercase()))
}

/// When the identifier is locked, until when (epoch ms).
pub async fn locked_until(
    c: &mut impl Exec,
    tenant: &TenantId,
    key: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let row = store::sign_in_failures(c, tenant, key).await?;
    Ok(row.and_then(|r| r.locked_until).filter(|until| *until > now))
}

/// Counts a failure; returns the lock's end when this failure locks the identifier.
pub async fn record_failure(
    c: &mut impl Exec,
    tenant: &TenantId,
    key: &str,
    limits: Limits,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let current = store::sign_in_failures(c, tenant, key).await?;
    let mut next = match current {
        Some(r) if now - r.window_started_at < WINDOW_MS && r.locked_until.is_none_or(|u| u > now) => r,
        _ => SignInFailures { failures: 0, window_started_at: now, locked_until: None },
    };
    next.failures = next.failures.saturating_add(1);
    if next.failures as u32 >= limits.max_attempts {
        next.locked_until = Some(now + limits.lockout_ms);
    }
    store::put_sign_in_failures(c, tenant, key, &next).await?;
    Ok(next.locked_until)
}

pub async fn clear(c: &mut impl Exec, tenant: &TenantId, key: &str) -> Result<(), StoreError> {
    store::clear_sign_in_failures(c, tenant, key).await
}
