//! The hosted pages of passwordless sign-in, registration by email or phone, and password
//! reset: an identifier form sends a code, a code form checks it, and the flow goes on
//! (to the app, to the profile a registration still needs, or to the new password).
//! Every step is a kido-core `experience` call, as the Experience API's are.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::TenantContext;
use kido_core::experience::codes::Origin;
use kido_core::experience::{
    Experience, ExperienceError, Identifier, IdentifierType, Interaction, InteractionCookie, InteractionEvent,
    ProfileInput, missing_profile, sends_codes, terms_required,
};
use kido_proto::sign_in_experience::{SignInMode, SignUpIdentifier};

use super::form_error::{Failure, Field, FormError, fields};
use super::i18n::Texts;
use super::mfa;
use super::request::{Posted, carry_query, failure, identifier_from, open, open_post};
use super::view::{Terms, View};
use crate::extract::{ClientIp, first_language};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    SignIn,
    Register,
    ForgotPassword,
}

impl Flow {
    fn path(self) -> &'static str {
        match self {
            Self::SignIn => "/sign-in",
            Self::Register => "/register",
            Self::ForgotPassword => "/forgot-password",
        }
    }

    fn event(self) -> InteractionEvent {
        match self {
            Self::SignIn => InteractionEvent::SignIn,
            Self::Register => InteractionEvent::Register,
            Self::ForgotPassword => InteractionEvent::ForgotPassword,
        }
    }

    fn title(self, t: &'static Texts) -> &'static str {
        match self {
            Self::SignIn => t.sign_in_title,
            Self::Register => t.register_title,
            Self::ForgotPassword => t.forgot_title,
        }
    }

    /// Which channels this flow sends codes to. Sign-in and reset follow the domain's rule;
    /// the registration page starts with an email or phone only when it is a primary
    /// sign-up identifier (a secondary one is asked for after the username form).
    fn channels(self, view: &View) -> (bool, bool) {
        let sie = &view.sie;
        match self {
            Self::Register => {
                let ids = &sie.sign_up.identifiers;
                let has = |x| ids.contains(&x) || ids.contains(&SignUpIdentifier::EmailOrPhone);
                (has(SignUpIdentifier::Email), has(SignUpIdentifier::Phone))
            }
            Self::SignIn | Self::ForgotPassword => (
                sends_codes(sie, self.event(), IdentifierType::Email),
                sends_codes(sie, self.event(), IdentifierType::Phone),
            ),
        }
    }
}

/// Whether the sign-in page offers code sign-in / password reset, and the register page an
/// email or phone form.
pub fn offers(view: &View, flow: Flow) -> bool {
    let (email, phone) = flow.channels(view);
    email || phone
}

fn identifier_label(view: &View, flow: Flow) -> (&'static str, &'static str) {
    let t = view.t();
    match flow.channels(view) {
        (true, false) => (t.email, "email"),
        (false, true) => (t.phone, "tel"),
        _ => (t.email_or_phone, "username"),
    }
}

#[derive(Template)]
#[template(path = "code_identifier.html")]
struct IdentifierPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    intro: Option<&'a str>,
    error: FormError,
    path: &'a str,
    query: String,
    csrf: &'a str,
    label: &'a str,
    autocomplete: &'a str,
    value: &'a str,
    terms: Option<Terms>,
    back_to_sign_in: bool,
    have_account: bool,
}

/// The form that asks where to send the code.
pub fn identifier_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    flow: Flow,
    value: &str,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let (label, autocomplete) = identifier_label(view, flow);
    // Agreement is asked where the flow ends in a signed-in session (the code page has no room for it).
    let terms = if flow == Flow::ForgotPassword { None } else { view.terms(flow.event()) };
    let page = IdentifierPage {
        v: view,
        t,
        title: flow.title(t),
        intro: (flow == Flow::ForgotPassword).then_some(t.forgot_intro),
        error: FormError::on_page(failure, &fields(&[Field::Identifier], &terms)),
        path: flow.path(),
        query: carry_query(query),
        csrf,
        label,
        autocomplete,
        value,
        terms,
        back_to_sign_in: flow != Flow::Register,
        have_account: flow == Flow::Register && view.sie.sign_in_mode != SignInMode::Register,
    };
    view.render(status, &page)
}

async fn identifier_page(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
    flow: Flow,
) -> Response {
    let (interaction, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let hint = interaction.params.login_hint.clone().unwrap_or_default();
    identifier_form(&view, StatusCode::OK, &csrf, flow, &hint, None, &query)
}

async fn send_code(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    ip: Option<String>,
    query: Option<String>,
    body: Bytes,
    flow: Flow,
) -> Response {
    let Posted { view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let value = form.get("identifier").trim().to_owned();
    let identifier = identifier_from(&value);
    let result = async {
        if identifier.kind == IdentifierType::Username {
            return Err(ExperienceError::Code(kido_core::verification_codes::CodeError::InvalidRecipient(
                value.clone(),
            )));
        }
        let x = app.core.hosted_experience();
        let tenant = &app.tenant.context;
        let cookie: &InteractionCookie = &cookie;
        // A resend keeps the flow; anything else starts it afresh.
        let current = x.load(tenant, cookie).await?.state.interaction_event;
        if current != Some(flow.event()) {
            x.start(tenant, cookie, flow.event()).await?;
        }
        if form.get("agree") == "yes" {
            x.agree_to_terms(tenant, cookie).await?;
        }
        let origin = Origin { locale: first_language(&headers), ip };
        x.send_code(tenant, cookie, identifier, flow.event(), origin).await
    }
    .await;
    match result {
        Ok(_) => {
            Redirect::to(&format!("{}/verification-code/verify{}", flow.path(), carry_query(&query))).into_response()
        }
        Err(e) => {
            let (status, failure) = failure(&view, e);
            identifier_form(&view, status, &csrf, flow, &value, Some(failure), &query)
        }
    }
}

#[derive(Template)]
#[template(path = "code_verify.html")]
struct CodePage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    to: &'a str,
    path: &'a str,
    query: String,
    csrf: &'a str,
}

fn code_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    flow: Flow,
    to: &str,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let error = FormError::on_page(failure, &[Field::Code]);
    let page =
        CodePage { v: view, t, title: t.code_title, error, to, path: flow.path(), query: carry_query(query), csrf };
    view.render(status, &page)
}

fn pending(interaction: &Interaction) -> Option<Identifier> {
    interaction.state.pending_code().map(|r| r.identifier.clone())
}

async fn code_page(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
    flow: Flow,
) -> Response {
    let (interaction, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    match pending(&interaction) {
        Some(to) => code_form(&view, StatusCode::OK, &csrf, flow, &to.value, None, &query),
        None => Redirect::to(&format!("{}/verification-code{}", flow.path(), carry_query(&query))).into_response(),
    }
}

/// Where the browser goes once a step succeeded.
enum Next {
    App(String),
    Page(&'static str),
}

async fn check_code(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
    flow: Flow,
) -> Response {
    let Posted { view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let c: &InteractionCookie = &cookie;
    let record = match x.load(tenant, c).await {
        Ok(i) => i.state.pending_code().cloned(),
        Err(e) => return crate::errors::ApiError::from(e).into_response(),
    };
    let Some(record) = record else {
        return Redirect::to(&format!("{}/verification-code{}", flow.path(), carry_query(&query))).into_response();
    };
    let result = async {
        let id = x.verify_code(tenant, c, record.identifier.clone(), &record.id, form.get("code").trim()).await?;
        continue_flow(&app, &view, c, flow, &id, record.identifier.kind).await
    }
    .await;
    match result {
        Ok(Next::App(url)) => Redirect::to(&url).into_response(),
        Ok(Next::Page(path)) => Redirect::to(&format!("{path}{}", carry_query(&query))).into_response(),
        Err(e) => {
            if let Some(second_factor) = mfa::redirect_for(&e, &query) {
                return second_factor;
            }
            let (status, failure) = failure(&view, e);
            code_form(&view, status, &csrf, flow, &record.identifier.value, Some(failure), &query)
        }
    }
}

/// After a verified code: sign in (registering an unknown address when the tenant allows
/// it), register (signing in an address that already has an account), or go on to reset.
async fn continue_flow(
    app: &AppState,
    view: &View,
    cookie: &InteractionCookie,
    flow: Flow,
    verification_id: &str,
    kind: IdentifierType,
) -> Result<Next, ExperienceError> {
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let id = Some(verification_id);
    match flow {
        Flow::ForgotPassword => {
            x.identify(tenant, cookie, id).await?;
            Ok(Next::Page("/forgot-password/reset"))
        }
        Flow::SignIn => match x.identify(tenant, cookie, id).await {
            Ok(_) => finish(&x, tenant, cookie).await,
            Err(ExperienceError::UserNotExist)
                if view.sie.sign_in_mode != SignInMode::SignIn && offers(view, Flow::Register) =>
            {
                x.switch_event(tenant, cookie, InteractionEvent::Register).await?;
                register(&x, tenant, cookie, id).await
            }
            Err(e) => Err(e),
        },
        Flow::Register => match register(&x, tenant, cookie, id).await {
            Err(ExperienceError::EmailInUse | ExperienceError::PhoneInUse)
                if view.sie.sign_in_mode != SignInMode::Register
                    && sends_codes(&view.sie, InteractionEvent::SignIn, kind) =>
            {
                // The address proved it is theirs: sign them in to the account it already has.
                x.switch_event(tenant, cookie, InteractionEvent::SignIn).await?;
                x.identify(tenant, cookie, id).await?;
                finish(&x, tenant, cookie).await
            }
            other => other,
        },
    }
}

async fn finish(
    x: &Experience<'_>,
    tenant: &TenantContext,
    cookie: &InteractionCookie,
) -> Result<Next, ExperienceError> {
    Ok(Next::App(x.submit(tenant, cookie).await?.unwrap_or_default()))
}

/// Creates the account, or sends the browser to the profile page for what is missing.
async fn register(
    x: &Experience<'_>,
    tenant: &TenantContext,
    cookie: &InteractionCookie,
    id: Option<&str>,
) -> Result<Next, ExperienceError> {
    match x.identify(tenant, cookie, id).await {
        Ok(_) => finish(x, tenant, cookie).await,
        Err(ExperienceError::MissingProfile(_) | ExperienceError::TermsNotAgreed) => {
            Ok(Next::Page("/register/profile"))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    query: String,
    csrf: &'a str,
    /// The username field (with what was typed so far) when the profile still lacks one.
    username: Option<&'a str>,
    password: bool,
    terms: Option<Terms>,
}

fn profile_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    interaction: &Interaction,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let profile = &interaction.state.profile;
    let missing = missing_profile(&view.sie, profile);
    let username = missing.contains(&"username").then(|| profile.username.as_deref().unwrap_or_default());
    let password = missing.contains(&"password");
    let terms = if terms_required(&view.sie, InteractionEvent::Register) && !interaction.state.terms_agreed {
        view.terms(InteractionEvent::Register)
    } else {
        None
    };
    let mut shown = Vec::new();
    if username.is_some() {
        shown.push(Field::Username);
    }
    if password {
        shown.extend([Field::Password, Field::ConfirmPassword]);
    }
    let page = ProfilePage {
        v: view,
        t,
        title: t.complete_profile_title,
        error: FormError::on_page(failure, &fields(&shown, &terms)),
        query: carry_query(query),
        csrf,
        username,
        password,
        terms,
    };
    view.render(status, &page)
}

async fn profile_page(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
) -> Response {
    let (interaction, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    profile_form(&view, StatusCode::OK, &csrf, &interaction, None, &query)
}

async fn profile_submit(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let Posted { view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let c: &InteractionCookie = &cookie;
    let t = view.t();
    let result = async {
        if form.get("agree") == "yes" {
            x.agree_to_terms(tenant, c).await?;
        }
        let username = form.get("username").trim();
        if !username.is_empty() {
            x.set_profile(tenant, c, ProfileInput::Username(username.to_owned())).await?;
        }
        if !form.get("password").is_empty() {
            if form.get("password") != form.get("confirm_password") {
                return Ok(Err(Failure::about(Field::ConfirmPassword, t.passwords_mismatch)));
            }
            x.set_profile(tenant, c, ProfileInput::Password(form.get("password").to_owned())).await?;
        }
        x.identify(tenant, c, None).await?;
        x.submit(tenant, c).await.map(|next| Ok(next.unwrap_or_default()))
    }
    .await;
    let (status, failure) = match result {
        Ok(Ok(next)) => return Redirect::to(&next).into_response(),
        Ok(Err(failure)) => (StatusCode::BAD_REQUEST, failure),
        Err(e) => match mfa::redirect_for(&e, &query) {
            Some(second_factor) => return second_factor,
            None => failure(&view, e),
        },
    };
    match x.load(tenant, c).await {
        Ok(interaction) => profile_form(&view, status, &csrf, &interaction, Some(failure), &query),
        Err(e) => crate::errors::ApiError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    query: String,
    csrf: &'a str,
}

fn reset_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let error = FormError::on_page(failure, &[Field::Password, Field::ConfirmPassword]);
    view.render(status, &ResetPage { v: view, t, title: t.forgot_title, error, query: carry_query(query), csrf })
}

#[derive(Template)]
#[template(path = "password_changed.html")]
struct PasswordChangedPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    query: String,
}

async fn reset_page(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    reset_form(&view, StatusCode::OK, &csrf, None, &query)
}

async fn reset_submit(
    app: AppState,
    cookie: Arc<InteractionCookie>,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let Posted { interaction, view, csrf, form } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let t = view.t();
    if form.get("password") != form.get("confirm_password") {
        let mismatch = Failure::about(Field::ConfirmPassword, t.passwords_mismatch);
        return reset_form(&view, StatusCode::BAD_REQUEST, &csrf, Some(mismatch), &query);
    }
    let password = form.get("password").to_owned();
    let result = app
        .core
        .hosted_experience()
        .reset_password_and_finish(&app.tenant.context, &cookie, interaction, password)
        .await;
    match result {
        Ok(_) => {
            let page = PasswordChangedPage { v: &view, t, title: t.password_changed_title, query: carry_query(&query) };
            view.render(StatusCode::OK, &page)
        }
        Err(e) => {
            let (status, failure) = failure(&view, e);
            reset_form(&view, status, &csrf, Some(failure), &query)
        }
    }
}

/// The routes of these pages, one set per flow.
pub fn routes(router: axum::Router<AppState>) -> axum::Router<AppState> {
    use axum::routing::get;
    let mut router = router
        .route(
            "/register/profile",
            get(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery| profile_page(app, cookie, headers, q),
            )
            .post(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery,
                 body: Bytes| { profile_submit(app, cookie, headers, q, body) },
            ),
        )
        .route(
            "/forgot-password/reset",
            get(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery| reset_page(app, cookie, headers, q),
            )
            .post(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery,
                 body: Bytes| { reset_submit(app, cookie, headers, q, body) },
            ),
        )
        .route(
            "/forgot-password",
            get(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery| {
                    identifier_page(app, cookie, headers, q, Flow::ForgotPassword)
                },
            ),
        );
    for flow in [Flow::SignIn, Flow::Register, Flow::ForgotPassword] {
        router = router
            .route(
                &format!("{}/verification-code", flow.path()),
                get(
                    move |State(app): State<AppState>,
                          SignInCookie(cookie): SignInCookie,
                          headers: HeaderMap,
                          RawQuery(q): RawQuery| { identifier_page(app, cookie, headers, q, flow) },
                )
                .post(
                    move |State(app): State<AppState>,
                          ClientIp(ip): ClientIp,
                          SignInCookie(cookie): SignInCookie,
                          headers: HeaderMap,
                          RawQuery(q): RawQuery,
                          body: Bytes| send_code(app, cookie, headers, ip, q, body, flow),
                ),
            )
            .route(
                &format!("{}/verification-code/verify", flow.path()),
                get(
                    move |State(app): State<AppState>,
                          SignInCookie(cookie): SignInCookie,
                          headers: HeaderMap,
                          RawQuery(q): RawQuery| { code_page(app, cookie, headers, q, flow) },
                )
                .post(
                    move |State(app): State<AppState>,
                          SignInCookie(cookie): SignInCookie,
                          headers: HeaderMap,
                          RawQuery(q): RawQuery,
                          body: Bytes| { check_code(app, cookie, headers, q, body, flow) },
                ),
            );
    }
    router
}
