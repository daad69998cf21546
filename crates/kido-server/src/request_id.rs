//! `logto-core-request-id`: every response names its request, as Logto's do, so a client
//! can quote it and an operator can find it in the logs.
//!
//! Ids are a per-process random prefix and a counter: unique across nodes and restarts,
//! and one atomic add per request (no random draw on the hot paths).

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: HeaderName = HeaderName::from_static("logto-core-request-id");

static PREFIX: LazyLock<String> = LazyLock::new(kido_core::ids::new_short_id);
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A new request id: 12 random lowercase alphanumerics, `-`, a hexadecimal counter.
fn next_id() -> HeaderValue {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let id = format!("{}-{n:x}", *PREFIX);
    // Alphanumerics and `-` only: always a valid header value.
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown"))
}

pub async fn tag(request: Request, next: Next) -> Response {
    let id = next_id();
    tracing::trace!(request_id = ?id, method = %request.method(), path = request.uri().path(), "request");
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, id);
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_valid_header_values() {
        let a = super::next_id();
        let b = super::next_id();
        assert_ne!(a, b);
        assert!(a.to_str().unwrap().len() >= 14);
    }
}
