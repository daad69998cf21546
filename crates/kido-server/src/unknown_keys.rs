//! Keys of a JSON body that no field of the route's body takes. Logto's guards drop them
//! silently (zod's default), and refusing them would break Logto clients that send more than
//! a route reads; dropping them silently hides mistakes such as a top-level `redirectUris` on
//! `POST /api/applications`. So they are accepted and named: a `Warning: 299` response header
//! (RFC 9110's format, meant for a person reading the response) and a log line.
//!
//! `strict_json` notes each such key while the body is read; the collector lives for one
//! request (a task-local set by [`report`], the middleware of the JSON routes).

use std::cell::RefCell;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static UNKNOWN: RefCell<Vec<String>>;
}

/// Keys named per request, and characters per key: the header and the log line stay small
/// whatever a client sends.
const MAX_KEYS: usize = 10;
const MAX_KEY_CHARS: usize = 64;

/// Notes `key` (no field takes it) for the request being served; outside one, nothing.
pub fn note(key: &str) {
    let _ = UNKNOWN.try_with(|keys| {
        let mut keys = keys.borrow_mut();
        // Safe in a header and a log line: visible ASCII without quotes or backslashes.
        let key: String = key
            .chars()
            .take(MAX_KEY_CHARS)
            .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '?' })
            .collect();
        if keys.len() < MAX_KEYS && !keys.contains(&key) {
            keys.push(key);
        }
    });
}

/// Runs the request with a collector; when its body had keys no field takes, says so in a
/// `Warning` header and logs them with the method and path (never their values).
pub async fn report(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    UNKNOWN
        .scope(RefCell::new(Vec::new()), async move {
            let mut response = next.run(request).await;
            let keys = UNKNOWN.with(|keys| keys.take());
            if !keys.is_empty() {
                let keys = keys.join(", ");
                tracing::info!(%method, path = uri.path(), keys, "ignored JSON body keys that no field takes");
                let warning = format!("299 kido \"ignored unknown keys: {keys}\"");
                if let Ok(value) = HeaderValue::from_str(&warning) {
                    response.headers_mut().append(header::WARNING, value);
                }
            }
            response
        })
        .await
}
