//! What an anonymous client can send is bounded (issue 15, items 2, 3, 4, 6, 7 and 15):
//! each test replays an attack against an in-process server and checks the bound holds.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestServer, send, send_raw};
use crate::signin::{Browser, REDIRECT, auth_url, challenge, urlencode, world};

/// The test process's resident memory, in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// Pending sign-ins (live interactions) of the test server's default tenant.
async fn pending_interactions(t: &TestServer) -> i64 {
    let mut c = t.server.core.store.conn().await.unwrap();
    let tenant = kido_proto::TenantId::new("default");
    kido_store::oidc::count_live_interactions(&mut c, &tenant, kido_core::clock::now_ms()).await.unwrap()
}

/// Item 2: ever-new huge client ids at the token and authorization endpoints neither grow
/// memory (no cache entry for them) nor reach the database; each is a 400/401.
#[tokio::test]
async fn huge_unknown_client_ids_are_refused_without_growing_memory() {
    let t = TestServer::start().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let before = rss_bytes();
    let token_url = t.url("/oidc/token");
    let auth_url = t.url("/oidc/auth");
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..150 {
        let mut requests = Vec::new();
        for i in 0..10 {
            // 64 KiB in the Basic header; 60 KiB in a URL (http's URI length limit is 64 KiB).
            let size = if i % 2 == 0 { 64 * 1024 } else { 60 * 1024 };
            let client_id = format!("{round}-{i}-{}", "x".repeat(size));
            let http = http.clone();
            let (token_url, auth_url) = (token_url.clone(), auth_url.clone());
            requests.push(tokio::spawn(async move {
                let response = if i % 2 == 0 {
                    // In the Basic header: past every body and parameter limit, up to the lookup.
                    http.post(&token_url)
                        .basic_auth(&client_id, Some("secret"))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await
                } else {
                    http.get(format!("{auth_url}?client_id={client_id}&response_type=code")).send().await
                };
                response.unwrap().status().as_u16()
            }));
        }
        for r in requests {
            *statuses.entry(r.await.unwrap()).or_insert(0) += 1;
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    assert_eq!(statuses.values().sum::<i32>(), 1500);
    assert!(statuses.keys().all(|s| [400, 401].contains(s)), "{statuses:?}");
    assert_eq!(statuses.get(&401), Some(&750), "invalid_client at the token endpoint: {statuses:?}");
    assert!(grown < 150 << 20, "RSS grew by {} MiB", grown >> 20);

    // An id just over the limit is `invalid_client` too, from the body as from the header.
    let (status, body) = t.token(&[("grant_type", "client_credentials"), ("client_id", &"a".repeat(129))], None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let mut b = Browser::new(&t.url(""));
    let page = b.get(&format!("/oidc/auth?client_id={}&response_type=code", "a".repeat(129))).await;
    assert_eq!(page.status, 400, "{}", page.text);
    t.stop().await;
}

/// Item 3: long scope and resource lists are capped; duplicates cost linear time.
#[tokio::test]
async fn scope_resource_and_id_lists_are_capped() {
    let t = TestServer::start().await;
    let (indicator, app, secret) = t.m2m_app_with_scopes(&["read"]).await;
    let cc = |scope: String| {
        let (indicator, app, secret) = (indicator.clone(), app.clone(), secret.clone());
        let t = &t;
        async move {
            t.token(
                &[("grant_type", "client_credentials"), ("resource", &indicator), ("scope", &scope)],
                Some((&app, &secret)),
            )
            .await
        }
    };
    // 236 KB of one scope repeated: refused (too large a body), never de-duplicated.
    let (status, body) = cc(vec!["read"; 47_000].join(" ")).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "invalid_request");
    // Within the size limits, 101 distinct scopes are one too many.
    let many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
    let (status, body) = cc(many.join(" ")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    let (status, body) = cc("read read read".into()).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("read")), "{body}");

    // /oidc/auth: 101 resource indicators are an `invalid_target` sent back to the client.
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let resources: String =
        (0..101).map(|i| format!("&resource={}", urlencode(&format!("https://r{i}.test")))).collect();
    let r = b.get(&auth_url(&w.app, &resources)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.param("error").as_deref(), Some("invalid_target"), "{:?}", r.location);

    // Management API: 1,001 ids, or 40,000 copies of one, are a 400 `guard.invalid_input`.
    let (_, role) = t.api(Method::POST, "/api/roles", Some(json!({"name": "big", "description": "d"}))).await;
    let path = format!("/api/roles/{}/scopes", role["id"].as_str().unwrap());
    let distinct: Vec<String> = (0..1001).map(|i| format!("id{i}")).collect();
    let (status, body) = t.api(Method::POST, &path, Some(json!({"scopeIds": distinct}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    let (status, body) =
        t.api(Method::POST, &path, Some(json!({"scopeIds": vec!["aaaaaaaaaaaaaaaaaaaaa"; 40_000]}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    t.stop().await;
}

/// Item 4: the authorization endpoint bounds each parameter, the whole request and the
/// sign-ins one address may leave pending; the database stops growing.
#[tokio::test]
async fn authorization_requests_are_bounded_in_size_and_number() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = format!(
        "{}?client_id={}&redirect_uri={}&response_type=code&scope=openid&code_challenge={}&code_challenge_method=S256",
        t.url("/oidc/auth"),
        w.app,
        urlencode(REDIRECT),
        challenge("v".repeat(43).as_str())
    );
    // One parameter over 2 KiB, or a request over 8 KiB: a 400 page, nothing stored.
    let long_state = http.get(format!("{base}&state={}", "s".repeat(2049))).send().await.unwrap();
    assert_eq!(long_state.status(), 400);
    let filler: String = (0..5).map(|i| format!("&x{i}={}", "f".repeat(2000))).collect();
    let too_big = http.get(format!("{base}{filler}")).send().await.unwrap();
    assert_eq!(too_big.status(), 400);
    assert_eq!(pending_interactions(&t).await, 0);

    // 200 maximal requests from one address: 100 interactions, then 429.
    let maximal =
        format!("{base}&state={}&nonce={}&login_hint={}", "s".repeat(2000), "n".repeat(2000), "h".repeat(2000));
    assert!(maximal.len() > 6000);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..200 {
        let response = http.get(&maximal).send().await.unwrap();
        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&303), Some(&100), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&100), "{statuses:?}");
    assert_eq!(pending_interactions(&t).await, 100);
    if t.database.is_none() {
        let size: u64 = ["kido.db", "kido.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(t.dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum();
        assert!(size < 16 << 20, "database is {} MiB", size >> 20);
    }
    let refused = http.get(&maximal).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("too many sign-ins are pending"));
    t.stop().await;
}

/// Reads until the peer closes (Ok(true)) or `guard` passes (Ok(false)).
async fn closed_within(stream: &mut TcpStream, guard: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(guard, read).await.is_ok()
}

fn host_port(t: &TestServer) -> String {
    t.server.listener("default").unwrap().address.to_string()
}

/// Item 6: a connection that never finishes its headers is closed after the header-read
/// timeout, connections over the limit are closed at once, and stop() does not wait for a
/// stalled connection.
#[tokio::test]
async fn slow_and_surplus_connections_are_closed() {
    let t = TestServer::start_with(|c| {
        c.limits.header_read_timeout = Duration::from_secs(1);
        c.limits.shutdown_timeout = Duration::from_secs(1);
    })
    .await;
    let mut slow = TcpStream::connect(host_port(&t)).await.unwrap();
    slow.write_all(b"GET /api/status HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(15)).await, "the half-sent request is still held");
    t.stop().await;

    let t = TestServer::start_with(|c| {
        c.limits.header_read_timeout = Duration::from_secs(60);
        c.limits.max_connections = 3;
        c.limits.shutdown_timeout = Duration::from_secs(1);
    })
    .await;
    let address = host_port(&t);
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&address).await.unwrap();
        s.write_all(b"GET /api/status HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    // Well within the 60 s header timeout: the fourth is closed because of the limit.
    let mut surplus = TcpStream::connect(&address).await.unwrap();
    let _ = surplus.write_all(b"GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(closed_within(&mut surplus, Duration::from_secs(20)).await, "a connection over the limit was kept");
    // A slot freed is a slot served.
    drop(stalled.pop());
    let mut served = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(r) = reqwest::get(format!("http://{address}/api/status")).await {
            served = r.status() == 204 || r.status() == 200;
            if served {
                break;
            }
        }
    }
    assert!(served, "a freed slot was not reused");
    // stop() returns although two connections are stalled mid-headers.
    let stopped = tokio::time::timeout(Duration::from_secs(30), t.stop()).await;
    assert!(stopped.is_ok(), "stop() waited for stalled connections");
}

/// Item 7: one body limit for every route (413 in JSON), one password rule for the API and
/// the pages.
#[tokio::test]
async fn bodies_and_passwords_are_bounded_everywhere() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "")).await;
    let page = b.get(r.location.as_deref().unwrap()).await;
    let csrf = page.text.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();

    let huge = "p".repeat(1_900_000);
    let r = b
        .send(Method::POST, "/sign-in", None, Some(&[("csrf", &csrf), ("identifier", "alice"), ("password", &huge)]))
        .await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(200)]);
    assert_eq!(r.json()["code"], "request.entity_too_large");
    let r = b
        .api(
            Method::POST,
            "/verification/password",
            Some(json!({"identifier": {"type": "username", "value": "alice"}, "password": huge})),
        )
        .await;
    assert_eq!((r.status, r.json()["code"].as_str()), (413, Some("request.entity_too_large")));
    let token = t.management_token().await;
    let big_custom = json!({"username": "big", "customData": {"blob": "b".repeat(1_100_000)}});
    let (status, body) = send(Method::POST, &t.url("/api/users"), Some(&token), Some(big_custom)).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("request.entity_too_large")), "{body}");
    let (status, body) = send(
        Method::POST,
        &t.url("/api/users"),
        Some(&token),
        Some(json!({"username": "mid", "customData": {"blob": "b".repeat(200_000)}})),
    )
    .await;
    assert_eq!(status, 200, "a Management API body under 1 MiB is fine: {body}");

    // A 300-character password: the same 400 from the Experience API, the page and the
    // Management API, before any hashing.
    let long = "L".repeat(300);
    let r = b
        .api(
            Method::POST,
            "/verification/password",
            Some(json!({"identifier": {"type": "username", "value": "alice"}, "password": long})),
        )
        .await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("guard.invalid_input")), "{}", r.text);
    let page = b
        .send(Method::POST, "/sign-in", None, Some(&[("csrf", &csrf), ("identifier", "alice"), ("password", &long)]))
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    let (status, body) = t.api(Method::POST, "/api/users", Some(json!({"username": "long", "password": long}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    t.stop().await;
}

/// Item 15, search: more search parameters than the cap are a 400, not a 500.
#[tokio::test]
async fn too_many_search_parameters_are_a_400() {
    let t = TestServer::start().await;
    // Several values for one field are Logto's `exact` mode (any other mode takes one).
    let query: Vec<String> = (0..1001).map(|i| format!("search.name=n{i}")).collect();
    let (status, body) = t.api(Method::GET, &format!("/api/users?mode=exact&{}", query.join("&")), None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("request.invalid_input")), "{body}");
    let query: Vec<String> = (0..100).map(|i| format!("search=n{i}")).collect();
    let (status, body) = t.api(Method::GET, &format!("/api/users?mode=exact&{}", query.join("&")), None).await;
    assert_eq!(status, 200, "{body}");
    t.stop().await;
}

/// Item 15, email: exactly one `@`.
#[tokio::test]
async fn emails_have_exactly_one_at_sign() {
    let t = TestServer::start().await;
    let (status, body) = t.api(Method::POST, "/api/users", Some(json!({"primaryEmail": "a@evil.com@acme.com"}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    let (status, body) = t.api(Method::POST, "/api/users", Some(json!({"primaryEmail": "a@acme.com"}))).await;
    assert_eq!(status, 200, "{body}");
    t.stop().await;
}

/// P-384's group order (SEC 2), big-endian.
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

/// Item 15, ECDSA: the high-S twin of a valid Management API token is refused.
#[tokio::test]
async fn high_s_signatures_are_refused() {
    let t = TestServer::start().await;
    let token = t.management_token().await;
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 96, "ES384 by default");
    let n: Vec<u8> = (0..48).map(|i| u8::from_str_radix(&P384_N[2 * i..2 * i + 2], 16).unwrap()).collect();
    let mut twin = signature.clone();
    let mut borrow = 0i16;
    for i in (0..48).rev() {
        let mut v = i16::from(n[i]) - i16::from(signature[48 + i]) - borrow;
        borrow = i16::from(v < 0);
        if v < 0 {
            v += 256;
        }
        twin[48 + i] = v as u8;
    }
    let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&twin));
    let (status, _) = send(Method::GET, &t.url("/api/applications"), Some(&token), None).await;
    assert_eq!(status, 200);
    let (status, body) = send(Method::GET, &t.url("/api/applications"), Some(&forged), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")), "{body}");
    t.stop().await;
}

/// Item 15, numbers: integers are kept exactly, or refused when they cannot be.
#[tokio::test]
async fn custom_data_integers_stay_exact_or_are_refused() {
    let t = TestServer::start().await;
    let token = t.management_token().await;
    let url = t.url("/api/users");
    let raw = |body: String| {
        let token = token.clone();
        let url = url.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, user) = raw(r#"{"username": "n1", "customData": {"a": 9007199254740993, "b": 18446744073709551615, "c": -9223372036854775808}}"#.into()).await;
    assert_eq!(status, 200, "{user}");
    let (_, again) = t.api(Method::GET, &format!("/api/users/{}", user["id"].as_str().unwrap()), None).await;
    let data = &again["customData"];
    assert_eq!(
        (data["a"].as_u64(), data["b"].as_u64(), data["c"].as_i64()),
        (Some(9007199254740993), Some(u64::MAX), Some(i64::MIN)),
        "{data}"
    );
    let (status, body) = raw(r#"{"username": "n2", "customData": {"a": 123456789012345678901234567890}}"#.into()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{body}");
    t.stop().await;
}

/// Item 15, content types: a JSON route refuses a body that is not declared JSON.
#[tokio::test]
async fn json_routes_require_a_json_content_type() {
    let t = TestServer::start().await;
    let token = t.management_token().await;
    let body = r#"{"name": "app", "type": "MachineToMachine"}"#;
    let post = |content_type: &'static str| {
        let token = token.clone();
        let url = t.url("/api/applications");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, answer) = post("text/plain").await;
    assert_eq!((status, answer["code"].as_str()), (415, Some("request.unsupported_media_type")), "{answer}");
    assert_eq!(post("application/json; charset=utf-8").await.0, 200);
    assert_eq!(post("application/merge-patch+json").await.0, 200);
    // A bodiless request needs no content type.
    let r = send_raw(Method::GET, &t.url("/api/applications"), Some(&token), None).await;
    assert_eq!(r.status(), 200);
    t.stop().await;
}

/// Item 4, under a parallel burst: the per-address bound is exact (counted and inserted
/// under one lock per address on PostgreSQL, one writer at a time on SQLite).
#[tokio::test]
async fn pending_interaction_bound_holds_under_a_parallel_burst() {
    let t = TestServer::start_with(|c| c.limits.max_pending_interactions_per_ip = 20).await;
    let w = world(&t).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = t.url(&auth_url(&w.app, ""));
    let burst: Vec<_> = (0..120)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for r in burst {
        *statuses.entry(r.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&303), Some(&20), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&100), "{statuses:?}");
    assert_eq!(pending_interactions(&t).await, 20);
    t.stop().await;
}
