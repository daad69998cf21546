//! A sign-in in progress: the authorization request that started it, the Experience API's
//! state (event, verification records, the profile being built) and, once submitted, who
//! signed in. The OIDC engine (`oidc::authorize`) and the Experience API (`experience`)
//! both use this module; neither imports the other.
//!
//! - `rules`: pure functions deciding what may happen next (unit-tested without a database);
//! - `audit_keys`: the `Interaction.*` audit log keys;
//! - `store`: loading an interaction by its cookie and saving it (once per request);
//! - `cookie`: the `_interaction` cookie of one request, rotated by its save;
//! - `mfa`: the second-factor proofs, pending bindings and choices of the sign-in;
//! - `passkey`: passkey sign-in (a passkey as the first factor): its challenge and record.

pub mod audit_keys;
mod cookie;
mod identifier;
pub mod mfa;
pub mod passkey;
pub mod rules;
pub mod store;

pub use cookie::InteractionCookie;
pub use identifier::{Identifier, IdentifierType};

use kido_proto::connectors::TemplateType;
use kido_proto::one_time_tokens::OneTimeTokenContext;
use kido_proto::sign_in_experience::MfaFactor;
use serde::{Deserialize, Serialize};

/// How long a sign-in may stay pending.
pub const INTERACTION_TTL_MS: i64 = 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InteractionEvent {
    SignIn,
    Register,
    ForgotPassword,
}

impl InteractionEvent {
    /// The message template a code for this event is sent with.
    pub fn template(self) -> TemplateType {
        match self {
            Self::SignIn => TemplateType::SignIn,
            Self::Register => TemplateType::Register,
            Self::ForgotPassword => TemplateType::ForgotPassword,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "SignIn",
            Self::Register => "Register",
            Self::ForgotPassword => "ForgotPassword",
        }
    }
}

/// Verification record types (Logto's `VerificationType`; the serde names are the stored
/// and wire strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerificationKind {
    Password,
    EmailVerificationCode,
    PhoneVerificationCode,
    /// A new username and its password, checked for a registration (Logto's sign-up UI).
    NewPasswordIdentity,
    /// A code sent to the identified user's own email or phone as a second factor; it never
    /// identifies anyone.
    MfaEmailVerificationCode,
    MfaPhoneVerificationCode,
    /// An email proven by a one-time token (a magic link) the Management API issued.
    OneTimeToken,
}

impl VerificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "Password",
            Self::EmailVerificationCode => "EmailVerificationCode",
            Self::PhoneVerificationCode => "PhoneVerificationCode",
            Self::NewPasswordIdentity => "NewPasswordIdentity",
            Self::MfaEmailVerificationCode => "MfaEmailVerificationCode",
            Self::MfaPhoneVerificationCode => "MfaPhoneVerificationCode",
            Self::OneTimeToken => "OneTimeToken",
        }
    }

    /// Whether the record proves an identifier by a one-time code (and may identify).
    pub fn is_code(self) -> bool {
        matches!(self, Self::EmailVerificationCode | Self::PhoneVerificationCode)
    }

    /// The second factor a code record of this kind proves, if it is a second-factor code.
    pub fn mfa_factor(self) -> Option<MfaFactor> {
        match self {
            Self::MfaEmailVerificationCode => Some(MfaFactor::EmailVerificationCode),
            Self::MfaPhoneVerificationCode => Some(MfaFactor::PhoneVerificationCode),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: VerificationKind,
    pub identifier: Identifier,
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// For code records: the template the code was sent with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateType>,
    /// For password records: the password's state when it was checked
    /// (`users::credential_stamp`); a later change voids the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_stamp: Option<i64>,
    /// For new-password-identity records: the new password, hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_encrypted: Option<String>,
    /// For one-time-token records: what the spent token carried (organizations to join).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_token_context: Option<OneTimeTokenContext>,
}

/// The profile a registration builds. The password is kept hashed, never in clear.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_encrypted: Option<String>,
}

/// Who signed in, once the interaction is submitted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    pub account_id: String,
    /// Epoch seconds (the ID token's `auth_time`).
    pub login_ts: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperienceState {
    #[serde(default)]
    pub interaction_event: Option<InteractionEvent>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub profile: InteractionProfile,
    #[serde(default)]
    pub verification_records: Vec<VerificationRecord>,
    #[serde(default)]
    pub terms_agreed: bool,
    /// The password state the identified user was verified with (password sign-ins only):
    /// re-checked at submit and when the browser resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_stamp: Option<i64>,
    #[serde(default)]
    pub result: Option<LoginResult>,
    /// Second factors: proofs, pending bindings, choices.
    #[serde(default)]
    pub mfa: mfa::MfaState,
    /// The passkey sign-in verification record, if a ceremony was begun or answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_passkey: Option<passkey::SignInPasskeyRecord>,
}

/// What the user answered when the client asked for consent (first-party clients are
/// answered for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub granted: bool,
    /// The organizations the client may act in (`organizationIds` of the consent).
    #[serde(default)]
    pub organization_ids: Vec<String>,
}

impl ExperienceState {
    /// The latest verification by code (what a code page asks for).
    pub fn pending_code(&self) -> Option<&VerificationRecord> {
        self.verification_records.iter().rev().find(|r| r.kind.is_code())
    }
}

/// Which hosted page an interaction starts on (Logto's `first_screen` / `interaction_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirstScreen {
    SignIn,
    Register,
}

/// A validated authorization request, kept in the interaction until the user is back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub resources: Vec<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub ui_locales: Option<String>,
    pub login_hint: Option<String>,
    pub first_screen: FirstScreen,
    /// A magic link's one-time token (Logto's `one_time_token`): only passed on to the
    /// landing page in the redirect, never stored with the interaction.
    #[serde(skip)]
    pub one_time_token: Option<String>,
}

impl AuthorizationParams {
    /// The hosted page that starts this sign-in, with Logto's query parameters (a magic
    /// link's token lands on the sign-in page, which hands it to `/one-time-token`).
    pub fn sign_in_location(&self) -> String {
        let path = match self.first_screen {
            _ if self.one_time_token.is_some() => "/sign-in",
            FirstScreen::SignIn => "/sign-in",
            FirstScreen::Register => "/register",
        };
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("app_id", &self.client_id);
        if let Some(l) = &self.ui_locales {
            query.append_pair("ui_locales", l);
        }
        if let Some(h) = &self.login_hint {
            query.append_pair("login_hint", h);
        }
        if let Some(token) = &self.one_time_token {
            query.append_pair("one_time_token", token);
        }
        format!("{path}?{}", query.finish())
    }
}

/// A loaded interaction: its id, its authorization request, its state, the answer to the
/// consent prompt (written apart from the state: `store::record_consent`) and the challenge
/// of a passkey sign-in begun without an identifier (`store::set_passkey_challenge`).
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: String,
    pub params: AuthorizationParams,
    pub state: ExperienceState,
    pub consent: Option<Consent>,
    pub passkey_challenge: Option<passkey::PasskeyChallenge>,
}
