//! One-time tokens: found by digest within their tenant, read as expired past their expiry,
//! listed newest first with a filtered total, and spent once — by one conditional statement,
//! so of a parallel burst on two stores (two nodes) exactly one spend wins.

use kido_store::one_time_tokens::{self, StoredOneTimeToken, TokenFilter};
use kido_store::{Json, Store, StoreOptions};
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, b};

fn token(id: &str, email: &str, digest: &str, created_at: i64) -> StoredOneTimeToken {
    StoredOneTimeToken {
        tenant_id: a().to_string(),
        id: id.into(),
        email: email.into(),
        token_digest: digest.into(),
        context: Json(json!({"jitOrganizationIds": ["o1"]})),
        status: "active".into(),
        created_at,
        expires_at: NOW + 600_000,
    }
}

#[tokio::test]
async fn tokens_are_read_listed_and_changed_within_their_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    one_time_tokens::insert(&mut c, &token("t1", "Ann@acme.test", "d1", NOW)).await.unwrap();
    one_time_tokens::insert(&mut c, &token("t2", "ann@acme.test", "d2", NOW + 1)).await.unwrap();
    let mut late = token("t3", "bob@acme.test", "d3", NOW + 2);
    late.expires_at = NOW + 10;
    one_time_tokens::insert(&mut c, &late).await.unwrap();
    assert_conflict(one_time_tokens::insert(&mut c, &token("t4", "x@acme.test", "d1", NOW)).await);
    let mut other = token("t1", "ann@acme.test", "d1", NOW);
    other.tenant_id = b().to_string();
    one_time_tokens::insert(&mut c, &other).await.unwrap();

    let found = one_time_tokens::find(&mut c, &a(), "t1", NOW).await.unwrap().unwrap();
    assert_eq!((found.email.as_str(), found.status.as_str()), ("Ann@acme.test", "active"));
    assert_eq!(found.context.0, json!({"jitOrganizationIds": ["o1"]}));
    assert_eq!(one_time_tokens::find(&mut c, &a(), "t3", NOW + 10).await.unwrap().unwrap().status, "expired");
    assert!(one_time_tokens::find(&mut c, &a(), "nope", NOW).await.unwrap().is_none());
    assert_eq!(one_time_tokens::find_by_digest(&mut c, &a(), "d2").await.unwrap().unwrap().id, "t2");

    let all = |filter: TokenFilter| {
        let store = db.store.clone();
        async move {
            let mut c = store.conn().await.unwrap();
            let (rows, total) = one_time_tokens::list(&mut c, &a(), &filter, NOW + 10, None).await.unwrap();
            (rows.into_iter().map(|r| r.id).collect::<Vec<_>>(), total)
        }
    };
    assert_eq!(all(TokenFilter::default()).await, (vec!["t3".into(), "t2".into(), "t1".into()], 3));
    let anns = TokenFilter { email: Some("ANN@acme.test".into()), status: None };
    assert_eq!(all(anns).await, (vec!["t2".into(), "t1".into()], 2));
    let expired = TokenFilter { email: None, status: Some("expired".into()) };
    assert_eq!(all(expired).await, (vec!["t3".into()], 1));
    let page = kido_proto::Page { limit: 1, offset: 1 };
    let (rows, total) = one_time_tokens::list(&mut c, &a(), &TokenFilter::default(), NOW, Some(page)).await.unwrap();
    assert_eq!((rows.len(), rows[0].id.as_str(), total), (1, "t2", 3));

    let revoked = one_time_tokens::set_status(&mut c, &a(), "t2", "revoked").await.unwrap().unwrap();
    assert_eq!(revoked.status, "revoked");
    assert!(one_time_tokens::set_status(&mut c, &a(), "nope", "revoked").await.unwrap().is_none());
    assert!(!one_time_tokens::mark_expired(&mut c, &a(), "t1", NOW).await.unwrap(), "not yet due");
    assert!(one_time_tokens::mark_expired(&mut c, &a(), "t3", NOW + 10).await.unwrap());
    assert!(one_time_tokens::delete(&mut c, &a(), "t1").await.unwrap());
    assert!(!one_time_tokens::delete(&mut c, &a(), "t1").await.unwrap());
    // B's token of the same id and digest is untouched by all of A's changes.
    let theirs = one_time_tokens::find(&mut c, &b(), "t1", NOW).await.unwrap().unwrap();
    assert_eq!(theirs.status, "active");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_token_is_spent_once_even_by_a_parallel_burst_on_two_nodes() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    one_time_tokens::insert(&mut c, &token("t1", "Ann@acme.test", "d1", NOW)).await.unwrap();
    let mut late = token("t2", "ann@acme.test", "d2", NOW);
    late.expires_at = NOW;
    one_time_tokens::insert(&mut c, &late).await.unwrap();
    // Another email, another tenant, an expired token: nothing is spent.
    assert!(one_time_tokens::consume(&mut c, &a(), "d1", "eve@acme.test", NOW).await.unwrap().is_none());
    assert!(one_time_tokens::consume(&mut c, &b(), "d1", "ann@acme.test", NOW).await.unwrap().is_none());
    assert!(one_time_tokens::consume(&mut c, &a(), "d2", "ann@acme.test", NOW).await.unwrap().is_none());
    // The database lowers both sides: an address it cannot fold still matches itself.
    one_time_tokens::insert(&mut c, &token("t3", "Ärne@acme.test", "d3", NOW)).await.unwrap();
    assert!(one_time_tokens::consume(&mut c, &a(), "d3", "Ärne@ACME.test", NOW).await.unwrap().is_some());
    drop(c);

    let second = Store::connect(&StoreOptions { url: db.url.clone(), max_connections: 4 }).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = if n % 2 == 0 { db.store.clone() } else { second.clone() };
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            one_time_tokens::consume(&mut c, &a(), "d1", "ANN@acme.test", NOW + 1).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        winners.extend(t.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "exactly one spend of a single-use token");
    assert_eq!((winners[0].id.as_str(), winners[0].status.as_str()), ("t1", "consumed"));
    second.close().await;
    let mut c = db.conn().await;
    assert_eq!(one_time_tokens::find(&mut c, &a(), "t1", NOW + 1).await.unwrap().unwrap().status, "consumed");
    drop(c);
    db.finish().await;
}
