//! The benchmark's bulk user fill: PostgreSQL only, rows that the store reads like any other.

use kido_proto::users::UserSearch;
use kido_store::users::{self, SignInIdentifier, UsernameCase::Sensitive};
use kido_store::{Backend, StoreError, bench};

use crate::harness::{Db, NOW, a, b};

#[tokio::test]
async fn seeded_users_are_ordinary_users_of_their_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    if db.store.backend() == Backend::Sqlite {
        let refused = bench::seed_users(&mut c, &a(), 1, 10, 10, NOW, 1000).await;
        assert!(matches!(refused, Err(StoreError::Unsupported(_))), "{refused:?}");
    } else {
        assert_eq!(bench::seed_users(&mut c, &a(), 1, 6, 10, NOW, 1000).await.unwrap(), 6);
        assert_eq!(bench::seed_users(&mut c, &a(), 7, 10, 10, NOW, 1000).await.unwrap(), 4);
        bench::analyze_users(&mut c).await.unwrap();
        assert_eq!(users::list(&mut c, &a(), &UserSearch::default(), None).await.unwrap().1, 10);
        assert_eq!(users::list(&mut c, &b(), &UserSearch::default(), None).await.unwrap().1, 0);
        let u = users::find_by_identifier(&mut c, &a(), SignInIdentifier::Email, "USER-0000003@example.com", Sensitive)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((u.id.as_str(), u.created_at), ("seed00000003", NOW - 7 * 1000));
    }
    drop(c);
    db.finish().await;
}
