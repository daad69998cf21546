//! `/consent`: the consent prompt after a sign-in (Logto's route). First-party clients are
//! answered for the user (303 back to `/oidc/auth/{uid}`); a third-party client's user sees
//! the scopes it asks for and allows or denies.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::experience::consent::{ConsentInfo, ConsentStep};

use super::i18n::Texts;
use super::request::{Posted, carry_query, csrf_token, failure, open_post};
use super::view::View;
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    app_name: &'a str,
    user: &'a str,
    scopes: Vec<String>,
    csrf: String,
    query: String,
}

fn query_param<'a>(query: &'a Option<String>, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    let query = query.as_deref()?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v)
}

pub async fn consent_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let app_id = query_param(&query, "app_id");
    match app.core.hosted_experience().consent_prompt(&app.tenant.context, &cookie, app_id.as_deref()).await {
        Ok(ConsentStep::Answered(next)) => Redirect::to(&next).into_response(),
        Ok(ConsentStep::Ask(info)) => render(&app, &headers, &info, &query).await,
        Err(e) => {
            let view = View::new(&app, &headers, None, None).await;
            let (status, text) = failure(&view, e);
            view.message(status, view.t().error_title, text.text, true)
        }
    }
}

async fn render(app: &AppState, headers: &HeaderMap, info: &ConsentInfo, query: &Option<String>) -> Response {
    let app_name = info.application["name"].as_str().unwrap_or_default();
    let view = View::new(app, headers, info.ui_locales.as_deref(), Some(app_name.to_owned())).await;
    let user = ["username", "primaryEmail", "primaryPhone", "name", "id"]
        .iter()
        .find_map(|k| info.user[*k].as_str())
        .unwrap_or_default();
    let t = view.t();
    let page = ConsentPage {
        v: &view,
        t,
        title: t.consent_title,
        app_name,
        user,
        scopes: info.scope_lines(),
        csrf: csrf_token(&info.interaction_id),
        query: carry_query(query),
    };
    view.render(StatusCode::OK, &page)
}

/// The page's Allow / Deny.
pub async fn consent_submit(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Posted { interaction, view, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let granted = match form.get("decision") {
        "allow" => true,
        "deny" => false,
        _ => return view.message(StatusCode::BAD_REQUEST, view.t().error_title, view.t().request_invalid, true),
    };
    let x = app.core.hosted_experience();
    match x.answer_consent(&app.tenant.context, &cookie, &interaction, granted, Vec::new()).await {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => {
            let (status, text) = failure(&view, e);
            view.message(status, view.t().error_title, text.text, true)
        }
    }
}
