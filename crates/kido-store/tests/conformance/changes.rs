//! Cache invalidation: what a committed transaction changed in a cached table is reported
//! once, after COMMIT, to this store's sink — never before it, never for a rollback — and on
//! PostgreSQL reaches another node's change listener.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kido_proto::TenantId;
use kido_store::changes::{ChangeEvent, TableChange};
use kido_store::{Backend, Store, StoreOptions, applications, logs};
use serde_json::json;

use crate::harness::{Db, NOW, a, app, b};

type Seen = Arc<Mutex<Vec<TableChange>>>;

fn record(store: &Store) -> Seen {
    let seen = Seen::default();
    let sink = seen.clone();
    store.on_change(Arc::new(move |event| {
        if let ChangeEvent::Committed(changes) = event {
            sink.lock().unwrap().extend_from_slice(changes);
        }
    }));
    seen
}

fn change(tenant: TenantId, table: &str) -> TableChange {
    TableChange { tenant, table: table.into() }
}

fn take(seen: &Seen) -> Vec<TableChange> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[tokio::test]
async fn committed_changes_to_cached_tables_are_reported_after_commit_only() {
    let db = Db::new().await;
    let seen = record(&db.store);

    let mut tx = db.store.begin().await.unwrap();
    applications::insert(&mut tx, &app(&a(), "web")).await.unwrap();
    applications::insert(&mut tx, &app(&a(), "spa")).await.unwrap();
    assert!(take(&seen).is_empty(), "nothing is reported before COMMIT");
    tx.commit().await.unwrap();
    assert_eq!(take(&seen), [change(a(), "applications")], "one note per tenant and table");

    // A rolled-back transaction reports nothing, not even at the next commit.
    let mut tx = db.store.begin().await.unwrap();
    applications::insert(&mut tx, &app(&b(), "gone")).await.unwrap();
    drop(tx);
    let tx = db.store.begin().await.unwrap();
    tx.commit().await.unwrap();
    assert!(take(&seen).is_empty());
    assert!(applications::find(&mut db.conn().await, &b(), "gone").await.unwrap().is_none());

    // Tables no cache reads are not reported.
    let mut tx = db.store.begin().await.unwrap();
    let log = logs::StoredLog {
        tenant_id: a().to_string(),
        id: "l1".into(),
        key: "Test".into(),
        user_id: None,
        application_id: None,
        payload: kido_store::Json(json!({})),
        created_at: NOW,
    };
    logs::insert(&mut tx, &log).await.unwrap();
    tx.commit().await.unwrap();
    assert!(take(&seen).is_empty());

    if db.store.backend() == Backend::Sqlite {
        // SQLite: a single-statement write leaves its note for the next commit to report.
        applications::delete(&mut db.conn().await, &a(), "spa").await.unwrap();
        db.store.begin().await.unwrap().commit().await.unwrap();
        assert_eq!(take(&seen), [change(a(), "applications")]);
    }
    db.finish().await;
}

#[tokio::test]
async fn another_node_hears_committed_changes_on_postgres() {
    let db = Db::new().await;
    if db.store.backend() != Backend::Postgres {
        // SQLite is one process per database (the data directory is locked).
        assert!(db.store.spawn_change_listener().is_none());
        db.finish().await;
        return;
    }
    let other = Store::connect(&StoreOptions { url: db.url.clone(), max_connections: 2 }).await.unwrap();
    let heard = record(&other);
    let listener = other.spawn_change_listener().unwrap();
    // The listener is up once a change made now is heard; repeat until then.
    let mut n = 0;
    let expected = change(b(), "applications");
    while !heard.lock().unwrap().contains(&expected) {
        n += 1;
        assert!(n <= 200, "another node never heard the change");
        let mut tx = db.store.begin().await.unwrap();
        applications::insert(&mut tx, &app(&b(), &format!("app{n}"))).await.unwrap();
        tx.commit().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A rolled-back write is never heard.
    take(&heard);
    let mut tx = db.store.begin().await.unwrap();
    applications::insert(&mut tx, &app(&a(), "rolled-back")).await.unwrap();
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    applications::insert(&mut tx, &app(&b(), "marker")).await.unwrap();
    tx.commit().await.unwrap();
    for _ in 0..500 {
        if heard.lock().unwrap().contains(&expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(heard.lock().unwrap().contains(&expected), "the marker was never heard");
    assert!(!heard.lock().unwrap().contains(&change(a(), "applications")), "a rollback was heard");
    other.close().await;
    listener.abort();
    db.finish().await;
}
