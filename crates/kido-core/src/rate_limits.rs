//! Rate limits on password verification, per client IP and per identifier, and on the
//! passkey sign-in ceremonies an address begins: hits are counted in fixed windows in the
//! database (one atomic upsert per bucket), so they hold under parallel bursts and across
//! nodes. Checked before a password reaches the hashing queue, so a refused attempt costs no
//! hash.

use kido_proto::TenantId;
use kido_store::Exec;
use kido_store::rate_limits as store;

use crate::ids;
use crate::storage::StorageError;

/// How many password checks a client IP and an identifier get per window. The per-IP
/// default leaves room for many users behind one NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRateLimits {
    pub per_ip: u32,
    pub per_identifier: u32,
    pub window_secs: u32,
}

impl Default for PasswordRateLimits {
    fn default() -> Self {
        Self { per_ip: 300, per_identifier: 30, window_secs: 300 }
    }
}

/// A limit was reached: try again after this many seconds (the window's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: u64,
}

/// Passkey sign-in ceremonies (challenges issued to anyone who asks) an address may begin
/// per window.
pub const PASSKEY_CEREMONIES_PER_IP: i64 = 60;
const PASSKEY_WINDOW_SECS: u32 = 60;

/// The fixed window `now` falls in (start, end) and the answer when it is used up.
fn window(now: i64, secs: u32) -> (i64, i64, Limited) {
    let window_ms = i64::from(secs.max(1)) * 1000;
    let start = now - now.rem_euclid(window_ms);
    let end = start + window_ms;
    (start, end, Limited { retry_after_secs: u64::try_from((end - now + 999) / 1000).unwrap_or(1).max(1) })
}

/// Counts one passkey ceremony begun from `ip` (none counted without an address).
pub async fn hit_passkey_ceremony(
    c: &mut impl Exec,
    tenant: &TenantId,
    ip: Option<&str>,
    now: i64,
) -> Result<Result<(), Limited>, StorageError> {
    let Some(ip) = ip else { return Ok(Ok(())) };
    let (start, end, limited) = window(now, PASSKEY_WINDOW_SECS);
    let hits = store::hit(c, tenant, &format!("passkey:ip:{ip}"), start, end).await?;
    Ok(if hits > PASSKEY_CEREMONIES_PER_IP { Err(limited) } else { Ok(()) })
}

impl PasswordRateLimits {
    /// Counts one password check from `ip` for the identifier behind `identifier_key`
    /// (a sentinel key or a user id), refusing when either bucket is over its limit. Both
    /// buckets are counted by one statement; an attempt the identifier's limit refuses does
    /// not count against the address.
    pub async fn hit(
        &self,
        c: &mut impl Exec,
        tenant: &TenantId,
        ip: Option<&str>,
        identifier_key: &str,
        now: i64,
    ) -> Result<Result<(), Limited>, StorageError> {
        let (window_start, window_end, limited) = window(now, self.window_secs);
        let identifier_bucket = format!("password:id:{}", ids::digest(identifier_key));
        let ip_bucket = ip.map(|ip| format!("password:ip:{ip}"));
        let limit = i64::from(self.per_identifier);
        let (identifier_hits, ip_hits) =
            store::hit_both(c, tenant, (&identifier_bucket, limit), ip_bucket.as_deref(), window_start, window_end)
                .await?;
        if identifier_hits > limit || ip_hits.is_some_and(|hits| hits > i64::from(self.per_ip)) {
            return Ok(Err(limited));
        }
        Ok(Ok(()))
    }
}
