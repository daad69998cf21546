//! The Experience API (Logto RFC 0004): the steps a browser takes through a sign-in in
//! progress (`crate::interaction`). Each public operation loads the interaction once,
//! reads the user at most once and saves at most once; the hosted pages call one
//! operation per form post (`forms`), built from the same steps.

pub mod codes;
pub mod consent;
pub mod forms;
mod identify;
mod mfa;
mod new_password;
mod one_time_token;
mod password;
mod profile;
pub mod sentinel;
mod sign_in_passkey;
mod submit;
mod webauthn;

pub use mfa::NewTotpSecret;

use kido_proto::sign_in_experience::{PasswordIssue, SignInExperience};
use kido_store::logs::StoredLog;
use kido_store::users::StoredUser;
use serde_json::{Value, json};
use thiserror::Error;

use crate::events::{Event, FailureReason, SignInOutcome};
use crate::interaction::rules::{self, Refusal};
pub use crate::interaction::rules::{missing_profile, sends_codes, terms_required};
use crate::interaction::store as interactions;
pub use crate::interaction::{
    ExperienceState, Identifier, IdentifierType, Interaction, InteractionCookie, InteractionEvent, InteractionProfile,
    LoginResult, VerificationKind, VerificationRecord,
};
use crate::mfa::policy::MfaDemand;
use crate::one_time_tokens::OneTimeTokenError;
use crate::passwords::PasswordError;
use crate::storage::{self, StorageError};
use crate::verification_codes::CodeError;
use crate::{Core, TenantContext, audit};

/// What `POST /profile` may set in this version.
pub enum ProfileInput {
    Username(String),
    Password(String),
    /// A verified email or phone, by its verification record.
    Verified(IdentifierType, String),
    /// Types that need verification codes or connectors (email, phone, social…).
    Unsupported(String),
}

#[derive(Debug, Error)]
pub enum ExperienceError {
    #[error("session not found")]
    SessionNotFound,
    #[error("interaction not started: call PUT /api/experience first")]
    InteractionNotFound,
    #[error("incorrect account or password")]
    InvalidCredentials,
    #[error("this account is suspended")]
    Suspended,
    #[error("this sign-in method is not enabled")]
    SignInMethodNotEnabled,
    #[error("this sign-up method is not enabled")]
    SignUpMethodNotEnabled,
    #[error("the sign-in mode does not allow this")]
    Forbidden,
    /// Forgot-password cannot be switched to or from, and takes no registration profile.
    #[error("not supported for forgot password: the event cannot change nor take a profile")]
    ForgotPasswordStandsAlone,
    /// A password reset is proven only by a code sent to an enabled reset channel.
    #[error("not supported for forgot password: this channel does not reset passwords")]
    ResetChannelNotEnabled,
    #[error("verification record not found")]
    VerificationNotFound,
    #[error("verification failed")]
    VerificationFailed,
    #[error("no user identified yet")]
    IdentifierNotFound,
    #[error("no user has this identifier")]
    UserNotExist,
    #[error("another user is already identified in this interaction")]
    IdentityConflict,
    #[error("not supported for the current interaction event")]
    InvalidInteractionType,
    #[error("profile incomplete: {0:?}")]
    MissingProfile(Vec<&'static str>),
    #[error("this username is already in use")]
    UsernameInUse,
    #[error("this email is already in use")]
    EmailInUse,
    #[error("this phone number is already in use")]
    PhoneInUse,
    #[error("the identifier does not match the one the code was sent to")]
    IdentifierMismatch(IdentifierType),
    #[error("the new password is the same as the old one")]
    SamePassword,
    #[error("a new password must be set first")]
    NewPasswordRequired,
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    OneTimeToken(#[from] OneTimeTokenError),
    #[error("password rejected by the policy")]
    PasswordRejected(Vec<PasswordIssue>),
    #[error("too many failed attempts")]
    Blocked { minutes: i64 },
    #[error("the password changed after it was verified")]
    CredentialsChanged,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the terms of use must be agreed to")]
    TermsNotAgreed,
    #[error("{0}")]
    Invalid(String),
    /// Empty or longer than `password_policy::MAX_PASSWORD_LEN`.
    #[error("{0}")]
    PasswordLength(String),
    /// What the MFA policy asks before the sign-in can finish.
    #[error("a second factor is needed: {0:?}")]
    Mfa(MfaDemand),
    #[error("this MFA factor is not enabled")]
    MfaFactorNotEnabled,
    #[error("the TOTP code is wrong or was used already")]
    InvalidTotpCode,
    #[error("the backup code is wrong or was used already")]
    InvalidBackupCode,
    #[error("the verification has no new secret or codes to bind")]
    MfaPendingInfoNotFound,
    #[error("the user already has a TOTP factor")]
    TotpInUse,
    #[error("backup codes cannot be a user's only factor; bind another factor first")]
    BackupCodeAlone,
    #[error("the MFA policy does not let users skip binding a factor")]
    MfaNotSkippable,
    /// A passkey registration or assertion that does not verify (why, for the message).
    #[error("{0}")]
    WebAuthnFailed(String),
    #[error("the user has no passkey")]
    WebAuthnNotFound,
    /// Passkey sign-in is on and the user has no passkey and did not decline to add one.
    #[error("add a passkey to sign in with it next time, or skip")]
    PasskeyPreferred,
    #[error("too many requests; retry in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(ExperienceError);

impl From<Refusal> for ExperienceError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::ModeForbids => Self::Forbidden,
            Refusal::ForgotPasswordSwitch => Self::ForgotPasswordStandsAlone,
            Refusal::TermsNotAgreed => Self::TermsNotAgreed,
            Refusal::CredentialsChanged => Self::CredentialsChanged,
        }
    }
}

type Result<T> = std::result::Result<T, ExperienceError>;

/// The one "may this user sign in" answer of the Experience API.
fn allow_sign_in(user: &StoredUser) -> Result<()> {
    if rules::may_sign_in(user) { Ok(()) } else { Err(ExperienceError::Suspended) }
}

/// A save that found the interaction gone from under its cookie: lost, as if never found.
fn saved(found: bool) -> Result<()> {
    if found { Ok(()) } else { Err(ExperienceError::SessionNotFound) }
}

fn blocked(until: i64, now: i64) -> ExperienceError {
    ExperienceError::Blocked { minutes: ((until - now) as f64 / 60_000.0).ceil() as i64 }
}

/// The class of a failed sign-in step (a bounded metrics label).
fn failure_reason(error: &ExperienceError) -> FailureReason {
    match error {
        ExperienceError::InvalidCredentials | ExperienceError::UserNotExist => FailureReason::InvalidCredentials,
        ExperienceError::Code(
            CodeError::Mismatch | CodeError::ExceedMaxTry | CodeError::Expired | CodeError::NotFound,
        )
        | ExperienceError::InvalidTotpCode
        | ExperienceError::InvalidBackupCode
        | ExperienceError::OneTimeToken(_)
        | ExperienceError::WebAuthnFailed(_) => FailureReason::InvalidCode,
        ExperienceError::Blocked { .. } => FailureReason::Locked,
        ExperienceError::Password(PasswordError::RateLimited { .. }) => FailureReason::RateLimited,
        ExperienceError::Password(PasswordError::Busy) => FailureReason::Busy,
        ExperienceError::Suspended => FailureReason::Suspended,
        ExperienceError::SignInMethodNotEnabled | ExperienceError::Forbidden => FailureReason::NotAllowed,
        _ => FailureReason::Other,
    }
}

/// The event an interaction was started with.
fn event_of(interaction: &Interaction) -> Result<InteractionEvent> {
    interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)
}

pub struct Experience<'a> {
    pub(crate) core: &'a Core,
    /// Whether the client can register a passkey (the Experience API's clients can; the
    /// hosted pages, which run no script, cannot): only then does submit ask for one when
    /// passkey sign-in is on (`user.passkey_preferred`).
    pub(crate) offers_passkeys: bool,
}

impl Experience<'_> {
    /// The interaction behind an `_interaction` cookie.
    pub async fn load(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<Interaction> {
        let mut c = self.core.store.conn().await?;
        interactions::load(&mut c, &tenant.id, cookie).await?.ok_or(ExperienceError::SessionNotFound)
    }

    /// Saves the interaction, moving its cookie when a move is due (`InteractionCookie`).
    async fn save(&self, tenant: &TenantContext, interaction: &Interaction, cookie: &InteractionCookie) -> Result<()> {
        self.save_logged(tenant, interaction, cookie, &[]).await
    }

    /// [`Self::save`] with the step's audit entries ([`Self::audit_entry`]), written by the
    /// same statement.
    async fn save_logged(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
        cookie: &InteractionCookie,
        logs: &[StoredLog],
    ) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        saved(interactions::save(&mut c, &tenant.id, interaction, cookie, logs).await?)
    }

    /// At the end of a request that may change the sign-in: moves the cookie if no save
    /// did; the value the interaction answers to, if it moved.
    pub async fn settle_cookie(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
    ) -> std::result::Result<Option<String>, StorageError> {
        if let Some(fresh) = cookie.moved_to() {
            return Ok(Some(fresh));
        }
        let mut c = self.core.store.conn().await?;
        interactions::settle(&mut c, &tenant.id, cookie).await
    }

    async fn sign_in_experience(&self, tenant: &TenantContext) -> Result<SignInExperience> {
        self.core.sign_in_experiences().get(&tenant.id).await.map_err(|e| ExperienceError::Internal(e.to_string()))
    }

    /// Reports a sign-in step's outcome (`crate::events`): a credential check that failed,
    /// or a sign-in that ended with the user signed in.
    fn report_sign_in(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
        user_id: Option<&str>,
        outcome: std::result::Result<(), &ExperienceError>,
    ) {
        let outcome = match outcome {
            Ok(()) => SignInOutcome::Success,
            Err(e) => SignInOutcome::Failure(failure_reason(e)),
        };
        self.core.report(Event::SignIn {
            tenant: &tenant.id,
            client_id: &interaction.params.client_id,
            user_id,
            flow: interaction.state.interaction_event.unwrap_or(InteractionEvent::SignIn),
            outcome,
        });
    }

    /// The identifier just reached the sentinel's limit: reported, and answered "locked".
    fn locked_out(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
        user_id: Option<&str>,
        until: i64,
        now: i64,
    ) -> ExperienceError {
        let error = blocked(until, now);
        if let ExperienceError::Blocked { minutes } = error {
            let client_id = &interaction.params.client_id;
            self.core.report(Event::Lockout { tenant: &tenant.id, client_id, user_id, minutes });
        }
        error
    }

    /// Writes an audit entry about this interaction (its application in the details).
    async fn audit(
        &self,
        c: &mut impl kido_store::Exec,
        tenant: &TenantContext,
        interaction: &Interaction,
        key: &str,
        user_id: Option<&str>,
        details: Value,
    ) -> Result<()> {
        Ok(audit::record(c, &tenant.id, key, user_id, with_application(interaction, details)).await?)
    }

    /// An audit entry about this interaction for the save that ends its step
    /// ([`Self::save_logged`]).
    fn audit_entry(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
        key: &str,
        user_id: Option<&str>,
        details: Value,
    ) -> StoredLog {
        audit::entry(&tenant.id, key, user_id, with_application(interaction, details))
    }

    /// `PUT /api/experience`: starts over with `event`.
    /// Nothing of the old state survives, so it is written without being read.
    pub async fn start(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        event: InteractionEvent,
    ) -> Result<()> {
        let sie = self.sign_in_experience(tenant).await?;
        if let Err(refused) = rules::mode_allows(&sie, event) {
            // A lost sign-in is reported first, as when the state is read before.
            self.load(tenant, cookie).await?;
            return Err(refused.into());
        }
        let mut c = self.core.store.conn().await?;
        saved(interactions::replace(&mut c, &tenant.id, cookie, &fresh_state(event)).await?)
    }

    /// `PUT /api/experience/interaction-event`: switches between sign-in and registration
    /// (a pending profile is dropped); forgot-password cannot be switched to or from.
    pub async fn switch_event(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        event: InteractionEvent,
    ) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        let current = event_of(&interaction)?;
        rules::may_switch(current, event)?;
        rules::mode_allows_in(&self.sign_in_experience(tenant).await?, event, &interaction.state)?;
        if current != event {
            interaction.state.profile = InteractionProfile::default();
            interaction.state.interaction_event = Some(event);
        }
        self.save(tenant, &interaction, cookie).await
    }

    /// `GET /api/experience/interaction`: the state without secrets.
    pub async fn describe(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<Value> {
        let interaction = self.load(tenant, cookie).await?;
        let s = &interaction.state;
        let event = event_of(&interaction)?;
        let mut profile = serde_json::Map::new();
        for (key, value) in [
            ("username", &s.profile.username),
            ("primaryEmail", &s.profile.primary_email),
            ("primaryPhone", &s.profile.primary_phone),
        ] {
            if let Some(v) = value {
                profile.insert(key.into(), v.clone().into());
            }
        }
        let mut records: Vec<Value> = s
            .verification_records
            .iter()
            .map(|r| json!({"id": r.id, "type": r.kind, "identifier": r.identifier, "verified": r.verified}))
            .collect();
        // Second-factor records without their secret or codes.
        records.extend(s.mfa.records.iter().map(|r| {
            json!({"id": r.id, "type": crate::mfa::policy::name_of(r.factor), "userId": r.user_id, "verified": r.verified})
        }));
        // Whose passkeys a ceremony asked for is not said before one of them answered.
        if let Some(r) = &s.sign_in_passkey {
            let mut record = json!({"id": r.id, "type": "SignInPasskey", "verified": r.verified});
            if r.verified {
                record["userId"] = r.user_id.clone().into();
            }
            records.push(record);
        }
        let mut mfa = serde_json::Map::new();
        if s.mfa.skipped {
            mfa.insert("mfaSkipped".into(), true.into());
        }
        if s.mfa.passkey_skipped {
            mfa.insert("passkeySkipped".into(), true.into());
        }
        for factor in s.mfa.pending_factors() {
            use kido_proto::sign_in_experience::MfaFactor;
            let described = json!({"type": crate::mfa::policy::name_of(factor)});
            match factor {
                // Passkeys are a list (several per user), as Logto's `webAuthn`.
                MfaFactor::WebAuthn => mfa.insert("webAuthn".into(), json!([described])),
                MfaFactor::Totp => mfa.insert("totp".into(), described),
                _ => mfa.insert("backupCode".into(), described),
            };
        }
        let mut out = json!({"interactionEvent": event.as_str(), "profile": profile, "verificationRecords": records,
                             "mfa": mfa});
        if let (Some(user_id), Some(map)) = (&s.user_id, out.as_object_mut()) {
            map.insert("userId".into(), user_id.clone().into());
        }
        Ok(out)
    }

    /// Records that the user agreed to the terms of use and privacy policy (Kido enforces
    /// `agreeToTermsPolicy` on the server; the hosted pages' checkbox lands here).
    pub async fn agree_to_terms(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        interaction.state.terms_agreed = true;
        self.save(tenant, &interaction, cookie).await
    }
}

/// An interaction's audit details name its application.
fn with_application(interaction: &Interaction, mut details: Value) -> Value {
    if let Some(map) = details.as_object_mut() {
        map.insert("applicationId".into(), interaction.params.client_id.clone().into());
    }
    details
}

/// Starts the interaction over with `event`, if the sign-in mode offers it.
fn begin(interaction: &mut Interaction, sie: &SignInExperience, event: InteractionEvent) -> Result<()> {
    rules::mode_allows(sie, event)?;
    interaction.state = fresh_state(event);
    Ok(())
}

/// The state of an interaction started (over) with `event`.
fn fresh_state(event: InteractionEvent) -> ExperienceState {
    ExperienceState { interaction_event: Some(event), ..ExperienceState::default() }
}

/// Where the browser goes once the interaction has news for the client: `{issuer}/auth/{uid}`.
fn resume_url(tenant: &TenantContext, uid: &str) -> String {
    format!("{}/auth/{uid}", tenant.issuer)
}
