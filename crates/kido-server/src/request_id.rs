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

tokio::task_local! {
    /// The number of the request the current task is answering (see [`current`]).
    static CURRENT: u64;
}

/// A request's id: formatted only when shown (a header, a log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u64);

impl std::fmt::Display for RequestId {
    /// 12 random lowercase alphanumerics, `-`, a hexadecimal counter.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:x}", *PREFIX, self.0)
    }
}

impl RequestId {
    fn next() -> Self {
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    fn header_value(self) -> HeaderValue {
        // Alphanumerics and `-` only: always a valid header value.
        HeaderValue::from_str(&self.to_string()).unwrap_or(HeaderValue::from_static("unknown"))
    }
}

/// The id of the request the calling task is answering, if it is answering one (the
/// handlers and the domain code they call run on the request's task).
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(|n| RequestId(*n)).ok()
}

pub async fn tag(request: Request, next: Next) -> Response {
    let id = RequestId::next();
    tracing::trace!(request_id = %id, method = %request.method(), path = request.uri().path(), "request");
    let mut response = CURRENT.scope(id.0, next.run(request)).await;
    response.headers_mut().insert(HEADER, id.header_value());
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_valid_header_values() {
        let a = super::RequestId::next().header_value();
        let b = super::RequestId::next().header_value();
        assert_ne!(a, b);
        assert!(a.to_str().unwrap().len() >= 14);
    }
}
