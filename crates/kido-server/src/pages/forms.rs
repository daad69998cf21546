//! The sign-in and registration forms. A POST is one domain operation (the Experience
//! API's steps on the loaded interaction: start, verify or build the profile, identify,
//! submit) and redirects to where the API's `submit` would send the browser; a failed step
//! re-renders the form.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::experience::InteractionEvent;
use kido_core::experience::forms::{PasswordSignIn, UsernameRegistration};
use kido_proto::sign_in_experience::{SignInIdentifier, SignInMode};

use super::codes::{self, Flow};
use super::form_error::{Failure, Field, FormError, fields};
use super::i18n::Texts;
use super::mfa;
use super::request::{Posted, carry_query, failure, identifier_from, open, open_post};
use super::view::{Terms, View};
use crate::extract::ClientIp;
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    csrf: &'a str,
    label: String,
    identifier: &'a str,
    terms: Option<Terms>,
    query: String,
    code_sign_in: bool,
    forgot_password: bool,
    register: bool,
}

fn sign_in_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    identifier: &str,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let labels: Vec<&str> = view
        .sie
        .sign_in
        .methods
        .iter()
        .filter(|m| m.password)
        .map(|m| match m.identifier {
            SignInIdentifier::Username => t.username,
            SignInIdentifier::Email => t.email,
            SignInIdentifier::Phone => t.phone,
        })
        .collect();
    let label = if labels.is_empty() { t.username.to_owned() } else { labels.join(t.or) };
    let terms = view.terms(InteractionEvent::SignIn);
    let page = SignInPage {
        v: view,
        t,
        title: t.sign_in_title,
        error: FormError::on_page(failure, &fields(&[Field::Identifier, Field::Password], &terms)),
        csrf,
        label,
        identifier,
        terms,
        query: carry_query(query),
        code_sign_in: codes::offers(view, Flow::SignIn),
        forgot_password: codes::offers(view, Flow::ForgotPassword),
        register: view.sie.sign_in_mode != SignInMode::SignIn,
    };
    view.render(status, &page)
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    csrf: &'a str,
    username: &'a str,
    terms: Option<Terms>,
    query: String,
    sign_in: bool,
}

fn register_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    username: &str,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let terms = view.terms(InteractionEvent::Register);
    let shown = [Field::Username, Field::Password, Field::ConfirmPassword];
    let page = RegisterPage {
        v: view,
        t,
        title: t.register_title,
        error: FormError::on_page(failure, &fields(&shown, &terms)),
        csrf,
        username,
        terms,
        query: carry_query(query),
        sign_in: view.sie.sign_in_mode != SignInMode::Register,
    };
    view.render(status, &page)
}

pub async fn sign_in_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(landing) = super::magic_link::hand_over(&query) {
        return landing;
    }
    let (interaction, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let hint = interaction.params.login_hint.clone().unwrap_or_default();
    sign_in_form(&view, StatusCode::OK, &csrf, &hint, None, &query)
}

pub async fn register_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    // Registration by email or phone starts by proving the address with a code.
    if codes::offers(&view, Flow::Register) {
        codes::identifier_form(&view, StatusCode::OK, &csrf, Flow::Register, "", None, &query)
    } else {
        register_form(&view, StatusCode::OK, &csrf, "", None, &query)
    }
}

pub async fn sign_in_submit(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { interaction, view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let identifier = form.get("identifier").to_owned();
    let post = PasswordSignIn {
        identifier: identifier_from(&identifier),
        password: form.get("password").to_owned(),
        agreed: form.get("agree") == "yes",
        ip,
    };
    let result =
        app.core.hosted_experience().sign_in_with_password(&app.tenant.context, &cookie, interaction, post).await;
    match result {
        Ok(next) => Redirect::to(next.as_deref().unwrap_or("/sign-in")).into_response(),
        Err(e) => {
            if let Some(second_factor) = mfa::redirect_for(&e, &query) {
                return second_factor;
            }
            let (status, failure) = failure(&view, e);
            sign_in_form(&view, status, &csrf, &identifier, Some(failure), &query)
        }
    }
}

pub async fn register_submit(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { interaction, view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let username = form.get("username").trim().to_owned();
    let t = view.t();
    if form.get("password") != form.get("confirm_password") {
        let mismatch = Failure::about(Field::ConfirmPassword, t.passwords_mismatch);
        return register_form(&view, StatusCode::BAD_REQUEST, &csrf, &username, Some(mismatch), &query);
    }
    let post = UsernameRegistration {
        username: username.clone(),
        password: form.get("password").to_owned(),
        agreed: form.get("agree") == "yes",
    };
    let result =
        app.core.hosted_experience().register_with_password(&app.tenant.context, &cookie, interaction, post).await;
    match result {
        Ok(next) => Redirect::to(next.as_deref().unwrap_or("/sign-in")).into_response(),
        Err(e) => {
            if let Some(second_factor) = mfa::redirect_for(&e, &query) {
                return second_factor;
            }
            let (status, failure) = failure(&view, e);
            register_form(&view, status, &csrf, &username, Some(failure), &query)
        }
    }
}
