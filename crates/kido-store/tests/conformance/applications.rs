//! Applications and their secrets: ids and secret names unique as `Conflict`, filters,
//! tenant isolation, secrets going with their application.

use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::ApplicationType;
use kido_store::applications::{self, StoredApplicationSecret};

use crate::harness::{Db, NOW, a, app, assert_conflict, assert_missing_reference, b};

fn secret(app_id: &str, name: &str) -> StoredApplicationSecret {
    StoredApplicationSecret {
        tenant_id: a().to_string(),
        application_id: app_id.into(),
        name: name.into(),
        value: format!("value-of-{name}"),
        created_at: NOW,
        expires_at: None,
    }
}

#[tokio::test]
async fn applications_round_trip_and_list_by_filter() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let mut web = app(&a(), "web");
    web.description = Some("The shop".into());
    applications::insert(&mut c, &web).await.unwrap();
    assert_conflict(applications::insert(&mut c, &app(&a(), "web")).await);
    let mut m2m = app(&a(), "m2m");
    m2m.app_type = ApplicationType::MachineToMachine;
    m2m.created_at = NOW + 1;
    applications::insert(&mut c, &m2m).await.unwrap();
    applications::insert(&mut c, &app(&b(), "web")).await.unwrap();

    assert_eq!(applications::find(&mut c, &a(), "web").await.unwrap().unwrap(), web);
    assert!(applications::find(&mut c, &a(), "nope").await.unwrap().is_none());

    // `update` writes the mutable fields; the type and third-party flag are fixed at creation.
    web.name = "Shop".into();
    web.custom_data = kido_store::Json(serde_json::json!({"tier": "gold"}));
    let mut changed = web.clone();
    changed.is_third_party = true;
    changed.app_type = ApplicationType::Spa;
    applications::update(&mut c, &changed).await.unwrap();
    assert_eq!(applications::find(&mut c, &a(), "web").await.unwrap().unwrap(), web);
    assert_eq!(applications::find(&mut c, &b(), "web").await.unwrap().unwrap().name, "App web");

    let (all, total) = applications::list(&mut c, &a(), &ApplicationFilter::default(), None).await.unwrap();
    assert_eq!((total, all.iter().map(|x| x.id.as_str()).collect::<Vec<_>>()), (2, vec!["m2m", "web"]));
    let only_m2m = ApplicationFilter { types: vec![ApplicationType::MachineToMachine], ..Default::default() };
    assert_eq!(applications::list(&mut c, &a(), &only_m2m, None).await.unwrap().1, 1);
    let search = ApplicationFilter { search: Some("SHOP".into()), ..Default::default() };
    assert_eq!(applications::list(&mut c, &a(), &search, None).await.unwrap().0[0].id, "web");
    let mut third = app(&a(), "third");
    third.is_third_party = true;
    applications::insert(&mut c, &third).await.unwrap();
    let only_third = ApplicationFilter { is_third_party: Some(true), ..Default::default() };
    assert_eq!(applications::list(&mut c, &a(), &only_third, None).await.unwrap().0[0].id, "third");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn secrets_are_named_uniquely_and_go_with_their_application() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    applications::insert(&mut c, &app(&a(), "web")).await.unwrap();
    applications::insert(&mut c, &app(&b(), "other")).await.unwrap();
    applications::insert_secret(&mut c, &secret("web", "one")).await.unwrap();
    let mut two = secret("web", "two");
    two.created_at = NOW + 1;
    applications::insert_secret(&mut c, &two).await.unwrap();
    assert_conflict(applications::insert_secret(&mut c, &secret("web", "one")).await);
    // A secret for an application of another tenant is refused.
    assert_missing_reference(applications::insert_secret(&mut c, &secret("other", "x")).await);

    let names = |s: Vec<StoredApplicationSecret>| s.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names(applications::list_secrets(&mut c, &a(), "web").await.unwrap()), ["one", "two"]);
    assert!(applications::list_secrets(&mut c, &b(), "web").await.unwrap().is_empty());
    assert_conflict(applications::rename_secret(&mut c, &a(), "web", "one", "two").await);
    assert!(applications::rename_secret(&mut c, &a(), "web", "one", "first").await.unwrap());
    assert!(!applications::rename_secret(&mut c, &a(), "web", "one", "again").await.unwrap());
    assert!(!applications::delete_secret(&mut c, &b(), "web", "first").await.unwrap());
    assert!(applications::delete_secret(&mut c, &a(), "web", "first").await.unwrap());
    assert_eq!(names(applications::list_secrets(&mut c, &a(), "web").await.unwrap()), ["two"]);

    assert!(!applications::delete(&mut c, &b(), "web").await.unwrap());
    assert!(applications::delete(&mut c, &a(), "web").await.unwrap());
    assert!(applications::list_secrets(&mut c, &a(), "web").await.unwrap().is_empty(), "secrets cascade");
    drop(c);
    db.finish().await;
}
