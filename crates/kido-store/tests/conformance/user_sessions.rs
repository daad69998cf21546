//! A user's sessions and grants: listed and deleted only for their user and tenant, live ones
//! only, grants only while they hold a live code or token; a session's grants end as the
//! revocation target says.

use kido_store::Json;
use kido_store::oidc::{self, EndingGrants, StoredGrant, StoredSession, StoredToken};
use kido_store::user_sessions::{self as us, GrantFilter};
use serde_json::json;

use crate::harness::{Db, NOW, a, app, b, insert_app, insert_user};

fn session(id: &str, user: &str, created_at: i64) -> StoredSession {
    StoredSession {
        tenant_id: a().to_string(),
        id: id.into(),
        cookie_hash: format!("cookie-{id}"),
        user_id: user.into(),
        auth_time: created_at / 1000,
        xsrf: "x".into(),
        expires_at: NOW + 60_000,
        created_at,
        client_id: Some("first".into()),
    }
}

fn grant(id: &str, client: &str, session: &str, scope: &str, created_at: i64) -> StoredGrant {
    StoredGrant {
        tenant_id: a().to_string(),
        id: id.into(),
        client_id: client.into(),
        user_id: "alice".into(),
        session_id: Some(session.into()),
        scope: scope.into(),
        resources: Json(vec!["https://api.test".into()]),
        auth_time: NOW / 1000,
        expires_at: NOW + 60_000,
        created_at,
    }
}

fn token(hash: &str, grant_id: &str, kind: &str, expires_at: i64, consumed_at: Option<i64>) -> StoredToken {
    StoredToken {
        tenant_id: a().to_string(),
        token_hash: hash.into(),
        kind: kind.into(),
        grant_id: grant_id.into(),
        client_id: "first".into(),
        scope: "openid".into(),
        data: Json(json!({})),
        expires_at,
        consumed_at,
        created_at: NOW,
    }
}

/// Tenant A: a first-party app `first`, a third-party app `third`, users alice and bob;
/// alice's sessions s1 (older) and s2, bob's session s3.
async fn world() -> Db {
    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_app(&mut c, &a(), "first").await;
    kido_store::applications::insert(
        &mut c,
        &kido_store::applications::StoredApplication { is_third_party: true, ..app(&a(), "third") },
    )
    .await
    .unwrap();
    insert_user(&mut c, &a(), "alice", "alice").await;
    insert_user(&mut c, &a(), "bob", "bob").await;
    for (id, user, at) in [("s1", "alice", NOW - 2), ("s2", "alice", NOW - 1), ("s3", "bob", NOW)] {
        oidc::insert_session(&mut c, &session(id, user, at), None).await.unwrap();
    }
    drop(c);
    db
}

#[tokio::test]
async fn sessions_are_listed_and_deleted_for_their_user_only() {
    let db = world().await;
    let mut c = db.conn().await;
    let listed = us::list_sessions(&mut c, &a(), "alice", NOW, 10).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s2", "s1"], "newest first");
    assert_eq!(listed[0].client_id.as_deref(), Some("first"));
    assert_eq!(us::list_sessions(&mut c, &a(), "alice", NOW, 1).await.unwrap().len(), 1, "capped");
    assert!(us::list_sessions(&mut c, &a(), "alice", NOW + 60_000, 10).await.unwrap().is_empty(), "expired");
    assert!(us::list_sessions(&mut c, &b(), "alice", NOW, 10).await.unwrap().is_empty(), "other tenant");

    assert!(us::find_session(&mut c, &a(), "alice", "s1", NOW).await.unwrap().is_some());
    assert!(us::find_session(&mut c, &a(), "alice", "s3", NOW).await.unwrap().is_none(), "bob's");
    assert!(us::find_session(&mut c, &b(), "alice", "s1", NOW).await.unwrap().is_none());
    assert!(us::session_exists(&mut c, &a(), "s3", NOW).await.unwrap());
    assert!(!us::session_exists(&mut c, &b(), "s3", NOW).await.unwrap());
    assert!(!us::session_exists(&mut c, &a(), "s3", NOW + 60_000).await.unwrap());

    assert!(!us::delete_session(&mut c, &a(), "alice", "s3", NOW).await.unwrap(), "bob's stays");
    assert!(!us::delete_session(&mut c, &b(), "bob", "s3", NOW).await.unwrap(), "other tenant");
    assert!(us::delete_session(&mut c, &a(), "bob", "s3", NOW).await.unwrap());
    assert!(!us::delete_session(&mut c, &a(), "bob", "s3", NOW).await.unwrap(), "gone");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn grants_are_listed_while_they_hold_a_live_token() {
    let db = world().await;
    let mut c = db.conn().await;
    let rows = [("live", "first", "s1", NOW - 3), ("spent", "first", "s1", NOW - 2), ("third", "third", "s2", NOW - 1)];
    for (id, client, session, at) in rows {
        oidc::insert_grant(&mut c, &grant(id, client, session, "openid offline_access read", at)).await.unwrap();
    }
    oidc::insert_token(&mut c, &token("t-live", "live", "RefreshToken", NOW + 1_000, None)).await.unwrap();
    oidc::insert_token(&mut c, &token("t-third", "third", "AccessToken", NOW + 1_000, None)).await.unwrap();
    // A spent code and an expired access token: nothing left to use.
    oidc::insert_token(&mut c, &token("t-code", "spent", "AuthorizationCode", NOW + 1_000, Some(NOW))).await.unwrap();
    oidc::insert_token(&mut c, &token("t-old", "spent", "AccessToken", NOW - 1, None)).await.unwrap();

    let ids = |grants: Vec<us::StoredUserGrant>| grants.into_iter().map(|g| g.id).collect::<Vec<_>>();
    let all = us::live_grants(&mut c, &a(), "alice", GrantFilter::default(), NOW, 10).await.unwrap();
    assert_eq!((all[0].application_name.as_str(), all[0].is_third_party), ("App third", true));
    assert_eq!(all[1].resources.0, ["https://api.test"]);
    assert_eq!(ids(all), ["third", "live"], "newest first, the spent grant left out");
    let first = GrantFilter { third_party: Some(false), ..Default::default() };
    assert_eq!(ids(us::live_grants(&mut c, &a(), "alice", first, NOW, 10).await.unwrap()), ["live"]);
    let third = GrantFilter { third_party: Some(true), ..Default::default() };
    assert_eq!(ids(us::live_grants(&mut c, &a(), "alice", third, NOW, 10).await.unwrap()), ["third"]);
    let s1 = GrantFilter { session_id: Some("s1"), ..Default::default() };
    assert_eq!(ids(us::live_grants(&mut c, &a(), "alice", s1, NOW, 10).await.unwrap()), ["live"]);
    assert_eq!(us::live_grants(&mut c, &a(), "alice", GrantFilter::default(), NOW, 1).await.unwrap().len(), 1);
    assert!(us::live_grants(&mut c, &a(), "bob", GrantFilter::default(), NOW, 10).await.unwrap().is_empty());
    assert!(us::live_grants(&mut c, &b(), "alice", GrantFilter::default(), NOW, 10).await.unwrap().is_empty());

    assert!(!us::delete_grant(&mut c, &a(), "bob", "live").await.unwrap(), "alice's grant under bob");
    assert!(!us::delete_grant(&mut c, &b(), "alice", "live").await.unwrap(), "other tenant");
    assert!(us::delete_grant(&mut c, &a(), "alice", "live").await.unwrap());
    assert!(oidc::find_token(&mut c, &a(), "t-live").await.unwrap().is_none(), "its tokens go with it");
    drop(c);
    db.finish().await;
}

const KINDS: [(&str, &str, &str); 4] = [
    ("first-online", "first", "openid"),
    ("first-offline", "first", "openid offline_access"),
    ("third-online", "third", "openid"),
    ("third-offline", "third", "openid offline_access"),
];

/// The grants of `session` still there.
async fn left(c: &mut kido_store::Conn, session: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (id, ..) in KINDS {
        let id = format!("{session}-{id}");
        if oidc::find_grant(c, &a(), &id, NOW).await.unwrap().is_some() {
            out.push(id);
        }
    }
    out
}

#[tokio::test]
async fn a_sessions_grants_end_as_the_target_says() {
    let db = world().await;
    let mut c = db.conn().await;
    for session in ["s1", "s2"] {
        for (id, client, scope) in KINDS {
            oidc::insert_grant(&mut c, &grant(&format!("{session}-{id}"), client, session, scope, NOW)).await.unwrap();
        }
    }
    assert_eq!(oidc::delete_session_grants(&mut c, &b(), "s1", EndingGrants::All).await.unwrap(), 0, "other tenant");
    let n = oidc::delete_session_grants(&mut c, &a(), "s1", EndingGrants::OnlineAndFirstParty).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(left(&mut c, "s1").await, ["s1-third-offline"]);
    let n = oidc::delete_session_grants(&mut c, &a(), "s2", EndingGrants::Online { also_client: None }).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(left(&mut c, "s2").await, ["s2-first-offline", "s2-third-offline"]);
    assert_eq!(oidc::delete_session_grants(&mut c, &a(), "s2", EndingGrants::All).await.unwrap(), 2);
    assert!(left(&mut c, "s2").await.is_empty());
    drop(c);
    db.finish().await;
}
