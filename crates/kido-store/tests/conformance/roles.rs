//! Roles: names unique per tenant, scopes granted within the tenant, application
//! assignments, cascades from either side.

use kido_proto::TenantId;
use kido_proto::roles::RoleType;
use kido_store::roles::StoredRole;
use kido_store::{applications, resources, roles};

use crate::harness::{Db, NOW, a, app, assert_conflict, assert_missing_reference, b};
use crate::resources::{resource, scope};

pub fn role(tenant: &TenantId, id: &str, role_type: RoleType) -> StoredRole {
    StoredRole {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("role {id}"),
        description: "d".into(),
        role_type,
        is_default: false,
    }
}

#[tokio::test]
async fn roles_are_unique_by_name_per_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut r1 = role(&a(), "r1", RoleType::User);
    roles::insert(&mut c, &r1, NOW).await.unwrap();
    roles::insert(&mut c, &role(&b(), "r1", RoleType::User), NOW).await.unwrap();
    let mut dup = role(&a(), "r2", RoleType::User);
    dup.name = r1.name.clone();
    assert_conflict(roles::insert(&mut c, &dup, NOW).await);
    assert_eq!(roles::find_by_name(&mut c, &a(), "role r1").await.unwrap().unwrap(), r1);
    r1.is_default = true;
    r1.description = "new".into();
    roles::update(&mut c, &r1).await.unwrap();
    assert_eq!(roles::find(&mut c, &a(), "r1").await.unwrap().unwrap(), r1);
    assert_eq!(roles::default_user_role_ids(&mut c, &a()).await.unwrap(), ["r1"]);
    assert!(roles::default_user_role_ids(&mut c, &b()).await.unwrap().is_empty());
    assert!(!roles::delete(&mut c, &a(), "r2").await.unwrap());
    assert!(roles::delete(&mut c, &a(), "r1").await.unwrap());
    assert!(roles::find(&mut c, &a(), "r1").await.unwrap().is_none());
    assert!(roles::find(&mut c, &b(), "r1").await.unwrap().is_some());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn scopes_and_applications_attach_within_the_tenant_and_detach_on_delete() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    roles::insert(&mut c, &role(&a(), "m2m", RoleType::MachineToMachine), NOW).await.unwrap();
    resources::insert(&mut c, &resource(&a(), "api"), NOW).await.unwrap();
    resources::insert_scope(&mut c, &scope(&a(), "api", "s1")).await.unwrap();
    resources::insert_scope(&mut c, &scope(&a(), "api", "s2")).await.unwrap();
    resources::insert(&mut c, &resource(&b(), "api"), NOW).await.unwrap();
    resources::insert_scope(&mut c, &scope(&b(), "api", "sb")).await.unwrap();

    roles::add_scopes(&mut c, &a(), "m2m", &["s1".into(), "s2".into()], NOW).await.unwrap();
    assert_conflict(roles::add_scopes(&mut c, &a(), "m2m", &["s1".into()], NOW).await);
    assert_missing_reference(roles::add_scopes(&mut c, &a(), "m2m", &["sb".into()], NOW).await);
    let mut held = roles::scope_ids(&mut c, &a(), "m2m").await.unwrap();
    held.sort();
    assert_eq!(held, ["s1", "s2"]);
    let (pairs, total) = roles::list_scopes(&mut c, &a(), "m2m", None).await.unwrap();
    assert_eq!((total, pairs[0].1.id.as_str()), (2, "api"));
    assert!(roles::remove_scope(&mut c, &a(), "m2m", "s1").await.unwrap());
    assert!(!roles::remove_scope(&mut c, &a(), "m2m", "s1").await.unwrap());
    // Deleting a scope takes it out of every role.
    assert!(resources::delete_scope(&mut c, &a(), "api", "s2").await.unwrap());
    assert!(roles::scope_ids(&mut c, &a(), "m2m").await.unwrap().is_empty());

    applications::insert(&mut c, &app(&a(), "svc")).await.unwrap();
    applications::insert(&mut c, &app(&b(), "svc-b")).await.unwrap();
    roles::assign_to_application(&mut c, &a(), "svc", &["m2m".into()], NOW).await.unwrap();
    assert_missing_reference(roles::assign_to_application(&mut c, &a(), "svc-b", &["m2m".into()], NOW).await);
    assert_eq!(roles::role_ids_of_application(&mut c, &a(), "svc").await.unwrap(), ["m2m"]);
    assert!(roles::remove_from_application(&mut c, &a(), "svc", "m2m").await.unwrap());
    roles::assign_to_application(&mut c, &a(), "svc", &["m2m".into()], NOW).await.unwrap();
    roles::remove_all_from_application(&mut c, &a(), "svc").await.unwrap();
    assert!(roles::role_ids_of_application(&mut c, &a(), "svc").await.unwrap().is_empty());
    roles::assign_to_application(&mut c, &a(), "svc", &["m2m".into()], NOW).await.unwrap();
    assert!(roles::delete(&mut c, &a(), "m2m").await.unwrap());
    assert!(roles::role_ids_of_application(&mut c, &a(), "svc").await.unwrap().is_empty(), "cascade");
    drop(c);
    db.finish().await;
}

/// Per role: how many hold it and the first three holders (oldest first) as their own
/// rows — applications with their parsed type, users with avatar and name.
#[tokio::test]
async fn holders_are_counted_with_the_first_three_as_rows() {
    use kido_proto::applications::ApplicationType;
    use kido_store::roles::StoredFeaturedApplication;
    use kido_store::users::{self, StoredFeaturedUser};

    let db = Db::new().await;
    let mut c = db.conn().await;
    roles::insert(&mut c, &role(&a(), "m2m", RoleType::MachineToMachine), NOW).await.unwrap();
    roles::insert(&mut c, &role(&a(), "user", RoleType::User), NOW).await.unwrap();
    for (i, id) in ["s1", "s2", "s3", "s4"].into_iter().enumerate() {
        let mut svc = app(&a(), id);
        svc.app_type = ApplicationType::MachineToMachine;
        applications::insert(&mut c, &svc).await.unwrap();
        roles::assign_to_application(&mut c, &a(), id, &["m2m".into()], NOW + i as i64).await.unwrap();
    }
    let mut u1 = crate::harness::user(&a(), "u1", "alice");
    u1.name = Some("Alice".into());
    u1.avatar = Some("https://a.test/a.png".into());
    users::insert(&mut c, &u1).await.unwrap();
    users::assign_roles(&mut c, &a(), "u1", &["user".into()], NOW).await.unwrap();

    let apps = roles::application_stats(&mut c, &a(), &["m2m".into(), "user".into()]).await.unwrap();
    let (count, featured) = &apps["m2m"];
    assert_eq!(*count, 4);
    assert_eq!(
        featured[0],
        StoredFeaturedApplication {
            id: "s1".into(),
            name: "App s1".into(),
            app_type: ApplicationType::MachineToMachine
        }
    );
    assert_eq!(featured.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["s1", "s2", "s3"]);
    assert!(!apps.contains_key("user"), "a role no application holds has no entry");
    assert!(roles::application_stats(&mut c, &b(), &["m2m".into()]).await.unwrap().is_empty());

    let held_by_users = users::role_stats(&mut c, &a(), &["user".into()]).await.unwrap();
    assert_eq!(
        held_by_users["user"],
        (
            1,
            vec![StoredFeaturedUser {
                id: "u1".into(),
                avatar: Some("https://a.test/a.png".into()),
                name: Some("Alice".into())
            }]
        )
    );
    drop(c);
    db.finish().await;
}
