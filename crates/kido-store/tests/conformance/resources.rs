//! API resources and their scopes: indicators and scope names unique as `Conflict`, one
//! default resource per tenant, scopes going with their resource.

use kido_proto::TenantId;
use kido_store::resources::{self, StoredResource, StoredScope};

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b};

pub fn resource(tenant: &TenantId, id: &str) -> StoredResource {
    StoredResource {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("API {id}"),
        indicator: format!("https://{id}.test"),
        is_default: false,
        access_token_ttl: 3600,
    }
}

pub fn scope(tenant: &TenantId, resource_id: &str, id: &str) -> StoredScope {
    StoredScope {
        tenant_id: tenant.to_string(),
        id: id.into(),
        resource_id: resource_id.into(),
        name: format!("read:{id}"),
        description: None,
        created_at: NOW,
    }
}

#[tokio::test]
async fn resources_are_unique_by_indicator_with_one_default() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    resources::insert(&mut c, &resource(&a(), "r1"), NOW).await.unwrap();
    resources::insert(&mut c, &resource(&a(), "r2"), NOW).await.unwrap();
    resources::insert(&mut c, &resource(&b(), "r1"), NOW).await.unwrap();
    let mut dup = resource(&a(), "r3");
    dup.indicator = "https://r1.test".into();
    assert_conflict(resources::insert(&mut c, &dup, NOW).await);
    assert_conflict(resources::insert(&mut c, &resource(&a(), "r1"), NOW).await);

    assert_eq!(resources::find_by_indicator(&mut c, &a(), "https://r2.test").await.unwrap().unwrap().id, "r2");
    assert!(resources::find(&mut c, &b(), "r2").await.unwrap().is_none());
    let mut r1 = resource(&a(), "r1");
    r1.name = "Renamed".into();
    r1.access_token_ttl = 60;
    resources::update(&mut c, &r1).await.unwrap();
    assert_eq!(resources::find(&mut c, &a(), "r1").await.unwrap().unwrap(), r1);

    // Making one resource the default clears the previous default.
    resources::set_default(&mut c, &a(), "r1", true).await.unwrap();
    resources::set_default(&mut c, &a(), "r2", true).await.unwrap();
    assert_eq!(resources::find_default(&mut c, &a()).await.unwrap().unwrap().id, "r2");
    assert!(!resources::find(&mut c, &a(), "r1").await.unwrap().unwrap().is_default);
    assert!(resources::find_default(&mut c, &b()).await.unwrap().is_none());
    resources::set_default(&mut c, &a(), "r2", false).await.unwrap();
    assert!(resources::find_default(&mut c, &a()).await.unwrap().is_none());

    assert!(!resources::delete(&mut c, &b(), "r2").await.unwrap());
    assert!(resources::delete(&mut c, &a(), "r2").await.unwrap());
    assert!(resources::find(&mut c, &a(), "r2").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn scopes_are_unique_per_resource_and_go_with_it() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    resources::insert(&mut c, &resource(&a(), "r1"), NOW).await.unwrap();
    resources::insert(&mut c, &resource(&b(), "rb"), NOW).await.unwrap();
    resources::insert_scope(&mut c, &scope(&a(), "r1", "s1")).await.unwrap();
    let mut dup = scope(&a(), "r1", "s2");
    dup.name = "read:s1".into();
    assert_conflict(resources::insert_scope(&mut c, &dup).await);
    assert_missing_reference(resources::insert_scope(&mut c, &scope(&a(), "rb", "s3")).await);

    let mut s1 = scope(&a(), "r1", "s1");
    s1.description = Some("reads".into());
    resources::update_scope(&mut c, &s1).await.unwrap();
    assert_eq!(resources::find_scope(&mut c, &a(), "s1").await.unwrap().unwrap(), s1);
    assert!(resources::find_scope(&mut c, &b(), "s1").await.unwrap().is_none());
    assert!(!resources::delete_scope(&mut c, &a(), "other-resource", "s1").await.unwrap());

    assert!(resources::delete(&mut c, &a(), "r1").await.unwrap());
    assert!(resources::find_scope(&mut c, &a(), "s1").await.unwrap().is_none(), "scopes cascade");
    drop(c);
    db.finish().await;
}
