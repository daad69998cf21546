//! Password sign-in load: each flow is a new browser (no cookies) walking Logto's path —
//! `/oidc/auth` → Experience API (password verification, identification, submit) →
//! redirects back to the app with a code → code exchange with PKCE at `/oidc/token`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Method};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct Options {
    /// Kido's user-tenant endpoint, e.g. http://127.0.0.1:3001.
    #[arg(long)]
    endpoint: String,
    /// A Management API access token (to create the app and the users).
    #[arg(long)]
    mapi_token: String,
    /// Flows running at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    /// Users to create and sign in with, round robin.
    #[arg(long, default_value_t = 64)]
    users: usize,
}

const REDIRECT_URI: &str = "http://127.0.0.1/bench-callback";
const PASSWORD: &str = "Bench-correct-horse-42";
const VERIFIER: &str = "bench-pkce-verifier-0123456789-abcdefghijklmnopq";

struct Setup {
    app_id: String,
    app_secret: String,
    usernames: Vec<String>,
}

pub async fn run(o: Options) -> Result<Value, String> {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(o.concurrency * 2)
        .build()
        .map_err(|e| e.to_string())?;
    let setup_started = Instant::now();
    let setup = Arc::new(set_up(&http, &o).await?);
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(o.seconds);
    let mut workers = Vec::new();
    for w in 0..o.concurrency {
        let (http, setup, endpoint) = (http.clone(), setup.clone(), o.endpoint.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            let mut i = w;
            while Instant::now() < deadline {
                let username = &setup.usernames[i % setup.usernames.len()];
                i += o.concurrency;
                let t = Instant::now();
                match flow(&http, &endpoint, &setup, username).await {
                    Ok(()) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => errors.push(e),
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for worker in workers {
        let (l, e) = worker.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors.extend(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "flows": latencies.len(),
        "flows_per_sec": (latencies.len() as f64 / elapsed * 10.0).round() / 10.0,
        "p50_ms": (crate::percentile(&latencies, 50.0) * 10.0).round() / 10.0,
        "p99_ms": (crate::percentile(&latencies, 99.0) * 10.0).round() / 10.0,
        "errors": errors.len(),
        "first_error": errors.first(),
        "concurrency": o.concurrency,
        "setup_seconds": (setup_seconds * 10.0).round() / 10.0,
    }))
}

async fn mapi(http: &Client, o: &Options, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
    let mut request = http.request(method, format!("{}{path}", o.endpoint)).bearer_auth(&o.mapi_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.map_err(|e| format!("{path}: {e}"))?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{path}: {status} {body}"));
    }
    Ok(body)
}

async fn set_up(http: &Client, o: &Options) -> Result<Setup, String> {
    let app = mapi(
        http,
        o,
        Method::POST,
        "/api/applications",
        Some(json!({"name": "bench sign-in", "type": "Traditional",
               "oidcClientMetadata": {"redirectUris": [REDIRECT_URI], "postLogoutRedirectUris": []}})),
    )
    .await?;
    let field = |v: &Value, k: &str| v[k].as_str().map(str::to_owned).ok_or_else(|| format!("no {k} in {v}"));
    let app_id = field(&app, "id")?;
    let secrets = mapi(http, o, Method::GET, &format!("/api/applications/{app_id}/secrets"), None).await?;
    let app_secret = field(&secrets[0], "value")?;
    // A run prefix keeps usernames unique when the same server is benchmarked twice.
    let run = format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
    );
    let mut usernames = Vec::new();
    for i in 0..o.users.max(1) {
        let username = format!("bench_{run}_{i}");
        mapi(http, o, Method::POST, "/api/users", Some(json!({"username": username, "password": PASSWORD}))).await?;
        usernames.push(username);
    }
    Ok(Setup { app_id, app_secret, usernames })
}

/// One cookie jar: a browser that never follows redirects by itself.
struct Browser<'a> {
    http: &'a Client,
    base: &'a str,
    jar: HashMap<String, String>,
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Browser<'_> {
    async fn send(&mut self, method: Method, url: &str, body: Option<Value>) -> Result<Reply, String> {
        let url = if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.base) };
        let mut request = self.http.request(method, &url);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(COOKIE, cookies.join("; "));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        for c in response.headers().get_all(SET_COOKIE) {
            let Ok(c) = c.to_str() else { continue };
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || attrs.contains("Max-Age=0") {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Reply { status, location, body })
    }

    async fn expect(&mut self, method: Method, url: &str, body: Option<Value>, status: u16) -> Result<Reply, String> {
        let reply = self.send(method, url, body).await?;
        if reply.status != status {
            return Err(format!("{url}: {} (expected {status}) {}", reply.status, reply.body));
        }
        Ok(reply)
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn flow(http: &Client, endpoint: &str, setup: &Setup, username: &str) -> Result<(), String> {
    let mut b = Browser { http, base: endpoint, jar: HashMap::new() };
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, VERIFIER.as_bytes()));
    let auth = format!(
        "/oidc/auth?client_id={}&redirect_uri={}&response_type=code&scope=openid%20offline_access%20profile&prompt=consent&state=bench&code_challenge={challenge}&code_challenge_method=S256",
        setup.app_id,
        encode(REDIRECT_URI)
    );
    b.expect(Method::GET, &auth, None, 303).await?;
    b.expect(Method::PUT, "/api/experience", Some(json!({"interactionEvent": "SignIn"})), 204).await?;
    let verified = b
        .expect(
            Method::POST,
            "/api/experience/verification/password",
            Some(json!({"identifier": {"type": "username", "value": username}, "password": PASSWORD})),
            200,
        )
        .await?;
    let verification_id = verified.body["verificationId"].as_str().ok_or("no verificationId")?.to_owned();
    b.expect(Method::POST, "/api/experience/identification", Some(json!({"verificationId": verification_id})), 204)
        .await?;
    let submitted = b.expect(Method::POST, "/api/experience/submit", None, 200).await?;
    let mut next = submitted.body["redirectTo"].as_str().ok_or("no redirectTo")?.to_owned();
    let code = loop {
        if next.starts_with(REDIRECT_URI) {
            let url = url::Url::parse(&next).map_err(|e| e.to_string())?;
            break url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).ok_or("no code")?;
        }
        let reply = b.send(Method::GET, &next, None).await?;
        next = match (reply.status / 100, reply.location) {
            (3, Some(location)) => location,
            _ => return Err(format!("{next}: {} without a redirect", reply.status)),
        };
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let r = http
        .post(format!("{endpoint}/oidc/token"))
        .basic_auth(&setup.app_id, Some(&setup.app_secret))
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("token: {} {}", r.status(), r.text().await.unwrap_or_default()));
    }
    let tokens: Value = r.json().await.map_err(|e| e.to_string())?;
    if tokens["id_token"].as_str().is_none() || tokens["refresh_token"].as_str().is_none() {
        return Err(format!("token response without id_token/refresh_token: {tokens}"));
    }
    Ok(())
}
