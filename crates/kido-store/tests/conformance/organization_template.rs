//! The organization template: roles and scopes unique by name per tenant, grants within the
//! tenant, revoked when a scope goes.

use kido_proto::organizations::{Grants, RoleFilter};
use kido_store::StoredIdName;
use kido_store::organization_template::{self as template, StoredResourceScope};
use kido_store::resources;

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b};
use crate::organizations::{org_role, org_scope};
use crate::resources::{resource, scope};

#[tokio::test]
async fn roles_and_scopes_are_unique_and_granted_within_the_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    template::insert_role(&mut c, &org_role(&a(), "admin"), NOW).await.unwrap();
    template::insert_role(&mut c, &org_role(&b(), "admin"), NOW).await.unwrap();
    let mut dup = org_role(&a(), "other");
    dup.name = "orole admin".into();
    assert_conflict(template::insert_role(&mut c, &dup, NOW).await);
    template::insert_scope(&mut c, &org_scope(&a(), "read"), NOW).await.unwrap();
    template::insert_scope(&mut c, &org_scope(&a(), "write"), NOW).await.unwrap();
    template::insert_scope(&mut c, &org_scope(&b(), "bread"), NOW).await.unwrap();
    let mut dup = org_scope(&a(), "again");
    dup.name = "oscope:read".into();
    assert_conflict(template::insert_scope(&mut c, &dup, NOW).await);

    let mut admin = org_role(&a(), "admin");
    admin.description = Some("all".into());
    template::update_role(&mut c, &admin).await.unwrap();
    assert_eq!(template::find_role(&mut c, &a(), "admin").await.unwrap().unwrap().description.as_deref(), Some("all"));
    assert_eq!(template::find_roles_by_name(&mut c, &a(), &["orole admin".into()]).await.unwrap().len(), 1);
    assert_eq!(template::list_roles(&mut c, &a(), &RoleFilter::default(), None).await.unwrap().1, 1);

    template::grant(&mut c, &a(), "admin", Grants::OrganizationScopes, &["read".into(), "write".into()], NOW)
        .await
        .unwrap();
    template::grant(&mut c, &a(), "admin", Grants::OrganizationScopes, &["read".into()], NOW).await.unwrap();
    assert_missing_reference(
        template::grant(&mut c, &a(), "admin", Grants::OrganizationScopes, &["bread".into()], NOW).await,
    );
    let mut granted = template::granted_ids(&mut c, &a(), "admin", Grants::OrganizationScopes).await.unwrap();
    granted.sort();
    assert_eq!(granted, ["read", "write"]);
    let (scopes, total) = template::list_scopes(&mut c, &a(), &None, Some("admin"), None).await.unwrap();
    assert_eq!((total, scopes.len()), (2, 2));
    assert!(template::revoke(&mut c, &a(), "admin", Grants::OrganizationScopes, "write").await.unwrap());
    assert!(!template::revoke(&mut c, &a(), "admin", Grants::OrganizationScopes, "write").await.unwrap());
    assert!(template::delete_scope(&mut c, &a(), "read").await.unwrap());
    assert!(template::granted_ids(&mut c, &a(), "admin", Grants::OrganizationScopes).await.unwrap().is_empty());

    // Resource scopes too.
    resources::insert(&mut c, &resource(&a(), "api"), NOW).await.unwrap();
    resources::insert_scope(&mut c, &scope(&a(), "api", "s1")).await.unwrap();
    template::grant(&mut c, &a(), "admin", Grants::ResourceScopes, &["s1".into()], NOW).await.unwrap();
    let by_role = template::resource_scopes_of_roles(&mut c, &a(), &["admin".into()]).await.unwrap();
    assert_eq!(by_role["admin"][0].name, "read:s1");
    // Each granted resource scope comes with its resource's id and name.
    assert_eq!(
        by_role["admin"],
        [StoredResourceScope {
            id: "s1".into(),
            name: "read:s1".into(),
            resource_id: "api".into(),
            resource_name: "API api".into()
        }]
    );
    template::grant(&mut c, &a(), "admin", Grants::OrganizationScopes, &["write".into()], NOW).await.unwrap();
    let by_role = template::scopes_of_roles(&mut c, &a(), &["admin".into(), "none".into()]).await.unwrap();
    assert_eq!(by_role["admin"], [StoredIdName { id: "write".into(), name: "oscope:write".into() }]);
    assert!(!by_role.contains_key("none"));
    template::revoke_all(&mut c, &a(), "admin", Grants::ResourceScopes).await.unwrap();
    assert!(template::granted_ids(&mut c, &a(), "admin", Grants::ResourceScopes).await.unwrap().is_empty());
    assert!(!template::delete_role(&mut c, &a(), "nope").await.unwrap());
    assert!(template::find_role(&mut c, &b(), "admin").await.unwrap().is_some());
    drop(c);
    db.finish().await;
}
