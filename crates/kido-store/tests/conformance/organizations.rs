//! Organizations: members (users, applications) within the tenant, their organization
//! roles and the scopes those give, cascades when a member, role or organization goes.

use kido_proto::TenantId;
use kido_proto::organizations::{Grants, MemberKind, OrganizationFilter};
use kido_proto::roles::RoleType;
use kido_store::Json;
use kido_store::organization_template::{self as template, StoredOrganizationRole, StoredOrganizationScope};
use kido_store::organizations::{self, StoredOrganization};
use kido_store::users;
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b, insert_app, insert_user};

pub fn organization(tenant: &TenantId, id: &str) -> StoredOrganization {
    StoredOrganization {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("Org {id}"),
        description: None,
        custom_data: Json(json!({})),
        is_mfa_required: false,
        color: Default::default(),
        branding: Default::default(),
        custom_css: None,
        created_at: NOW,
    }
}

pub fn org_role(tenant: &TenantId, id: &str) -> StoredOrganizationRole {
    StoredOrganizationRole {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("orole {id}"),
        description: None,
        role_type: RoleType::User,
    }
}

pub fn org_scope(tenant: &TenantId, id: &str) -> StoredOrganizationScope {
    StoredOrganizationScope {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("oscope:{id}"),
        description: None,
    }
}

#[tokio::test]
async fn organizations_round_trip_list_and_stay_in_their_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut o1 = organization(&a(), "o1");
    organizations::insert(&mut c, &o1).await.unwrap();
    assert_conflict(organizations::insert(&mut c, &o1).await);
    let mut o2 = organization(&a(), "o2");
    o2.created_at = NOW + 1;
    organizations::insert(&mut c, &o2).await.unwrap();
    organizations::insert(&mut c, &organization(&b(), "o1")).await.unwrap();
    o1.description = Some("first".into());
    o1.is_mfa_required = true;
    organizations::update(&mut c, &o1).await.unwrap();
    assert_eq!(organizations::find(&mut c, &a(), "o1").await.unwrap().unwrap(), o1);
    assert_eq!(organizations::find(&mut c, &b(), "o1").await.unwrap().unwrap().description, None);

    let (all, total) = organizations::list(&mut c, &a(), &OrganizationFilter::default(), None).await.unwrap();
    assert_eq!((total, all.len()), (2, 2));
    insert_user(&mut c, &a(), "u1", "alice").await;
    organizations::add_members(&mut c, &a(), "o2", MemberKind::User, &["u1".into()], NOW).await.unwrap();
    let mine = OrganizationFilter { member: Some((MemberKind::User, "u1".into())), ..Default::default() };
    let (found, total) = organizations::list(&mut c, &a(), &mine, None).await.unwrap();
    assert_eq!((total, found[0].id.as_str()), (1, "o2"));
    assert!(!organizations::delete(&mut c, &b(), "o2").await.unwrap());
    assert!(organizations::delete(&mut c, &a(), "o2").await.unwrap());
    assert!(organizations::organization_ids_of_user(&mut c, &a(), "u1").await.unwrap().is_empty(), "cascade");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn members_and_their_roles_stay_within_the_tenant_and_cascade() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    organizations::insert(&mut c, &organization(&a(), "o1")).await.unwrap();
    insert_user(&mut c, &a(), "u1", "alice").await;
    insert_user(&mut c, &a(), "u2", "bob").await;
    insert_user(&mut c, &b(), "ub", "eve").await;
    insert_app(&mut c, &a(), "app").await;
    template::insert_role(&mut c, &org_role(&a(), "admin"), NOW).await.unwrap();
    template::insert_role(&mut c, &org_role(&b(), "admin-b"), NOW).await.unwrap();
    template::insert_scope(&mut c, &org_scope(&a(), "manage"), NOW).await.unwrap();
    template::grant(&mut c, &a(), "admin", Grants::OrganizationScopes, &["manage".into()], NOW).await.unwrap();

    let users_ = ["u1".to_owned(), "u2".to_owned()];
    organizations::add_members(&mut c, &a(), "o1", MemberKind::User, &users_, NOW).await.unwrap();
    // Adding again is a no-op; a user of another tenant cannot join.
    organizations::add_members(&mut c, &a(), "o1", MemberKind::User, &users_, NOW).await.unwrap();
    assert_missing_reference(
        organizations::add_members(&mut c, &a(), "o1", MemberKind::User, &["ub".into()], NOW).await,
    );
    organizations::add_members(&mut c, &a(), "o1", MemberKind::Application, &["app".into()], NOW).await.unwrap();
    let mut ids = organizations::member_ids(&mut c, &a(), "o1", MemberKind::User).await.unwrap();
    ids.sort();
    assert_eq!(ids, users_);
    assert!(organizations::is_member(&mut c, &a(), "o1", MemberKind::Application, "app").await.unwrap());
    assert!(!organizations::is_member(&mut c, &b(), "o1", MemberKind::User, "u1").await.unwrap());
    assert_eq!(
        organizations::members_among(&mut c, &a(), "o1", MemberKind::User, &["u1".into(), "zz".into()]).await.unwrap(),
        ["u1"]
    );

    organizations::add_member_roles(&mut c, &a(), "o1", MemberKind::User, "u1", &["admin".into()], NOW).await.unwrap();
    assert_missing_reference(
        organizations::add_member_roles(&mut c, &a(), "o1", MemberKind::User, "u1", &["admin-b".into()], NOW).await,
    );
    assert_eq!(
        organizations::member_scope_names(&mut c, &a(), "o1", MemberKind::User, "u1").await.unwrap(),
        ["oscope:manage"]
    );
    assert!(organizations::role_is_held(&mut c, &a(), MemberKind::User, "admin").await.unwrap());
    let roles = organizations::member_roles(&mut c, &a(), Some("o1"), MemberKind::User, &["u1".into()]).await.unwrap();
    assert_eq!(roles["u1"][0].1.name, "orole admin");

    // Leaving the organization takes the member's roles with it.
    assert!(organizations::remove_member(&mut c, &a(), "o1", MemberKind::User, "u1").await.unwrap());
    assert!(!organizations::role_is_held(&mut c, &a(), MemberKind::User, "admin").await.unwrap());
    // So do the deletion of a user and of a role.
    organizations::add_members(&mut c, &a(), "o1", MemberKind::User, &["u1".into()], NOW).await.unwrap();
    organizations::add_member_roles(&mut c, &a(), "o1", MemberKind::User, "u1", &["admin".into()], NOW).await.unwrap();
    assert!(template::delete_role(&mut c, &a(), "admin").await.unwrap());
    assert!(organizations::member_scope_names(&mut c, &a(), "o1", MemberKind::User, "u1").await.unwrap().is_empty());
    assert!(users::delete(&mut c, &a(), "u2").await.unwrap());
    assert_eq!(organizations::member_ids(&mut c, &a(), "o1", MemberKind::User).await.unwrap(), ["u1"]);
    organizations::remove_all_members(&mut c, &a(), "o1", MemberKind::User).await.unwrap();
    assert!(organizations::member_ids(&mut c, &a(), "o1", MemberKind::User).await.unwrap().is_empty());
    assert_eq!(organizations::member_ids(&mut c, &a(), "o1", MemberKind::Application).await.unwrap(), ["app"]);
    drop(c);
    db.finish().await;
}
