//! Audit logs: filtered by user, application, keys and time, newest first, per tenant.

use kido_proto::Page;
use kido_proto::logs::LogFilter;
use kido_store::Json;
use kido_store::logs::{self, StoredLog};
use serde_json::json;

use crate::harness::{Db, NOW, a, b};

fn log(tenant: &kido_proto::TenantId, id: &str, key: &str, user: Option<&str>, at: i64) -> StoredLog {
    StoredLog {
        tenant_id: tenant.to_string(),
        id: id.into(),
        key: key.into(),
        user_id: user.map(Into::into),
        application_id: None,
        payload: Json(json!({"result": "Success"})),
        created_at: at,
    }
}

#[tokio::test]
async fn logs_filter_and_page_newest_first() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    logs::insert(&mut c, &log(&a(), "l1", "Interaction.SignIn", Some("u1"), NOW)).await.unwrap();
    logs::insert(&mut c, &log(&a(), "l2", "Interaction.SignIn", Some("u2"), NOW + 1)).await.unwrap();
    logs::insert(&mut c, &log(&a(), "l3", "ExchangeTokenBy.AuthorizationCode", Some("u1"), NOW + 2)).await.unwrap();
    logs::insert(&mut c, &log(&b(), "l4", "Interaction.SignIn", Some("u1"), NOW)).await.unwrap();
    let page = Page { limit: 10, offset: 0 };
    let ids = |r: (Vec<StoredLog>, i64)| (r.0.into_iter().map(|l| l.id).collect::<Vec<_>>(), r.1);
    assert_eq!(
        ids(logs::list(&mut c, &a(), &LogFilter::default(), page).await.unwrap()),
        (vec!["l3".into(), "l2".into(), "l1".into()], 3)
    );
    let by_user = LogFilter { user_id: Some("u1".into()), ..Default::default() };
    assert_eq!(ids(logs::list(&mut c, &a(), &by_user, page).await.unwrap()), (vec!["l3".into(), "l1".into()], 2));
    let by_key = LogFilter { keys: vec!["Interaction.SignIn".into()], start: Some(NOW + 1), ..Default::default() };
    assert_eq!(ids(logs::list(&mut c, &a(), &by_key, page).await.unwrap()), (vec!["l2".into()], 1));
    let (one, total) = logs::list(&mut c, &a(), &LogFilter::default(), Page { limit: 1, offset: 1 }).await.unwrap();
    assert_eq!((one[0].id.as_str(), total), ("l2", 3));
    assert_eq!(logs::find(&mut c, &a(), "l1").await.unwrap().unwrap().payload.0["result"], "Success");
    assert!(logs::find(&mut c, &b(), "l1").await.unwrap().is_none());
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn many_logs_go_in_one_statement_per_five_hundred() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let (ta, tb) = (a(), b());
    let entries: Vec<StoredLog> =
        (0..1_001).map(|i| log(if i % 2 == 0 { &ta } else { &tb }, &format!("m{i}"), "K", None, NOW + i)).collect();
    logs::insert_many(&mut c, &entries).await.unwrap();
    let page = Page { limit: 1, offset: 0 };
    let (newest, total) = logs::list(&mut c, &a(), &LogFilter::default(), page).await.unwrap();
    assert_eq!((newest[0].id.as_str(), total), ("m1000", 501));
    assert_eq!(logs::list(&mut c, &b(), &LogFilter::default(), page).await.unwrap().1, 500);
    logs::insert_many(&mut c, &[]).await.unwrap();
    drop(c);
    db.finish().await;
}
