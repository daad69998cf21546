//! The landing of a magic link (Logto's `/one-time-token`): an app sends the browser to
//! `/oidc/auth?…&one_time_token=…&login_hint=<email>`, the sign-in page hands the token here,
//! and the token is spent for that email: the user is signed in, or registered (joining the
//! token's organizations at submit), with nothing to type. An expired, used or foreign token
//! shows why, with a way to sign in normally. The token goes no further than this page: later
//! URLs carry the query without it, and no response lets it out as a referrer.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::experience::{
    ExperienceError, Identifier, IdentifierType, InteractionCookie, InteractionEvent, terms_required,
};
use kido_core::one_time_tokens::OneTimeTokenError;
use kido_proto::sign_in_experience::SignInMode;

use super::form_error::{Failure, Field, FormError};
use super::i18n::Texts;
use super::mfa;
use super::request::{Posted, carry_query, failure, open, open_post};
use super::view::{Terms, View};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

pub const PATH: &str = "/one-time-token";

const TOKEN_PARAM: &str = "one_time_token";

/// Longest token and email a link may carry (tokens Kido issues are far shorter).
const MAX_TOKEN_LEN: usize = 256;
const MAX_EMAIL_LEN: usize = 320;

pub fn routes(router: axum::Router<AppState>) -> axum::Router<AppState> {
    router.route(PATH, axum::routing::get(landing).post(confirm))
}

/// The sign-in page's answer to a query with a one-time token: on to the landing, as Logto's
/// sign-in page does.
pub fn hand_over(query: &Option<String>) -> Option<Response> {
    let query = query.as_deref()?;
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == TOKEN_PARAM).then(|| {
        let mut response = Redirect::to(&format!("{PATH}?{query}")).into_response();
        private(response.headers_mut());
        response
    })
}

/// No caching and no referrer: the URL holds a bearer token.
fn private(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// A magic link's token and the email it was issued for.
struct Link {
    token: String,
    email: String,
}

impl Link {
    fn of(token: &str, email: &str) -> Option<Self> {
        let (token, email) = (token.trim(), email.trim());
        let fits = |v: &str, max: usize| !v.is_empty() && v.len() <= max;
        (fits(token, MAX_TOKEN_LEN) && fits(email, MAX_EMAIL_LEN))
            .then(|| Self { token: token.to_owned(), email: email.to_owned() })
    }

    fn from_query(query: &Option<String>) -> Option<Self> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect();
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str());
        Self::of(get(TOKEN_PARAM), get("login_hint"))
    }
}

/// The query the next pages carry: this one without the token.
fn without_token(query: &Option<String>) -> String {
    let rest: Vec<(String, String)> = url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, _)| k != TOKEN_PARAM)
        .collect();
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
    carry_query(&Some(encoded))
}

/// Whether the user must tick "I agree" first: before the token is spent, since the token
/// cannot be spent twice (a sign-in or a registration may follow, so either policy counts).
fn needs_agreement(view: &View) -> bool {
    terms_required(&view.sie, InteractionEvent::SignIn) || terms_required(&view.sie, InteractionEvent::Register)
}

async fn landing(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let carried = without_token(&query);
    let Some(link) = Link::from_query(&query) else {
        return invalid(&view, StatusCode::BAD_REQUEST, view.t().link_invalid, &carried);
    };
    if needs_agreement(&view) {
        return confirm_form(&view, StatusCode::OK, &csrf, &link, None, &carried);
    }
    land(&app, &view, &cookie, &link, false, &carried).await
}

/// The terms ticked: the link is used.
async fn confirm(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let carried = without_token(&query);
    let Some(link) = Link::of(form.get(TOKEN_PARAM), form.get("login_hint")) else {
        return invalid(&view, StatusCode::BAD_REQUEST, view.t().link_invalid, &carried);
    };
    if form.get("agree") != "yes" {
        let (status, failure) = failure(&view, ExperienceError::TermsNotAgreed);
        return confirm_form(&view, status, &csrf, &link, Some(failure), &carried);
    }
    land(&app, &view, &cookie, &link, true, &carried).await
}

async fn land(
    app: &AppState,
    view: &View,
    cookie: &InteractionCookie,
    link: &Link,
    agreed: bool,
    carried: &str,
) -> Response {
    match sign_in_with(app, view, cookie, link, agreed, carried).await {
        Ok(next) => {
            let mut response = Redirect::to(&next).into_response();
            private(response.headers_mut());
            response
        }
        Err(e) => {
            let query = Some(carried.trim_start_matches('?').to_owned());
            if let Some(second_factor) = mfa::redirect_for(&e, &query) {
                return second_factor;
            }
            let t = view.t();
            let text = match &e {
                ExperienceError::OneTimeToken(OneTimeTokenError::EmailMismatch) => t.link_mismatch,
                ExperienceError::OneTimeToken(_) => t.link_invalid,
                _ => failure(view, e).1.text,
            };
            invalid(view, StatusCode::BAD_REQUEST, text, carried)
        }
    }
}

/// Spends the token, then signs in the account of its email, or registers it (Logto tries
/// one and falls back to the other); where the browser goes next.
async fn sign_in_with(
    app: &AppState,
    view: &View,
    cookie: &InteractionCookie,
    link: &Link,
    agreed: bool,
    carried: &str,
) -> Result<String, ExperienceError> {
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let (first, other) = match view.sie.sign_in_mode {
        SignInMode::Register => (InteractionEvent::Register, InteractionEvent::SignIn),
        _ => (InteractionEvent::SignIn, InteractionEvent::Register),
    };
    x.start(tenant, cookie, first).await?;
    if agreed {
        x.agree_to_terms(tenant, cookie).await?;
    }
    let email = Identifier { kind: IdentifierType::Email, value: link.email.clone() };
    let id = x.verify_one_time_token(tenant, cookie, email, &link.token).await?;
    let id = Some(id.as_str());
    let identified = match x.identify(tenant, cookie, id).await {
        Err(ExperienceError::UserNotExist | ExperienceError::EmailInUse) => {
            x.switch_event(tenant, cookie, other).await?;
            x.identify(tenant, cookie, id).await
        }
        done => done,
    };
    match identified {
        Ok(_) => Ok(x.submit(tenant, cookie).await?.unwrap_or_else(|| format!("/sign-in{carried}"))),
        // The account needs more than an email (a username, a password): the profile page.
        Err(ExperienceError::MissingProfile(_)) => Ok(format!("/register/profile{carried}")),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "magic_link.html")]
struct ConfirmPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    email: &'a str,
    token: &'a str,
    terms: Option<Terms>,
    query: &'a str,
    csrf: &'a str,
}

fn confirm_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    link: &Link,
    failure: Option<Failure>,
    carried: &str,
) -> Response {
    let t = view.t();
    let page = ConfirmPage {
        v: view,
        t,
        title: t.sign_in_title,
        error: FormError::on_page(failure, &[Field::Agree]),
        email: &link.email,
        token: &link.token,
        terms: view.terms(InteractionEvent::Register).map(|terms| Terms { required: true, ..terms }),
        query: carried,
        csrf,
    };
    view.render(status, &page)
}

#[derive(Template)]
#[template(path = "link_invalid.html")]
struct InvalidPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    message: &'a str,
    sign_in: String,
    back: Option<String>,
}

/// Why the link cannot be used, and the way to sign in normally.
fn invalid(view: &View, status: StatusCode, message: &str, carried: &str) -> Response {
    let t = view.t();
    let page = InvalidPage {
        v: view,
        t,
        title: t.link_invalid_title,
        message,
        sign_in: format!("/sign-in{carried}"),
        back: None,
    };
    view.render(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_not_carried_on() {
        let query = Some("app_id=a&login_hint=a%40b.io&one_time_token=secret&ui_locales=ja".to_owned());
        assert_eq!(without_token(&query), "?app_id=a&login_hint=a%40b.io&ui_locales=ja");
        assert_eq!(without_token(&None), "");
    }

    #[test]
    fn links_are_bounded() {
        assert!(Link::of("t", "a@b.io").is_some());
        assert!(Link::of("", "a@b.io").is_none());
        assert!(Link::of("t", " ").is_none());
        assert!(Link::of(&"t".repeat(MAX_TOKEN_LEN + 1), "a@b.io").is_none());
    }
}
