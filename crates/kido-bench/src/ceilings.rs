//! What this machine can do at best, measured with Kido's own code: the signature rate of
//! a token-sized JWT, and the argon2 rate with Kido's password parameters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kido_core::oidc::keys::{SigningAlgorithm, SigningKey};
use kido_core::passwords::{HashCost, Passwords, STORED_METHOD};
use kido_server::config::ServeArgs;
use serde_json::{Value, json};

/// Signs the claims of a client_credentials access token in a loop on one thread.
pub fn sign(alg: &str, seconds: f64) -> Result<Value, String> {
    let alg = SigningAlgorithm::parse(alg).ok_or_else(|| format!("unknown algorithm {alg}"))?;
    let (key, _) = SigningKey::generate("bench".into(), alg).map_err(|e| e.to_string())?;
    let claims = json!({
        "jti": "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1",
        "sub": "bench-application-id",
        "iat": 1_790_000_000,
        "exp": 1_790_003_600,
        "scope": "read",
        "client_id": "bench-application-id",
        "iss": "http://127.0.0.1:3001/oidc",
        "aud": "https://api.example.com",
    });
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut count = 0u64;
    let mut bytes = 0;
    while Instant::now() < deadline {
        for _ in 0..64 {
            bytes = key.sign(&claims, true).map_err(|e| e.to_string())?.len();
        }
        count += 64;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    Ok(json!({"alg": alg.as_str(), "signatures_per_sec_per_core": rate.round(), "token_bytes": bytes}))
}

/// The argon2 parameters Kido runs with: the server's own configuration, read the same way
/// (config file, `KIDO_ARGON2_*`), so the ceiling and the server can never disagree.
fn kido_cost() -> Result<HashCost, String> {
    let config = kido_server::Config::load(&ServeArgs::default(), &|name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    Ok(config.password_hash_cost)
}

/// The hashing queue's length, as the server reads it.
fn config_queue_limit() -> Result<usize, String> {
    let config = kido_server::Config::load(&ServeArgs::default(), &|name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    Ok(config.password_queue_limit)
}

/// Verifications of a stored hash through Kido's hashing pool: one at a time (per core),
/// then as many at once as there are cores, twice over (the whole machine).
pub async fn argon2(seconds: f64) -> Result<Value, String> {
    let cost = kido_cost()?;
    let passwords = Arc::new(Passwords::new(cost, config_queue_limit()?).map_err(|e| e.to_string())?);
    let digest = passwords.hash("correct horse battery staple".into()).await.map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = Duration::from_secs_f64(seconds / 2.0);

    let serial = verify_for(&passwords, &digest, 1, duration).await?;
    let parallel = verify_for(&passwords, &digest, cores * 2, duration).await?;
    Ok(json!({
        "memory_kib": cost.memory_kib,
        "iterations": cost.iterations,
        "parallelism": cost.parallelism,
        "hashes_per_sec_per_core": (serial * 10.0).round() / 10.0,
        "hashes_per_sec_all_cores": (parallel * 10.0).round() / 10.0,
        "cores": cores,
    }))
}

async fn verify_for(passwords: &Arc<Passwords>, digest: &str, tasks: usize, duration: Duration) -> Result<f64, String> {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (passwords, digest, done) = (passwords.clone(), digest.to_owned(), done.clone());
        handles.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let ticket = passwords.admit().map_err(|e| e.to_string())?;
                let stored = Some((digest.clone(), STORED_METHOD.to_owned()));
                if !passwords.verify(ticket, "correct horse battery staple".into(), stored).await {
                    return Err("a verification failed".to_owned());
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
