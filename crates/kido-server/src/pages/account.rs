//! The account pages (`/account`): a signed-in user's profile, email and phone, password,
//! second factors, sessions and connected apps, rendered on the server like the sign-in pages.
//!
//! How the user is known: the pages are the built-in first-party client `account` (see
//! `oidc::clients`), signing in with the authorization code flow and PKCE like any app; the
//! code is exchanged in-process and the opaque access token it yields is kept in an
//! `HttpOnly` cookie. Every request then authenticates exactly as the Account API does
//! (`Account::authenticate`: token, grant, scopes, account center), so the pages and the API
//! share every rule, and revoking the pages' grant or session signs them out at once. The
//! identity proof for sensitive changes (the API's `logto-verification-id`) is a verification
//! record whose id waits in a second cookie for its 10 minutes.
//!
//! Every form post carries an anti-forgery token derived from the access token (as the
//! sign-in forms derive theirs from the interaction) and makes one domain call; success
//! redirects to `/account?done=<what>`, failure draws the page again with the message.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kido_core::account::center::{control, passkey_control};
use kido_core::account::{AccountCaller, AccountError};
use kido_core::ids;
use kido_core::mfa::MfaError;
use kido_core::oidc::ClientAuth;
use kido_core::oidc::grants::CodeRequest;
use kido_core::passwords::PasswordError;
use kido_core::users::UserError;
use kido_proto::account::{
    AccountCenterControl, CodeIdentifier, CodeIdentifierType, UpdateAccount, VerificationCodeTemplate,
};
use kido_proto::applications::ACCOUNT_APP_ID;
use kido_proto::sessions::RevokeGrantsTarget;
use kido_proto::sign_in_experience::MfaFactor;
use subtle::ConstantTimeEq;

use super::account_texts::AccountTexts;
use super::i18n::Texts;
use super::passkey;
use super::request::{Form, code_error_text, csrf_ok, csrf_token};
use super::view::View;
use crate::cookies;
use crate::extract::{ClientIp, first_language};
use crate::state::AppState;

/// The pages' opaque access token.
const TOKEN_COOKIE: &str = "_account";
/// The verification record proving the user's identity (its id).
const PROOF_COOKIE: &str = "_account_proof";
/// A sign-in in progress: `state.verifier`.
const LOGIN_COOKIE: &str = "_account_login";
const LOGIN_TTL_SECS: i64 = 600;
/// What the pages read and change (the Account API's scope gates).
const SCOPES: &str = "openid profile email phone identities custom_data urn:logto:scope:sessions";
/// Longest value any form field or path id may carry; the tighter bounds are the domain's.
pub(super) const MAX_INPUT: usize = 256;
const MAX_AVATAR: usize = 2048;
const MAX_ID: usize = 64;

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/account", get(overview))
        .route("/account/callback", get(callback))
        .route("/account/sign-out", post(sign_out))
        .route("/account/verify/password", post(verify_password))
        .route("/account/verify/code", post(send_proof_code))
        .route("/account/verify/code/check", post(check_proof_code))
        .route("/account/profile", post(update_profile))
        .route("/account/identifier/send", post(send_new_identifier_code))
        .route("/account/identifier/verify", post(bind_identifier))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/revoke", post(end_session))
        .route("/account/grants/{id}/revoke", post(end_grant))
}

/// A signed-in request: the caller as the Account API sees it, the page's view, the
/// anti-forgery token, and the posted form once that token checks out.
pub(super) struct Signed {
    pub caller: AccountCaller,
    pub view: View,
    pub csrf: String,
    pub form: Form,
}

impl Signed {
    pub fn at(&self) -> &'static AccountTexts {
        self.view.lang.account_texts()
    }
}

/// The signed-in caller of a page, or the response instead: the sign-in when there is no
/// live token, a page saying so when the account center is off.
pub(super) async fn signed_in(app: &AppState, headers: &HeaderMap) -> Result<Signed, Response> {
    let view = View::new(app, headers, None, None).await;
    let account = app.core.account();
    let tenant = &app.tenant.context;
    match account.center(&tenant.id).await {
        Ok(center) if !center.enabled => return Err(disabled(&view)),
        Ok(_) => {}
        Err(e) => return Err(failed(&view, &e)),
    }
    let Some(token) = cookies::get(headers, TOKEN_COOKIE).filter(|t| t.len() <= MAX_INPUT) else {
        return Err(start_sign_in(app));
    };
    let proof = cookies::get(headers, PROOF_COOKIE);
    match account.authenticate(tenant, token, proof).await {
        Ok(caller) => Ok(Signed { caller, view, csrf: csrf_token(&format!("account:{token}")), form: Form::empty() }),
        Err(AccountError::InvalidToken | AccountError::NoOpenId) => Err(start_sign_in(app)),
        Err(AccountError::NotEnabled) => Err(disabled(&view)),
        Err(e) => Err(failed(&view, &e)),
    }
}

/// A signed-in form post whose anti-forgery token checks out.
async fn signed_post(app: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Signed, Response> {
    let mut signed = signed_in(app, headers).await?;
    signed.form = Form::parse(body);
    if !csrf_ok(&signed.form, &signed.csrf) {
        let t = signed.view.t();
        return Err(signed.view.message(StatusCode::FORBIDDEN, t.error_title, t.forbidden_form, true));
    }
    Ok(signed)
}

/// A signed-in user's form post with a valid CSRF token; anything else answers with the
/// sign-in redirect or the refusal page `signed_post` makes.
impl FromRequest<AppState> for Signed {
    type Rejection = Response;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, app).await.map_err(IntoResponse::into_response)?;
        signed_post(app, &headers, &body).await
    }
}

#[derive(Template)]
#[template(path = "account_message.html")]
struct MessagePage<'a> {
    v: &'a View,
    at: &'static AccountTexts,
    title: &'a str,
    message: &'a str,
    /// Whether to link back to `/account` (not when the pages are closed).
    to_account: bool,
    /// The support block's way back (the link to `/account` stands for it).
    back: Option<String>,
}

fn message(view: &View, status: StatusCode, title: &str, message: &str, to_account: bool) -> Response {
    let at = view.lang.account_texts();
    view.render(status, &MessagePage { v: view, at, title, message, to_account, back: None })
}

fn disabled(view: &View) -> Response {
    let at = view.lang.account_texts();
    message(view, StatusCode::FORBIDDEN, at.title, at.disabled, false)
}

/// A failure no form is about: its message on its own page.
fn failed(view: &View, e: &AccountError) -> Response {
    message(view, status_of(e), view.t().error_title, error_text(view.t(), view.lang.account_texts(), e), true)
}

/// Where the pages' client signs in (`<endpoint>/account/callback`, as `oidc::clients` registers it).
fn callback_uri(app: &AppState) -> String {
    let issuer = &app.tenant.context.issuer;
    format!("{}/account/callback", issuer.strip_suffix("/oidc").unwrap_or(issuer))
}

/// Off to the authorization endpoint, as the `account` client, with a fresh state and PKCE
/// verifier kept in a short-lived cookie; the way back is always `/account`.
fn start_sign_in(app: &AppState) -> Response {
    let (state, verifier) = (ids::new_opaque_token(), ids::new_opaque_token());
    // S256: base64url(SHA-256(verifier)), which is what `ids::digest` computes.
    let challenge = ids::digest(&verifier);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", ACCOUNT_APP_ID)
        .append_pair("redirect_uri", &callback_uri(app))
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let secure = app.tenant.secure_cookies();
    let mut response = Redirect::to(&format!("/oidc/auth?{}", query.finish())).into_response();
    let h = response.headers_mut();
    h.append("set-cookie", cookies::set(LOGIN_COOKIE, &format!("{state}.{verifier}"), LOGIN_TTL_SECS, secure));
    h.append("set-cookie", cookies::clear(TOKEN_COOKIE, secure));
    response
}

/// `GET /account/callback?code&state`: the code of this browser's sign-in (its state matches
/// the cookie) exchanged in-process for the pages' access token.
async fn callback(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let view = View::new(&app, &headers, None, None).await;
    let at = view.lang.account_texts();
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let (code, state) = (param("code"), param("state"));
    let login = cookies::get(&headers, LOGIN_COOKIE).and_then(|v| v.split_once('.'));
    let fail = || message(&view, StatusCode::BAD_REQUEST, at.title, at.sign_in_failed, true);
    let Some((expected_state, verifier)) = login else { return fail() };
    let state_ok = !state.is_empty() && bool::from(state.as_bytes().ct_eq(expected_state.as_bytes()));
    if !state_ok || code.is_empty() || code.len() > MAX_INPUT {
        return fail();
    }
    let request = CodeRequest {
        code: code.to_owned(),
        redirect_uri: Some(callback_uri(&app)),
        code_verifier: Some(verifier.to_owned()),
        resources: Vec::new(),
    };
    let auth = ClientAuth::None { client_id: ACCOUNT_APP_ID.to_owned() };
    let issued = match app.core.user_grants().authorization_code(&app.tenant.context, &auth, &request).await {
        Ok(issued) => issued,
        Err(e) => {
            tracing::info!(error = ?e, "account pages: the code exchange failed");
            return fail();
        }
    };
    let secure = app.tenant.secure_cookies();
    let mut response = Redirect::to("/account").into_response();
    let h = response.headers_mut();
    h.append("set-cookie", cookies::set(TOKEN_COOKIE, &issued.access_token, issued.expires_in.max(1), secure));
    h.append("set-cookie", cookies::clear(LOGIN_COOKIE, secure));
    h.append("set-cookie", cookies::clear(PROOF_COOKIE, secure));
    response
}

/// `POST /account/sign-out`: the pages forget their token and proof, then the browser signs
/// out of its session at the provider (its confirmation page), back to `/account`.
async fn sign_out(State(app): State<AppState>, _: Signed) -> Response {
    let secure = app.tenant.secure_cookies();
    let endpoint = callback_uri(&app).trim_end_matches("/callback").to_owned();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", ACCOUNT_APP_ID).append_pair("post_logout_redirect_uri", &endpoint);
    let mut response = Redirect::to(&format!("/oidc/session/end?{}", query.finish())).into_response();
    let h = response.headers_mut();
    h.append("set-cookie", cookies::clear(TOKEN_COOKIE, secure));
    h.append("set-cookie", cookies::clear(PROOF_COOKIE, secure));
    response
}

/// What a form post did, named in `/account?done=…` (a fixed set: nothing from the query is shown).
#[derive(Clone, Copy)]
pub(super) enum Done {
    Saved,
    Verified,
    Password,
    Identifier,
    FactorAdded,
    FactorRemoved,
    Session,
    Grant,
}

impl Done {
    const ALL: [Self; 8] = [
        Self::Saved,
        Self::Verified,
        Self::Password,
        Self::Identifier,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::Session,
        Self::Grant,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::Verified => "verified",
            Self::Password => "password",
            Self::Identifier => "identifier",
            Self::FactorAdded => "factor-added",
            Self::FactorRemoved => "factor-removed",
            Self::Session => "session",
            Self::Grant => "grant",
        }
    }

    fn text(self, at: &'static AccountTexts) -> &'static str {
        match self {
            Self::Saved => at.done_saved,
            Self::Verified => at.done_verified,
            Self::Password => at.done_password,
            Self::Identifier => at.done_identifier,
            Self::FactorAdded => at.done_factor_added,
            Self::FactorRemoved => at.done_factor_removed,
            Self::Session => at.done_session,
            Self::Grant => at.done_grant,
        }
    }

    fn parse(query: &Option<String>) -> Option<Self> {
        let query = query.as_deref()?;
        let done = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done")?.1;
        Self::ALL.into_iter().find(|d| d.key() == done)
    }

    pub fn redirect(self) -> Response {
        Redirect::to(&format!("/account?done={}", self.key())).into_response()
    }
}

/// The account center's switch for one field, as the page draws it.
struct Switch {
    shown: bool,
    edit: bool,
}

impl Switch {
    fn of(field: Option<AccountCenterControl>) -> Self {
        let c = control(field);
        Self { shown: c != AccountCenterControl::Off, edit: c == AccountCenterControl::Edit }
    }
}

/// The email or phone section.
struct IdentifierSection {
    kind: &'static str,
    label: &'static str,
    new_label: &'static str,
    inputmode: &'static str,
    autocomplete: &'static str,
    edit: bool,
    value: Option<String>,
}

impl IdentifierSection {
    fn new(at: &'static AccountTexts, kind: CodeIdentifierType, edit: bool, value: Option<String>) -> Self {
        match kind {
            CodeIdentifierType::Email => Self {
                kind: "email",
                label: at.email_section,
                new_label: at.new_email,
                inputmode: "email",
                autocomplete: "email",
                edit,
                value,
            },
            CodeIdentifierType::Phone => Self {
                kind: "phone",
                label: at.phone_section,
                new_label: at.new_phone,
                inputmode: "tel",
                autocomplete: "tel",
                edit,
                value,
            },
        }
    }
}

struct FactorRow {
    id: String,
    label: &'static str,
    detail: String,
    added: String,
    passkey: bool,
    backup: bool,
}

struct SessionRow {
    id: String,
    current: bool,
    signed_in: String,
    apps: String,
}

struct GrantRow {
    id: String,
    app: String,
    scope: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    v: &'a View,
    t: &'static Texts,
    at: &'static AccountTexts,
    title: &'a str,
    csrf: &'a str,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    password_rules: Vec<String>,
    who: String,
    verified: bool,
    has_password: bool,
    own_email: Option<String>,
    own_phone: Option<String>,
    name: Switch,
    name_value: String,
    username: Switch,
    username_value: String,
    avatar: Switch,
    avatar_value: String,
    identifiers: Vec<IdentifierSection>,
    password: Switch,
    mfa: Switch,
    factors: Vec<FactorRow>,
    add_totp: bool,
    add_backup_codes: bool,
    passkeys: Switch,
    add_passkey: bool,
    passkey_start: String,
    passkey_verify: String,
    script: &'static str,
    integrity: &'static str,
    sessions: Switch,
    session_rows: Vec<SessionRow>,
    grant_rows: Vec<GrantRow>,
}

fn date(ms: i64) -> String {
    let iso = kido_core::clock::iso8601(ms);
    format!("{} {} UTC", &iso[..10.min(iso.len())], iso.get(11..16).unwrap_or_default())
}

/// The overview page, with a notice or an error (and its status).
pub(super) async fn overview_page(
    app: &AppState,
    s: &Signed,
    status: StatusCode,
    notice: Option<&'static str>,
    failure: Option<&AccountError>,
) -> Response {
    let (view, caller) = (&s.view, &s.caller);
    let (t, at) = (view.t(), s.at());
    let tenant = &app.tenant.context;
    let account = app.core.account();
    let profile = match account.profile(caller).await {
        Ok(profile) => profile,
        Err(e) => return failed(view, &e),
    };
    let fields = &caller.center.fields;
    let user = &caller.user;
    let mfa = Switch::of(fields.mfa);
    let passkeys = Switch::of(passkey_control(fields));
    let enabled = &view.sie.mfa.factors;
    let mut factors = Vec::new();
    if mfa.shown || passkeys.shown {
        let listed = match account.factors(tenant, caller).await {
            Ok(listed) => listed,
            // A token without `identities` cannot read them: the section stays empty.
            Err(AccountError::MissingScope { .. }) => Vec::new(),
            Err(e) => return failed(view, &e),
        };
        for f in listed {
            let (label, detail) = match f.kind {
                MfaFactor::Totp => (at.totp, String::new()),
                MfaFactor::BackupCode => {
                    (at.backup_codes, format!("{} {}", f.remain_codes.unwrap_or_default(), at.codes_left))
                }
                MfaFactor::WebAuthn => (at.passkey, f.name.clone().or(f.agent.clone()).unwrap_or_default()),
                _ => continue,
            };
            if (f.kind == MfaFactor::WebAuthn && !passkeys.shown) || (f.kind != MfaFactor::WebAuthn && !mfa.shown) {
                continue;
            }
            let added = f.created_at.get(..10).unwrap_or_default().to_owned();
            factors.push(FactorRow {
                id: f.id,
                label,
                detail,
                added,
                passkey: f.kind == MfaFactor::WebAuthn,
                backup: f.kind == MfaFactor::BackupCode,
            });
        }
    }
    let has = |label: &str| factors.iter().any(|f| f.label == label);
    let add_totp = mfa.edit && enabled.contains(&MfaFactor::Totp) && !has(at.totp);
    let add_backup_codes = mfa.edit
        && enabled.contains(&MfaFactor::BackupCode)
        && !has(at.backup_codes)
        && factors.iter().any(|f| !f.backup);
    let add_passkey = passkeys.edit && enabled.contains(&MfaFactor::WebAuthn);
    let sessions = Switch::of(fields.session);
    let (mut session_rows, mut grant_rows) = (Vec::new(), Vec::new());
    if sessions.shown {
        let sessions_of = app.core.user_sessions();
        let user_id = caller.user_id();
        let unreadable = |e: kido_core::oidc::user_sessions::UserSessionError| AccountError::Internal(e.to_string());
        let listed = sessions_of.list(&tenant.id, &user_id).await.map_err(unreadable);
        let granted = sessions_of.grants(&tenant.id, &user_id, None).await.map_err(unreadable);
        let (list, grants) = match (listed, granted) {
            (Ok(list), Ok(grants)) => (list, grants),
            (Err(e), _) | (_, Err(e)) => return failed(view, &e),
        };
        // Sessions name their apps by client id; the grants know the apps' names.
        let name_of = |client: &str| {
            grants
                .grants
                .iter()
                .find(|g| g.payload.client_id == client)
                .map_or_else(|| client.to_owned(), |g| g.application.name.clone())
        };
        for s in list.sessions {
            let current = s.payload.authorizations.values().any(|a| a.grant_id == caller.grant_id);
            let apps: Vec<String> = s.payload.authorizations.keys().map(|c| name_of(c)).collect();
            session_rows.push(SessionRow {
                id: s.payload.uid,
                current,
                signed_in: date(s.payload.login_ts * 1000),
                apps: apps.join(", "),
            });
        }
        for g in grants.grants {
            grant_rows.push(GrantRow {
                current: g.id == caller.grant_id,
                id: g.id,
                app: g.application.name,
                scope: g.payload.openid.scope,
            });
        }
    }
    let shown = |v: &Option<Option<String>>| v.clone().flatten().unwrap_or_default();
    let rejected = matches!(failure, Some(AccountError::PasswordRejected(_)));
    let page = AccountPage {
        v: view,
        t,
        at,
        title: at.title,
        csrf: &s.csrf,
        notice,
        error: failure.map(|e| error_text(t, at, e)),
        password_rules: if rejected { view.password_rules() } else { Vec::new() },
        who: [&user.username, &user.primary_email, &user.primary_phone, &user.name]
            .into_iter()
            .find_map(|v| v.clone())
            .unwrap_or_else(|| user.id.clone()),
        verified: caller.identity_verified,
        has_password: user.password_encrypted.is_some(),
        own_email: user.primary_email.clone(),
        own_phone: user.primary_phone.clone(),
        name: Switch::of(fields.name),
        name_value: shown(&profile.name),
        username: Switch::of(fields.username),
        username_value: shown(&profile.username),
        avatar: Switch::of(fields.avatar),
        avatar_value: shown(&profile.avatar),
        identifiers: [
            (CodeIdentifierType::Email, Switch::of(fields.email), profile.primary_email.clone().flatten()),
            (CodeIdentifierType::Phone, Switch::of(fields.phone), profile.primary_phone.clone().flatten()),
        ]
        .into_iter()
        .filter(|(_, switch, _)| switch.shown)
        .map(|(kind, switch, value)| IdentifierSection::new(at, kind, switch.edit, value))
        .collect(),
        password: Switch::of(fields.password),
        mfa,
        factors,
        add_totp,
        add_backup_codes,
        passkeys,
        add_passkey,
        passkey_start: format!("/account/mfa/passkey/{}/registration", s.csrf),
        passkey_verify: format!("/account/mfa/passkey/{}/registration/verify", s.csrf),
        script: passkey::SCRIPT_PATH,
        integrity: passkey::INTEGRITY.as_str(),
        sessions,
        session_rows,
        grant_rows,
    };
    view.render_with_policy(status, &page, HeaderValue::from_static(passkey::POLICY))
}

/// The overview page again with the failure's message.
pub(super) async fn failed_post(app: &AppState, s: &Signed, e: AccountError) -> Response {
    overview_page(app, s, status_of(&e), None, Some(&e)).await
}

/// The status of a failed post: a client's mistake is a 4xx with its message in the page;
/// only the store or a delivery failing is a server error.
pub(super) fn status_of(e: &AccountError) -> StatusCode {
    use AccountError as E;
    use kido_core::verification_codes::CodeError as C;
    match e {
        E::InvalidToken | E::PermissionDenied => StatusCode::UNAUTHORIZED,
        E::NoOpenId
        | E::NotEnabled
        | E::FieldNotEditable
        | E::FieldNotEnabled
        | E::MissingScope { .. }
        | E::ThirdPartyApplication => StatusCode::FORBIDDEN,
        E::PasswordRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        E::User(UserError::Password(PasswordError::Busy | PasswordError::RateLimited { .. }))
        | E::Code(C::RateLimited | C::ExceedMaxTry) => StatusCode::TOO_MANY_REQUESTS,
        E::Connector(_) | E::Code(C::Connector(_)) => StatusCode::BAD_GATEWAY,
        E::Internal(_)
        | E::Store(_)
        | E::Code(C::Store(_))
        | E::User(UserError::Store(_) | UserError::Password(_))
        | E::Sessions(kido_core::oidc::user_sessions::UserSessionError::Store(_))
        | E::Mfa(MfaError::Store(_) | MfaError::Sealing(_) | MfaError::BackupCodesUnreadable) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// What a failed step says, in the page's language.
pub(super) fn error_text(t: &'static Texts, at: &'static AccountTexts, e: &AccountError) -> &'static str {
    use AccountError as E;
    match e {
        E::PermissionDenied => at.needs_verification,
        E::FieldNotEditable | E::FieldNotEnabled | E::MissingScope { .. } | E::ThirdPartyApplication => at.not_editable,
        E::NotEnabled => at.disabled,
        E::InvalidToken | E::NoOpenId => at.sign_in_failed,
        E::RecordNotFound
        | E::BackupCodesNotFound
        | E::ConnectorNotFound
        | E::TokenSetNotFound
        | E::Sessions(_)
        | E::User(UserError::IdentityNotFound)
        | E::Mfa(MfaError::NotFound(_)) => at.not_found,
        E::FactorNotEnabled => at.factor_not_enabled,
        E::TotpSecretInvalid | E::BackupCodeFormat(_) | E::Invalid(_) | E::User(UserError::Invalid(_)) => {
            at.invalid_input
        }
        E::Mfa(MfaError::Invalid(_) | MfaError::BackupCodeFormat(_)) => at.invalid_input,
        E::EmailRequired | E::PhoneRequired | E::EmailOrPhoneRequired | E::User(UserError::LastSignInIdentifier) => {
            at.keep_identifier
        }
        E::PasswordRejected(_) => t.password_rejected,
        E::User(UserError::PasswordMismatch | UserError::NoPassword) => at.wrong_password,
        E::User(UserError::UsernameInUse) => t.username_in_use,
        E::User(UserError::EmailInUse | UserError::PhoneInUse) => t.identifier_in_use,
        E::User(UserError::InvalidPhone) => t.invalid_identifier,
        E::User(UserError::Password(PasswordError::Busy | PasswordError::RateLimited { .. })) => t.blocked,
        E::Mfa(MfaError::TotpInUse) => at.totp_in_use,
        E::Mfa(MfaError::WrongTotpCode) => t.mfa_code_wrong,
        E::Mfa(MfaError::BackupCodeAlone) => at.backup_codes_need_factor,
        E::Mfa(MfaError::WebAuthnCredentialInUse) | E::WebAuthn(_) => t.passkey_failed,
        E::Code(c) => code_error_text(t, c).text,
        E::Connector(_) => t.delivery_failed,
        _ => t.generic_error,
    }
}

/// A bounded form field (trimmed), or `invalid_input`.
pub(super) fn field(form: &Form, name: &str, max: usize) -> Result<String, AccountError> {
    let value = form.get(name).trim();
    if value.chars().count() > max {
        return Err(AccountError::Invalid(format!("`{name}` is at most {max} characters")));
    }
    Ok(value.to_owned())
}

/// A path id the domain may look up (longer ones name nothing).
pub(super) fn path_id(id: &str) -> Result<&str, AccountError> {
    if id.is_empty() || id.len() > MAX_ID { Err(AccountError::RecordNotFound) } else { Ok(id) }
}

/// `GET /account`.
async fn overview(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let s = match signed_in(&app, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let notice = Done::parse(&query).map(|d| d.text(s.at()));
    overview_page(&app, &s, StatusCode::OK, notice, None).await
}

/// The response to a post's one domain call: the overview with a notice, or with the failure.
pub(super) async fn finish(app: &AppState, s: &Signed, result: Result<(), AccountError>, done: Done) -> Response {
    match result {
        Ok(()) => done.redirect(),
        Err(e) => failed_post(app, s, e).await,
    }
}

/// The proof cookie for a verified record, and the overview.
fn proven(app: &AppState, record_id: &str) -> Response {
    let mut response = Done::Verified.redirect();
    let secure = app.tenant.secure_cookies();
    let max_age = kido_core::account::record_kind::RECORD_TTL_MS / 1000;
    response.headers_mut().append("set-cookie", cookies::set(PROOF_COOKIE, record_id, max_age, secure));
    response
}

/// `POST /account/verify/password`: the current password proves who the user is.
async fn verify_password(State(app): State<AppState>, s: Signed) -> Response {
    let password = s.form.get("password").to_owned();
    if password.is_empty() || password.len() > MAX_INPUT {
        return failed_post(&app, &s, AccountError::User(UserError::PasswordMismatch)).await;
    }
    match app.core.account().verify_password(&app.tenant.context, &s.caller, password).await {
        Ok(created) => proven(&app, &created.verification_record_id),
        Err(e) => failed_post(&app, &s, e).await,
    }
}

fn channel(kind: &str) -> Option<CodeIdentifierType> {
    match kind {
        "email" => Some(CodeIdentifierType::Email),
        "phone" => Some(CodeIdentifierType::Phone),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "account_code.html")]
struct CodePage<'a> {
    v: &'a View,
    t: &'static Texts,
    at: &'static AccountTexts,
    title: &'a str,
    csrf: &'a str,
    error: Option<&'static str>,
    action: &'a str,
    kind: &'a str,
    to: &'a str,
    verification_id: &'a str,
}

/// The page asking for the code just sent to `to`.
fn code_page(
    s: &Signed,
    status: StatusCode,
    action: &str,
    kind: &str,
    to: &str,
    id: &str,
    error: Option<&AccountError>,
) -> Response {
    let (t, at) = (s.view.t(), s.at());
    let page = CodePage {
        v: &s.view,
        t,
        at,
        title: at.verify_title,
        csrf: &s.csrf,
        error: error.map(|e| error_text(t, at, e)),
        action,
        kind,
        to,
        verification_id: id,
    };
    s.view.render(status, &page)
}

/// A code to send: where (`kind`, `value`), with which template (the domain picks when
/// `None`), and the form that takes it back (`action`).
struct CodeToSend {
    kind: String,
    value: String,
    template: Option<VerificationCodeTemplate>,
    action: &'static str,
}

/// Sends the code, then the page asking for it.
async fn send_code_and_ask(
    app: &AppState,
    headers: &HeaderMap,
    ip: Option<&str>,
    s: &Signed,
    send: CodeToSend,
) -> Response {
    let Some(channel) = channel(&send.kind) else {
        return failed_post(app, s, AccountError::Invalid("`kind` is email or phone".into())).await;
    };
    let locale = first_language(headers);
    let identifier = CodeIdentifier { kind: channel, value: send.value.clone() };
    let sent = app
        .core
        .account()
        .send_code(&app.tenant.context, &s.caller, identifier, send.template, locale.as_deref(), ip)
        .await;
    match sent {
        Ok(created) => {
            code_page(s, StatusCode::OK, send.action, &send.kind, &send.value, &created.verification_record_id, None)
        }
        Err(e) => failed_post(app, s, e).await,
    }
}

/// `POST /account/verify/code`: a code to the user's own email or phone (`kind`), to prove
/// who they are.
async fn send_proof_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    s: Signed,
) -> Response {
    let kind = s.form.get("kind").to_owned();
    let own = match channel(&kind) {
        Some(CodeIdentifierType::Email) => s.caller.user.primary_email.clone(),
        Some(CodeIdentifierType::Phone) => s.caller.user.primary_phone.clone(),
        None => None,
    };
    let Some(own) = own else {
        return failed_post(&app, &s, AccountError::Invalid("no such address".into())).await;
    };
    let template = Some(VerificationCodeTemplate::UserPermissionValidation);
    let send = CodeToSend { kind, value: own, template, action: "/account/verify/code/check" };
    send_code_and_ask(&app, &headers, ip.as_deref(), &s, send).await
}

/// The code page's fields: the channel, the address, the record and the code.
fn code_fields(form: &Form) -> Result<(CodeIdentifier, String, String), AccountError> {
    let kind = channel(form.get("kind")).ok_or_else(|| AccountError::Invalid("`kind` is email or phone".into()))?;
    let value = field(form, "identifier", MAX_INPUT)?;
    let id = field(form, "verification_id", MAX_ID)?;
    let code = field(form, "code", MAX_ID)?;
    Ok((CodeIdentifier { kind, value }, id, code))
}

/// `POST /account/verify/code/check`: the code sent to the user's own address; the record
/// proves who they are.
async fn check_proof_code(State(app): State<AppState>, s: Signed) -> Response {
    let (identifier, id, code) = match code_fields(&s.form) {
        Ok(fields) => fields,
        Err(e) => return failed_post(&app, &s, e).await,
    };
    let (kind, to) = (s.form.get("kind").to_owned(), identifier.value.clone());
    match app.core.account().verify_code(&app.tenant.context, &s.caller, identifier, &id, &code).await {
        Ok(record) => proven(&app, &record),
        Err(e) => code_page(&s, status_of(&e), "/account/verify/code/check", &kind, &to, &id, Some(&e)),
    }
}

/// `POST /account/profile`: name, avatar and username, where changed.
async fn update_profile(State(app): State<AppState>, s: Signed) -> Response {
    let user = &s.caller.user;
    let changed = |name: &str, max: usize, current: &Option<String>| {
        // Only what the form posts and the user changed is sent; a field the account center
        // does not let be edited is not in the form, and the domain refuses it if posted.
        if !s.form.has(name) {
            return Ok(None);
        }
        let value = field(&s.form, name, max)?;
        let new = (!value.is_empty()).then_some(value);
        Ok::<_, AccountError>((new != *current).then_some(new))
    };
    let update = (|| {
        Ok::<_, AccountError>(UpdateAccount {
            name: changed("name", 128, &user.name)?,
            avatar: changed("avatar", MAX_AVATAR, &user.avatar)?,
            username: changed("username", 128, &user.username)?,
            custom_data: None,
        })
    })();
    let result = match update {
        Ok(update) if update.name.is_none() && update.avatar.is_none() && update.username.is_none() => Ok(()),
        Ok(update) => app.core.account().update_account(&app.tenant.context, &s.caller, update).await.map(|_| ()),
        Err(e) => Err(e),
    };
    finish(&app, &s, result, Done::Saved).await
}

/// `POST /account/identifier/send`: a code to a new email or phone (`kind`, `identifier`).
async fn send_new_identifier_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    s: Signed,
) -> Response {
    let kind = s.form.get("kind").to_owned();
    let value = match field(&s.form, "identifier", MAX_INPUT) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => return failed_post(&app, &s, AccountError::Invalid("`identifier` is required".into())).await,
        Err(e) => return failed_post(&app, &s, e).await,
    };
    let send = CodeToSend { kind, value, template: None, action: "/account/identifier/verify" };
    send_code_and_ask(&app, &headers, ip.as_deref(), &s, send).await
}

/// `POST /account/identifier/verify`: the code sent to the new address; it becomes primary.
async fn bind_identifier(State(app): State<AppState>, s: Signed) -> Response {
    let (identifier, id, code) = match code_fields(&s.form) {
        Ok(fields) => fields,
        Err(e) => return failed_post(&app, &s, e).await,
    };
    let (kind, to) = (s.form.get("kind").to_owned(), identifier.value.clone());
    match app.core.account().bind_new_identifier(&app.tenant.context, &s.caller, identifier, &id, &code).await {
        Ok(()) => Done::Identifier.redirect(),
        // A wrong code: asked again; anything else: the overview says why.
        Err(e @ AccountError::Code(_)) => {
            code_page(&s, status_of(&e), "/account/identifier/verify", &kind, &to, &id, Some(&e))
        }
        Err(e) => failed_post(&app, &s, e).await,
    }
}

/// `POST /account/password`: a new password (twice), under the tenant's policy.
async fn change_password(State(app): State<AppState>, s: Signed) -> Response {
    let password = s.form.get("password").to_owned();
    if password.is_empty() || password.len() > MAX_INPUT {
        return failed_post(&app, &s, AccountError::PasswordRejected(Vec::new())).await;
    }
    if password != s.form.get("confirm_password") {
        return failed_post(&app, &s, AccountError::Invalid("the passwords differ".into())).await;
    }
    let result = app.core.account().set_password(&app.tenant.context, &s.caller, password).await;
    finish(&app, &s, result, Done::Password).await
}

/// `POST /account/sessions/{id}/revoke`: "sign out this device".
async fn end_session(State(app): State<AppState>, Path(id): Path<String>, s: Signed) -> Response {
    let result = match path_id(&id) {
        Ok(id) => {
            app.core.account().revoke_session(&app.tenant.context, &s.caller, id, Some(RevokeGrantsTarget::All)).await
        }
        Err(e) => Err(e),
    };
    finish(&app, &s, result, Done::Session).await
}

/// `POST /account/grants/{id}/revoke`: a connected app loses its access.
async fn end_grant(State(app): State<AppState>, Path(id): Path<String>, s: Signed) -> Response {
    let result = match path_id(&id) {
        Ok(id) => app.core.account().revoke_grant(&app.tenant.context, &s.caller, id).await,
        Err(e) => Err(e),
    };
    finish(&app, &s, result, Done::Grant).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_outcomes_are_announced() {
        for done in Done::ALL {
            assert_eq!(Done::parse(&Some(format!("done={}", done.key()))).map(Done::key), Some(done.key()));
            let location = done.redirect().headers().get("location").cloned().unwrap();
            assert_eq!(location.to_str().unwrap(), format!("/account?done={}", done.key()));
        }
        assert!(Done::parse(&Some("done=https://evil.example".into())).is_none());
        assert!(Done::parse(&None).is_none());
    }

    #[test]
    fn switches_and_bounds() {
        let off = Switch::of(None);
        assert!(!off.shown && !off.edit);
        let read = Switch::of(Some(AccountCenterControl::ReadOnly));
        assert!(read.shown && !read.edit);
        let edit = Switch::of(Some(AccountCenterControl::Edit));
        assert!(edit.shown && edit.edit);
        let form = Form::parse(b"name=%20Ann%20&long=xxxxx");
        assert_eq!(field(&form, "name", 3).unwrap(), "Ann");
        assert!(matches!(field(&form, "long", 4), Err(AccountError::Invalid(_))));
        assert!(path_id(&"a".repeat(65)).is_err() && path_id("").is_err() && path_id("abc").is_ok());
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
    }
}
