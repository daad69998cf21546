//! Issue 18 items 2 and 3: readiness, the Prometheus listener and the event log lines.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, http, send, token_at};
use crate::signin::{API, Browser, REDIRECT, auth_url, code_for, exchange, world};

#[tokio::test]
async fn readiness_is_204_on_both_ports_and_503_once_the_database_is_gone() {
    let t = TestServer::start().await;
    for url in [t.url("/api/status/ready"), t.admin_url("/api/status/ready")] {
        let response = http().get(&url).send().await.unwrap();
        assert_eq!(response.status(), 204, "{url}");
    }
    // Liveness is unchanged, its STATUS_API_KEY behaviour included (no key: no tenant id).
    let response = http().get(t.url("/api/status")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("logto-tenant-id").is_none());

    match &t.database {
        // PostgreSQL: the database itself is dropped under the running server.
        Some(db) => {
            let admin = std::env::var("KIDO_TEST_POSTGRES_URL").unwrap();
            kido_store::drop_postgres_database(&admin, &db.name).await.unwrap();
        }
        // SQLite: the node loses its database (its pool is closed).
        None => t.server.core.store.close().await,
    }
    for url in [t.url("/api/status/ready"), t.admin_url("/api/status/ready")] {
        let (status, body) = send(Method::GET, &url, None, None).await;
        assert_eq!((status, body["code"].as_str()), (503, Some("status.not_ready")), "{url}: {body}");
        assert!(body["message"].as_str().unwrap().contains("database"), "{body}");
    }
    // Still alive: only readiness depends on the database.
    assert_eq!(http().get(t.url("/api/status")).send().await.unwrap().status(), 204);
    t.stop().await;
}

/// `name{labels}` → value, for every sample of a Prometheus text exposition.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

/// The value of the one sample of `name` that has every label given (0 when none has).
fn sample(all: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<f64> = all
        .iter()
        .filter(|(series, _)| {
            (series.as_str() == name || series.starts_with(&format!("{name}{{")))
                && labels.iter().all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| *v)
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?} matches several series");
    matching.first().copied().unwrap_or(0.0)
}

async fn scrape(url: &str) -> HashMap<String, f64> {
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    samples(&response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_listener_counts_tokens_requests_and_sign_ins() {
    let t = TestServer::start_with(|c| {
        c.metrics_port = Some(0);
        c.metrics_host = Some([127, 0, 0, 1].into());
    })
    .await;
    let metrics = format!("http://{}/metrics", t.server.metrics_address.unwrap());
    let w = world(&t).await;

    let before = scrape(&metrics).await;
    let token = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let (status, _) = t.token(&token, Some((&t.client_id, &t.client_secret))).await;
    assert_eq!(status, 200);
    let after = scrape(&metrics).await;

    let tokens = [("tenant", "default"), ("grant_type", "client_credentials")];
    assert_eq!(
        sample(&after, "kido_tokens_issued_total", &tokens) - sample(&before, "kido_tokens_issued_total", &tokens),
        1.0
    );
    let route = [("tenant", "default"), ("method", "POST"), ("route", "/oidc/token"), ("status", "200")];
    let count = "kido_http_request_duration_seconds_count";
    assert_eq!(sample(&after, count, &route) - sample(&before, count, &route), 1.0);
    let slow = [route.as_slice(), &[("le", "+Inf")]].concat();
    let bucket = "kido_http_request_duration_seconds_bucket";
    assert_eq!(sample(&after, bucket, &slow) - sample(&before, bucket, &slow), 1.0);
    assert!(sample(&after, "kido_http_request_duration_seconds_sum", &route) > 0.0);
    // Route templates, never raw paths: a user's id is not a label.
    let user_route = [("route", "/api/users/{userId}/roles"), ("method", "POST")];
    assert_eq!(
        sample(&after, count, &user_route),
        1.0,
        "{:?}",
        after.keys().filter(|k| k.contains("users")).collect::<Vec<_>>()
    );
    assert!(after.keys().all(|k| !k.contains(&w.user_id)), "a raw path became a label");

    // The domain's state, read at scrape time.
    assert!(sample(&after, "kido_db_pool_max_connections", &[]) >= 1.0);
    assert!(after.contains_key("kido_db_pool_connections{state=\"idle\"}"), "{after:?}");
    assert!(after.contains_key("kido_password_hash_queue_depth"));
    assert!(sample(&after, "kido_password_hash_queue_capacity", &[]) >= 1.0);
    assert!(after.contains_key("kido_audit_queue_entries"));
    let client_lookups = |s: &HashMap<String, f64>| {
        sample(s, "kido_cache_lookups_total", &[("cache", "clients"), ("result", "hit")])
            + sample(s, "kido_cache_lookups_total", &[("cache", "clients"), ("result", "miss")])
    };
    assert!(client_lookups(&after) > client_lookups(&before), "the token's client lookup is counted");

    // A wrong password, then a sign-in: both counted by result and reason.
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    let wrong = json!({"identifier": {"type": "username", "value": w.username}, "password": "not-the-password"});
    assert_eq!(b.api(Method::POST, "/verification/password", Some(wrong)).await.status, 422);
    code_for(&mut b, &w, &w.app, "").await;
    let signed = scrape(&metrics).await;
    let failure = [("flow", "SignIn"), ("result", "failure"), ("reason", "invalid_credentials")];
    assert_eq!(sample(&signed, "kido_sign_ins_total", &failure), 1.0);
    assert_eq!(sample(&signed, "kido_sign_ins_total", &[("flow", "SignIn"), ("result", "success")]), 1.0);

    // Never on the public ports; the metrics listener serves nothing else.
    for url in [t.url("/metrics"), t.admin_url("/metrics")] {
        let (status, body) = send(Method::GET, &url, None, None).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("guard.route_not_found")), "{url}");
    }
    let other = metrics.replace("/metrics", "/api/status");
    assert_eq!(http().get(&other).send().await.unwrap().status(), 404);
    t.stop().await;
}

#[tokio::test]
async fn no_metrics_listener_unless_configured() {
    let t = TestServer::start().await;
    assert!(t.server.metrics_address.is_none());
    assert_eq!(http().get(t.url("/metrics")).send().await.unwrap().status(), 404);
    t.stop().await;
}

/// A `kido` process, stopped with SIGTERM (its log is flushed on the way out).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const M2M: (&str, &str) = ("json-logs-m2m", "json-logs-secret-json-logs-secret");

/// Runs the real binary with `KIDO_LOG_FORMAT=json`, drives a sign-in (a wrong password, a
/// lockout, a success), every grant and Management API changes, then reads its stdout.
#[tokio::test]
async fn json_logs_have_one_line_per_event_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("KIDO_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("kido_t_{}", kido_core::ids::new_id());
            Some((admin.clone(), name.clone(), kido_store::create_postgres_database(&admin, &name).await.unwrap()))
        }
        _ => None,
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kido"));
    command
        .env_clear()
        .env("KIDO_DATA_DIR", dir.path())
        .env("KIDO_PORT", port.to_string())
        .env("KIDO_ADMIN_PORT", free_port().to_string())
        .env("KIDO_HOST", "127.0.0.1")
        .env("KIDO_BOOTSTRAP_M2M_CLIENT_ID", M2M.0)
        .env("KIDO_BOOTSTRAP_M2M_CLIENT_SECRET", M2M.1)
        .env("KIDO_ARGON2_MEMORY_KIB", "8")
        .env("KIDO_ARGON2_ITERATIONS", "1")
        .env("KIDO_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some((_, _, url)) = &database {
        command.env("DATABASE_URL", url);
    }
    let mut process = Process(command.spawn().unwrap());
    let mut up = false;
    for _ in 0..200 {
        if http().get(format!("{base}/api/status")).send().await.is_ok_and(|r| r.status() == 204) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "kido did not start");

    // client_credentials; its request id is the one the log line names.
    let form = [("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")];
    let response =
        http().post(format!("{base}/oidc/token")).form(&form).basic_auth(M2M.0, Some(M2M.1)).send().await.unwrap();
    let token_request_id = response.headers()["logto-core-request-id"].to_str().unwrap().to_owned();
    let management: Value = response.json().await.unwrap();
    let management = management["access_token"].as_str().unwrap().to_owned();
    let api = |method: Method, path: &str, body: Option<Value>| {
        let (url, token) = (format!("{base}{path}"), management.clone());
        async move { send(method, &url, Some(&token), body).await }
    };

    // Management API changes: an application, a user (with a password), a sign-in policy.
    let body = json!({"name": "web", "type": "Traditional", "oidcClientMetadata": {"redirectUris": [REDIRECT], "postLogoutRedirectUris": []}});
    let (status, app) = api(Method::POST, "/api/applications", Some(body)).await;
    assert_eq!(status, 200, "{app}");
    let app_id = app["id"].as_str().unwrap().to_owned();
    let (_, secrets) = api(Method::GET, &format!("/api/applications/{app_id}/secrets"), None).await;
    let app_secret = secrets[0]["value"].as_str().unwrap().to_owned();
    let (status, resource) = api(Method::POST, "/api/resources", Some(json!({"name": "API", "indicator": API}))).await;
    assert_eq!(status, 201, "{resource}");
    let password = "Json-logs-keep-this-7";
    let (status, user) =
        api(Method::POST, "/api/users", Some(json!({"username": "alice", "password": password}))).await;
    assert_eq!(status, 200, "{user}");
    let user_id = user["id"].as_str().unwrap().to_owned();
    let (status, _) =
        api(Method::POST, "/api/users", Some(json!({"username": "bob", "password": "Bob-is-locked-out-9"}))).await;
    assert_eq!(status, 200);
    let policy = json!({"sentinelPolicy": {"maxAttempts": 2, "lockoutDuration": 5}});
    assert_eq!(api(Method::PATCH, "/api/sign-in-exp", Some(policy)).await.0, 200);

    // A wrong password for alice; bob locked out by two; then alice signs in.
    let mut b = Browser::new(&base);
    b.get(&auth_url(&app_id, "")).await;
    b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    let wrong_password = "Wrong-password-never-logged-3";
    let attempt = |who: &str| json!({"identifier": {"type": "username", "value": who}, "password": wrong_password});
    assert_eq!(b.api(Method::POST, "/verification/password", Some(attempt("alice"))).await.status, 422);
    assert_eq!(b.api(Method::POST, "/verification/password", Some(attempt("bob"))).await.status, 422);
    let locked = b.api(Method::POST, "/verification/password", Some(attempt("bob"))).await;
    assert_eq!(locked.json()["code"], "session.verification_blocked_too_many_attempts");
    let next = b.sign_in("alice", password).await;
    let code = b.follow(next).await.param("code").unwrap();
    let cookies: Vec<String> = b.jar.values().cloned().collect();

    // authorization_code, then refresh_token.
    let w = crate::signin::World {
        app: app_id.clone(),
        secret: app_secret.clone(),
        spa: String::new(),
        username: "alice".into(),
        password: password.into(),
        user_id: user_id.clone(),
    };
    let (status, tokens) = exchange(&base, &w, &code, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
    let (status, refreshed) = token_at(&format!("{base}/oidc/token"), &form, Some((&app_id, &app_secret))).await;
    assert_eq!(status, 200, "{refreshed}");

    // A graceful stop writes what is queued; then the whole log is read.
    let pid = process.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut stdout = process.0.stdout.take().unwrap();
    let mut output = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut output).unwrap();
    drop(process);
    if let Some((admin, name, _)) = &database {
        kido_store::drop_postgres_database(admin, name).await.unwrap();
    }

    // Every log line is one JSON object (the banner is plain text, for people).
    let lines: Vec<Value> = output
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let events: Vec<&Value> = lines.iter().filter(|l| l.get("event").is_some()).collect();
    let find = |event: &str, pairs: &[(&str, &str)]| -> Vec<&Value> {
        events.iter().copied().filter(|e| e["event"] == event && pairs.iter().all(|(k, v)| e[*k] == *v)).collect()
    };
    for e in &events {
        assert_eq!(e["level"], "INFO", "{e}");
        assert_eq!(e["tenant"], "default", "{e}");
        assert!(e["client_id"].as_str().is_some_and(|c| !c.is_empty()), "{e}");
        assert!(e["request_id"].as_str().is_some_and(|r| r.len() >= 14), "{e}");
    }

    let m2m = find("token_issued", &[("grant_type", "client_credentials"), ("client_id", M2M.0)]);
    assert_eq!(m2m.len(), 1, "{events:#?}");
    assert_eq!(m2m[0]["request_id"], token_request_id.as_str());
    for grant in ["authorization_code", "refresh_token"] {
        let issued = find("token_issued", &[("grant_type", grant), ("client_id", &app_id), ("user_id", &user_id)]);
        assert_eq!(issued.len(), 1, "{grant}: {events:#?}");
    }
    let failed = find("sign_in", &[("result", "failure"), ("reason", "invalid_credentials"), ("client_id", &app_id)]);
    assert_eq!(failed.len(), 2, "{events:#?}");
    assert!(failed.iter().any(|e| e["user_id"] == user_id.as_str()), "a wrong password names the account");
    assert_eq!(find("sign_in", &[("result", "failure"), ("reason", "locked")]).len(), 1, "{events:#?}");
    assert_eq!(find("lockout", &[("client_id", &app_id)]).len(), 1, "{events:#?}");
    assert_eq!(find("sign_in", &[("result", "success"), ("user_id", &user_id), ("flow", "SignIn")]).len(), 1);
    let created = find("management_change", &[("method", "POST"), ("route", "/api/users"), ("client_id", M2M.0)]);
    assert_eq!(created.len(), 2, "{events:#?}");
    assert!(created.iter().all(|e| e["status"] == 200));
    assert_eq!(find("management_change", &[("method", "PATCH"), ("route", "/api/sign-in-exp")]).len(), 1);
    assert!(find("management_change", &[("method", "GET")]).is_empty(), "reads are not changes");

    // No secret of the flow anywhere in the log.
    let mut secrets = vec![
        password.to_owned(),
        wrong_password.to_owned(),
        "Bob-is-locked-out-9".to_owned(),
        M2M.1.to_owned(),
        app_secret,
        code,
        management,
        refresh_token,
    ];
    for field in ["access_token", "id_token", "refresh_token"] {
        for t in [&tokens, &refreshed] {
            if let Some(v) = t[field].as_str() {
                secrets.push(v.to_owned());
            }
        }
    }
    secrets.extend(cookies);
    for secret in &secrets {
        assert!(!output.contains(secret.as_str()), "a secret is in the log: {secret}");
    }
}
