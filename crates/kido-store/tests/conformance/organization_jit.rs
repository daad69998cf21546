//! Just-in-time provisioning: per-organization value sets (email domains, default roles),
//! adding is idempotent, lookups by value stay in the tenant.

use kido_store::organization_jit::{self as jit, Jit};
use kido_store::organizations;

use crate::harness::{Db, NOW, a, b};
use crate::organizations::organization;

#[tokio::test]
async fn email_domains_are_a_set_per_organization() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    organizations::insert(&mut c, &organization(&a(), "o1")).await.unwrap();
    organizations::insert(&mut c, &organization(&a(), "o2")).await.unwrap();
    organizations::insert(&mut c, &organization(&b(), "ob")).await.unwrap();
    let domains = ["example.com".to_owned(), "example.org".to_owned()];
    jit::add(&mut c, &a(), "o1", Jit::EmailDomains, &domains, NOW).await.unwrap();
    jit::add(&mut c, &a(), "o1", Jit::EmailDomains, &domains[..1], NOW).await.unwrap();
    jit::add(&mut c, &a(), "o2", Jit::EmailDomains, &domains[..1], NOW).await.unwrap();
    jit::add(&mut c, &b(), "ob", Jit::EmailDomains, &domains[..1], NOW).await.unwrap();
    let (values, total) = jit::values(&mut c, &a(), "o1", Jit::EmailDomains, None).await.unwrap();
    assert_eq!((total, values.len()), (2, 2));
    let mut orgs = jit::organizations_with(&mut c, &a(), Jit::EmailDomains, &domains[..1]).await.unwrap();
    orgs.sort();
    assert_eq!(orgs, ["o1", "o2"]);
    assert!(jit::remove(&mut c, &a(), "o1", Jit::EmailDomains, "example.org").await.unwrap());
    assert!(!jit::remove(&mut c, &a(), "o1", Jit::EmailDomains, "example.org").await.unwrap());
    jit::remove_all(&mut c, &a(), "o2", Jit::EmailDomains).await.unwrap();
    assert_eq!(jit::organizations_with(&mut c, &a(), Jit::EmailDomains, &domains[..1]).await.unwrap(), ["o1"]);
    // An organization's deletion takes its values with it.
    assert!(organizations::delete(&mut c, &a(), "o1").await.unwrap());
    assert!(jit::organizations_with(&mut c, &a(), Jit::EmailDomains, &domains[..1]).await.unwrap().is_empty());
    assert_eq!(jit::organizations_with(&mut c, &b(), Jit::EmailDomains, &domains[..1]).await.unwrap(), ["ob"]);
    drop(c);
    db.finish().await;
}
