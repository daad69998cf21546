//! Fills Kido's `users` table on PostgreSQL with generated users, in batches, through
//! `kido_store::bench::seed_users` (one `generate_series` insert per batch): a million rows
//! take seconds, not the hours a million API calls would. Connecting migrates the database.

use std::time::Instant;

use kido_core::TenantId;
use kido_store::{Store, StoreOptions, bench};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct Options {
    /// postgres://… URL of Kido's database.
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 1_000_000)]
    count: i64,
    #[arg(long, default_value = "default")]
    tenant: String,
}

const BATCH: i64 = 100_000;
/// Sign-ups spread evenly over the last two years.
const SPAN_MS: i64 = 2 * 365 * 24 * 3600 * 1000;

pub async fn run(o: Options) -> Result<Value, String> {
    if !o.database_url.starts_with("postgres") {
        return Err("seed-users fills a PostgreSQL database: give a postgres:// URL".into());
    }
    let store = Store::connect(&StoreOptions { url: o.database_url.clone(), max_connections: 1 })
        .await
        .map_err(|e| e.to_string())?;
    let mut c = store.conn().await.map_err(|e| e.to_string())?;
    let tenant = TenantId::new(o.tenant.as_str());
    let started = Instant::now();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis()
        as i64;
    let step = (SPAN_MS / o.count.max(1)).max(1);
    let mut from = 1;
    while from <= o.count {
        let to = (from + BATCH - 1).min(o.count);
        bench::seed_users(&mut c, &tenant, from, to, o.count, now, step)
            .await
            .map_err(|e| format!("insert from row {from}: {e}"))?;
        from += BATCH;
        eprintln!("seed-users: {} of {} rows", (from - 1).min(o.count), o.count);
    }
    bench::analyze_users(&mut c).await.map_err(|e| e.to_string())?;
    drop(c);
    store.close().await;
    Ok(json!({"users": o.count, "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0}))
}
