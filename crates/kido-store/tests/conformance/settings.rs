//! Per-tenant settings: a JSON document per key, overwritten by `put`.

use kido_store::settings;
use serde_json::json;

use crate::harness::{Db, a, b};

#[tokio::test]
async fn settings_are_per_tenant_and_key() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    assert!(settings::get(&mut c, &a(), "k").await.unwrap().is_none());
    settings::put(&mut c, &a(), "k", &json!({"v": 1})).await.unwrap();
    settings::put(&mut c, &a(), "k", &json!({"v": 2})).await.unwrap();
    settings::put(&mut c, &b(), "k", &json!({"v": 3})).await.unwrap();
    assert_eq!(settings::get(&mut c, &a(), "k").await.unwrap(), Some(json!({"v": 2})));
    assert_eq!(settings::get(&mut c, &b(), "k").await.unwrap(), Some(json!({"v": 3})));
    assert!(settings::get(&mut c, &a(), "other").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}
