//! Password verification under attack (issue 15, items 1, 4, 5, 8, 9 and 10): imported
//! digests with an unbounded cost, a parallel burst against the lockout, a flood of the
//! hashing queue, rate limits per IP and per identifier, timing by hash work, an in-flight
//! sign-in after the password changed, and the sweep of stale failure counters.

use kido_core::TenantId;
use kido_core::experience::sentinel;
use kido_store::oidc::{self as oidc_store, SignInFailures};
use reqwest::Method;
use reqwest::header::{COOKIE, RETRY_AFTER};
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::passwordless::{browser_at_sign_in, email, email_tenant, send_code, start, verify_code};
use crate::signin::{Browser, World, auth_url, world};

fn tenant() -> TenantId {
    TenantId::new("default")
}

fn jobs(t: &TestServer) -> u64 {
    t.server.core.passwords().jobs_run()
}

fn username(value: &str) -> Value {
    json!({"type": "username", "value": value})
}

/// A browser whose interaction has started a sign-in.
async fn signing_in(t: &TestServer, w: &World) -> Browser {
    let mut b = browser_at_sign_in(t, w, "").await;
    start(&mut b, "SignIn").await;
    b
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
    /// The fresh interaction cookie every Experience API write hands out.
    interaction_cookie: Option<String>,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

fn cookies(b: &Browser) -> String {
    b.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// `POST /api/experience/verification/password` in `b`'s interaction, with the headers;
/// `b` keeps the interaction's fresh cookie.
async fn verify(b: &mut Browser, identifier: Value, password: &str) -> Answer {
    let answer = send_verify(&b.base, &cookies(b), identifier, password).await;
    if let Some(cookie) = &answer.interaction_cookie {
        b.jar.insert("_interaction".into(), cookie.clone());
    }
    answer
}

async fn send_verify(base: &str, cookies: &str, identifier: Value, password: &str) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/experience/verification/password"))
        .header(COOKIE, cookies)
        .json(&json!({"identifier": identifier, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    let interaction_cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("_interaction="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .next();
    Answer { status, retry_after, body: response.json().await.unwrap_or(Value::Null), interaction_cookie }
}

/// Replaces a user's stored digest directly in the database (rows stored before the
/// bounds existed, or by another tool).
async fn store_digest(t: &TestServer, user_id: &str, digest: &str, method: &str) {
    let mut c = t.server.core.store.conn().await.unwrap();
    let mut user = kido_store::users::find(&mut c, &tenant(), user_id).await.unwrap().unwrap();
    user.password_encrypted = Some(digest.to_owned());
    user.password_encryption_method = Some(method.to_owned());
    kido_store::users::update(&mut c, &user).await.unwrap();
}

async fn create_user(t: &TestServer, body: Value) -> (u16, Value) {
    t.api(Method::POST, "/api/users", Some(body)).await
}

const HUGE_M: &str = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const HUGE_T: &str =
    "$argon2id$v=19$m=64,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const HUGE_P: &str = "$argon2id$v=19$m=1024,t=1,p=17$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const BCRYPT_31: &str = "$2b$31$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";

#[tokio::test]
async fn imported_digests_beyond_the_cost_bounds_are_refused_and_never_hashed() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    for (digest, algorithm) in [(HUGE_M, "Argon2id"), (HUGE_T, "Argon2id"), (HUGE_P, "Argon2id"), (BCRYPT_31, "Bcrypt")]
    {
        let (status, body) =
            create_user(&t, json!({"username": "imported", "passwordDigest": digest, "passwordAlgorithm": algorithm}))
                .await;
        assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{digest}: {body}");
        assert!(body["details"].as_str().unwrap().contains("passwordDigest"), "{body}");
    }
    // Within the bounds: accepted.
    let (status, body) = create_user(
        &t,
        json!({"username": "bounded", "passwordDigest": "$argon2id$v=19$m=262144,t=64,p=16$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", "passwordAlgorithm": "Argon2id"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Rows stored before the bounds: a normal failure after one equal-cost hash, twice
    // over (two such attempts used to pin both hashing threads), and the server lives on.
    for (digest, method) in [(HUGE_M, "Argon2id"), (HUGE_T, "Argon2id"), (BCRYPT_31, "Bcrypt")] {
        store_digest(&t, &w.user_id, digest, method).await;
        for _ in 0..2 {
            let mut b = signing_in(&t, &w).await;
            let before = jobs(&t);
            let r = verify(&mut b, username(&w.username), &w.password).await;
            assert_eq!((r.status, r.code()), (422, "session.invalid_credentials"), "{digest}");
            assert_eq!(jobs(&t), before + 1, "one hash at Kido's cost, not the digest's");
        }
        let before = jobs(&t);
        let (status, body) = t
            .api(
                Method::POST,
                &format!("/api/users/{}/password/verify", w.user_id),
                Some(json!({"password": w.password})),
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (422, Some("session.invalid_credentials")));
        assert_eq!(jobs(&t), before + 1);
    }
    let (status, body) = create_user(&t, json!({"username": "still_alive", "password": "Kido-still_alive-1"})).await;
    assert_eq!(status, 200, "{body}");
    let mut b = signing_in(&t, &w).await;
    b.sign_in("still_alive", "Kido-still_alive-1").await;
    t.stop().await;
}

#[tokio::test]
async fn every_failed_verification_costs_one_hash() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let (_, no_password) = create_user(&t, json!({"username": "nopass"})).await;
    let (_, suspended) = create_user(&t, json!({"username": "frozen", "password": "Kido-frozen-pass-1"})).await;
    let (status, _) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{}/is-suspended", suspended["id"].as_str().unwrap()),
            Some(json!({"isSuspended": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, costly) = create_user(&t, json!({"username": "costly", "password": "Kido-costly-pass-1"})).await;
    store_digest(&t, costly["id"].as_str().unwrap(), HUGE_M, "Argon2id").await;
    let (_, sha) = create_user(
        &t,
        json!({"username": "sha", "passwordDigest": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "passwordAlgorithm": "SHA256"}),
    )
    .await;
    assert!(sha["id"].is_string(), "{sha}");

    let cases = [
        ("ghost", "Kido-whatever-1", "session.invalid_credentials"),
        ("nopass", "Kido-whatever-1", "session.invalid_credentials"),
        (w.username.as_str(), "Kido-wrong-pass-1", "session.invalid_credentials"),
        ("costly", "Kido-costly-pass-1", "session.invalid_credentials"),
        ("sha", "not-password", "session.invalid_credentials"),
        ("frozen", "Kido-frozen-pass-1", "user.suspended"),
        ("frozen", "Kido-wrong-pass-1", "session.invalid_credentials"),
    ];
    for (name, password, code) in cases {
        let mut b = signing_in(&t, &w).await;
        let before = jobs(&t);
        let r = verify(&mut b, username(name), password).await;
        assert_eq!(r.code(), code, "{name}: {}", r.body);
        assert_eq!(jobs(&t) - before, 1, "{name}: exactly one hash");
    }
    // The Management API's check follows the same rule.
    let before = jobs(&t);
    let (status, _) = t
        .api(
            Method::POST,
            &format!("/api/users/{}/password/verify", no_password["id"].as_str().unwrap()),
            Some(json!({"password": "Kido-whatever-1"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(jobs(&t) - before, 1);
    t.stop().await;
}

#[tokio::test]
async fn a_parallel_burst_gets_exactly_max_attempts_checks() {
    const BURST: usize = 60;
    let t = TestServer::start_with(|c| {
        c.password_rate_limits.per_identifier = 10_000;
        c.password_rate_limits.per_ip = 10_000;
    })
    .await;
    let w = world(&t).await;
    let (status, body) = t
        .api(
            Method::PATCH,
            "/api/sign-in-exp",
            Some(json!({"sentinelPolicy": {"maxAttempts": 3, "lockoutDuration": 5}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut browsers = Vec::new();
    for _ in 0..BURST {
        browsers.push(signing_in(&t, &w).await);
    }
    let right = BURST / 2;
    let before = jobs(&t);
    let guesses = (0..BURST)
        .map(|i| (username(&w.username), if i == right { w.password.clone() } else { format!("Kido-guess-{i}") }))
        .collect();
    let answers = burst(&browsers, guesses).await;
    let evaluated = jobs(&t) - before;
    let count = |status: u16, code: &str| answers.iter().filter(|a| a.status == status && a.code() == code).count();
    let invalid = count(422, "session.invalid_credentials");
    let blocked = count(400, "session.verification_blocked_too_many_attempts");
    let accepted = answers.iter().filter(|a| a.status == 200).count();
    eprintln!("burst of {BURST}: {evaluated} hashed, {invalid} wrong, {accepted} accepted, {blocked} locked out");
    assert_eq!(invalid + blocked + accepted, BURST, "no other answer");
    // Two failures answer "wrong", the third locks; a success gives its place back.
    assert_eq!(invalid, 2);
    assert!(accepted <= 1);
    assert_eq!(evaluated, 3 + accepted as u64, "only reserved attempts are hashed");
    let mut c = t.server.core.store.conn().await.unwrap();
    let row = oidc_store::sign_in_failures(&mut c, &tenant(), &sentinel::key("username", &w.username))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.failures, 3, "the stored counter is exact");
    assert!(row.locked_until.is_some());
    drop(c);
    // Locked: the right password waits, without a hash.
    let mut b = signing_in(&t, &w).await;
    let before = jobs(&t);
    let r = verify(&mut b, username(&w.username), &w.password).await;
    assert_eq!((r.status, r.code()), (400, "session.verification_blocked_too_many_attempts"));
    assert_eq!(jobs(&t), before);
    t.stop().await;
}

/// Sends every guess at once, each in its browser's interaction; answers in order.
async fn burst(browsers: &[Browser], guesses: Vec<(Value, String)>) -> Vec<Answer> {
    let tasks: Vec<_> = browsers
        .iter()
        .zip(guesses)
        .map(|(b, (identifier, password))| {
            let (base, cookies) = (b.base.clone(), cookies(b));
            tokio::spawn(async move { send_verify(&base, &cookies, identifier, &password).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_without_hashing() {
    const QUEUE: usize = 2;
    let t = TestServer::start_with(|c| c.password_queue_limit = QUEUE).await;
    let w = world(&t).await;
    let mut b = signing_in(&t, &w).await;
    // Fill the pool's every place (one per hashing thread, plus the queue) from here, as a
    // flood of slow hashes would.
    let passwords = t.server.core.passwords();
    let mut held = Vec::new();
    while let Ok(ticket) = passwords.admit() {
        held.push(ticket);
        assert!(held.len() <= 64, "the queue is unbounded");
    }
    let threads = std::thread::available_parallelism().unwrap().get();
    assert_eq!(held.len(), threads + QUEUE);
    let before = jobs(&t);
    for i in 0..5 {
        let r = verify(&mut b, username(&format!("someone-{i}")), "Kido-guess-1").await;
        assert_eq!((r.status, r.code()), (503, "guard.server_busy"), "{}", r.body);
        assert_eq!(r.retry_after.as_deref(), Some("1"));
    }
    // Every other use of the pool says the same (a new user's password, here).
    let (status, body) = create_user(&t, json!({"username": "queued", "password": "Kido-queued-pass-1"})).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("guard.server_busy")));
    assert_eq!(jobs(&t), before, "a busy answer costs no hash");
    drop(held);
    let r = verify(&mut b, username("someone-0"), "Kido-guess-1").await;
    assert_eq!((r.status, r.code()), (422, "session.invalid_credentials"));
    assert_eq!(jobs(&t), before + 1);
    t.stop().await;
}

#[tokio::test]
async fn password_checks_are_rate_limited_per_identifier_and_per_ip() {
    let t = TestServer::start_with(|c| {
        c.password_rate_limits.per_identifier = 3;
        c.password_rate_limits.per_ip = 5;
    })
    .await;
    let w = world(&t).await;
    let mut b = signing_in(&t, &w).await;
    let before = jobs(&t);
    for _ in 0..3 {
        assert_eq!(verify(&mut b, username("bob"), "Kido-guess-1").await.status, 422);
    }
    let r = verify(&mut b, username("BOB"), "Kido-guess-1").await;
    assert_eq!((r.status, r.code()), (429, "guard.too_many_requests"), "{}", r.body);
    let retry: u64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    // Other identifiers from the same address, up to the per-IP limit (3 + 2).
    assert_eq!(verify(&mut b, username("carol"), "Kido-guess-1").await.status, 422);
    assert_eq!(verify(&mut b, username("dave"), "Kido-guess-1").await.status, 422);
    let r = verify(&mut b, username("erin"), "Kido-guess-1").await;
    assert_eq!((r.status, r.code()), (429, "guard.too_many_requests"));
    assert!(r.retry_after.is_some());
    assert_eq!(jobs(&t) - before, 5, "refused attempts cost no hash");
    t.stop().await;
}

#[tokio::test]
async fn an_admin_password_change_stops_an_in_flight_sign_in() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let change = |password: &'static str| {
        let t = &t;
        let id = w.user_id.clone();
        async move {
            let (status, body) =
                t.api(Method::PATCH, &format!("/api/users/{id}/password"), Some(json!({"password": password}))).await;
            assert_eq!(status, 200, "{body}");
        }
    };

    // Verified and identified, then the password changes: submit is refused.
    let mut b = signing_in(&t, &w).await;
    let r = verify(&mut b, username(&w.username), &w.password).await;
    let id = r.body["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await.status, 204);
    change("Kido-changed-by-admin-1").await;
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.verification_failed")), "{}", r.text);

    // Verified, then changed: identification is refused.
    let mut b = signing_in(&t, &w).await;
    let r = verify(&mut b, username(&w.username), "Kido-changed-by-admin-1").await;
    let id = r.body["verificationId"].as_str().unwrap().to_owned();
    change("Kido-changed-again-2").await;
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.verification_failed")));

    // Submitted, then changed before the browser resumes: no session, no code.
    let mut b = signing_in(&t, &w).await;
    let r = verify(&mut b, username(&w.username), "Kido-changed-again-2").await;
    let id = r.body["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await.status, 204);
    let r = b.api(Method::POST, "/submit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.json()["redirectTo"].as_str().unwrap().to_owned();
    change("Kido-changed-third-3").await;
    // Through the consent step (first-party: answered at once) back to the resume.
    let r = b.follow(next).await;
    assert_eq!(r.status, 400, "{:?} {}", r.location, r.text);
    assert!(r.param("code").is_none());
    // A new sign-in with the current password works.
    let mut b = Browser::new(&t.url(""));
    assert_eq!(b.get(&auth_url(&w.app, "")).await.status, 303);
    let next = b.sign_in(&w.username, "Kido-changed-third-3").await;
    assert!(b.follow(next).await.param("code").is_some());
    t.stop().await;
}

#[tokio::test]
async fn a_forgot_password_reset_stops_an_in_flight_sign_in() {
    let (t, mut smtp, w) = email_tenant().await;
    let address = "victim@kido.test";
    let old = "Kido-old-password-1";
    let (status, user) = create_user(&t, json!({"primaryEmail": address, "password": old, "username": "victim"})).await;
    assert_eq!(status, 200, "{user}");

    // The attacker verified the old password and identified the victim.
    let mut attacker = signing_in(&t, &w).await;
    let r = verify(&mut attacker, email(address), old).await;
    let id = r.body["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(attacker.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await.status, 204);

    // The victim resets the password.
    let mut victim = browser_at_sign_in(&t, &w, "").await;
    start(&mut victim, "ForgotPassword").await;
    let (_, sent) = send_code(&mut victim, email(address), "ForgotPassword").await;
    let code_id = sent["verificationId"].as_str().unwrap().to_owned();
    let mail = smtp.next().await;
    assert_eq!(verify_code(&mut victim, email(address), &code_id, &mail.code()).await.0, 200);
    assert_eq!(victim.api(Method::POST, "/identification", Some(json!({"verificationId": code_id}))).await.status, 204);
    let r = victim.api(Method::PUT, "/profile/password", Some(json!({"password": "Kido-new-password-2"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(victim.api(Method::POST, "/submit", None).await.status, 200);

    let r = attacker.api(Method::POST, "/submit", None).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.verification_failed")), "{}", r.text);
    t.stop().await;
}

#[tokio::test]
async fn stale_failure_windows_and_rate_counters_are_swept() {
    let t = TestServer::start().await;
    let now = kido_core::clock::now_ms();
    let hour = 3600 * 1000;
    let mut c = t.server.core.store.conn().await.unwrap();
    let rows = [
        ("old-window", SignInFailures { failures: 2, window_started_at: now - 2 * hour, locked_until: None }),
        ("old-lock", SignInFailures { failures: 3, window_started_at: now - 2 * hour, locked_until: Some(now - 1) }),
        (
            "live-lock",
            SignInFailures { failures: 3, window_started_at: now - 2 * hour, locked_until: Some(now + hour) },
        ),
        ("live-window", SignInFailures { failures: 1, window_started_at: now - 1000, locked_until: None }),
    ];
    for (key, row) in &rows {
        oidc_store::put_sign_in_failures(&mut c, &tenant(), key, row).await.unwrap();
    }
    kido_store::rate_limits::hit(&mut c, &tenant(), "gone", now - 2000, now - 1000).await.unwrap();
    kido_store::rate_limits::hit(&mut c, &tenant(), "kept", now - 1000, now + 1000).await.unwrap();
    drop(c);
    // (The start-up housekeeping may sweep too, so the rows tell, not the count.)
    t.server.core.sweep_expired().await.unwrap();
    let mut c = t.server.core.store.conn().await.unwrap();
    for (key, kept) in [("old-window", false), ("old-lock", false), ("live-lock", true), ("live-window", true)] {
        let row = oidc_store::sign_in_failures(&mut c, &tenant(), key).await.unwrap();
        assert_eq!(row.is_some(), kept, "{key}");
    }
    // The swept counter starts over; the live one goes on.
    assert_eq!(kido_store::rate_limits::hit(&mut c, &tenant(), "gone", now - 2000, now - 1000).await.unwrap(), 1);
    assert_eq!(kido_store::rate_limits::hit(&mut c, &tenant(), "kept", now - 1000, now + 1000).await.unwrap(), 2);
    drop(c);
    t.stop().await;
}
