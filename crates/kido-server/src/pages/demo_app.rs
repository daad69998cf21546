//! The Live Preview app (`/demo-app`): a page that signs in with the built-in `demo-app`
//! client (authorization code + PKCE, in the browser) and then shows the developer panel —
//! the ID token's claims, userinfo, an access token for a resource, an organization token
//! and sign-out. The page is markup only; its script is a static file of this origin, so
//! the policy allows scripts and connections from `'self'` alone.

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::view::View;
use crate::state::AppState;

const SCRIPT: &str = include_str!("../../templates/demo_app.js");

/// Scripts and fetches from this origin only; no framing, no plugins, no other origins.
const POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src https: http: data:; \
    style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router.route("/demo-app", get(page)).route("/demo-app/app.js", get(script))
}

#[derive(Template)]
#[template(path = "demo_app.html")]
struct DemoAppPage<'a> {
    v: &'a View,
    title: &'a str,
}

async fn page(app: axum::extract::State<AppState>, headers: HeaderMap) -> Response {
    let view = View::new(&app, &headers, None, Some("Live Preview".to_owned())).await;
    view.render_with_policy(
        StatusCode::OK,
        &DemoAppPage { v: &view, title: "Live Preview" },
        HeaderValue::from_static(POLICY),
    )
}

async fn script() -> Response {
    let mut response = SCRIPT.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
