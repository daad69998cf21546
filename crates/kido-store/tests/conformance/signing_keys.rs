//! Signing keys: per tenant, newest first, ids unique.

use kido_store::signing_keys::{self, StoredSigningKey};

use crate::harness::{Db, NOW, a, assert_conflict, b};

fn key(id: &str, at: i64) -> StoredSigningKey {
    StoredSigningKey {
        id: id.into(),
        algorithm: "ES384".into(),
        private_key: "-----BEGIN PRIVATE KEY-----".into(),
        status: "Current".into(),
        created_at: at,
    }
}

#[tokio::test]
async fn keys_are_listed_newest_first_per_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    signing_keys::insert(&mut c, &a(), &key("k1", NOW)).await.unwrap();
    signing_keys::insert(&mut c, &a(), &key("k2", NOW + 1)).await.unwrap();
    assert_conflict(signing_keys::insert(&mut c, &a(), &key("k2", NOW + 2)).await);
    let ids: Vec<_> = signing_keys::list(&mut c, &a()).await.unwrap().into_iter().map(|k| k.id).collect();
    assert_eq!(ids, ["k2", "k1"]);
    assert!(signing_keys::list(&mut c, &b()).await.unwrap().is_empty());
    drop(c);
    db.finish().await;
}
