//! Per-tenant settings: a JSON document per key, overwritten by `put`, kept by `put_if_absent`.

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
    assert!(!settings::put_if_absent(&mut c, &a(), "k", &json!({"v": 4})).await.unwrap());
    assert_eq!(settings::get(&mut c, &a(), "k").await.unwrap(), Some(json!({"v": 2})));
    assert!(settings::put_if_absent(&mut c, &a(), "first", &json!({"v": 5})).await.unwrap());
    assert_eq!(settings::get(&mut c, &a(), "first").await.unwrap(), Some(json!({"v": 5})));
    assert!(settings::get(&mut c, &b(), "first").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}
