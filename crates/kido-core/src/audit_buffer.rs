//! Audit entries written off the answer's path: the token endpoint's `client_credentials`
//! entries are queued in memory and written by a background task, a batch per statement,
//! so a token still costs no database round trip. Bounded: beyond `capacity` the oldest
//! entry is dropped and counted. Reads of the log flush first (a node reads its own
//! writes), and so does shutdown.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kido_store::Store;
use kido_store::logs::{self as store, StoredLog};
use tokio::sync::Notify;

use crate::storage::StorageError;

/// Entries one statement writes at most.
const BATCH: usize = 500;

/// How long the writer lets entries gather before a statement (readers flush at once).
const GATHER: Duration = Duration::from_millis(20);

pub struct AuditBuffer {
    queue: Mutex<VecDeque<StoredLog>>,
    capacity: usize,
    /// Wakes the writer; a permit is kept when it is busy, so no entry waits for the next.
    wake: Notify,
    /// Entries dropped: pushed out by a full queue, or in a batch the database refused.
    dropped: AtomicU64,
    /// Serializes flushes, so entries reach the database in the order they were queued.
    writing: tokio::sync::Mutex<()>,
}

impl AuditBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// Queues an entry (no I/O: one lock, one push).
    pub fn push(&self, entry: StoredLog) {
        if let Ok(mut queue) = self.queue.lock() {
            if queue.len() >= self.capacity {
                queue.pop_front();
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(capacity = self.capacity, "audit queue full: dropping its oldest entries");
                }
            }
            queue.push_back(entry);
        }
        self.wake.notify_one();
    }

    /// Entries waiting for the writer.
    pub fn queued(&self) -> usize {
        self.queue.lock().map_or(0, |queue| queue.len())
    }

    /// Entries dropped since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes everything queued, `BATCH` entries per statement. A batch the database
    /// refuses is dropped (counted and logged): retrying could hold the queue forever.
    pub async fn flush(&self, store: &Store) {
        let _writing = self.writing.lock().await;
        loop {
            let batch: Vec<StoredLog> = match self.queue.lock() {
                Ok(mut queue) => {
                    let n = queue.len().min(BATCH);
                    queue.drain(..n).collect()
                }
                Err(_) => return,
            };
            if batch.is_empty() {
                return;
            }
            if let Err(e) = write(store, &batch).await {
                self.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
                tracing::warn!(error = %e, entries = batch.len(), "writing audit entries failed; dropped");
            }
        }
    }

    /// The writer task's loop: once entries arrive, let more gather for [`GATHER`] (unless a
    /// batch is already full), then flush. Under token load this makes one statement of
    /// hundreds of entries instead of one per few, so the database (on PostgreSQL a commit
    /// and a WAL flush per statement) takes little of the CPU the token endpoint needs.
    pub async fn run(&self, store: Store) {
        loop {
            self.wake.notified().await;
            if self.queue.lock().map(|q| q.len() < BATCH).unwrap_or(false) {
                tokio::time::sleep(GATHER).await;
            }
            self.flush(&store).await;
        }
    }
}

async fn write(s: &Store, batch: &[StoredLog]) -> Result<(), StorageError> {
    let mut c = s.conn().await?;
    Ok(store::insert_many(&mut c, batch).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> StoredLog {
        StoredLog {
            tenant_id: "default".into(),
            id: id.into(),
            key: "k".into(),
            user_id: None,
            application_id: None,
            payload: kido_store::Json(serde_json::json!({})),
            created_at: 0,
        }
    }

    #[test]
    fn full_queue_drops_the_oldest_and_counts() {
        let buffer = AuditBuffer::new(2);
        for id in ["a", "b", "c"] {
            buffer.push(entry(id));
        }
        assert_eq!(buffer.dropped(), 1);
        let ids: Vec<String> = buffer.queue.lock().unwrap().iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, ["b", "c"]);
    }
}
