//! The SQL statements one password sign-in costs, counted by the store
//! (`Store::statements_run`): authorize → password → identification → submit → resume →
//! consent → resume → code exchange. A ceiling so round trips do not creep back in; issue
//! 16 item 8 sets the target at 15 statements in total once the interaction is loaded and
//! saved once.

use kido_store::Backend;

use crate::harness::TestServer;
use crate::signin::{Browser, code_for, exchange, world};

/// The counts when the counter was added: 53 on SQLite, 54 on PostgreSQL; 42 and 46 after
/// the interaction refactor (issue 16: the interaction loaded once and saved once per
/// request). 27 on both after issue 16 item 8: a transaction reads its change notes only
/// after a statement of a module that writes cached tables (none on this path); both rate
/// limits are one upsert; submit reads the user from its last-sign-in update; resume spends
/// the interaction with `DELETE … RETURNING`, checks the password in the session insert and
/// needs no transaction; the code exchange reads code, grant and user in one statement and
/// stores its tokens in one insert, without a transaction; authorize checks the resource
/// through the grant cache; PostgreSQL's capped interaction insert is one function call
/// instead of a locked transaction. The consent step (issue 17) adds 3: the first
/// `/oidc/auth/{uid}` loads the interaction and sends the browser to `/consent`, which
/// records the first-party answer in one conditional UPDATE, and the second resume loads
/// before it spends (30). 28 since: the second resume spends without loading first (the
/// browser holds the session cookie this sign-in handed out), and the code exchange reads
/// the user's role names with the code, grant and user. 25 since: audit entries ride on the
/// statement of their change (migration 0027's triggers write them): identification's and
/// submit's on the interaction's save, the code exchange's on the code's spending. 23 since:
/// submit needs no transaction when no second factor is settled nor organization joined
/// (the last sign-in is stamped only if the row lets the sign-in through). 21 since: the
/// password step reads its interaction and the account its identifier names by one
/// statement, identification its interaction and the user its password record names. Per
/// request: authorize 1, `PUT /api/experience` 1, password 5, identification 2, submit 3,
/// first resume 1, consent 1, resume 4, code exchange 3. Run it with
/// `KIDO_LOG_STATEMENTS=1 … -- --nocapture` to see each statement.
fn ceiling(backend: Backend) -> u64 {
    match backend {
        Backend::Sqlite => 21,
        Backend::Postgres => 21,
    }
}

#[tokio::test]
async fn a_password_sign_in_runs_at_most_the_ceiling_of_sql_statements() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let base = t.url("");
    // A first sign-in warms the caches (application, sign-in experience, signing keys).
    let mut warm = Browser::new(&base);
    let code = code_for(&mut warm, &w, &w.app, "").await;
    assert_eq!(exchange(&base, &w, &code, &[]).await.0, 200);

    let store = &t.server.core.store;
    // `KIDO_LOG_STATEMENTS=1 cargo test … statement_count -- --nocapture` prints each
    // statement (sqlx's own log) between the two markers.
    let logging = std::env::var_os("KIDO_LOG_STATEMENTS").is_some()
        && tracing_subscriber::fmt().with_env_filter("sqlx::query=debug,statement_count=info").try_init().is_ok();
    if logging {
        tracing::info!(target: "statement_count", "---- sign-in starts");
    }
    let before = store.statements_run();
    let mut b = Browser::new(&base);
    let code = code_for(&mut b, &w, &w.app, "").await;
    let (status, tokens) = exchange(&base, &w, &code, &[]).await;
    let spent = store.statements_run() - before;
    if logging {
        tracing::info!(target: "statement_count", "---- sign-in ends");
    }
    assert_eq!(status, 200, "{tokens}");
    println!("password sign-in: {spent} SQL statements on {:?}", store.backend());
    let ceiling = ceiling(store.backend());
    assert!(spent <= ceiling, "a password sign-in ran {spent} SQL statements (ceiling {ceiling})");
    t.stop().await;
}
