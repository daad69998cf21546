//! Fills Kido's `users` table on PostgreSQL with generated users, in batches, straight in
//! SQL (`generate_series`): a million rows take seconds, not the hours a million API calls
//! would. Run against a database Kido has already migrated (start Kido once first).

use std::time::Instant;

use serde_json::{Value, json};
use sqlx::Connection;

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
    let mut db = sqlx::PgConnection::connect(&o.database_url).await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis()
        as i64;
    let step = (SPAN_MS / o.count.max(1)).max(1);
    // Ids, usernames and emails carry the row number: unique, and searchable by the bench.
    let sql = "INSERT INTO users (tenant_id, id, username, primary_email, name, profile, identities, \
               custom_data, created_at, updated_at) \
               SELECT $1, 'seed' || lpad(i::text, 8, '0'), 'user-' || lpad(i::text, 7, '0'), \
                      'user-' || lpad(i::text, 7, '0') || '@example.com', 'Bench User ' || i, \
                      '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, $4 - ($3 - i) * $5, $4 - ($3 - i) * $5 \
               FROM generate_series($2::bigint, LEAST($2 + $6 - 1, $3)) AS i";
    let mut from = 1;
    while from <= o.count {
        sqlx::query(sql)
            .bind(&o.tenant)
            .bind(from)
            .bind(o.count)
            .bind(now)
            .bind(step)
            .bind(BATCH)
            .execute(&mut db)
            .await
            .map_err(|e| format!("insert from row {from}: {e}"))?;
        from += BATCH;
        eprintln!("seed-users: {} of {} rows", (from - 1).min(o.count), o.count);
    }
    sqlx::query("ANALYZE users").execute(&mut db).await.map_err(|e| e.to_string())?;
    Ok(json!({"users": o.count, "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0}))
}
