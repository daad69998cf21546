//! What the process holds and has counted, read at one instant for the metrics: the
//! password hashing queue, the database pool, the audit queue and the caches' hits and
//! misses. The counters behind it are relaxed atomics bumped where the work happens; this
//! module only names them, so the domain depends on no metrics library.

use std::sync::atomic::{AtomicU64, Ordering};

/// A cache's lookups since start: one relaxed add per lookup.
#[derive(Debug, Default)]
pub struct HitCounts {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl HitCounts {
    /// Counts a lookup; returns `found`, so a lookup can be counted where it is made.
    pub fn count<T>(&self, found: Option<T>) -> Option<T> {
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn read(&self, name: &'static str) -> CacheUsage {
        CacheUsage { name, hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    /// `clients`, `grants` (what a client may get for a resource or an organization),
    /// `sign_in_experiences`.
    pub name: &'static str,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Password checks admitted to the hashing pool and not finished (running or waiting).
    pub password_jobs: usize,
    /// How many may be admitted at once (threads + queue limit); beyond: 503.
    pub password_capacity: usize,
    /// Hashing jobs run since start.
    pub passwords_hashed: u64,
    /// Database connections open (idle or lent out), idle, and the pool's bound.
    pub db_connections: u32,
    pub db_idle: u32,
    pub db_max: u32,
    /// Audit entries queued for the background writer, and dropped since start.
    pub audit_queued: usize,
    pub audit_dropped: u64,
    pub caches: Vec<CacheUsage>,
}
