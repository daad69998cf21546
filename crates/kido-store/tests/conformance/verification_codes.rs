//! One-time codes: a new code retires the earlier one, tries count atomically, a code is
//! consumed once; the send log counts per bucket.

use kido_store::verification_codes::{self, StoredCode};

use crate::harness::{Db, NOW, a, b};

fn code(id: &str, hash: &str) -> StoredCode {
    StoredCode {
        tenant_id: a().to_string(),
        id: id.into(),
        identifier: "email:alice@example.com".into(),
        template_type: "SignIn".into(),
        code_hash: hash.into(),
        try_count: 0,
        expires_at: NOW + 600_000,
        consumed_at: None,
        created_at: NOW,
    }
}

#[tokio::test]
async fn a_new_code_retires_the_old_and_each_is_used_once() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let id = "email:alice@example.com";
    verification_codes::replace(&mut c, &code("c1", "h1")).await.unwrap();
    let mut second = code("c2", "h2");
    second.created_at = NOW + 1;
    verification_codes::replace(&mut c, &second).await.unwrap();
    let current = verification_codes::find_current(&mut c, &a(), id, "SignIn").await.unwrap().unwrap();
    assert_eq!(current.id, "c2");
    assert!(verification_codes::find_current(&mut c, &a(), id, "Register").await.unwrap().is_none());
    assert!(verification_codes::find_current(&mut c, &b(), id, "SignIn").await.unwrap().is_none());
    assert_eq!(verification_codes::add_try(&mut c, &a(), "c1").await.unwrap(), 0, "retired");

    assert_eq!(verification_codes::add_try(&mut c, &a(), "c2").await.unwrap(), 1);
    assert_eq!(verification_codes::add_try(&mut c, &a(), "c2").await.unwrap(), 2);
    assert_eq!(verification_codes::add_try(&mut c, &b(), "c2").await.unwrap(), 0);
    assert!(!verification_codes::consume(&mut c, &b(), "c2", NOW).await.unwrap());
    assert!(verification_codes::consume(&mut c, &a(), "c2", NOW).await.unwrap());
    assert!(!verification_codes::consume(&mut c, &a(), "c2", NOW).await.unwrap(), "used once");
    assert!(verification_codes::find_current(&mut c, &a(), id, "SignIn").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn sends_are_counted_per_bucket_and_swept() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    verification_codes::record_send(&mut c, &a(), &["to:alice", "ip:1"], NOW).await.unwrap();
    verification_codes::record_send(&mut c, &a(), &["to:alice"], NOW + 10).await.unwrap();
    verification_codes::record_send(&mut c, &b(), &["to:alice"], NOW + 20).await.unwrap();
    assert_eq!(verification_codes::sends_since(&mut c, &a(), "to:alice", NOW - 1).await.unwrap(), (2, Some(NOW + 10)));
    assert_eq!(verification_codes::sends_since(&mut c, &a(), "to:alice", NOW).await.unwrap(), (1, Some(NOW + 10)));
    assert_eq!(verification_codes::sends_since(&mut c, &a(), "ip:2", 0).await.unwrap(), (0, None));

    let mut expired = code("old", "h");
    expired.expires_at = NOW;
    verification_codes::replace(&mut c, &expired).await.unwrap();
    // The expired code and the three sends at or before NOW + 10; B's later send stays.
    assert_eq!(verification_codes::delete_expired(&mut c, NOW, NOW + 10).await.unwrap(), 1 + 3);
    assert_eq!(verification_codes::sends_since(&mut c, &b(), "to:alice", 0).await.unwrap().0, 1);
    drop(c);
    db.finish().await;
}
