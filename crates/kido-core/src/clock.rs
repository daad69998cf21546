//! Wall-clock time in the units the wire uses.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Seconds since the Unix epoch (JWT `iat`/`exp`).
pub fn now_secs() -> i64 {
    now_ms() / 1000
}
