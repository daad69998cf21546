//! Prometheus metrics, served as `GET /metrics` on a listener of their own
//! (`KIDO_METRICS_PORT`), never on the public ports. Counted as things happen: requests per
//! route template (axum's `MatchedPath`, so label values are bounded by the routes),
//! method and status, with their latency; tokens by grant type; sign-ins by result and
//! reason class; lockouts. Read at scrape time from the domain (`kido_core::usage`): the
//! password hashing queue, the database pool, the audit queue and the caches' hits.
//! Without `KIDO_METRICS_PORT` nothing is recorded (the request layer is not installed).

use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kido_core::Core;
use kido_core::events::{Event, SignInOutcome};
use kido_proto::TenantId;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::errors::ApiError;

/// Request latency buckets (seconds): 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A route template: the `MatchedPath` (an `Arc` inside, cloned without copying the text),
/// or `unmatched` for requests no route took (so arbitrary paths never become labels).
#[derive(Debug, Clone)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    tenant: Arc<String>,
    method: &'static str,
    route: Route,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TokenLabels {
    tenant: Arc<String>,
    grant_type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SignInLabels {
    tenant: Arc<String>,
    flow: &'static str,
    result: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TenantLabels {
    tenant: Arc<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// The process's counters (one per process, shared by every listener).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    sign_ins: Family<SignInLabels, Counter>,
    lockouts: Family<TenantLabels, Counter>,
    /// Each tenant's label value, made once: counting an event allocates nothing.
    tenants: RwLock<Vec<Arc<String>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let tokens = Family::<TokenLabels, Counter>::default();
        let sign_ins = Family::<SignInLabels, Counter>::default();
        let lockouts = Family::<TenantLabels, Counter>::default();
        let mut registry = Registry::with_prefix("kido");
        registry.register(
            "http_request_duration_seconds",
            "Requests answered, by tenant, method, route template and status, and how long they took (its _count is the request count)",
            requests.clone(),
        );
        registry.register("tokens_issued", "Tokens issued by the token endpoint, by grant type", tokens.clone());
        registry.register(
            "sign_ins",
            "Sign-in steps by result and reason class (success: the user is signed in; failure: a credential check failed)",
            sign_ins.clone(),
        );
        registry.register("lockouts", "Identifiers locked after repeated failed sign-ins", lockouts.clone());
        Self { registry, requests, tokens, sign_ins, lockouts, tenants: RwLock::default() }
    }

    /// The label value of `tenant` (tenants are the server's, not the clients': few).
    fn tenant(&self, tenant: &TenantId) -> Arc<String> {
        let known = |tenants: &[Arc<String>]| tenants.iter().find(|t| t.as_str() == tenant.as_str()).cloned();
        if let Some(label) = self.tenants.read().ok().and_then(|t| known(&t)) {
            return label;
        }
        let Ok(mut tenants) = self.tenants.write() else { return Arc::new(tenant.to_string()) };
        known(&tenants).unwrap_or_else(|| {
            let label = Arc::new(tenant.to_string());
            tenants.push(label.clone());
            label
        })
    }

    /// Counts a domain event (`events.rs` calls this for every event it logs).
    pub fn record(&self, event: &Event<'_>) {
        match *event {
            Event::SignIn { tenant, flow, outcome, .. } => {
                let (result, reason) = match outcome {
                    SignInOutcome::Success => ("success", "none"),
                    SignInOutcome::Failure(reason) => ("failure", reason.as_str()),
                };
                let labels = SignInLabels { tenant: self.tenant(tenant), flow: flow.as_str(), result, reason };
                self.sign_ins.get_or_create(&labels).inc();
            }
            Event::TokenIssued { tenant, grant, .. } => {
                let labels = TokenLabels { tenant: self.tenant(tenant), grant_type: grant.as_str() };
                self.tokens.get_or_create(&labels).inc();
            }
            Event::Lockout { tenant, .. } => {
                self.lockouts.get_or_create(&TenantLabels { tenant: self.tenant(tenant) }).inc();
            }
        }
    }

    /// The exposition text: what was counted, then the domain's state as of now.
    fn render(&self, core: &Core) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_text::encode(&mut text, &self.registry)?;
        prometheus_text::encode(&mut text, &usage_registry(core))?;
        Ok(text)
    }
}

/// The request layer of one listener: its tenant and the process's counters.
#[derive(Clone)]
pub struct RequestRecorder {
    metrics: Arc<Metrics>,
    tenant: Arc<String>,
}

impl RequestRecorder {
    pub fn new(metrics: Arc<Metrics>, tenant: &TenantId) -> Self {
        Self { tenant: metrics.tenant(tenant), metrics }
    }
}

/// Observes every request of a listener: one read-locked map lookup (no allocation once a
/// route, method and status have been seen) and one histogram update.
pub async fn record_request(State(recorder): State<RequestRecorder>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = Route(request.extensions().get::<MatchedPath>().cloned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let labels = RequestLabels { tenant: recorder.tenant.clone(), method, route, status: response.status().as_u16() };
    recorder.metrics.requests.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// Standard methods by name; any other (clients may send any token) is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The metrics listener: `GET /metrics`, and 404 for anything else.
pub fn router(metrics: Arc<Metrics>, core: Arc<Core>) -> Router {
    Router::new().route("/metrics", get(scrape)).fallback(not_found).with_state((metrics, core))
}

async fn scrape(State((metrics, core)): State<(Arc<Metrics>, Arc<Core>)>) -> Response {
    match metrics.render(&core) {
        Ok(text) => ([(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)], text).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "guard.route_not_found", "This listener serves GET /metrics only.")
        .into_response()
}

/// The domain's queues, pool and caches, read now.
fn usage_registry(core: &Core) -> Registry {
    let usage = core.usage();
    let gauge = |n: usize| ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
    let mut registry = Registry::with_prefix("kido");
    registry.register(
        "password_hash_queue_depth",
        "Password checks admitted to the argon2 pool and not finished (running or waiting)",
        gauge(usage.password_jobs),
    );
    registry.register(
        "password_hash_queue_capacity",
        "Password checks the argon2 pool admits at once (threads + queue); beyond: 503",
        gauge(usage.password_capacity),
    );
    registry.register(
        "password_hashes",
        "argon2 and imported-digest jobs run",
        ConstCounter::new(usage.passwords_hashed),
    );
    let in_use = usage.db_connections.saturating_sub(usage.db_idle);
    let pool = vec![
        (PoolLabels { state: "idle" }, ConstGauge::new(i64::from(usage.db_idle))),
        (PoolLabels { state: "in_use" }, ConstGauge::new(i64::from(in_use))),
    ];
    registry.register("db_pool_connections", "Open database connections by state", ConstFamily(pool));
    registry.register("db_pool_max_connections", "The database pool's bound", ConstGauge::new(i64::from(usage.db_max)));
    registry.register(
        "audit_queue_entries",
        "Audit entries waiting for the background writer",
        gauge(usage.audit_queued),
    );
    registry.register(
        "audit_entries_dropped",
        "Audit entries dropped (queue full or write refused)",
        ConstCounter::new(usage.audit_dropped),
    );
    let caches = usage.caches.iter().flat_map(|c| {
        [
            (CacheLabels { cache: c.name, result: "hit" }, ConstCounter::new(c.hits)),
            (CacheLabels { cache: c.name, result: "miss" }, ConstCounter::new(c.misses)),
        ]
    });
    registry.register("cache_lookups", "Cache lookups by cache and result", ConstFamily(caches.collect()));
    registry.register(
        "log_lines_dropped",
        "Log lines dropped because stdout did not keep up",
        ConstCounter::new(crate::logging::lines_dropped()),
    );
    registry
}

/// Metrics of one family read at scrape time, each with its labels.
#[derive(Debug)]
struct ConstFamily<S, M>(Vec<(S, M)>);

impl<S, M> EncodeMetric for ConstFamily<S, M>
where
    S: EncodeLabelSet,
    M: EncodeMetric + TypedMetric,
{
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, metric) in &self.0 {
            metric.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded_and_events_are_counted() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(Route(None).as_str(), "unmatched");

        let metrics = Metrics::new();
        let tenant = TenantId::new("default");
        let issued = Event::TokenIssued {
            tenant: &tenant,
            client_id: "app",
            user_id: None,
            grant: kido_core::events::GrantType::RefreshToken,
        };
        metrics.record(&issued);
        metrics.record(&issued);
        assert!(Arc::ptr_eq(&metrics.tenant(&tenant), &metrics.tenant(&tenant)), "one label value per tenant");
        let mut text = String::new();
        prometheus_text::encode(&mut text, &metrics.registry).unwrap();
        assert!(text.contains("kido_tokens_issued_total{tenant=\"default\",grant_type=\"refresh_token\"} 2"), "{text}");
    }
}
