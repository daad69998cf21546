//! The sign-in and registration forms. A POST walks the Experience API's steps in the
//! domain (start, verify or build the profile, identify, submit) and redirects to where
//! the API's `submit` would send the browser; a failed step re-renders the form.

use std::fmt::Write;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kido_core::experience::{ExperienceError, Identifier, IdentifierType, Interaction, InteractionEvent, ProfileInput};
use kido_core::ids;
use kido_core::passwords::PasswordError;
use kido_proto::sign_in_experience::{AgreeToTermsPolicy, SignInIdentifier, SignInMode};
use subtle::ConstantTimeEq;

use super::codes::{self, Flow};
use super::{Texts, View, esc};
use crate::cookies;
use crate::errors::ApiError;
use crate::extract::ClientIp;
use crate::state::AppState;

/// The interaction of this browser, the page's view of it, the interaction cookie and the
/// forms' anti-forgery token; or the page to show instead.
pub(super) async fn open(app: &AppState, headers: &HeaderMap) -> Result<(Interaction, View, String, String), Response> {
    let cookie = cookies::get(headers, cookies::INTERACTION).map(str::to_owned);
    match app.core.experience().load(&app.tenant.context, cookie.as_deref()).await {
        Ok(interaction) => {
            let name = app.core.oidc().interaction_client(&app.tenant.context, &interaction.params.client_id).await;
            let view =
                View::new(app, headers, interaction.params.ui_locales.as_deref(), name.map(|c| c.app.name.clone()))
                    .await;
            let csrf = csrf_token(&interaction.id);
            Ok((interaction, view, cookie.unwrap_or_default(), csrf))
        }
        Err(ExperienceError::SessionNotFound) => {
            let view = View::new(app, headers, None, None).await;
            let t = view.t();
            Err(view.message(StatusCode::BAD_REQUEST, t.error_title, t.session_lost, true))
        }
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The forms' anti-forgery token: derived from the interaction's id, which only the
/// browser holding the (HttpOnly, rotating) interaction cookie gets to act on, so a page on
/// another site can neither read nor compute it; and it survives the cookie's rotation at
/// every step (see `interaction_guard`), so a page rendered earlier still posts.
pub(super) fn csrf_token(interaction_id: &str) -> String {
    ids::digest(&format!("kido-form:{interaction_id}"))
}

pub(super) struct Form(Vec<(String, String)>);

impl Form {
    pub(super) fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

pub(super) fn parse_form(body: &[u8]) -> Form {
    Form(url::form_urlencoded::parse(body).into_owned().collect())
}

fn csrf_ok(form: &Form, expected: &str) -> bool {
    bool::from(form.get("csrf").as_bytes().ct_eq(expected.as_bytes()))
}

/// Sign-in identifiers come from one text box: an `@` means email, digits mean a phone
/// number (stored as digits only), anything else a username.
pub(super) fn identifier_from(input: &str) -> Identifier {
    let value = input.trim();
    let phone_like = value.chars().any(|c| c.is_ascii_digit())
        && value.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    if value.contains('@') {
        Identifier { kind: IdentifierType::Email, value: value.to_owned() }
    } else if phone_like {
        Identifier { kind: IdentifierType::Phone, value: value.chars().filter(char::is_ascii_digit).collect() }
    } else {
        Identifier { kind: IdentifierType::Username, value: value.to_owned() }
    }
}

pub(super) fn error_text(t: &'static Texts, e: &ExperienceError) -> &'static str {
    use ExperienceError as E;
    match e {
        E::InvalidCredentials | E::VerificationFailed | E::VerificationNotFound => t.invalid_credentials,
        E::Suspended => t.suspended,
        E::SignInMethodNotEnabled | E::SignUpMethodNotEnabled => t.method_disabled,
        E::Forbidden | E::InvalidInteractionType | E::NotSupportedForForgotPassword { .. } => t.mode_forbidden,
        E::UsernameInUse => t.username_in_use,
        E::EmailInUse | E::PhoneInUse => t.identifier_in_use,
        E::IdentifierMismatch(_) => t.code_expired,
        E::SamePassword => t.same_password,
        E::NewPasswordRequired => t.password_rejected,
        E::Code(c) => code_error_text(t, c),
        E::Invalid(_) => t.username_invalid,
        E::PasswordRejected(_) | E::PasswordLength(_) => t.password_rejected,
        E::Blocked { .. } => t.blocked,
        E::Password(PasswordError::Busy | PasswordError::RateLimited { .. }) => t.blocked,
        E::Password(_) => t.generic_error,
        E::CredentialsChanged => t.session_lost,
        E::TermsNotAgreed => t.terms_not_agreed,
        E::MissingProfile(_) => t.missing_profile,
        E::SessionNotFound | E::InteractionNotFound | E::IdentifierNotFound => t.session_lost,
        E::UserNotExist | E::IdentityConflict | E::Internal(_) | E::StorageFull(_) => t.generic_error,
    }
}

fn code_error_text(t: &'static Texts, e: &kido_core::verification_codes::CodeError) -> &'static str {
    use kido_core::verification_codes::CodeError as C;
    match e {
        C::Mismatch => t.code_wrong,
        C::NotFound | C::Expired => t.code_expired,
        C::ExceedMaxTry => t.too_many_codes,
        C::RateLimited => t.rate_limited,
        C::InvalidRecipient(_) => t.invalid_identifier,
        C::Connector(_) | C::Store(_) => t.delivery_failed,
    }
}

/// The terms block: a required checkbox when the policy asks for explicit agreement, a
/// notice when agreement is implied, nothing when there are no terms.
pub(super) fn terms_html(view: &View, event: InteractionEvent) -> String {
    let sie = &view.sie;
    let t = view.t();
    let mut links = Vec::new();
    if let Some(url) = sie.terms_of_use_url.as_deref().filter(|u| !u.is_empty()) {
        links.push(format!(r#"<a href="{}" target="_blank" rel="noopener">{}</a>"#, esc(url), esc(t.terms)));
    }
    if let Some(url) = sie.privacy_policy_url.as_deref().filter(|u| !u.is_empty()) {
        links.push(format!(r#"<a href="{}" target="_blank" rel="noopener">{}</a>"#, esc(url), esc(t.privacy)));
    }
    if links.is_empty() {
        return String::new();
    }
    let links = links.join(&format!(" {} ", esc(t.and)));
    if kido_core::experience::terms_required(sie, event) {
        format!(
            r#"<div class="terms"><input type="checkbox" id="agree" name="agree" value="yes" required><label for="agree">{} {links}</label></div>"#,
            esc(t.agree_manual)
        )
    } else if sie.agree_to_terms_policy == AgreeToTermsPolicy::Automatic || event == InteractionEvent::Register {
        format!(r#"<p class="terms">{} {links}</p>"#, esc(t.agree_automatic))
    } else {
        String::new()
    }
}

pub(super) fn alert_html(error: Option<&str>) -> String {
    error.map(|e| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(e))).unwrap_or_default()
}

/// `?app_id=…&ui_locales=…` carried to the other form.
pub(super) fn carry_query(query: &Option<String>) -> String {
    query.as_deref().filter(|q| !q.is_empty()).map(|q| format!("?{}", esc(q))).unwrap_or_default()
}

fn sign_in_form(view: &View, csrf: &str, identifier: &str, error: Option<&str>, query: &Option<String>) -> String {
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
    let mut html = format!(
        r#"<h1>{title}</h1>{alert}<form method="post" action="/sign-in"><input type="hidden" name="csrf" value="{csrf}"><label for="identifier">{label}</label><input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" required value="{identifier}"><label for="password">{password}</label><input type="password" id="password" name="password" autocomplete="current-password" required>{terms}<button type="submit">{button}</button></form>"#,
        title = esc(t.sign_in_title),
        alert = alert_html(error),
        csrf = csrf,
        label = esc(&label),
        identifier = esc(identifier),
        password = esc(t.password),
        terms = terms_html(view, InteractionEvent::SignIn),
        button = esc(t.sign_in_button),
    );
    let q = carry_query(query);
    if codes::offers(view, Flow::SignIn) {
        let _ = write!(
            html,
            r#"<p class="switch"><a href="/sign-in/verification-code{q}">{}</a></p>"#,
            esc(t.code_sign_in)
        );
    }
    if codes::offers(view, Flow::ForgotPassword) {
        let _ = write!(html, r#"<p class="switch"><a href="/forgot-password{q}">{}</a></p>"#, esc(t.forgot_password));
    }
    if view.sie.sign_in_mode != SignInMode::SignIn {
        let _ = write!(
            html,
            r#"<p class="switch">{} <a href="/register{}">{}</a></p>"#,
            esc(t.no_account),
            carry_query(query),
            esc(t.create_account)
        );
    }
    html
}

fn register_form(view: &View, csrf: &str, username: &str, error: Option<&str>, query: &Option<String>) -> String {
    let t = view.t();
    let mut html = format!(
        r#"<h1>{title}</h1>{alert}<form method="post" action="/register"><input type="hidden" name="csrf" value="{csrf}"><label for="username">{username_label}</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" required value="{username}"><label for="password">{password}</label><input type="password" id="password" name="password" autocomplete="new-password" required><label for="confirm_password">{confirm}</label><input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>{terms}<button type="submit">{button}</button></form>"#,
        title = esc(t.register_title),
        alert = alert_html(error),
        csrf = csrf,
        username_label = esc(t.username),
        username = esc(username),
        password = esc(t.password),
        confirm = esc(t.confirm_password),
        terms = terms_html(view, InteractionEvent::Register),
        button = esc(t.register_button),
    );
    if view.sie.sign_in_mode != SignInMode::Register {
        let _ = write!(
            html,
            r#"<p class="switch">{} <a href="/sign-in{}">{}</a></p>"#,
            esc(t.have_account),
            carry_query(query),
            esc(t.sign_in_title)
        );
    }
    html
}

pub async fn sign_in_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let (interaction, view, _, csrf) = match open(&app, &headers).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let hint = interaction.params.login_hint.clone().unwrap_or_default();
    let body = sign_in_form(&view, &csrf, &hint, None, &query);
    view.render(StatusCode::OK, view.t().sign_in_title, &body)
}

pub async fn register_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let (_, view, _, csrf) = match open(&app, &headers).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    // Registration by email or phone starts by proving the address with a code.
    let body = if codes::offers(&view, Flow::Register) {
        codes::identifier_form(&view, &csrf, Flow::Register, "", None, &query)
    } else {
        register_form(&view, &csrf, "", None, &query)
    };
    view.render(StatusCode::OK, view.t().register_title, &body)
}

pub(super) fn forbidden_form(view: &View) -> Response {
    let t = view.t();
    view.message(StatusCode::FORBIDDEN, t.error_title, t.forbidden_form, true)
}

/// A form POST: the interaction, and the form once its anti-forgery token checks out.
pub(super) async fn open_post(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(View, String, String, Form), Response> {
    let (_, view, cookie, csrf) = open(app, headers).await?;
    let form = parse_form(body);
    if !csrf_ok(&form, &csrf) {
        return Err(forbidden_form(&view));
    }
    Ok((view, cookie, csrf, form))
}

/// Status and message of a failed step.
pub(super) fn failure(view: &View, e: ExperienceError) -> (StatusCode, &'static str) {
    let text = error_text(view.t(), &e);
    (ApiError::from(e).status, text)
}

pub async fn sign_in_submit(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (view, cookie, csrf, form) = match open_post(&app, &headers, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let identifier = form.get("identifier").to_owned();
    let result = async {
        let x = app.core.experience();
        let tenant = &app.tenant.context;
        let cookie = Some(cookie.as_str());
        x.start(tenant, cookie, InteractionEvent::SignIn).await?;
        if form.get("agree") == "yes" {
            x.agree_to_terms(tenant, cookie).await?;
        }
        if identifier.trim().is_empty() {
            return Err(ExperienceError::InvalidCredentials);
        }
        let password = form.get("password").to_owned();
        let id = x.verify_password(tenant, cookie, identifier_from(&identifier), password, ip.as_deref()).await?;
        x.identify(tenant, cookie, Some(&id)).await?;
        x.submit(tenant, cookie).await
    }
    .await;
    match result {
        Ok(next) => Redirect::to(next.as_deref().unwrap_or("/sign-in")).into_response(),
        Err(e) => {
            let (status, text) = failure(&view, e);
            let body = sign_in_form(&view, &csrf, &identifier, Some(text), &query);
            view.render(status, view.t().sign_in_title, &body)
        }
    }
}

pub async fn register_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (view, cookie, csrf, form) = match open_post(&app, &headers, &body).await {
        Ok(opened) => opened,
        Err(page) => return page,
    };
    let username = form.get("username").trim().to_owned();
    let t = view.t();
    if form.get("password") != form.get("confirm_password") {
        let body = register_form(&view, &csrf, &username, Some(t.passwords_mismatch), &query);
        return view.render(StatusCode::BAD_REQUEST, t.register_title, &body);
    }
    let result = async {
        let x = app.core.experience();
        let tenant = &app.tenant.context;
        let cookie = Some(cookie.as_str());
        x.start(tenant, cookie, InteractionEvent::Register).await?;
        if form.get("agree") == "yes" {
            x.agree_to_terms(tenant, cookie).await?;
        }
        x.set_profile(tenant, cookie, ProfileInput::Username(username.clone())).await?;
        x.set_profile(tenant, cookie, ProfileInput::Password(form.get("password").to_owned())).await?;
        x.identify(tenant, cookie, None).await?;
        x.submit(tenant, cookie).await
    }
    .await;
    match result {
        Ok(next) => Redirect::to(next.as_deref().unwrap_or("/sign-in")).into_response(),
        Err(e) => {
            let (status, text) = failure(&view, e);
            let body = register_form(&view, &csrf, &username, Some(text), &query);
            view.render(status, t.register_title, &body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_one_box() {
        assert_eq!(identifier_from(" a@b.io ").kind, IdentifierType::Email);
        let phone = identifier_from("+1 (555) 010-9999");
        assert_eq!((phone.kind, phone.value.as_str()), (IdentifierType::Phone, "15550109999"));
        assert_eq!(identifier_from("alice_1").kind, IdentifierType::Username);
        assert_eq!(identifier_from("---").kind, IdentifierType::Username);
    }

    #[test]
    fn csrf_is_bound_to_the_interaction() {
        let form = Form(vec![("csrf".into(), csrf_token("interaction-a"))]);
        assert!(csrf_ok(&form, &csrf_token("interaction-a")));
        assert!(!csrf_ok(&form, &csrf_token("interaction-b")));
        assert!(!csrf_ok(&Form(vec![]), &csrf_token("interaction-a")));
    }
}
