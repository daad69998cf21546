//! The sign-in experience: one document per tenant, replaced by `put` as often as asked (a
//! cached table: its writes must never trip over their own cache notes).

use kido_store::sign_in_experiences;
use serde_json::json;

use crate::harness::{Db, a, b};

#[tokio::test]
async fn one_sign_in_experience_per_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    assert!(sign_in_experiences::get(&mut c, &a()).await.unwrap().is_none());
    sign_in_experiences::put(&mut c, &a(), &json!({"signUp": {"password": true}})).await.unwrap();
    sign_in_experiences::put(&mut c, &a(), &json!({"signUp": {"password": false}})).await.unwrap();
    assert_eq!(sign_in_experiences::get(&mut c, &a()).await.unwrap(), Some(json!({"signUp": {"password": false}})));
    assert!(sign_in_experiences::get(&mut c, &b()).await.unwrap().is_none());
    // Twice in one transaction too (the cache-note trigger sees the table written twice).
    let mut tx = db.store.begin().await.unwrap();
    sign_in_experiences::put(&mut tx, &b(), &json!({"v": 1})).await.unwrap();
    sign_in_experiences::put(&mut tx, &b(), &json!({"v": 2})).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(sign_in_experiences::get(&mut c, &b()).await.unwrap(), Some(json!({"v": 2})));
    drop(c);
    db.finish().await;
}
