//! The one place event lines are written: sign-in success and failure, token issued,
//! lockout (reported by the domain through `kido_core::events`) and Management API changes
//! (seen here, around the Management API's routes). Each is one `info` line with the fields
//! `event`, `tenant`, `client_id`, `user_id` (when known) and `request_id`, and never a
//! secret, code, password, token, cookie or typed identifier: only ids and classes are
//! given to it. The same events move the Prometheus counters when metrics are on.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use kido_core::events::{Event, EventSink, SignInOutcome};
use kido_proto::TenantId;
use tracing::field::display;

use crate::metrics::Metrics;
use crate::request_id;

/// The domain's events: a log line each, and a count when metrics are on.
#[derive(Debug, Default)]
pub struct ServerEvents {
    metrics: Option<Arc<Metrics>>,
}

impl ServerEvents {
    pub fn new(metrics: Option<Arc<Metrics>>) -> Self {
        Self { metrics }
    }
}

impl EventSink for ServerEvents {
    fn record(&self, event: &Event<'_>) {
        let request_id = request_id::current().map(display);
        match *event {
            Event::SignIn { tenant, client_id, user_id, flow, outcome: SignInOutcome::Success } => tracing::info!(
                event = "sign_in",
                result = "success",
                flow = flow.as_str(),
                tenant = %tenant,
                client_id,
                user_id,
                request_id,
                "sign-in succeeded"
            ),
            Event::SignIn { tenant, client_id, user_id, flow, outcome: SignInOutcome::Failure(reason) } => {
                tracing::info!(
                    event = "sign_in",
                    result = "failure",
                    reason = reason.as_str(),
                    flow = flow.as_str(),
                    tenant = %tenant,
                    client_id,
                    user_id,
                    request_id,
                    "sign-in failed"
                )
            }
            Event::TokenIssued { tenant, client_id, user_id, grant } => tracing::info!(
                event = "token_issued",
                grant_type = grant.as_str(),
                tenant = %tenant,
                client_id,
                user_id,
                request_id,
                "token issued"
            ),
            Event::Lockout { tenant, client_id, user_id, minutes } => tracing::info!(
                event = "lockout",
                minutes,
                tenant = %tenant,
                client_id,
                user_id,
                request_id,
                "identifier locked after repeated failures"
            ),
        }
        if let Some(metrics) = &self.metrics {
            metrics.record(event);
        }
    }
}

/// Who made the Management API call this task is answering, once its token is checked.
struct Caller {
    tenant: TenantId,
    client_id: String,
}

tokio::task_local! {
    /// Set only around a Management API request that may change something.
    static CALLER: RefCell<Option<Caller>>;
}

/// Called by the Management API's token check: remembers the caller when the request may
/// change something (nothing is kept, nor allocated, for reads).
pub fn note_management_caller(tenant: &TenantId, client_id: &str) {
    let _ = CALLER.try_with(|caller| {
        caller.replace(Some(Caller { tenant: tenant.clone(), client_id: client_id.to_owned() }));
    });
}

/// Around the Management API's routes: a request that may change something (not GET, HEAD
/// or OPTIONS) and whose token was accepted gets one line with its method, route template,
/// status and caller.
pub async fn management_changes(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let (response, caller) = CALLER
        .scope(RefCell::new(None), async {
            let response = next.run(request).await;
            (response, CALLER.try_with(RefCell::take).ok().flatten())
        })
        .await;
    if let Some(Caller { tenant, client_id }) = caller {
        tracing::info!(
            event = "management_change",
            method = %method,
            route = route.as_ref().map_or("unmatched", MatchedPath::as_str),
            status = response.status().as_u16(),
            tenant = %tenant,
            client_id,
            request_id = request_id::current().map(display),
            "management API change"
        );
    }
    response
}
