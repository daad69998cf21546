//! The hosted pages of second factors: proving one at sign-in (a code from the authenticator
//! app, a backup code, a code sent to the user's own email or phone, a passkey) and adding one
//! when the policy asks (an authenticator app or a passkey, then backup codes to save), or
//! declining. A passkey's ceremony runs in the page's script (`passkey`) against the Experience
//! API; its form then names the verification and the post binds or accepts it. Every step is
//! the Experience API's kido-core call; after it, submit says where the browser goes next: to
//! the app, or to the page for what it still asks (`page_for`).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::experience::codes::Origin;
use kido_core::experience::forms::SecondFactorForm;
use kido_core::experience::{ExperienceError, IdentifierType, InteractionCookie};
use kido_core::mfa::policy::{MaskedIdentifiers, MfaDemand, factor_of, name_of};
use kido_proto::sign_in_experience::MfaFactor;

use super::form_error::{Failure, Field, FormError};
use super::i18n::Texts;
use super::passkey;
use super::request::{Posted, carry_query, failure, open, open_post};
use super::view::View;
use crate::extract::{ClientIp, first_language};
use crate::interaction_guard::SignInCookie;
use crate::state::AppState;

/// The factors these pages can prove (a passkey with the page's script).
const PROVABLE: [MfaFactor; 5] = [
    MfaFactor::Totp,
    MfaFactor::BackupCode,
    MfaFactor::EmailVerificationCode,
    MfaFactor::PhoneVerificationCode,
    MfaFactor::WebAuthn,
];

/// The factors these pages can add (the user's email and phone are added as identifiers).
const BINDABLE: [MfaFactor; 2] = [MfaFactor::Totp, MfaFactor::WebAuthn];

/// The page for what submit still asks of the user's second factors.
fn page_for(demand: &MfaDemand) -> String {
    match demand {
        MfaDemand::Verify { available, .. } => {
            let first = available.iter().find(|f| PROVABLE.contains(f)).or(available.first());
            format!("/mfa-verification/{}", first.map_or("Totp", |f| name_of(*f)))
        }
        MfaDemand::Bind { .. } | MfaDemand::Suggest { .. } => "/mfa-binding".to_owned(),
        MfaDemand::BackupCodes => "/mfa-binding/BackupCode".to_owned(),
    }
}

/// The redirect to the second-factor page when a sign-in step failed for want of one.
pub fn redirect_for(e: &ExperienceError, query: &Option<String>) -> Option<Response> {
    match e {
        ExperienceError::Mfa(demand) => {
            Some(Redirect::to(&format!("{}{}", page_for(demand), carry_query(query))).into_response())
        }
        _ => None,
    }
}

/// Where the browser goes after a second-factor form: the app, the sign-in page after a
/// password reset, or the next second-factor page.
fn next_of(done: Result<Option<String>, ExperienceError>, query: &Option<String>) -> Result<String, ExperienceError> {
    match done {
        Ok(next) => Ok(next.unwrap_or_else(|| format!("/sign-in{}", carry_query(query)))),
        Err(ExperienceError::Mfa(demand)) => Ok(format!("{}{}", page_for(&demand), carry_query(query))),
        Err(e) => Err(e),
    }
}

/// A page that cannot be drawn: the failure's message on its own.
fn failed_page(view: &View, e: ExperienceError) -> Response {
    let (status, failure) = failure(view, e);
    view.message(status, view.t().error_title, failure.text, true)
}

/// A link to another factor.
struct Choice {
    href: String,
    label: String,
}

fn choice(t: &'static Texts, factor: MfaFactor, masked: &MaskedIdentifiers, query: &str) -> Choice {
    let label = match factor {
        MfaFactor::Totp => t.mfa_use_totp.to_owned(),
        MfaFactor::BackupCode => t.mfa_use_backup_code.to_owned(),
        MfaFactor::EmailVerificationCode => with_target(t.mfa_use_email, masked.email.as_deref()),
        MfaFactor::PhoneVerificationCode => with_target(t.mfa_use_phone, masked.phone.as_deref()),
        MfaFactor::WebAuthn => t.passkey_use.to_owned(),
    };
    Choice { href: format!("/mfa-verification/{}{query}", name_of(factor)), label }
}

/// Links to the factors the user may add, but `except` (the page they are on).
fn bind_choices(t: &'static Texts, available: &[MfaFactor], except: Option<MfaFactor>, query: &str) -> Vec<Choice> {
    let label = |f: MfaFactor| if f == MfaFactor::WebAuthn { t.passkey } else { t.mfa_authenticator_app };
    available
        .iter()
        .filter(|f| BINDABLE.contains(f) && Some(**f) != except)
        .map(|f| Choice { href: format!("/mfa-binding/{}{query}", name_of(*f)), label: label(*f).into() })
        .collect()
}

fn with_target(label: &str, target: Option<&str>) -> String {
    target.map_or_else(|| label.to_owned(), |to| format!("{label} ({to})"))
}

/// The email or phone a code of `factor` goes to.
fn code_channel(factor: MfaFactor) -> Option<IdentifierType> {
    match factor {
        MfaFactor::EmailVerificationCode => Some(IdentifierType::Email),
        MfaFactor::PhoneVerificationCode => Some(IdentifierType::Phone),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "mfa_verify.html")]
struct VerifyPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    intro: &'a str,
    /// The masked email or phone a code goes to.
    to: Option<String>,
    /// The step before a code to email or phone: the button that sends it.
    send: bool,
    action: String,
    query: String,
    csrf: &'a str,
    verification_id: Option<&'a str>,
    label: &'a str,
    inputmode: &'a str,
    max_length: usize,
    others: Vec<Choice>,
}

/// What the verification page of `factor` is drawn from.
struct Proving<'a> {
    factor: MfaFactor,
    available: &'a [MfaFactor],
    masked: &'a MaskedIdentifiers,
    /// The code sent to email or phone, once sent.
    verification_id: Option<&'a str>,
}

fn verify_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    p: Proving<'_>,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let carried = carry_query(query);
    let others: Vec<Choice> = p
        .available
        .iter()
        .filter(|f| **f != p.factor && PROVABLE.contains(f))
        .map(|f| choice(t, *f, p.masked, &carried))
        .collect();
    if p.factor == MfaFactor::WebAuthn {
        let page = PasskeyPage::verifying(view, csrf, failure, carried, others);
        return view.render_with_policy(status, &page, HeaderValue::from_static(passkey::POLICY));
    }
    let to = match p.factor {
        MfaFactor::EmailVerificationCode => p.masked.email.clone(),
        MfaFactor::PhoneVerificationCode => p.masked.phone.clone(),
        _ => None,
    };
    let (intro, inputmode, max_length) = match p.factor {
        MfaFactor::BackupCode => (t.mfa_backup_code_intro, "text", 32),
        MfaFactor::Totp => (t.mfa_totp_intro, "numeric", 6),
        _ if p.verification_id.is_some() => (t.code_sent_to, "numeric", 6),
        _ => (t.mfa_send_intro, "numeric", 6),
    };
    let page = VerifyPage {
        v: view,
        t,
        title: t.mfa_verify_title,
        error: FormError::on_page(failure, &[Field::Code]),
        intro,
        to,
        send: code_channel(p.factor).is_some() && p.verification_id.is_none(),
        action: format!("/mfa-verification/{}", name_of(p.factor)),
        query: carried,
        csrf,
        verification_id: p.verification_id,
        label: t.code_label,
        inputmode,
        max_length,
        others,
    };
    view.render(status, &page)
}

/// The verification page to draw: its factor, the code sent to email or phone (if any), and
/// how the last step went.
struct Shown<'a> {
    factor: MfaFactor,
    sent: Option<&'a str>,
    status: StatusCode,
    failure: Option<Failure>,
}

impl<'a> Shown<'a> {
    fn fresh(factor: MfaFactor, sent: Option<&'a str>) -> Self {
        Self { factor, sent, status: StatusCode::OK, failure: None }
    }

    fn failed(factor: MfaFactor, sent: Option<&'a str>, view: &View, e: ExperienceError) -> Self {
        let (status, failure) = failure(view, e);
        Self { factor, sent, status, failure: Some(failure) }
    }
}

/// Draws the verification page of `shown.factor` from what submit asks now; another page
/// when it asks something else.
async fn verify_page_for(
    app: &AppState,
    view: &View,
    cookie: &InteractionCookie,
    csrf: &str,
    shown: Shown<'_>,
    query: &Option<String>,
) -> Response {
    let Shown { factor, sent, status, failure } = shown;
    let demand = match app.core.hosted_experience().mfa_demand(&app.tenant.context, cookie).await {
        Ok(demand) => demand,
        Err(e) => return failed_page(view, e),
    };
    let (available, masked) = match demand {
        Some(MfaDemand::Verify { available, masked }) => (available, masked),
        Some(other) => return Redirect::to(&format!("{}{}", page_for(&other), carry_query(query))).into_response(),
        None => return Redirect::to(&format!("/sign-in{}", carry_query(query))).into_response(),
    };
    if !PROVABLE.contains(&factor) || !available.contains(&factor) {
        if available.iter().any(|f| PROVABLE.contains(f)) {
            let again = MfaDemand::Verify { available, masked };
            return Redirect::to(&format!("{}{}", page_for(&again), carry_query(query))).into_response();
        }
        let t = view.t();
        return view.message(StatusCode::BAD_REQUEST, t.mfa_verify_title, t.mfa_unavailable, true);
    }
    let proving = Proving { factor, available: &available, masked: &masked, verification_id: sent };
    verify_form(view, status, csrf, proving, failure, query)
}

async fn verify_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    Path(factor): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let Some(factor) = factor_of(&factor) else {
        let t = view.t();
        return view.message(StatusCode::NOT_FOUND, t.error_title, t.request_invalid, true);
    };
    verify_page_for(&app, &view, &cookie, &csrf, Shown::fresh(factor, None), &query).await
}

async fn verify_submit(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    Path(factor): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { view, csrf, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let Some(factor) = factor_of(&factor) else {
        let t = view.t();
        return view.message(StatusCode::NOT_FOUND, t.error_title, t.request_invalid, true);
    };
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let c: &InteractionCookie = &cookie;
    let code = form.get("code").trim();
    let sent = Some(form.get("verification_id")).filter(|id| !id.is_empty());
    let result = next_of(x.second_factor_form(tenant, c, SecondFactorForm::Prove { factor, code, sent }).await, &query);
    match result {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => verify_page_for(&app, &view, c, &csrf, Shown::failed(factor, sent, &view, e), &query).await,
    }
}

/// Sends a code to the user's email or phone and shows the form for it.
async fn send_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    Path(factor): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { view, csrf, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let Some((factor, channel)) = factor_of(&factor).and_then(|f| Some((f, code_channel(f)?))) else {
        let t = view.t();
        return view.message(StatusCode::NOT_FOUND, t.error_title, t.request_invalid, true);
    };
    let origin = Origin { locale: first_language(&headers), ip };
    let sent = app.core.hosted_experience().send_mfa_code(&app.tenant.context, &cookie, channel, origin).await;
    match sent {
        Ok(id) => verify_page_for(&app, &view, &cookie, &csrf, Shown::fresh(factor, Some(&id)), &query).await,
        Err(e) => verify_page_for(&app, &view, &cookie, &csrf, Shown::failed(factor, None, &view, e), &query).await,
    }
}

#[derive(Template)]
#[template(path = "mfa_bind.html")]
struct BindPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    intro: &'a str,
    others: Vec<Choice>,
    /// Where "skip" posts, when the user may decline.
    skip: Option<&'static str>,
    query: String,
    csrf: &'a str,
}

async fn bind_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let t = view.t();
    let demand = match app.core.hosted_experience().mfa_demand(&app.tenant.context, &cookie).await {
        Ok(demand) => demand,
        Err(e) => return failed_page(&view, e),
    };
    let (available, intro, skip) = match demand {
        Some(MfaDemand::Bind { available, skippable }) => {
            (available, t.mfa_bind_intro, skippable.then_some("/mfa-binding/skip"))
        }
        Some(MfaDemand::Suggest { available, .. }) => {
            (available, t.mfa_suggest_intro, Some("/mfa-binding/skip-suggestion"))
        }
        Some(other) => return Redirect::to(&format!("{}{}", page_for(&other), carry_query(&query))).into_response(),
        None => return Redirect::to(&format!("/sign-in{}", carry_query(&query))).into_response(),
    };
    let carried = carry_query(&query);
    let others = bind_choices(t, &available, None, &carried);
    if others.is_empty() && skip.is_none() {
        return view.message(StatusCode::BAD_REQUEST, t.mfa_bind_title, t.mfa_unavailable, true);
    }
    let page = BindPage {
        v: &view,
        t,
        title: t.mfa_bind_title,
        error: FormError::default(),
        intro,
        others,
        skip,
        query: carried,
        csrf: &csrf,
    };
    view.render(StatusCode::OK, &page)
}

/// "Skip": declines binding (`suggestion`: declines the suggestion of another factor), then submits.
async fn skip_submit(
    app: AppState,
    cookie: &InteractionCookie,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
    suggestion: bool,
) -> Response {
    let Posted { view, .. } = match open_post(&app, &headers, cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let form = if suggestion { SecondFactorForm::SkipSuggestion } else { SecondFactorForm::Skip };
    let result = next_of(x.second_factor_form(tenant, cookie, form).await, &query);
    match result {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => failed_page(&view, e),
    }
}

#[derive(Template)]
#[template(path = "mfa_totp.html")]
struct TotpPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    qr_code: &'a str,
    secret: &'a str,
    verification_id: &'a str,
    query: String,
    csrf: &'a str,
}

fn totp_form(
    view: &View,
    status: StatusCode,
    csrf: &str,
    shown: &kido_core::experience::NewTotpSecret,
    failure: Option<Failure>,
    query: &Option<String>,
) -> Response {
    let t = view.t();
    let page = TotpPage {
        v: view,
        t,
        title: t.mfa_totp_bind_title,
        error: FormError::on_page(failure, &[Field::Code]),
        qr_code: &shown.secret_qr_code,
        secret: &shown.secret,
        verification_id: &shown.verification_id,
        query: carry_query(query),
        csrf,
    };
    view.render(status, &page)
}

/// A new secret for the authenticator app, on this page only.
async fn totp_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    match app.core.hosted_experience().new_totp_secret(&app.tenant.context, &cookie).await {
        Ok(shown) => totp_form(&view, StatusCode::OK, &csrf, &shown, None, &query),
        Err(e) => failed_page(&view, e),
    }
}

/// A code of the new secret: verified, bound at submit, submitted.
async fn totp_submit(
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
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let c: &InteractionCookie = &cookie;
    let id = form.get("verification_id");
    let bind = SecondFactorForm::BindTotp { verification_id: id, code: form.get("code").trim() };
    let result = next_of(x.second_factor_form(tenant, c, bind).await, &query);
    match result {
        Ok(next) => Redirect::to(&next).into_response(),
        // A wrong code: the same secret again, with the message.
        Err(e @ ExperienceError::InvalidTotpCode) => match x.unverified_totp_secret(tenant, c, id).await {
            Ok(shown) => {
                let (status, failure) = failure(&view, e);
                totp_form(&view, status, &csrf, &shown, Some(failure), &query)
            }
            Err(_) => failed_page(&view, e),
        },
        Err(e) => failed_page(&view, e),
    }
}

#[derive(Template)]
#[template(path = "mfa_backup_codes.html")]
struct BackupCodesPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    codes: &'a [String],
    /// The codes as a text file (a `data:` URI).
    download: String,
    verification_id: &'a str,
    query: String,
    csrf: &'a str,
}

/// A new set of backup codes, shown once.
async fn backup_codes_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let (id, codes) = match app.core.hosted_experience().generate_backup_codes(&app.tenant.context, &cookie).await {
        Ok(generated) => generated,
        Err(e) => return failed_page(&view, e),
    };
    let text = codes.join("\n") + "\n";
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let t = view.t();
    let page = BackupCodesPage {
        v: &view,
        t,
        title: t.mfa_backup_title,
        error: FormError::default(),
        codes: &codes,
        download: format!("data:text/plain;charset=utf-8,{encoded}"),
        verification_id: &id,
        query: carry_query(&query),
        csrf: &csrf,
    };
    view.render(StatusCode::OK, &page)
}

/// "I have saved them": the codes are bound at submit, submitted.
async fn backup_codes_submit(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Posted { view, form, .. } = match open_post(&app, &headers, &cookie, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let x = app.core.hosted_experience();
    let tenant = &app.tenant.context;
    let c: &InteractionCookie = &cookie;
    let bind = SecondFactorForm::BindBackupCodes { verification_id: form.get("verification_id") };
    let result = next_of(x.second_factor_form(tenant, c, bind).await, &query);
    match result {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => failed_page(&view, e),
    }
}

#[derive(Template)]
#[template(path = "mfa_passkey.html")]
struct PasskeyPage<'a> {
    v: &'a View,
    t: &'static Texts,
    title: &'a str,
    error: FormError,
    intro: &'a str,
    /// `create` (binding) or `get` (verifying): the ceremony the script runs.
    ceremony: &'static str,
    /// The Experience API routes of that ceremony.
    start: &'static str,
    verify: &'static str,
    /// Where the form posts the verification id.
    action: &'static str,
    button: &'a str,
    others: Vec<Choice>,
    skip: Option<&'static str>,
    query: String,
    csrf: &'a str,
    script: &'static str,
    integrity: &'static str,
}

impl<'a> PasskeyPage<'a> {
    fn verifying(view: &'a View, csrf: &'a str, failure: Option<Failure>, query: String, others: Vec<Choice>) -> Self {
        let t = view.t();
        // A failure about a field (a credential that did not check out) is the passkey's.
        let failure =
            failure.map(|f| if f.field.is_some() { Failure { text: t.passkey_failed, field: None } } else { f });
        Self {
            v: view,
            t,
            title: t.mfa_verify_title,
            error: FormError::on_page(failure, &[]),
            intro: t.passkey_verify_intro,
            ceremony: "get",
            start: "/api/experience/verification/web-authn/authentication",
            verify: "/api/experience/verification/web-authn/authentication/verify",
            action: "/mfa-verification/WebAuthn",
            button: t.passkey_get_button,
            others,
            skip: None,
            query,
            csrf,
            script: passkey::SCRIPT_PATH,
            integrity: passkey::INTEGRITY.as_str(),
        }
    }

    fn binding(view: &'a View, csrf: &'a str, failure: Option<Failure>, query: String) -> Self {
        let t = view.t();
        Self {
            title: t.passkey_bind_title,
            intro: t.passkey_bind_intro,
            ceremony: "create",
            start: "/api/experience/verification/web-authn/registration",
            verify: "/api/experience/verification/web-authn/registration/verify",
            action: "/mfa-binding/WebAuthn",
            button: t.passkey_create_button,
            ..Self::verifying(view, csrf, failure, query, Vec::new())
        }
    }
}

/// The passkey binding page, when the policy asks for (or suggests) a factor and a passkey
/// is among those the user may add; the other factors and "skip" beside it.
async fn passkey_bind_form(
    app: &AppState,
    view: &View,
    cookie: &InteractionCookie,
    csrf: &str,
    (status, failure): (StatusCode, Option<Failure>),
    query: &Option<String>,
) -> Response {
    let demand = match app.core.hosted_experience().mfa_demand(&app.tenant.context, cookie).await {
        Ok(demand) => demand,
        Err(e) => return failed_page(view, e),
    };
    let (available, skip) = match demand {
        Some(MfaDemand::Bind { available, skippable }) => (available, skippable.then_some("/mfa-binding/skip")),
        Some(MfaDemand::Suggest { available, .. }) => (available, Some("/mfa-binding/skip-suggestion")),
        Some(other) => return Redirect::to(&format!("{}{}", page_for(&other), carry_query(query))).into_response(),
        None => return Redirect::to(&format!("/sign-in{}", carry_query(query))).into_response(),
    };
    if !available.contains(&MfaFactor::WebAuthn) {
        return Redirect::to(&format!("/mfa-binding{}", carry_query(query))).into_response();
    }
    let carried = carry_query(query);
    let others = bind_choices(view.t(), &available, Some(MfaFactor::WebAuthn), &carried);
    let page = PasskeyPage { others, skip, ..PasskeyPage::binding(view, csrf, failure, carried) };
    view.render_with_policy(status, &page, HeaderValue::from_static(passkey::POLICY))
}

async fn passkey_bind_page(
    State(app): State<AppState>,
    SignInCookie(cookie): SignInCookie,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, view, csrf) = match open(&app, &headers, &cookie).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    passkey_bind_form(&app, &view, &cookie, &csrf, (StatusCode::OK, None), &query).await
}

/// The passkey the script registered and verified: bound at submit, submitted.
async fn passkey_bind_submit(
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
    let x = app.core.hosted_experience();
    let bind = SecondFactorForm::BindWebAuthn { verification_id: form.get("verification_id") };
    match next_of(x.second_factor_form(&app.tenant.context, &cookie, bind).await, &query) {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(e) => {
            let (status, failure) = failure(&view, e);
            passkey_bind_form(&app, &view, &cookie, &csrf, (status, Some(failure)), &query).await
        }
    }
}

pub fn routes(router: axum::Router<AppState>) -> axum::Router<AppState> {
    use axum::routing::{get, post};
    router
        .route("/mfa-verification/{factor}", get(verify_page).post(verify_submit))
        .route("/mfa-verification/{factor}/send", post(send_code))
        .route("/mfa-binding", get(bind_page))
        .route("/mfa-binding/Totp", get(totp_page).post(totp_submit))
        .route("/mfa-binding/BackupCode", get(backup_codes_page).post(backup_codes_submit))
        .route("/mfa-binding/WebAuthn", get(passkey_bind_page).post(passkey_bind_submit))
        .route(
            "/mfa-binding/skip",
            post(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery,
                 body: Bytes| async move { skip_submit(app, &cookie, headers, q, body, false).await },
            ),
        )
        .route(
            "/mfa-binding/skip-suggestion",
            post(
                |State(app): State<AppState>,
                 SignInCookie(cookie): SignInCookie,
                 headers: HeaderMap,
                 RawQuery(q): RawQuery,
                 body: Bytes| async move { skip_submit(app, &cookie, headers, q, body, true).await },
            ),
        )
}
