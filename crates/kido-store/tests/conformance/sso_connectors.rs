//! Enterprise SSO connectors: per-tenant rows, paged lists, batch lookups.

use kido_proto::Page;
use kido_store::Json;
use kido_store::sso_connectors::{self, StoredSsoConnector};
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, b};

fn sso(tenant: &kido_proto::TenantId, id: &str) -> StoredSsoConnector {
    StoredSsoConnector {
        tenant_id: tenant.to_string(),
        id: id.into(),
        provider_name: "OIDC".into(),
        connector_name: format!("SSO {id}"),
        config: Json(json!({})),
        domains: Json(vec!["example.com".into()]),
        branding: Json(json!({})),
        sync_profile: false,
        created_at: NOW,
    }
}

#[tokio::test]
async fn sso_connectors_round_trip_per_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    sso_connectors::insert(&mut c, &sso(&a(), "s1")).await.unwrap();
    assert_conflict(sso_connectors::insert(&mut c, &sso(&a(), "s1")).await);
    let mut s2 = sso(&a(), "s2");
    s2.created_at = NOW + 1;
    sso_connectors::insert(&mut c, &s2).await.unwrap();
    sso_connectors::insert(&mut c, &sso(&b(), "s1")).await.unwrap();
    s2.domains = Json(vec!["example.org".into()]);
    sso_connectors::update(&mut c, &s2).await.unwrap();
    assert_eq!(sso_connectors::find(&mut c, &a(), "s2").await.unwrap().unwrap().domains.0, ["example.org"]);
    assert_eq!(
        sso_connectors::find_many(&mut c, &a(), &["s1".into(), "s2".into(), "zz".into()]).await.unwrap().len(),
        2
    );
    let (page, total) = sso_connectors::list(&mut c, &a(), Some(Page { limit: 1, offset: 0 })).await.unwrap();
    assert_eq!((page.len(), total), (1, 2));
    assert!(sso_connectors::delete(&mut c, &a(), "s1").await.unwrap());
    assert!(sso_connectors::find(&mut c, &a(), "s1").await.unwrap().is_none());
    assert!(sso_connectors::find(&mut c, &b(), "s1").await.unwrap().is_some());
    drop(c);
    db.finish().await;
}
