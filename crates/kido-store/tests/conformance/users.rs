//! Users: identifiers unique per tenant (username and email case-insensitively) as
//! `Conflict`, lookups by identifier, role assignments that cannot cross tenants, and what a
//! user's deletion takes with it.

use kido_proto::Page;
use kido_proto::roles::RoleType;
use kido_proto::users::{FieldMatch, MatchMode, UserField, UserSearch};
use kido_store::roles::{self, StoredRole};
use kido_store::users::{self, SignInIdentifier, UsernameCase};

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b, insert_user, user};

fn role(tenant: &kido_proto::TenantId, id: &str) -> StoredRole {
    StoredRole {
        tenant_id: tenant.to_string(),
        id: id.into(),
        name: format!("role {id}"),
        description: "d".into(),
        role_type: RoleType::User,
        is_default: false,
    }
}

#[tokio::test]
async fn users_round_trip_and_update_in_their_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut u = user(&a(), "u1", "Alice");
    u.password_encrypted = Some("$argon2id$…".into());
    u.password_encryption_method = Some("Argon2i".into());
    users::insert(&mut c, &u).await.unwrap();
    let found = users::find(&mut c, &a(), "u1").await.unwrap().unwrap();
    assert_eq!(
        (found.username.as_deref(), found.password_encrypted.as_deref(), found.is_suspended),
        (Some("Alice"), Some("$argon2id$…"), false)
    );
    assert!(users::find(&mut c, &b(), "u1").await.unwrap().is_none());

    u.name = Some("Alice A.".into());
    u.is_suspended = true;
    u.updated_at = NOW + 1;
    users::update(&mut c, &u).await.unwrap();
    let found = users::find(&mut c, &a(), "u1").await.unwrap().unwrap();
    assert_eq!((found.name.as_deref(), found.is_suspended, found.updated_at), (Some("Alice A."), true, NOW + 1));
    let signed_in =
        users::set_last_sign_in(&mut c, &a(), "u1", NOW + 5, users::StampWhen::Always).await.unwrap().unwrap();
    assert_eq!((signed_in.id.as_str(), signed_in.last_sign_in_at), ("u1", Some(NOW + 5)), "the row as updated");
    assert_eq!(users::find(&mut c, &a(), "u1").await.unwrap().unwrap().last_sign_in_at, Some(NOW + 5));
    assert!(
        users::set_last_sign_in(&mut c, &b(), "u1", NOW + 6, users::StampWhen::Always).await.unwrap().is_none(),
        "another tenant's id"
    );
    // `Allowed` stamps only a sign-in the row lets through: not a suspended user's…
    let allowed = |stamp| users::StampWhen::Allowed { password_stamp: stamp };
    let refused = users::set_last_sign_in(&mut c, &a(), "u1", NOW + 7, allowed(None)).await.unwrap().unwrap();
    assert_eq!((refused.is_suspended, refused.last_sign_in_at), (true, Some(NOW + 5)), "the row, unstamped");
    u.is_suspended = false;
    users::update(&mut c, &u).await.unwrap();
    // …nor one verified with a password that is no longer the user's.
    let current = refused.password_updated_at.unwrap_or(0);
    let before = users::find(&mut c, &a(), "u1").await.unwrap().unwrap().last_sign_in_at;
    let stale = users::set_last_sign_in(&mut c, &a(), "u1", NOW + 8, allowed(Some(current - 1))).await.unwrap();
    assert_eq!(stale.unwrap().last_sign_in_at, before);
    let signed_in = users::set_last_sign_in(&mut c, &a(), "u1", NOW + 9, allowed(Some(current))).await.unwrap();
    assert_eq!(signed_in.unwrap().last_sign_in_at, Some(NOW + 9));
    let any = users::set_last_sign_in(&mut c, &a(), "u1", NOW + 10, allowed(None)).await.unwrap();
    assert_eq!(any.unwrap().last_sign_in_at, Some(NOW + 10));

    // An update through another tenant's id changes nothing.
    let mut other = u.clone();
    other.tenant_id = b().to_string();
    other.name = Some("hijacked".into());
    users::update(&mut c, &other).await.unwrap();
    assert_eq!(users::find(&mut c, &a(), "u1").await.unwrap().unwrap().name.as_deref(), Some("Alice A."));

    assert!(!users::delete(&mut c, &b(), "u1").await.unwrap());
    assert!(users::delete(&mut c, &a(), "u1").await.unwrap());
    assert!(!users::delete(&mut c, &a(), "u1").await.unwrap());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn identifiers_are_unique_per_tenant_as_conflicts() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut alice = user(&a(), "u1", "alice");
    alice.primary_phone = Some("15550001".into());
    users::insert(&mut c, &alice).await.unwrap();
    assert_conflict(users::insert(&mut c, &user(&a(), "u1", "other")).await);
    // Username exactly (case-insensitive tenants compare before writing), email
    // case-insensitively, phone exactly.
    let mut dup = user(&a(), "u2", "alice");
    dup.primary_email = None;
    assert_conflict(users::insert(&mut c, &dup).await);
    let mut other_case = user(&a(), "u4", "ALICE");
    other_case.primary_email = None;
    users::insert(&mut c, &other_case).await.unwrap();
    assert_eq!(users::username_case_conflicts(&mut c, &a(), 20).await.unwrap(), (1, vec!["alice".to_owned()]));
    assert!(users::delete(&mut c, &a(), "u4").await.unwrap());
    assert_eq!(users::username_case_conflicts(&mut c, &a(), 20).await.unwrap(), (0, vec![]));
    let mut dup = user(&a(), "u2", "someone");
    dup.primary_email = Some("Alice@Example.com".into());
    assert_conflict(users::insert(&mut c, &dup).await);
    let mut dup = user(&a(), "u2", "someone");
    dup.primary_phone = Some("15550001".into());
    assert_conflict(users::insert(&mut c, &dup).await);
    // Renaming into a taken username is a conflict too.
    insert_user(&mut c, &a(), "u3", "carol").await;
    let mut carol = users::find(&mut c, &a(), "u3").await.unwrap().unwrap();
    carol.username = Some("alice".into());
    assert_conflict(users::update(&mut c, &carol).await);
    // The same identifiers in another tenant are someone else.
    users::insert(&mut c, &user(&b(), "u1", "alice")).await.unwrap();

    let any_case = (Some("ALICE"), UsernameCase::Insensitive);
    let taken = users::taken_identifiers(&mut c, &a(), any_case, Some("alice@EXAMPLE.com"), Some("15550001"), None)
        .await
        .unwrap();
    assert_eq!(taken, ["username", "primaryEmail", "primaryPhone"]);
    let exact = (Some("ALICE"), UsernameCase::Sensitive);
    assert!(users::taken_identifiers(&mut c, &a(), exact, None, None, None).await.unwrap().is_empty());
    let exact = (Some("alice"), UsernameCase::Sensitive);
    assert_eq!(users::taken_identifiers(&mut c, &a(), exact, None, None, None).await.unwrap(), ["username"]);
    let own =
        users::taken_identifiers(&mut c, &a(), (Some("alice"), UsernameCase::Insensitive), None, None, Some("u1"))
            .await
            .unwrap();
    assert!(own.is_empty(), "a user's own identifiers are not taken from them");
    let nobody = (Some("nobody"), UsernameCase::Insensitive);
    assert!(users::taken_identifiers(&mut c, &a(), nobody, None, None, None).await.unwrap().is_empty());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_conflict_names_the_identifier_taken() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut alice = user(&a(), "u1", "alice");
    alice.primary_phone = Some("15550001".into());
    users::insert(&mut c, &alice).await.unwrap();
    let mut dup = user(&a(), "u2", "alice");
    dup.primary_email = None;
    let e = users::insert(&mut c, &dup).await.unwrap_err();
    assert_eq!(users::taken_identifier(&e), Some(SignInIdentifier::Username), "{e:?}");
    let mut dup = user(&a(), "u2", "someone");
    dup.primary_email = Some("Alice@Example.com".into());
    let e = users::insert(&mut c, &dup).await.unwrap_err();
    assert_eq!(users::taken_identifier(&e), Some(SignInIdentifier::Email), "{e:?}");
    let mut dup = user(&a(), "u2", "someone");
    dup.primary_phone = Some("15550001".into());
    let e = users::insert(&mut c, &dup).await.unwrap_err();
    assert_eq!(users::taken_identifier(&e), Some(SignInIdentifier::Phone), "{e:?}");
    // Another unique key (the id) is no identifier.
    let e = users::insert(&mut c, &user(&a(), "u1", "other")).await.unwrap_err();
    assert_eq!(users::taken_identifier(&e), None, "{e:?}");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn sign_in_identifiers_find_the_user_of_their_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut alice = user(&a(), "u1", "Alice");
    alice.primary_phone = Some("15550001".into());
    users::insert(&mut c, &alice).await.unwrap();
    users::insert(&mut c, &user(&b(), "u9", "alice")).await.unwrap();
    let (exact, any_case) = (UsernameCase::Sensitive, UsernameCase::Insensitive);
    for (kind, value, usernames) in [
        (SignInIdentifier::Username, "aLiCe", any_case),
        (SignInIdentifier::Username, "Alice", exact),
        (SignInIdentifier::Email, "ALICE@example.com", exact),
        (SignInIdentifier::Phone, "15550001", exact),
    ] {
        let found = users::find_by_identifier(&mut c, &a(), kind, value, usernames).await.unwrap().unwrap();
        assert_eq!(found.id, "u1", "{kind:?} {value}");
    }
    assert!(
        users::find_by_identifier(&mut c, &a(), SignInIdentifier::Username, "alice", exact).await.unwrap().is_none()
    );
    assert_eq!(
        users::find_by_identifier(&mut c, &b(), SignInIdentifier::Username, "ALICE", any_case)
            .await
            .unwrap()
            .unwrap()
            .id,
        "u9"
    );
    let none = users::find_by_identifier(&mut c, &a(), SignInIdentifier::Username, "alic", any_case).await.unwrap();
    assert!(none.is_none());
    assert!(
        users::find_by_identifier(&mut c, &b(), SignInIdentifier::Phone, "15550001", exact).await.unwrap().is_none()
    );
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn lists_search_and_page_newest_first() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    for (n, name) in ["ann", "anna", "bob"].iter().enumerate() {
        let mut u = user(&a(), &format!("u{n}"), name);
        u.created_at = NOW + n as i64;
        users::insert(&mut c, &u).await.unwrap();
    }
    users::insert(&mut c, &user(&b(), "x", "annika")).await.unwrap();
    let (all, total) = users::list(&mut c, &a(), &UserSearch::default(), None).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(all.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["u2", "u1", "u0"]);
    let (page, total) =
        users::list(&mut c, &a(), &UserSearch::default(), Some(Page { limit: 1, offset: 1 })).await.unwrap();
    assert_eq!((page.len(), page[0].id.as_str(), total), (1, "u1", 3));
    let search = UserSearch {
        groups: vec![vec![FieldMatch { field: UserField::Username, mode: MatchMode::Like, value: "%ann%".into() }]],
        ..UserSearch::default()
    };
    let (found, total) = users::list(&mut c, &a(), &search, None).await.unwrap();
    assert_eq!((total, found.iter().map(|u| u.id.as_str()).collect::<Vec<_>>()), (2, vec!["u1", "u0"]));
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn roles_are_assigned_within_the_tenant_and_go_with_the_user() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_user(&mut c, &a(), "u1", "alice").await;
    roles::insert(&mut c, &role(&a(), "r1"), NOW).await.unwrap();
    roles::insert(&mut c, &role(&a(), "r2"), NOW).await.unwrap();
    roles::insert(&mut c, &role(&b(), "rb"), NOW).await.unwrap();
    users::assign_roles(&mut c, &a(), "u1", &["r1".into(), "r2".into()], NOW).await.unwrap();
    let mut held = users::role_ids(&mut c, &a(), "u1").await.unwrap();
    held.sort();
    assert_eq!(held, ["r1", "r2"]);
    assert_conflict(users::assign_roles(&mut c, &a(), "u1", &["r1".into()], NOW).await);
    // A role of another tenant (or none at all) cannot be assigned.
    assert_missing_reference(users::assign_roles(&mut c, &a(), "u1", &["rb".into()], NOW).await);
    assert_missing_reference(users::assign_roles(&mut c, &a(), "nobody", &["r1".into()], NOW).await);

    let stats = users::role_stats(&mut c, &a(), &["r1".into()]).await.unwrap();
    assert_eq!(stats["r1"].0, 1);
    assert_eq!(stats["r1"].1[0].id, "u1");

    assert!(users::remove_role(&mut c, &a(), "u1", "r1").await.unwrap());
    assert!(!users::remove_role(&mut c, &a(), "u1", "r1").await.unwrap());
    // Deleting the role or the user removes the assignment.
    assert!(roles::delete(&mut c, &a(), "r2").await.unwrap());
    assert!(users::role_ids(&mut c, &a(), "u1").await.unwrap().is_empty());
    users::assign_roles(&mut c, &a(), "u1", &["r1".into()], NOW).await.unwrap();
    users::remove_all_roles(&mut c, &a(), "u1").await.unwrap();
    assert!(users::role_ids(&mut c, &a(), "u1").await.unwrap().is_empty());
    users::assign_roles(&mut c, &a(), "u1", &["r1".into()], NOW).await.unwrap();
    assert!(users::delete(&mut c, &a(), "u1").await.unwrap());
    assert_eq!(users::role_stats(&mut c, &a(), &["r1".into()]).await.unwrap().get("r1").map_or(0, |s| s.0), 0);
    drop(c);
    db.finish().await;
}
