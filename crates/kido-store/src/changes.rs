//! What committed writes changed, for the in-process caches of every node.
//!
//! Triggers (migration 0010) note each change to a table a cache reads as
//! `<tenant>:<table>`. The writing node reads its transaction's notes once, just before
//! COMMIT, and reports them right after it (so its own caches are never stale, not even for a
//! moment); on PostgreSQL the same notes reach every other node through `NOTIFY kido_cache`,
//! delivered only on commit, which [`crate::Store::spawn_change_listener`] turns into the same report.
//! What a table means for which cache is kido-core's business (`caches.rs`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kido_proto::TenantId;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// One table of one tenant written by a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChange {
    pub tenant: TenantId,
    pub table: String,
}

/// What the store reports to whoever caches its data.
#[derive(Debug)]
pub enum ChangeEvent<'a> {
    /// These tables changed and the change is committed.
    Committed(&'a [TableChange]),
    /// Changes may have been missed (the notification channel was down): forget everything.
    Missed,
}

/// Receives the store's change reports; set once per store by the cache owner.
pub type ChangeSink = Arc<dyn Fn(ChangeEvent<'_>) + Send + Sync>;

/// Where a store's reports go (shared by every clone of the store and its transactions).
#[derive(Clone, Default)]
pub(crate) struct SinkSlot(Arc<OnceLock<ChangeSink>>);

impl SinkSlot {
    fn get(&self) -> Option<&ChangeSink> {
        self.0.get()
    }

    /// The first sink set wins.
    pub(crate) fn set(&self, sink: ChangeSink) {
        let _ = self.0.set(sink);
    }
}

impl std::fmt::Debug for SinkSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "SinkSlot(set)" } else { "SinkSlot(unset)" })
    }
}

pub(crate) fn report(slot: &SinkSlot, changes: &[TableChange]) {
    if let (false, Some(sink)) = (changes.is_empty(), slot.get()) {
        sink(ChangeEvent::Committed(changes));
    }
}

/// `tenant:table` (a trigger's note); `None` for anything else.
pub(crate) fn parse_note(note: &str) -> Option<TableChange> {
    let (tenant, table) = note.split_once(':')?;
    if tenant.is_empty() || table.is_empty() {
        return None;
    }
    Some(TableChange { tenant: TenantId::new(tenant), table: table.to_owned() })
}

/// The notes PostgreSQL's trigger appended to `kido.changes` (comma-separated).
pub(crate) fn parse_notes(notes: &str) -> Vec<TableChange> {
    notes.split(',').filter(|n| !n.is_empty()).filter_map(parse_note).collect()
}

/// The NOTIFY channel the triggers of migration 0010 write to.
const CHANNEL: &str = "kido_cache";

/// Hears every node's committed changes on PostgreSQL and reports them to `slot`, until the
/// pool is closed (what [`crate::Store::spawn_change_listener`] runs).
pub(crate) async fn listen(pool: PgPool, slot: SinkSlot) {
    let tell = |event: ChangeEvent<'_>| {
        if let Some(sink) = slot.get() {
            sink(event);
        }
    };
    let mut down_since_warned = false;
    loop {
        if pool.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => l,
                Err(e) => {
                    warn_down(&mut down_since_warned, &e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            Err(e) => {
                warn_down(&mut down_since_warned, &e);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if down_since_warned {
            tracing::warn!(
                "cache invalidation channel restored: caches dropped, changes from other nodes apply at once again"
            );
            tell(ChangeEvent::Missed);
            down_since_warned = false;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = parse_note(notification.payload()) {
                        tell(ChangeEvent::Committed(std::slice::from_ref(&change)));
                    }
                }
                // Lost and already re-established (eager reconnect): what was sent in
                // between is gone, so everything cached may be stale.
                Ok(None) => {
                    tracing::warn!("cache invalidation channel reconnected: caches dropped");
                    tell(ChangeEvent::Missed);
                }
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    warn_down(&mut down_since_warned, &e);
                    tell(ChangeEvent::Missed);
                    break;
                }
            }
        }
    }
}

fn warn_down(warned: &mut bool, error: &dyn std::fmt::Display) {
    if !*warned {
        tracing::warn!(
            %error,
            "cache invalidation channel (LISTEN kido_cache) is down: changes made on other nodes \
             take effect here only when cached entries expire (10 s) until it is back"
        );
        *warned = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_parse_and_skip_garbage() {
        let changes = parse_notes("default:applications,admin:roles_scopes,,nocolon,");
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].tenant.as_str(), "default");
        assert_eq!(changes[1].table, "roles_scopes");
    }
}
