//! Tenants: created once, and everything hangs off them.

use kido_proto::TenantId;
use kido_store::{applications, tenants};

use crate::harness::{Db, NOW, a, app, assert_missing_reference};

#[tokio::test]
async fn tenants_are_created_once_and_rows_need_one() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    assert!(!tenants::ensure(&mut c, &a(), "again", NOW).await.unwrap(), "exists already");
    assert!(tenants::exists(&mut c, &a()).await.unwrap());
    let ghost = TenantId::new("ghost");
    assert!(!tenants::exists(&mut c, &ghost).await.unwrap());
    assert_missing_reference(applications::insert(&mut c, &app(&ghost, "x")).await);
    drop(c);
    db.finish().await;
}
