//! Rate-limit windows: one atomic upsert per hit, so a parallel burst loses none.

use kido_store::rate_limits;

use crate::harness::{Db, NOW, a, b};

#[tokio::test]
async fn hits_count_per_tenant_bucket_and_window() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    for n in 1..=3 {
        assert_eq!(rate_limits::hit(&mut c, &a(), "ip:1", NOW, NOW + 1000).await.unwrap(), n);
    }
    assert_eq!(rate_limits::hit(&mut c, &a(), "ip:2", NOW, NOW + 1000).await.unwrap(), 1);
    assert_eq!(rate_limits::hit(&mut c, &b(), "ip:1", NOW, NOW + 1000).await.unwrap(), 1);
    assert_eq!(rate_limits::hit(&mut c, &a(), "ip:1", NOW + 1000, NOW + 2000).await.unwrap(), 1, "next window");

    // The sweep drops ended windows only (in every tenant).
    assert_eq!(rate_limits::delete_expired(&mut c, NOW + 1000).await.unwrap(), 3);
    assert_eq!(rate_limits::hit(&mut c, &a(), "ip:1", NOW, NOW + 1000).await.unwrap(), 1, "swept window restarts");
    assert_eq!(rate_limits::hit(&mut c, &a(), "ip:1", NOW + 1000, NOW + 2000).await.unwrap(), 2, "live window kept");
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_parallel_burst_of_hits_loses_none() {
    let db = Db::with_connections(16).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            rate_limits::hit(&mut c, &a(), "burst", NOW, NOW + 1000).await.unwrap()
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<_>>(), "every hit counted once, each sees its own number");
    drop(counts);
    db.finish().await;
}

/// Two buckets in one statement: the second (`also`) is not counted for an attempt the
/// first bucket's limit already refuses.
#[tokio::test]
async fn a_pair_of_buckets_counts_the_other_only_while_the_first_is_under_its_limit() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    for n in 1..=2 {
        let hits = rate_limits::hit_both(&mut c, &a(), ("id:bob", 2), Some("ip:1"), NOW, NOW + 1000).await.unwrap();
        assert_eq!(hits, (n, Some(n)));
    }
    let hits = rate_limits::hit_both(&mut c, &a(), ("id:bob", 2), Some("ip:1"), NOW, NOW + 1000).await.unwrap();
    assert_eq!(hits, (3, None), "over the first limit: the address is not charged");
    let hits = rate_limits::hit_both(&mut c, &a(), ("id:carol", 2), Some("ip:1"), NOW, NOW + 1000).await.unwrap();
    assert_eq!(hits, (1, Some(3)));
    assert_eq!(rate_limits::hit_both(&mut c, &a(), ("id:carol", 2), None, NOW, NOW + 1000).await.unwrap(), (2, None));
    assert_eq!(rate_limits::hit(&mut c, &b(), "ip:1", NOW, NOW + 1000).await.unwrap(), 1, "per tenant");
    drop(c);
    db.finish().await;
}
