//! The account pages' second factors: an authenticator app (the secret as a QR code, proven by
//! a code), backup codes (a new set shown once; the set read back with what was used),
//! passkeys (registered by `passkey.js` against the two JSON routes here, then named, renamed
//! or removed). Each post is one Account API domain call (`Account::add_factor`, …).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kido_core::account::AccountError;
use kido_core::account::factors::NewFactor;
use kido_core::mfa::{MfaError, authenticator_issuer, backup_codes, secret_qr_code, totp};
use kido_proto::account::{VerificationRecordId, WebAuthnRegistrationRecord};
use kido_proto::webauthn::RegistrationPayload;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::account::{Done, MAX_INPUT, Signed, error_text, failed_post, field, finish, path_id, signed_in, status_of};
use super::account_texts::AccountTexts;
use super::i18n::Texts;
use super::view::View;
use crate::errors::ApiError;
use crate::state::AppState;

/// Longest TOTP secret the form carries back (base32 of 20 bytes is 32).
const MAX_SECRET: usize = 128;
/// Longest passkey name (the Account API's bound).
const MAX_NAME: usize = 128;

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/account/mfa/totp", get(totp_page).post(totp_submit))
        .route("/account/mfa/backup-codes", get(backup_codes_page).post(backup_codes_submit))
        .route("/account/mfa/passkey", post(passkey_submit))
        .route("/account/mfa/passkey/{csrf}/registration", post(passkey_start))
        .route("/account/mfa/passkey/{csrf}/registration/verify", post(passkey_verify))
        .route("/account/mfa/{id}/rename", post(rename_submit))
        .route("/account/mfa/{id}/remove", post(remove_submit))
}

#[derive(Template)]
#[template(path = "account_totp.html")]
struct TotpPage<'a> {
    v: &'a View,
    t: &'static Texts,
    at: &'static AccountTexts,
    title: &'a str,
    csrf: &'a str,
    error: Option<&'static str>,
    qr_code: String,
    secret: &'a str,
}

fn totp_form(app: &AppState, s: &Signed, status: StatusCode, secret: &str, error: Option<&AccountError>) -> Response {
    let (t, at) = (s.view.t(), s.at());
    let issuer = authenticator_issuer(&app.tenant.context.issuer);
    let page = TotpPage {
        v: &s.view,
        t,
        at,
        title: at.add_totp,
        csrf: &s.csrf,
        error: error.map(|e| error_text(t, at, e)),
        qr_code: secret_qr_code(&issuer, &s.caller.user, secret),
        secret,
    };
    s.view.render(status, &page)
}

/// `GET /account/mfa/totp`: a new secret, on this page only (nothing is stored until a code
/// of it is posted, as with the Account API's `totp-secret/generate`).
async fn totp_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&app, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    if !s.caller.identity_verified {
        return failed_post(&app, &s, AccountError::PermissionDenied).await;
    }
    match totp::generate_secret() {
        Some(secret) => totp_form(&app, &s, StatusCode::OK, &secret, None),
        None => failed_post(&app, &s, AccountError::Internal("no randomness".into())).await,
    }
}

/// `POST /account/mfa/totp`: the secret with a code of it; a wrong code asks again.
async fn totp_submit(State(app): State<AppState>, s: Signed) -> Response {
    let (secret, code) = match (field(&s.form, "secret", MAX_SECRET), field(&s.form, "code", 16)) {
        (Ok(secret), Ok(code)) => (secret, code),
        (Err(e), _) | (_, Err(e)) => return failed_post(&app, &s, e).await,
    };
    let new = NewFactor::Totp { secret: secret.clone(), code: Some(code) };
    match app.core.account().add_factor(&app.tenant.context, &s.caller, new).await {
        Ok(()) => Done::FactorAdded.redirect(),
        Err(e @ AccountError::Mfa(MfaError::WrongTotpCode)) => totp_form(&app, &s, status_of(&e), &secret, Some(&e)),
        Err(e) => failed_post(&app, &s, e).await,
    }
}

struct CodeRow {
    code: String,
    used: bool,
}

#[derive(Template)]
#[template(path = "account_backup_codes.html")]
struct BackupCodesPage<'a> {
    v: &'a View,
    t: &'static Texts,
    at: &'static AccountTexts,
    title: &'a str,
    /// A new set, shown this once (else the stored set with what was used).
    fresh: bool,
    codes: Vec<CodeRow>,
    download: String,
}

fn codes_page(s: &Signed, fresh: bool, codes: Vec<CodeRow>) -> Response {
    let (t, at) = (s.view.t(), s.at());
    let unused: Vec<&str> = codes.iter().filter(|c| !c.used).map(|c| c.code.as_str()).collect();
    let text = unused.join("\n") + "\n";
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let page = BackupCodesPage {
        v: &s.view,
        t,
        at,
        title: at.backup_codes,
        fresh,
        codes,
        download: format!("data:text/plain;charset=utf-8,{encoded}"),
    };
    s.view.render(StatusCode::OK, &page)
}

/// `POST /account/mfa/backup-codes`: a new set bound, then shown once.
async fn backup_codes_submit(State(app): State<AppState>, s: Signed) -> Response {
    let Some(codes) = backup_codes::generate() else {
        return failed_post(&app, &s, AccountError::Internal("no randomness".into())).await;
    };
    let new = NewFactor::BackupCode { codes: codes.clone() };
    match app.core.account().add_factor(&app.tenant.context, &s.caller, new).await {
        Ok(()) => codes_page(&s, true, codes.into_iter().map(|code| CodeRow { code, used: false }).collect()),
        Err(e) => failed_post(&app, &s, e).await,
    }
}

/// `GET /account/mfa/backup-codes`: the stored set and which codes were used.
async fn backup_codes_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&app, &headers).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    match app.core.account().backup_codes(&app.tenant.context, &s.caller).await {
        Ok(codes) => codes_page(
            &s,
            false,
            codes.into_iter().map(|c| CodeRow { code: c.code, used: c.used_at.is_some() }).collect(),
        ),
        Err(e) => failed_post(&app, &s, e).await,
    }
}

/// The JSON routes of `passkey.js`: the page's anti-forgery token stands in their path (the
/// script posts no form), compared as the forms' is.
async fn json_caller(app: &AppState, headers: &HeaderMap, csrf: &str) -> Result<Signed, Response> {
    let s = signed_in(app, headers).await.map_err(|_| ApiError::from(AccountError::InvalidToken).into_response())?;
    if !bool::from(csrf.as_bytes().ct_eq(s.csrf.as_bytes())) {
        return Err(
            ApiError::new(StatusCode::FORBIDDEN, "auth.forbidden", "The page's token does not match.").into_response()
        );
    }
    Ok(s)
}

/// `POST /account/mfa/passkey/{csrf}/registration`: options for a new passkey.
async fn passkey_start(State(app): State<AppState>, headers: HeaderMap, Path(csrf): Path<String>) -> Response {
    let s = match json_caller(&app, &headers, &csrf).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let (created, options) = match app.core.account().webauthn_registration(&app.tenant.context, &s.caller).await {
        Ok(started) => started,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let options = match serde_json::to_value(options) {
        Ok(options) => options,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    axum::Json(WebAuthnRegistrationRecord {
        verification_record_id: created.verification_record_id,
        registration_options: options,
        expires_at: created.expires_at,
    })
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    verification_id: String,
    payload: RegistrationPayload,
}

/// `POST /account/mfa/passkey/{csrf}/registration/verify`: the browser's new credential.
async fn passkey_verify(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(csrf): Path<String>,
    body: Bytes,
) -> Response {
    let s = match json_caller(&app, &headers, &csrf).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let answer: Answer = match serde_json::from_slice(&body) {
        Ok(answer) => answer,
        Err(e) => return ApiError::invalid_input("body", e.to_string()).into_response(),
    };
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let verified = app
        .core
        .account()
        .verify_webauthn_registration(&app.tenant.context, &s.caller, &answer.verification_id, &answer.payload, agent)
        .await;
    match verified {
        Ok(id) => axum::Json(VerificationRecordId { verification_record_id: id }).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /account/mfa/passkey`: the registered passkey bound, with its name.
async fn passkey_submit(State(app): State<AppState>, s: Signed) -> Response {
    let result = match (field(&s.form, "verification_id", MAX_INPUT), field(&s.form, "name", MAX_NAME)) {
        (Ok(record_id), Ok(name)) => {
            let new = NewFactor::WebAuthn { record_id, name: Some(name).filter(|n| !n.is_empty()) };
            app.core.account().add_factor(&app.tenant.context, &s.caller, new).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    finish(&app, &s, result, Done::FactorAdded).await
}

/// `POST /account/mfa/{id}/rename`: a passkey's new name.
async fn rename_submit(State(app): State<AppState>, Path(id): Path<String>, s: Signed) -> Response {
    let result = match (path_id(&id), field(&s.form, "name", MAX_NAME)) {
        (Ok(id), Ok(name)) => app.core.account().rename_factor(&app.tenant.context, &s.caller, id, &name).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    finish(&app, &s, result, Done::Saved).await
}

/// `POST /account/mfa/{id}/remove`.
async fn remove_submit(State(app): State<AppState>, Path(id): Path<String>, s: Signed) -> Response {
    let result = match path_id(&id) {
        Ok(id) => app.core.account().remove_factor(&app.tenant.context, &s.caller, id).await,
        Err(e) => Err(e),
    };
    finish(&app, &s, result, Done::FactorRemoved).await
}
