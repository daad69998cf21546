//! The hosted pages: sign-in, registration, consent, logout and errors, rendered on the server and
//! working without JavaScript. Forms call the same domain functions as the Experience
//! API, so there is one implementation of the rules. The account pages (`account*.rs`, a
//! signed-in user's own account at `/account`) call the Account API's the same way.

mod account;
mod account_mfa;
mod account_texts;
mod codes;
mod consent;
mod demo_app;
mod form_error;
mod forms;
mod i18n;
mod landing;
mod magic_link;
mod mfa;
mod palette;
mod passkey;
mod request;
mod view;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use kido_core::oidc::logout::{LogoutPrompt, LogoutRequest};

use i18n::Texts;
use view::View;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/sign-in", get(forms::sign_in_page).post(forms::sign_in_submit))
        .route("/register", get(forms::register_page).post(forms::register_submit))
        .route("/consent", get(consent::consent_page).post(consent::consent_submit))
        .route("/", get(landing::landing_page));
    account_mfa::routes(account::routes(magic_link::routes(passkey::routes(demo_app::routes(mfa::routes(
        codes::routes(router),
    ))))))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    v: &'a View,
    title: &'a str,
    lead: &'a str,
    error: &'a str,
    description: &'a str,
    back: Option<String>,
}

/// Kido's error page (for requests that cannot be sent back to the client).
pub async fn error_page(
    app: &AppState,
    headers: &HeaderMap,
    ui_locales: Option<&str>,
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response {
    let view = View::new(app, headers, ui_locales, None).await;
    let t = view.t();
    let lead = if error == "session_not_found" { t.session_lost } else { t.request_invalid };
    let back = view.way_back(Some(headers));
    view.render(status, &ErrorPage { v: &view, title: t.error_title, lead, error, description, back })
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    hidden: Vec<(&'static str, &'a str)>,
}

/// The logout confirmation (a form; Kido does not sign users out on a plain GET).
pub async fn logout_page(
    app: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
    request: &LogoutRequest,
    prompt: &LogoutPrompt,
) -> Response {
    let ui_locales = params.iter().find(|(k, _)| k == "ui_locales").map(|(_, v)| v.as_str());
    let view = View::new(app, headers, ui_locales, prompt.client_name.clone()).await;
    let t = view.t();
    let fields = [
        ("xsrf", prompt.xsrf.as_deref()),
        ("client_id", prompt.client_id.as_deref()),
        ("post_logout_redirect_uri", request.post_logout_redirect_uri.as_deref()),
        ("state", request.state.as_deref()),
        ("ui_locales", ui_locales),
    ];
    let hidden = fields.into_iter().filter_map(|(name, value)| value.map(|v| (name, v))).collect();
    view.render(StatusCode::OK, &LogoutPage { v: &view, t, title: t.logout_title, hidden })
}

pub async fn signed_out_page(app: &AppState, headers: &HeaderMap) -> Response {
    let view = View::new(app, headers, None, None).await;
    let t = view.t();
    view.message(StatusCode::OK, t.logout_title, t.signed_out, false)
}
