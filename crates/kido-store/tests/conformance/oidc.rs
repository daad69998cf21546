//! Interactions, sessions, grants, tokens and the sign-in failure counters: lookups by
//! digest only while live, in one tenant only; single-use rows and cookie rotation won by
//! exactly one caller; the sentinel's reservation atomic under a parallel burst; revocation
//! cascades.

use kido_store::Json;
use kido_store::oidc::{
    self, EndingGrants, SignInFailures, StoredGrant, StoredInteraction, StoredSession, StoredToken,
};
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b, insert_app, insert_user};

fn interaction(id: &str, cookie: &str) -> StoredInteraction {
    StoredInteraction {
        tenant_id: a().to_string(),
        id: id.into(),
        cookie_hash: cookie.into(),
        client_id: "app".into(),
        params: Json(json!({"scope": "openid"})),
        state: Json(json!({})),
        expires_at: NOW + 60_000,
        created_at: NOW,
        client_ip_hash: None,
        consent: None,
        passkey_challenge: None,
        passkey_challenge_expires_at: None,
    }
}

fn session(id: &str, cookie: &str) -> StoredSession {
    StoredSession {
        tenant_id: a().to_string(),
        id: id.into(),
        cookie_hash: cookie.into(),
        user_id: "alice".into(),
        auth_time: NOW,
        xsrf: "x".into(),
        expires_at: NOW + 60_000,
        created_at: NOW,
        client_id: Some("app".into()),
    }
}

fn grant(id: &str, session: Option<&str>, scope: &str) -> StoredGrant {
    StoredGrant {
        tenant_id: a().to_string(),
        id: id.into(),
        client_id: "app".into(),
        user_id: "alice".into(),
        session_id: session.map(Into::into),
        scope: scope.into(),
        resources: Json(vec![]),
        auth_time: NOW,
        expires_at: NOW + 60_000,
        created_at: NOW,
    }
}

fn online(also_client: Option<&str>) -> EndingGrants<'_> {
    EndingGrants::Online { also_client }
}

fn token(hash: &str, grant_id: &str) -> StoredToken {
    StoredToken {
        tenant_id: a().to_string(),
        token_hash: hash.into(),
        kind: "AuthorizationCode".into(),
        grant_id: grant_id.into(),
        client_id: "app".into(),
        scope: "openid".into(),
        data: Json(json!({"redirectUri": "https://app.test/cb"})),
        expires_at: NOW + 60_000,
        consumed_at: None,
        created_at: NOW,
    }
}

/// Tenant A with application `app` and user `alice`.
async fn world() -> Db {
    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_app(&mut c, &a(), "app").await;
    insert_user(&mut c, &a(), "alice", "alice").await;
    db
}

/// Pending interactions per client address: the count and the insert are one statement,
/// expired ones do not count, rows without an address are not capped.
#[tokio::test]
async fn pending_interactions_are_capped_per_client_address() {
    let db = world().await;
    let mut c = db.conn().await;
    let from = |id: &str, ip: &str| StoredInteraction { client_ip_hash: Some(ip.into()), ..interaction(id, id) };
    assert!(oidc::insert_interaction(&mut c, &from("p1", "ip-a"), 2).await.unwrap());
    assert!(oidc::insert_interaction(&mut c, &from("p2", "ip-a"), 2).await.unwrap());
    assert!(!oidc::insert_interaction(&mut c, &from("p3", "ip-a"), 2).await.unwrap(), "third from one address");
    assert!(oidc::insert_interaction(&mut c, &from("p4", "ip-b"), 2).await.unwrap(), "another address");
    let mut expired = from("p5", "ip-c");
    expired.expires_at = NOW - 1;
    expired.created_at = NOW - 10;
    assert!(oidc::insert_interaction(&mut c, &expired, 1).await.unwrap());
    // The count looks at live rows as of the new row's creation time.
    assert!(oidc::insert_interaction(&mut c, &from("p6", "ip-c"), 1).await.unwrap());
    for id in ["p7", "p8", "p9"] {
        assert!(oidc::insert_interaction(&mut c, &interaction(id, id), 1).await.unwrap(), "no address: no cap");
    }
    assert_eq!(oidc::count_live_interactions(&mut c, &a(), NOW).await.unwrap(), 7);
    assert_eq!(oidc::count_live_interactions(&mut c, &b(), NOW).await.unwrap(), 0);
}

#[tokio::test]
async fn interactions_are_found_by_live_cookie_in_their_tenant_only() {
    let db = world().await;
    let mut c = db.conn().await;
    assert!(oidc::insert_interaction(&mut c, &interaction("i1", "cookie1"), 100).await.unwrap());
    assert_conflict(oidc::insert_interaction(&mut c, &interaction("i2", "cookie1"), 100).await);
    assert_conflict(oidc::insert_interaction(&mut c, &interaction("i1", "cookie2"), 100).await);
    // The client must exist in the tenant.
    let mut foreign = interaction("i3", "cookie3");
    foreign.client_id = "nope".into();
    assert_missing_reference(oidc::insert_interaction(&mut c, &foreign, 100).await);

    let found = oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.params.0["scope"].as_str()), ("i1", Some("openid")));
    assert!(oidc::find_interaction(&mut c, &b(), "cookie1", NOW).await.unwrap().is_none());
    assert!(oidc::find_interaction(&mut c, &a(), "cookie1", NOW + 60_000).await.unwrap().is_none(), "expired");

    oidc::update_interaction_state(&mut c, &a(), "i1", &json!({"step": 2}), &[]).await.unwrap();
    let found = oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().unwrap();
    assert_eq!(found.state.0, json!({"step": 2}));
    // Another tenant's id names nothing.
    oidc::update_interaction_state(&mut c, &b(), "i1", &json!({"step": 9}), &[]).await.unwrap();
    assert_eq!(
        oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().unwrap().state.0,
        json!({"step": 2})
    );

    // Consent: one conditional write, by live cookie, for the interaction's own client only.
    assert!(found_consent(&mut c).await.is_none());
    let answer = json!({"granted": true});
    assert_eq!(oidc::set_interaction_consent(&mut c, &a(), "cookie1", "other", &answer, NOW).await.unwrap(), None);
    assert_eq!(oidc::set_interaction_consent(&mut c, &b(), "cookie1", "app", &answer, NOW).await.unwrap(), None);
    let late = NOW + 60_000;
    assert_eq!(oidc::set_interaction_consent(&mut c, &a(), "cookie1", "app", &answer, late).await.unwrap(), None);
    assert!(found_consent(&mut c).await.is_none());
    let id = oidc::set_interaction_consent(&mut c, &a(), "cookie1", "app", &answer, NOW).await.unwrap();
    assert_eq!(id.as_deref(), Some("i1"));
    assert_eq!(found_consent(&mut c).await, Some(answer.clone()));
    assert_eq!(
        oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().unwrap().state.0,
        json!({"step": 2}),
        "the state is untouched"
    );

    assert!(!oidc::delete_interaction(&mut c, &b(), "i1").await.unwrap());
    assert!(oidc::delete_interaction(&mut c, &a(), "i1").await.unwrap());
    assert!(!oidc::delete_interaction(&mut c, &a(), "i1").await.unwrap(), "deleted once");
    drop(c);
    db.finish().await;
}

async fn found_consent(c: &mut kido_store::Conn) -> Option<serde_json::Value> {
    oidc::find_interaction(c, &a(), "cookie1", NOW).await.unwrap().unwrap().consent.map(|j| j.0)
}

#[tokio::test]
async fn rotating_an_interaction_cookie_moves_it_once_and_only_while_live() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_interaction(&mut c, &interaction("i1", "old"), 100).await.unwrap();
    assert!(!oidc::rotate_interaction_cookie(&mut c, &b(), "old", "x", NOW).await.unwrap(), "other tenant");
    assert!(!oidc::rotate_interaction_cookie(&mut c, &a(), "old", "x", NOW + 60_000).await.unwrap(), "expired");
    drop(c);

    // Eight holders of the old cookie rotate at once: exactly one moves the interaction on.
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            oidc::rotate_interaction_cookie(&mut c, &a(), "old", &format!("new{n}"), NOW).await.unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    let mut c = db.conn().await;
    assert!(oidc::find_interaction(&mut c, &a(), "old", NOW).await.unwrap().is_none());
    let mut found = 0;
    for n in 0..8 {
        found += usize::from(oidc::find_interaction(&mut c, &a(), &format!("new{n}"), NOW).await.unwrap().is_some());
    }
    assert_eq!(found, 1);
    drop(c);
    db.finish().await;
}

async fn read(
    c: &mut kido_store::Conn,
    cookie: &str,
    (kind, value, usernames): (kido_store::users::SignInIdentifier, &str, kido_store::users::UsernameCase),
    now: i64,
) -> Option<(StoredInteraction, Option<kido_store::users::StoredUser>)> {
    let of = oidc::UserOf::Identifier(kind, value, usernames);
    oidc::find_interaction_and_user(c, &a(), cookie, now, of).await.unwrap()
}

#[tokio::test]
async fn a_step_reads_its_interaction_and_the_user_it_is_about_in_one_statement() {
    use kido_store::users::{SignInIdentifier as Id, UsernameCase::*};
    let db = world().await;
    let mut c = db.conn().await;
    let mut stored = interaction("i1", "c1");
    stored.state = Json(json!({"step": 1}));
    oidc::insert_interaction(&mut c, &stored, 100).await.unwrap();
    let (found, user) = read(&mut c, "c1", (Id::Username, "alice", Sensitive), NOW).await.unwrap();
    assert_eq!((found.id.as_str(), found.client_id.as_str(), &found.state.0), ("i1", "app", &json!({"step": 1})));
    assert_eq!(found.params.0, json!({"scope": "openid"}));
    let alice = kido_store::users::find(&mut c, &a(), "alice").await.unwrap().unwrap();
    let user = user.expect("alice by username");
    assert_eq!((user.id.as_str(), user.primary_email.as_deref()), ("alice", alice.primary_email.as_deref()));
    // The identifier compares as `find_by_identifier` does.
    assert!(read(&mut c, "c1", (Id::Username, "ALICE", Sensitive), NOW).await.unwrap().1.is_none());
    assert_eq!(read(&mut c, "c1", (Id::Username, "ALICE", Insensitive), NOW).await.unwrap().1.unwrap().id, "alice");
    assert_eq!(
        read(&mut c, "c1", (Id::Email, "Alice@Example.com", Sensitive), NOW).await.unwrap().1.unwrap().id,
        "alice"
    );
    // No such user: the interaction alone; no live interaction: nothing.
    let (found, user) = read(&mut c, "c1", (Id::Username, "bob", Sensitive), NOW).await.unwrap();
    assert_eq!((found.id.as_str(), user.is_none()), ("i1", true));
    assert!(read(&mut c, "c2", (Id::Username, "alice", Sensitive), NOW).await.is_none());
    assert!(read(&mut c, "c1", (Id::Username, "alice", Sensitive), NOW + 60_000).await.is_none(), "expired");
    let of = oidc::UserOf::Identifier(Id::Username, "alice", Sensitive);
    let other = oidc::find_interaction_and_user(&mut c, &b(), "c1", NOW, of).await;
    assert!(other.unwrap().is_none(), "another tenant's cookie");

    // By verification record: the user the record of that id names, if any.
    let records = json!({"verificationRecords": [
        {"id": "v1", "type": "Password", "userId": "alice"},
        {"id": "v2", "type": "EmailVerificationCode"},
        {"id": "v3", "type": "Password", "userId": "nobody"},
    ]});
    oidc::update_interaction_state(&mut c, &a(), "i1", &records, &[]).await.unwrap();
    for (record, expected) in [("v1", Some("alice")), ("v2", None), ("v3", None), ("v9", None)] {
        let of = oidc::UserOf::Record(record);
        let (found, user) = oidc::find_interaction_and_user(&mut c, &a(), "c1", NOW, of).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), user.map(|u| u.id).as_deref()), ("i1", expected), "record {record}");
    }
    drop(c);
    db.finish().await;
}

fn log(id: &str, key: &str) -> kido_store::logs::StoredLog {
    kido_store::logs::StoredLog {
        tenant_id: a().to_string(),
        id: id.into(),
        key: key.into(),
        user_id: Some("alice".into()),
        application_id: Some("app".into()),
        payload: Json(json!({"key": key, "nested": {"n": 1}})),
        created_at: NOW,
    }
}

#[tokio::test]
async fn audit_entries_are_written_by_the_save_that_carries_them_and_only_when_it_saves() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_interaction(&mut c, &interaction("i1", "old"), 100).await.unwrap();
    let state = json!({"step": 2});
    let entries = [log("l1", "Interaction.SignIn.Submit"), log("l2", "Interaction.SignIn.Identifier.Submit")];
    oidc::update_interaction_state(&mut c, &a(), "i1", &state, &entries).await.unwrap();
    for entry in &entries {
        let found = kido_store::logs::find(&mut c, &a(), &entry.id).await.unwrap().expect("written with the save");
        assert_eq!((found.key.as_str(), found.user_id.as_deref()), (entry.key.as_str(), Some("alice")));
        assert_eq!((found.application_id.as_deref(), found.created_at), (Some("app"), NOW));
        assert_eq!(found.payload.0, entry.payload.0);
    }
    // A save without entries writes none (the column was cleared, not left to fire again).
    oidc::update_interaction_state(&mut c, &a(), "i1", &json!({"step": 3}), &[]).await.unwrap();
    let page = kido_proto::Page { limit: 20, offset: 0 };
    let (_, total) = kido_store::logs::list(&mut c, &a(), &Default::default(), page).await.unwrap();
    assert_eq!(total, 2);
    // A save that finds no interaction (a moved cookie) writes no entry either.
    let lost = [log("l3", "Interaction.SignIn.Submit")];
    assert!(!oidc::update_interaction_state_rotating(&mut c, &a(), "i1", &state, "gone", "x", &lost).await.unwrap());
    assert!(kido_store::logs::find(&mut c, &a(), "l3").await.unwrap().is_none());
    let moved = [log("l4", "Interaction.SignIn.Submit")];
    assert!(oidc::update_interaction_state_rotating(&mut c, &a(), "i1", &state, "old", "new", &moved).await.unwrap());
    assert!(kido_store::logs::find(&mut c, &a(), "l4").await.unwrap().is_some());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_save_that_moves_the_cookie_succeeds_once_for_the_old_value() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_interaction(&mut c, &interaction("i1", "old"), 100).await.unwrap();
    let state = json!({"step": 2});
    assert!(!oidc::update_interaction_state_rotating(&mut c, &b(), "i1", &state, "old", "x", &[]).await.unwrap());
    assert!(oidc::update_interaction_state_rotating(&mut c, &a(), "i1", &state, "old", "new1", &[]).await.unwrap());
    // The second holder of the old value saves nothing.
    let late = json!({"step": 9});
    assert!(!oidc::update_interaction_state_rotating(&mut c, &a(), "i1", &late, "old", "new2", &[]).await.unwrap());
    assert!(oidc::find_interaction(&mut c, &a(), "old", NOW).await.unwrap().is_none());
    assert_eq!(oidc::find_interaction(&mut c, &a(), "new1", NOW).await.unwrap().unwrap().state.0, state);
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn replacing_a_state_by_cookie_moves_it_only_while_live() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_interaction(&mut c, &interaction("i1", "old"), 100).await.unwrap();
    let state = json!({"fresh": true});
    assert!(!oidc::replace_interaction_state(&mut c, &b(), "old", "x", &state, NOW).await.unwrap(), "other tenant");
    assert!(!oidc::replace_interaction_state(&mut c, &a(), "old", "x", &state, NOW + 60_000).await.unwrap(), "expired");
    assert!(oidc::replace_interaction_state(&mut c, &a(), "old", "old", &state, NOW).await.unwrap(), "in place");
    assert!(oidc::replace_interaction_state(&mut c, &a(), "old", "new", &state, NOW).await.unwrap());
    assert!(!oidc::replace_interaction_state(&mut c, &a(), "old", "other", &state, NOW).await.unwrap(), "moved");
    assert_eq!(oidc::find_interaction(&mut c, &a(), "new", NOW).await.unwrap().unwrap().state.0, state);
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn sessions_are_found_by_live_cookie_and_end_with_their_user() {
    let db = world().await;
    let mut c = db.conn().await;
    insert_user(&mut c, &a(), "bob", "bob").await;
    oidc::insert_session(&mut c, &session("s1", "c1"), None).await.unwrap();
    oidc::insert_session(&mut c, &session("s2", "c2"), None).await.unwrap();
    let mut bobs = session("s3", "c3");
    bobs.user_id = "bob".into();
    oidc::insert_session(&mut c, &bobs, None).await.unwrap();
    assert_conflict(oidc::insert_session(&mut c, &session("s4", "c1"), None).await);
    let mut ghost = session("s5", "c5");
    ghost.user_id = "ghost".into();
    assert_missing_reference(oidc::insert_session(&mut c, &ghost, None).await);

    assert_eq!(oidc::find_session(&mut c, &a(), "c1", NOW).await.unwrap().unwrap().id, "s1");
    assert!(oidc::find_session(&mut c, &b(), "c1", NOW).await.unwrap().is_none());
    assert!(oidc::find_session(&mut c, &a(), "c1", NOW + 60_000).await.unwrap().is_none());

    // Signing alice out everywhere leaves bob signed in.
    assert_eq!(oidc::delete_user_sessions(&mut c, &a(), "alice").await.unwrap(), 2);
    assert!(oidc::find_session(&mut c, &a(), "c2", NOW).await.unwrap().is_none());
    assert!(oidc::find_session(&mut c, &a(), "c3", NOW).await.unwrap().is_some());
    assert!(oidc::delete_session(&mut c, &a(), "s3").await.unwrap());
    assert!(!oidc::delete_session(&mut c, &a(), "s3").await.unwrap());

    // Deleting a user cascades to their sessions.
    oidc::insert_session(&mut c, &bobs, None).await.unwrap();
    assert!(kido_store::users::delete(&mut c, &a(), "bob").await.unwrap());
    assert!(oidc::find_session(&mut c, &a(), "c3", NOW).await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_token_is_consumed_once_even_by_parallel_redeemers() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_grant(&mut c, &grant("g1", None, "openid")).await.unwrap();
    oidc::insert_token(&mut c, &token("code1", "g1")).await.unwrap();
    assert_conflict(oidc::insert_token(&mut c, &token("code1", "g1")).await);
    assert_missing_reference(oidc::insert_token(&mut c, &token("code2", "no-grant")).await);

    let found = oidc::find_token(&mut c, &a(), "code1").await.unwrap().unwrap();
    assert_eq!((found.grant_id.as_str(), found.consumed_at), ("g1", None));
    assert!(oidc::find_token(&mut c, &b(), "code1").await.unwrap().is_none());
    assert!(!oidc::consume_token(&mut c, &b(), "code1", NOW, &[]).await.unwrap(), "other tenant");
    drop(c);

    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            // Each redeemer's audit entry rides on its statement: only the winner's is written.
            let entry = log(&format!("exchange-{i}"), "ExchangeTokenBy.AuthorizationCode");
            oidc::consume_token(&mut c, &a(), "code1", NOW + 1, &[entry]).await.unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one redemption of a single-use code");
    let mut c = db.conn().await;
    let page = kido_proto::Page { limit: 20, offset: 0 };
    let (logged, total) = kido_store::logs::list(&mut c, &a(), &Default::default(), page).await.unwrap();
    assert_eq!(total, 1, "one entry, the winner's");
    assert_eq!(logged[0].key, "ExchangeTokenBy.AuthorizationCode");
    assert_eq!(oidc::find_token(&mut c, &a(), "code1").await.unwrap().unwrap().consumed_at, Some(NOW + 1));
    assert!(!oidc::consume_token(&mut c, &a(), "code1", NOW + 2, &[]).await.unwrap());
    assert!(oidc::delete_token(&mut c, &a(), "code1").await.unwrap());
    assert!(!oidc::delete_token(&mut c, &a(), "code1").await.unwrap());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn revoking_grants_cascades_to_their_tokens() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_session(&mut c, &session("s1", "c1"), None).await.unwrap();
    oidc::insert_grant(&mut c, &grant("online", Some("s1"), "openid profile")).await.unwrap();
    oidc::insert_grant(&mut c, &grant("offline", Some("s1"), "openid offline_access")).await.unwrap();
    oidc::insert_grant(&mut c, &grant("other", None, "openid")).await.unwrap();
    assert_conflict(oidc::insert_grant(&mut c, &grant("other", None, "openid")).await);
    for g in ["online", "offline", "other"] {
        oidc::insert_token(&mut c, &token(&format!("t-{g}"), g)).await.unwrap();
    }
    assert!(oidc::find_grant(&mut c, &a(), "online", NOW).await.unwrap().is_some());
    assert!(oidc::find_grant(&mut c, &a(), "online", NOW + 60_000).await.unwrap().is_none(), "expired");
    assert!(oidc::find_grant(&mut c, &b(), "online", NOW).await.unwrap().is_none());

    // Signing out of the session by another client ends its grants without offline_access.
    assert_eq!(oidc::delete_session_grants(&mut c, &a(), "s1", online(Some("elsewhere"))).await.unwrap(), 1);
    assert!(oidc::find_grant(&mut c, &a(), "online", NOW).await.unwrap().is_none());
    assert!(oidc::find_token(&mut c, &a(), "t-online").await.unwrap().is_none(), "tokens go with the grant");
    assert!(oidc::find_grant(&mut c, &a(), "offline", NOW).await.unwrap().is_some());
    // …and the signing-out client's own grant even with offline_access.
    assert_eq!(oidc::delete_session_grants(&mut c, &a(), "s1", online(Some("app"))).await.unwrap(), 1);
    assert!(oidc::find_token(&mut c, &a(), "t-offline").await.unwrap().is_none());

    assert_eq!(oidc::delete_user_grants(&mut c, &b(), "alice").await.unwrap(), 0);
    assert_eq!(oidc::delete_user_grants(&mut c, &a(), "alice").await.unwrap(), 1);
    assert!(oidc::find_token(&mut c, &a(), "t-other").await.unwrap().is_none());

    // Deleting the application (the client) cascades to its grants and their tokens.
    oidc::insert_grant(&mut c, &grant("g2", None, "openid")).await.unwrap();
    oidc::insert_token(&mut c, &token("t-g2", "g2")).await.unwrap();
    assert!(kido_store::applications::delete(&mut c, &a(), "app").await.unwrap());
    assert!(oidc::find_grant(&mut c, &a(), "g2", NOW).await.unwrap().is_none());
    assert!(oidc::find_token(&mut c, &a(), "t-g2").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn the_sweep_removes_only_what_has_expired() {
    let db = world().await;
    let mut c = db.conn().await;
    let mut old = interaction("i-old", "c-old");
    old.expires_at = NOW - 1;
    oidc::insert_interaction(&mut c, &old, 100).await.unwrap();
    oidc::insert_interaction(&mut c, &interaction("i-live", "c-live"), 100).await.unwrap();
    let mut s = session("s-old", "s-old");
    s.expires_at = NOW - 1;
    oidc::insert_session(&mut c, &s, None).await.unwrap();
    oidc::insert_grant(&mut c, &grant("g", None, "openid")).await.unwrap();
    let mut t = token("t-old", "g");
    t.expires_at = NOW - 1;
    oidc::insert_token(&mut c, &t).await.unwrap();
    oidc::insert_token(&mut c, &token("t-live", "g")).await.unwrap();

    assert_eq!(oidc::delete_expired(&mut c, NOW).await.unwrap(), 3);
    assert!(oidc::find_interaction(&mut c, &a(), "c-live", NOW).await.unwrap().is_some());
    assert!(oidc::find_token(&mut c, &a(), "t-live").await.unwrap().is_some());
    assert!(oidc::find_token(&mut c, &a(), "t-old").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

const WINDOW: i64 = 3_600_000;

#[tokio::test]
async fn sign_in_reservations_count_up_to_the_limit_and_no_further() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let started_before = NOW - WINDOW;
    for n in 1..=3 {
        assert_eq!(
            oidc::reserve_sign_in_attempt(&mut c, &a(), "alice", NOW, started_before, 3).await.unwrap(),
            Some(n)
        );
    }
    assert_eq!(oidc::reserve_sign_in_attempt(&mut c, &a(), "alice", NOW, started_before, 3).await.unwrap(), None);
    // Other identifiers and tenants count apart.
    assert_eq!(oidc::reserve_sign_in_attempt(&mut c, &a(), "bob", NOW, started_before, 3).await.unwrap(), Some(1));
    assert_eq!(oidc::reserve_sign_in_attempt(&mut c, &b(), "alice", NOW, started_before, 3).await.unwrap(), Some(1));

    // A released attempt (it was no failure) is given back.
    oidc::release_sign_in_attempt(&mut c, &a(), "bob").await.unwrap();
    assert_eq!(oidc::sign_in_failures(&mut c, &a(), "bob").await.unwrap().unwrap().failures, 0);

    // A lock refuses everything until it ends; locking again keeps the first end.
    assert_eq!(oidc::lock_sign_in_failures(&mut c, &a(), "alice", NOW + 1000).await.unwrap(), NOW + 1000);
    assert_eq!(oidc::lock_sign_in_failures(&mut c, &a(), "alice", NOW + 9000).await.unwrap(), NOW + 1000);
    oidc::release_sign_in_attempt(&mut c, &a(), "alice").await.unwrap();
    let stored = oidc::sign_in_failures(&mut c, &a(), "alice").await.unwrap().unwrap();
    assert_eq!((stored.failures, stored.locked_until), (3, Some(NOW + 1000)), "a locked counter is not released");
    assert_eq!(oidc::reserve_sign_in_attempt(&mut c, &a(), "alice", NOW + 999, started_before, 3).await.unwrap(), None);
    // Once the lock is over the window starts again at 1.
    assert_eq!(
        oidc::reserve_sign_in_attempt(&mut c, &a(), "alice", NOW + 1000, started_before, 3).await.unwrap(),
        Some(1)
    );
    let stored = oidc::sign_in_failures(&mut c, &a(), "alice").await.unwrap().unwrap();
    assert_eq!((stored.window_started_at, stored.locked_until), (NOW + 1000, None));

    // An unlocked window that began before the cut-off no longer counts.
    oidc::put_sign_in_failures(
        &mut c,
        &a(),
        "carol",
        &SignInFailures { failures: 3, window_started_at: NOW - WINDOW - 1, locked_until: None },
    )
    .await
    .unwrap();
    assert_eq!(oidc::reserve_sign_in_attempt(&mut c, &a(), "carol", NOW, started_before, 3).await.unwrap(), Some(1));

    // The sweep removes stale windows and ended locks, in every tenant.
    oidc::put_sign_in_failures(
        &mut c,
        &b(),
        "stale",
        &SignInFailures { failures: 2, window_started_at: NOW - WINDOW - 1, locked_until: None },
    )
    .await
    .unwrap();
    oidc::put_sign_in_failures(
        &mut c,
        &b(),
        "unlocked",
        &SignInFailures { failures: 3, window_started_at: NOW, locked_until: Some(NOW - 1) },
    )
    .await
    .unwrap();
    assert_eq!(oidc::delete_expired_sign_in_failures(&mut c, NOW, started_before).await.unwrap(), 2);
    assert!(oidc::sign_in_failures(&mut c, &b(), "stale").await.unwrap().is_none());
    assert!(oidc::sign_in_failures(&mut c, &a(), "carol").await.unwrap().is_some());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_parallel_burst_of_reservations_grants_exactly_the_limit() {
    let db = Db::with_connections(16).await;
    let max = 5;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            oidc::reserve_sign_in_attempt(&mut c, &a(), "victim", NOW, NOW - WINDOW, max).await.unwrap()
        }));
    }
    let mut granted = Vec::new();
    for t in tasks {
        if let Some(n) = t.await.unwrap() {
            granted.push(n);
        }
    }
    granted.sort_unstable();
    assert_eq!(granted, (1..=max).collect::<Vec<_>>(), "each attempt number handed out once, none past the limit");
    let mut c = db.conn().await;
    assert_eq!(oidc::sign_in_failures(&mut c, &a(), "victim").await.unwrap().unwrap().failures, max);
    drop(c);
    db.finish().await;
}

/// Resume spends a submitted interaction whose consent prompt was answered by one
/// statement: deleted and returned, only through its live cookie and id, in its tenant,
/// once; an unfinished or unanswered one stays.
#[tokio::test]
async fn a_finished_interaction_is_taken_once_by_id_and_live_cookie() {
    let db = world().await;
    let mut c = db.conn().await;
    assert!(oidc::insert_interaction(&mut c, &interaction("i1", "cookie1"), 100).await.unwrap());
    let take = oidc::take_answered_interaction;
    let answer = json!({"granted": true});
    assert!(oidc::set_interaction_consent(&mut c, &a(), "cookie1", "app", &answer, NOW).await.unwrap().is_some());
    assert!(take(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().is_none(), "no result yet");
    oidc::update_interaction_state(&mut c, &a(), "i1", &json!({"result": null}), &[]).await.unwrap();
    assert!(take(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().is_none(), "a null result");
    let finished = json!({"result": {"accountId": "alice", "loginTs": 1}});
    oidc::update_interaction_state(&mut c, &a(), "i1", &finished, &[]).await.unwrap();
    assert!(take(&mut c, &a(), "i1", "other-cookie", NOW).await.unwrap().is_none());
    assert!(take(&mut c, &a(), "i2", "cookie1", NOW).await.unwrap().is_none(), "another id");
    assert!(take(&mut c, &b(), "i1", "cookie1", NOW).await.unwrap().is_none());
    assert!(take(&mut c, &a(), "i1", "cookie1", NOW + 60_000).await.unwrap().is_none(), "expired");
    let taken = take(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().unwrap();
    assert_eq!((taken.id.as_str(), &taken.state.0), ("i1", &finished));
    assert!(take(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().is_none(), "taken once");
    assert!(oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().is_none());
}

/// A submitted interaction whose consent prompt is unanswered is not spent: the browser
/// still has to visit `/consent`. A denial is an answer too.
#[tokio::test]
async fn an_unanswered_interaction_is_not_taken() {
    let db = world().await;
    let mut c = db.conn().await;
    assert!(oidc::insert_interaction(&mut c, &interaction("i1", "cookie1"), 100).await.unwrap());
    let finished = json!({"result": {"accountId": "alice", "loginTs": 1}});
    oidc::update_interaction_state(&mut c, &a(), "i1", &finished, &[]).await.unwrap();
    assert!(oidc::take_answered_interaction(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().is_none());
    assert!(oidc::find_interaction(&mut c, &a(), "cookie1", NOW).await.unwrap().is_some(), "left as it was");
    let denied = json!({"granted": false});
    assert!(oidc::set_interaction_consent(&mut c, &a(), "cookie1", "app", &denied, NOW).await.unwrap().is_some());
    let taken = oidc::take_answered_interaction(&mut c, &a(), "i1", "cookie1", NOW).await.unwrap().unwrap();
    assert_eq!(taken.consent.map(|c| c.0), Some(denied));
}

/// With a password stamp, the session insert is also the check that the password is
/// still the one the sign-in verified (0 stands for a password never changed).
#[tokio::test]
async fn a_session_with_a_password_stamp_is_stored_only_while_the_stamp_holds() {
    let db = world().await;
    let mut c = db.conn().await;
    let mut alice = kido_store::users::find(&mut c, &a(), "alice").await.unwrap().unwrap();
    let stamp = alice.password_updated_at.unwrap_or(0);
    assert!(!oidc::insert_session(&mut c, &session("s1", "c1"), Some(stamp + 1)).await.unwrap(), "changed");
    assert!(oidc::find_session(&mut c, &a(), "c1", NOW).await.unwrap().is_none());
    assert!(oidc::insert_session(&mut c, &session("s1", "c1"), Some(stamp)).await.unwrap());
    alice.password_updated_at = Some(NOW + 7);
    kido_store::users::update(&mut c, &alice).await.unwrap();
    assert!(!oidc::insert_session(&mut c, &session("s2", "c2"), Some(stamp)).await.unwrap());
    assert!(oidc::insert_session(&mut c, &session("s2", "c2"), Some(NOW + 7)).await.unwrap());
    let ghost = StoredSession { user_id: "nobody".into(), ..session("s3", "c3") };
    assert!(!oidc::insert_session(&mut c, &ghost, Some(0)).await.unwrap(), "no such user");
    let foreign = StoredSession { tenant_id: b().to_string(), ..session("s4", "c4") };
    assert!(!oidc::insert_session(&mut c, &foreign, Some(NOW + 7)).await.unwrap(), "alice is not in tenant B");
}

/// Tokens are stored several at a time; a token is read with its grant and user in one
/// statement, in its tenant only.
#[tokio::test]
async fn tokens_are_stored_together_and_read_with_their_grant_and_user() {
    let db = world().await;
    let mut c = db.conn().await;
    oidc::insert_grant(&mut c, &grant("g1", None, "openid offline_access")).await.unwrap();
    let refresh = StoredToken { kind: "RefreshToken".into(), ..token("r1", "g1") };
    oidc::insert_tokens(&mut c, &[token("t1", "g1"), refresh]).await.unwrap();
    let found = oidc::find_token_of_user(&mut c, &a(), "r1").await.unwrap().unwrap();
    assert_eq!((found.token.kind.as_str(), found.token.grant_id.as_str()), ("RefreshToken", "g1"));
    assert_eq!((found.grant.id.as_str(), found.grant.scope.as_str()), ("g1", "openid offline_access"));
    assert_eq!((found.user.id.as_str(), found.grant.user_id.as_str()), ("alice", "alice"));
    assert_eq!(found.token.data.0["redirectUri"], "https://app.test/cb");
    assert!(oidc::find_token_of_user(&mut c, &a(), "t1").await.unwrap().is_some());
    assert!(oidc::find_token_of_user(&mut c, &b(), "t1").await.unwrap().is_none());
    assert!(oidc::find_token_of_user(&mut c, &a(), "nope").await.unwrap().is_none());
    // One insert is all or nothing.
    assert_conflict(oidc::insert_tokens(&mut c, &[token("t2", "g1"), token("t1", "g1")]).await);
    assert!(oidc::find_token(&mut c, &a(), "t2").await.unwrap().is_none());
    let too_many: Vec<StoredToken> = (0..=oidc::MAX_TOKENS_PER_INSERT).map(|i| token(&format!("x{i}"), "g1")).collect();
    assert!(oidc::insert_tokens(&mut c, &too_many).await.is_err());
    assert!(oidc::delete_grant(&mut c, &a(), "g1").await.unwrap());
    assert!(oidc::find_token_of_user(&mut c, &a(), "r1").await.unwrap().is_none());
}

/// A passkey sign-in challenge: put on the live interaction a cookie names (moving it, the
/// state untouched, in its tenant only), replaced by the next, spent once.
#[tokio::test]
async fn passkey_challenges_are_set_by_cookie_and_spent_once() {
    let db = world().await;
    let mut c = db.conn().await;
    assert!(oidc::insert_interaction(&mut c, &interaction("i1", "old"), 100).await.unwrap());
    assert!(!oidc::set_passkey_challenge(&mut c, &b(), "old", "new", "ch1", NOW + 1000, NOW).await.unwrap());
    assert!(!oidc::set_passkey_challenge(&mut c, &a(), "old", "new", "ch1", NOW + 1000, NOW + 60_000).await.unwrap());
    assert!(oidc::set_passkey_challenge(&mut c, &a(), "old", "new", "ch1", NOW + 1000, NOW).await.unwrap());
    assert!(oidc::find_interaction(&mut c, &a(), "old", NOW).await.unwrap().is_none(), "the cookie moved");
    let found = oidc::find_interaction(&mut c, &a(), "new", NOW).await.unwrap().unwrap();
    assert_eq!(
        (found.passkey_challenge.as_deref(), found.passkey_challenge_expires_at),
        (Some("ch1"), Some(NOW + 1000))
    );
    assert_eq!(found.state.0, json!({}));
    assert!(oidc::set_passkey_challenge(&mut c, &a(), "new", "new", "ch2", NOW + 2000, NOW).await.unwrap());
    assert!(!oidc::take_passkey_challenge(&mut c, &a(), "i1", "ch1").await.unwrap(), "replaced");
    assert!(!oidc::take_passkey_challenge(&mut c, &b(), "i1", "ch2").await.unwrap(), "another tenant");
    assert!(oidc::take_passkey_challenge(&mut c, &a(), "i1", "ch2").await.unwrap());
    assert!(!oidc::take_passkey_challenge(&mut c, &a(), "i1", "ch2").await.unwrap(), "spent");
    let found = oidc::find_interaction(&mut c, &a(), "new", NOW).await.unwrap().unwrap();
    assert_eq!((found.passkey_challenge, found.passkey_challenge_expires_at), (None, None));
}
