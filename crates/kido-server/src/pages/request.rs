//! What every hosted form request needs: this browser's interaction and its view, the
//! anti-forgery token, the posted form, the query carried from page to page, how a typed
//! identifier is read, and the text a failed step shows.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kido_core::experience::{ExperienceError, Identifier, IdentifierType, Interaction, InteractionCookie};
use kido_core::ids;
use kido_core::passwords::PasswordError;
use subtle::ConstantTimeEq;

use super::form_error::{Failure, Field};
use super::i18n::Texts;
use super::view::View;
use crate::errors::ApiError;
use crate::state::AppState;

/// The interaction of this browser, the page's view of it and the
/// forms' anti-forgery token; or the page to show instead.
pub(super) async fn open(
    app: &AppState,
    headers: &HeaderMap,
    cookie: &InteractionCookie,
) -> Result<(Interaction, View, String), Response> {
    match app.core.hosted_experience().load(&app.tenant.context, cookie).await {
        Ok(interaction) => {
            let name =
                app.core.authorization().interaction_client(&app.tenant.context, &interaction.params.client_id).await;
            let view =
                View::new(app, headers, interaction.params.ui_locales.as_deref(), name.map(|c| c.app.name.clone()))
                    .await;
            let csrf = csrf_token(&interaction.id);
            Ok((interaction, view, csrf))
        }
        Err(ExperienceError::SessionNotFound) => {
            let view = View::new(app, headers, None, None).await;
            let t = view.t();
            Err(view.message(StatusCode::BAD_REQUEST, t.error_title, t.session_lost, true))
        }
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// A form POST: the interaction (loaded once, for the page and the domain operation), its
/// view, the anti-forgery token, and the form once that token checks out.
pub(super) async fn open_post(
    app: &AppState,
    headers: &HeaderMap,
    cookie: &InteractionCookie,
    body: &[u8],
) -> Result<Posted, Response> {
    let (interaction, view, csrf) = open(app, headers, cookie).await?;
    let form = Form::parse(body);
    if !csrf_ok(&form, &csrf) {
        let t = view.t();
        return Err(view.message(StatusCode::FORBIDDEN, t.error_title, t.forbidden_form, true));
    }
    Ok(Posted { interaction, view, csrf, form })
}

/// What `open_post` found: the browser's interaction, the page's view, the anti-forgery
/// token and the posted form.
pub(super) struct Posted {
    pub interaction: Interaction,
    pub view: View,
    pub csrf: String,
    pub form: Form,
}

/// The forms' anti-forgery token: derived from the interaction's id, which only the
/// browser holding the (HttpOnly, rotating) interaction cookie gets to act on, so a page on
/// another site can neither read nor compute it; and it survives the cookie's rotation at
/// every step (see `interaction_guard`), so a page rendered earlier still posts.
pub(super) fn csrf_token(interaction_id: &str) -> String {
    ids::digest(&format!("kido-form:{interaction_id}"))
}

pub(super) fn csrf_ok(form: &Form, expected: &str) -> bool {
    bool::from(form.get("csrf").as_bytes().ct_eq(expected.as_bytes()))
}

/// A posted `application/x-www-form-urlencoded` body.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    pub(super) fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub(super) fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub(super) fn empty() -> Self {
        Self(Vec::new())
    }
}

/// The page's query (`?app_id=…&ui_locales=…`), carried to the next page's links, form
/// actions and redirects: re-encoded pair by pair, so it is a well-formed query whatever
/// the browser sent (the templates HTML-escape it where it stands in an attribute).
pub(super) fn carry_query(query: &Option<String>) -> String {
    let Some(query) = query.as_deref().filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut out = url::form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    out.extend_pairs(url::form_urlencoded::parse(query.as_bytes()));
    out.finish()
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

/// Status and message of a failed step, with the field it is about.
pub(super) fn failure(view: &View, e: ExperienceError) -> (StatusCode, Failure) {
    let failure = error_text(view.t(), &e);
    (ApiError::from(e).status, failure)
}

fn error_text(t: &'static Texts, e: &ExperienceError) -> Failure {
    use ExperienceError as E;
    let general = |text| Failure { text, field: None };
    match e {
        E::InvalidCredentials | E::VerificationFailed | E::VerificationNotFound => {
            Failure::about(Field::Password, t.invalid_credentials)
        }
        E::Suspended => general(t.suspended),
        E::SignInMethodNotEnabled | E::SignUpMethodNotEnabled => general(t.method_disabled),
        E::Forbidden | E::InvalidInteractionType | E::ForgotPasswordStandsAlone | E::ResetChannelNotEnabled => {
            general(t.mode_forbidden)
        }
        E::UsernameInUse => Failure::about(Field::Username, t.username_in_use),
        E::EmailInUse | E::PhoneInUse => Failure::about(Field::Identifier, t.identifier_in_use),
        E::IdentifierMismatch(_) => Failure::about(Field::Code, t.code_expired),
        E::SamePassword => Failure::about(Field::Password, t.same_password),
        E::NewPasswordRequired => Failure::about(Field::Password, t.password_rejected),
        E::Code(c) => code_error_text(t, c),
        E::Invalid(_) => Failure::about(Field::Username, t.username_invalid),
        E::PasswordRejected(_) | E::PasswordLength(_) => Failure::about(Field::Password, t.password_rejected),
        E::Blocked { .. } => general(t.blocked),
        E::Password(PasswordError::Busy | PasswordError::RateLimited { .. }) | E::TooManyRequests { .. } => {
            general(t.blocked)
        }
        E::Password(_) => general(t.generic_error),
        E::CredentialsChanged => general(t.session_lost),
        E::TermsNotAgreed => Failure::about(Field::Agree, t.terms_not_agreed),
        E::MissingProfile(_) => general(t.missing_profile),
        E::Mfa(_) => general(t.mfa_unavailable),
        E::InvalidTotpCode | E::InvalidBackupCode => Failure::about(Field::Code, t.mfa_code_wrong),
        E::MfaFactorNotEnabled
        | E::MfaPendingInfoNotFound
        | E::TotpInUse
        | E::BackupCodeAlone
        | E::MfaNotSkippable
        | E::WebAuthnFailed(_)
        | E::WebAuthnNotFound
        // The pages never ask for a passkey (`Core::hosted_experience`).
        | E::PasskeyPreferred => general(t.generic_error),
        E::SessionNotFound | E::InteractionNotFound | E::IdentifierNotFound => general(t.session_lost),
        E::OneTimeToken(_) => general(t.link_invalid),
        E::UserNotExist | E::IdentityConflict | E::Internal(_) | E::Store(_) => general(t.generic_error),
    }
}

pub(super) fn code_error_text(t: &'static Texts, e: &kido_core::verification_codes::CodeError) -> Failure {
    use kido_core::verification_codes::CodeError as C;
    match e {
        C::Mismatch => Failure::about(Field::Code, t.code_wrong),
        C::NotFound | C::Expired => Failure::about(Field::Code, t.code_expired),
        C::ExceedMaxTry => Failure::about(Field::Code, t.too_many_codes),
        C::RateLimited => Failure { text: t.rate_limited, field: None },
        C::InvalidRecipient(_) => Failure::about(Field::Identifier, t.invalid_identifier),
        C::Connector(_) | C::Store(_) => Failure { text: t.delivery_failed, field: None },
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

    #[test]
    fn the_carried_query_is_re_encoded() {
        assert_eq!(carry_query(&None), "");
        assert_eq!(carry_query(&Some(String::new())), "");
        assert_eq!(carry_query(&Some("app_id=a&ui_locales=ja".into())), "?app_id=a&ui_locales=ja");
        assert_eq!(
            carry_query(&Some("x=\"><b>&ui_locales=zh%2DTW%20ja".into())),
            "?x=%22%3E%3Cb%3E&ui_locales=zh-TW+ja"
        );
    }
}
