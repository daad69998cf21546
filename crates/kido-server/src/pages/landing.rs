//! `GET /` on each port: for someone who opens the server's address in a browser, a small
//! page naming the tenant and linking what there is to see; an API client that asks for
//! JSON (and not HTML) keeps the JSON 404 every unknown path answers.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::view::View;
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage<'a> {
    v: &'a View,
    title: &'a str,
    tenant: &'a str,
    issuer: String,
}

pub async fn landing_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if wants_json(&headers) {
        return ApiError::route_not_found("/").into_response();
    }
    let view = View::new(&app, &headers, None, None).await;
    let page = LandingPage {
        v: &view,
        title: "Kido",
        tenant: app.tenant.id().as_str(),
        issuer: format!("{}/oidc", app.tenant.origin),
    };
    view.render(StatusCode::OK, &page)
}

/// JSON is asked for and HTML is not (a browser's `Accept` names `text/html`; `*/*` and no
/// `Accept` get the page).
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    accept.contains("application/json") && !accept.contains("text/html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_only_when_asked_for_without_html() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, accept.parse().unwrap());
            wants_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON, */*;q=0.1"));
        assert!(!with("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        assert!(!with("*/*"));
        assert!(!wants_json(&HeaderMap::new()));
    }
}
