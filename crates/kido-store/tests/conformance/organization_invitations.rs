//! Invitations: a status moves only from the state the caller saw (one of two racing
//! accepts wins), overdue ones expire, roles come along and go with the invitation.

use kido_proto::organizations::InvitationFilter;
use kido_proto::organizations::InvitationStatus;
use kido_store::organization_invitations::{self as invitations, StoredInvitation};
use kido_store::{organization_template as template, organizations};

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b, insert_user};
use crate::organizations::{org_role, organization};

fn invitation(id: &str, expires_at: i64) -> StoredInvitation {
    StoredInvitation {
        tenant_id: a().to_string(),
        id: id.into(),
        inviter_id: Some("u1".into()),
        invitee: "bob@example.com".into(),
        accepted_user_id: None,
        organization_id: "o1".into(),
        status: InvitationStatus::Pending.as_str().into(),
        created_at: NOW,
        updated_at: NOW,
        expires_at,
    }
}

#[tokio::test]
async fn invitations_move_from_the_status_seen_and_expire() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    organizations::insert(&mut c, &organization(&a(), "o1")).await.unwrap();
    insert_user(&mut c, &a(), "u1", "alice").await;
    insert_user(&mut c, &a(), "u2", "bob").await;
    template::insert_role(&mut c, &org_role(&a(), "member"), NOW).await.unwrap();
    template::insert_role(&mut c, &org_role(&b(), "member-b"), NOW).await.unwrap();
    invitations::insert(&mut c, &invitation("i1", NOW + 1000), &["member".into()]).await.unwrap();
    // One pending invitation per invitee and organization.
    assert_conflict(invitations::insert(&mut c, &invitation("dup", NOW + 1000), &[]).await);
    let mut carol = invitation("i2", NOW + 10);
    carol.invitee = "carol@example.com".into();
    invitations::insert(&mut c, &carol, &[]).await.unwrap();
    let mut foreign = invitation("i3", NOW + 1000);
    foreign.organization_id = "nope".into();
    assert_missing_reference(invitations::insert(&mut c, &foreign, &[]).await);
    assert!(invitations::find(&mut c, &a(), "i3").await.unwrap().is_none());

    let found = invitations::find(&mut c, &a(), "i1").await.unwrap().unwrap();
    assert_eq!(found.status().unwrap(), InvitationStatus::Pending);
    assert!(invitations::find(&mut c, &b(), "i1").await.unwrap().is_none());
    assert_eq!(invitations::roles_of(&mut c, &a(), &["i1".into()]).await.unwrap()["i1"][0].name, "orole member");
    let filter = InvitationFilter { organization_id: Some("o1".into()), ..Default::default() };
    assert_eq!(invitations::list(&mut c, &a(), &filter).await.unwrap().len(), 2);

    // Two accepts of one pending invitation: the first moves it, the second finds it moved.
    let (pending, accepted) = (InvitationStatus::Pending, InvitationStatus::Accepted);
    assert!(invitations::transition(&mut c, &a(), "i1", pending, accepted, Some("u2"), NOW).await.unwrap());
    assert!(!invitations::transition(&mut c, &a(), "i1", pending, accepted, Some("u1"), NOW).await.unwrap());
    let found = invitations::find(&mut c, &a(), "i1").await.unwrap().unwrap();
    assert_eq!((found.status().unwrap(), found.accepted_user_id.as_deref()), (InvitationStatus::Accepted, Some("u2")));

    assert_eq!(invitations::expire_overdue(&mut c, &a(), NOW + 10).await.unwrap(), 1);
    assert_eq!(
        invitations::find(&mut c, &a(), "i2").await.unwrap().unwrap().status().unwrap(),
        InvitationStatus::Expired
    );
    assert_eq!(invitations::expire_overdue(&mut c, &a(), NOW + 10_000).await.unwrap(), 0, "accepted ones stay");

    assert!(invitations::delete(&mut c, &a(), "i1").await.unwrap());
    assert!(!invitations::roles_of(&mut c, &a(), &["i1".into()]).await.unwrap().contains_key("i1"));
    drop(c);
    db.finish().await;
}
