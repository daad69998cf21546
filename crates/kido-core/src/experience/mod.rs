//! The Experience API's state machine (Logto RFC 0004): an interaction's event, its
//! verification records, the profile being built and, once submitted, who signed in.
//! The JSON API and the hosted pages both drive it, so the rules exist once.

mod codes;
pub use codes::Origin;
pub mod sentinel;

use kido_proto::connectors::TemplateType;
use kido_proto::sign_in_experience::{
    AgreeToTermsPolicy, PasswordIssue, SignInExperience, SignInIdentifier, SignInMode, SignUpIdentifier,
};
use kido_store::oidc as store;
use kido_store::users::{self as user_store, SignInIdentifier as StoreIdentifier};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use crate::oidc::authorize::{AuthorizationParams, PageError};
use crate::passwords::PasswordError;
use crate::sign_in_experience::password_policy::{self, UserInfo};
use crate::users::{Registration, UserError, credential_stamp};
use crate::verification_codes::CodeError;
use crate::{Core, StoreError, TenantContext, audit, clock, ids};

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

    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "SignIn",
            Self::Register => "Register",
            Self::ForgotPassword => "ForgotPassword",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentifierType {
    Username,
    Email,
    Phone,
}

impl IdentifierType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }

    fn sign_in(self) -> SignInIdentifier {
        match self {
            Self::Username => SignInIdentifier::Username,
            Self::Email => SignInIdentifier::Email,
            Self::Phone => SignInIdentifier::Phone,
        }
    }

    fn store(self) -> StoreIdentifier {
        match self {
            Self::Username => StoreIdentifier::Username,
            Self::Email => StoreIdentifier::Email,
            Self::Phone => StoreIdentifier::Phone,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
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
}

/// Verification record types (Logto's `VerificationType`).
pub const PASSWORD: &str = "Password";
pub const EMAIL_CODE: &str = "EmailVerificationCode";
pub const PHONE_CODE: &str = "PhoneVerificationCode";

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
}

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
    #[error("not supported for forgot password")]
    NotSupportedForForgotPassword { unprocessable: bool },
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
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    StorageFull(String),
}

impl From<StoreError> for ExperienceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full(what) => Self::StorageFull(what),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<PageError> for ExperienceError {
    fn from(e: PageError) -> Self {
        Self::Internal(e.description)
    }
}

type Result<T> = std::result::Result<T, ExperienceError>;

impl ExperienceState {
    /// The latest verification by code (what a code page asks for).
    pub fn pending_code(&self) -> Option<&VerificationRecord> {
        self.verification_records.iter().rev().find(|r| r.kind != PASSWORD)
    }
}

/// A loaded interaction: its id, its authorization request and its state.
pub struct Interaction {
    pub id: String,
    pub params: AuthorizationParams,
    pub state: ExperienceState,
}

pub struct Experience<'a> {
    pub(crate) core: &'a Core,
}

impl Experience<'_> {
    /// The interaction behind an `_interaction` cookie.
    pub async fn load(&self, tenant: &TenantContext, cookie: Option<&str>) -> Result<Interaction> {
        let row = self.core.oidc().interaction(tenant, cookie).await?.ok_or(ExperienceError::SessionNotFound)?;
        let params = serde_json::from_value(row.params.0).map_err(|e| ExperienceError::Internal(e.to_string()))?;
        let state = serde_json::from_value(row.state.0).map_err(|e| ExperienceError::Internal(e.to_string()))?;
        Ok(Interaction { id: row.id, params, state })
    }

    async fn save(&self, tenant: &TenantContext, interaction: &Interaction) -> Result<()> {
        let state = serde_json::to_value(&interaction.state).map_err(|e| ExperienceError::Internal(e.to_string()))?;
        let mut c = self.core.store.conn().await?;
        store::update_interaction_state(&mut c, &tenant.id, &interaction.id, &state).await?;
        Ok(())
    }

    async fn sign_in_experience(&self, tenant: &TenantContext) -> Result<SignInExperience> {
        self.core.sign_in_experiences().get(&tenant.id).await.map_err(|e| ExperienceError::Internal(e.to_string()))
    }

    /// `PUT /api/experience`: starts over with `event`.
    pub async fn start(&self, tenant: &TenantContext, cookie: Option<&str>, event: InteractionEvent) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        guard_mode(&self.sign_in_experience(tenant).await?, event)?;
        interaction.state = ExperienceState { interaction_event: Some(event), ..ExperienceState::default() };
        self.save(tenant, &interaction).await
    }

    /// `PUT /api/experience/interaction-event`: switches between sign-in and registration
    /// (a pending profile is dropped); forgot-password cannot be switched to or from.
    pub async fn switch_event(
        &self,
        tenant: &TenantContext,
        cookie: Option<&str>,
        event: InteractionEvent,
    ) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        let current = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        if current != event
            && (current == InteractionEvent::ForgotPassword || event == InteractionEvent::ForgotPassword)
        {
            return Err(ExperienceError::NotSupportedForForgotPassword { unprocessable: false });
        }
        guard_mode(&self.sign_in_experience(tenant).await?, event)?;
        if current != event {
            interaction.state.profile = InteractionProfile::default();
            interaction.state.interaction_event = Some(event);
        }
        self.save(tenant, &interaction).await
    }

    /// `GET /api/experience/interaction`: the state without secrets.
    pub async fn describe(&self, tenant: &TenantContext, cookie: Option<&str>) -> Result<Value> {
        let interaction = self.load(tenant, cookie).await?;
        let s = &interaction.state;
        let event = s.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
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
        let records: Vec<Value> = s
            .verification_records
            .iter()
            .map(|r| json!({"id": r.id, "type": r.kind, "identifier": r.identifier, "verified": r.verified}))
            .collect();
        let mut out = json!({"interactionEvent": event.as_str(), "profile": profile, "verificationRecords": records});
        if let (Some(user_id), Some(map)) = (&s.user_id, out.as_object_mut()) {
            map.insert("userId".into(), user_id.clone().into());
        }
        Ok(out)
    }

    /// `POST /api/experience/verification/password`: checks an identifier and password.
    /// In order, each step before any costlier one: the rate limits per client IP and per
    /// identifier (429), a place in the hashing queue (503), an attempt reserved in the
    /// sentinel's window (locked: 400), then exactly one hash, whether or not the account
    /// exists, has a password or is suspended; unknown accounts and wrong passwords get the
    /// same answer after the same work.
    pub async fn verify_password(
        &self,
        tenant: &TenantContext,
        cookie: Option<&str>,
        identifier: Identifier,
        password: String,
        ip: Option<&str>,
    ) -> Result<String> {
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        let mut interaction = self.load(tenant, cookie).await?;
        interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        let sie = self.sign_in_experience(tenant).await?;
        let enabled = sie.sign_in.methods.iter().any(|m| m.identifier == identifier.kind.sign_in() && m.password);
        if !enabled {
            return Err(ExperienceError::SignInMethodNotEnabled);
        }
        let limits = sentinel::Limits::from(&sie.sentinel_policy);
        let key = sentinel::key(identifier.kind.as_str(), &identifier.value);
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        self.core.password_rate_limits.hit(&mut c, &tenant.id, ip, &key, now).await?.map_err(PasswordError::from)?;
        let ticket = self.core.passwords.admit()?;
        let attempt = match sentinel::begin(&mut c, &tenant.id, &key, limits, now).await? {
            Ok(attempt) => attempt,
            Err(until) => return Err(blocked(until, now)),
        };
        let user =
            user_store::find_by_identifier(&mut c, &tenant.id, identifier.kind.store(), &identifier.value).await?;
        drop(c);
        let verified = self
            .core
            .users()
            .check_password(ticket, &tenant.id, user.as_ref(), password)
            .await
            .map_err(|e| ExperienceError::Internal(e.to_string()))?;
        let mut c = self.core.store.conn().await?;
        let Some(user) = user.filter(|_| verified) else {
            if let Some(until) = sentinel::failed(&mut c, &tenant.id, &key, attempt, limits, now).await? {
                return Err(blocked(until, now));
            }
            return Err(ExperienceError::InvalidCredentials);
        };
        sentinel::not_a_failure(&mut c, &tenant.id, &key, attempt).await?;
        drop(c);
        if user.is_suspended {
            return Err(ExperienceError::Suspended);
        }
        let id = ids::new_id();
        interaction.state.verification_records.push(VerificationRecord {
            id: id.clone(),
            kind: "Password".into(),
            identifier,
            verified: true,
            user_id: Some(user.id.clone()),
            template: None,
            credential_stamp: Some(credential_stamp(&user)),
        });
        self.save(tenant, &interaction).await?;
        Ok(id)
    }

    /// `POST /api/experience/identification`: sign-in and forgot-password identify the
    /// verified user; registration creates the user from the profile (and the verified
    /// email or phone, when given). Returns whether a user was created.
    pub async fn identify(
        &self,
        tenant: &TenantContext,
        cookie: Option<&str>,
        verification_id: Option<&str>,
    ) -> Result<bool> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        let sie = self.sign_in_experience(tenant).await?;
        guard_mode(&sie, event)?;
        if event == InteractionEvent::Register {
            return self.register(tenant, interaction, &sie, verification_id).await.map(|()| true);
        }
        let id = verification_id.ok_or_else(|| ExperienceError::Invalid("verificationId is missing".into()))?;
        let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
        let record = record.ok_or(ExperienceError::VerificationNotFound)?;
        if event == InteractionEvent::ForgotPassword && !reset_method_enabled(&sie, &record) {
            // A password proves nothing here; only a code sent to an enabled channel does.
            return Err(ExperienceError::NotSupportedForForgotPassword { unprocessable: true });
        }
        if !record.verified {
            return Err(ExperienceError::VerificationFailed);
        }
        if event == InteractionEvent::SignIn && !sign_in_method_enabled(&sie, &record) {
            return Err(ExperienceError::SignInMethodNotEnabled);
        }
        let mut c = self.core.store.conn().await?;
        let user = match record.kind.as_str() {
            PASSWORD => {
                let user_id = record.user_id.clone().ok_or(ExperienceError::VerificationFailed)?;
                user_store::find(&mut c, &tenant.id, &user_id).await?
            }
            _ => {
                let kind = record.identifier.kind.store();
                user_store::find_by_identifier(&mut c, &tenant.id, kind, &record.identifier.value).await?
            }
        };
        let user = user.ok_or(ExperienceError::UserNotExist)?;
        if user.is_suspended {
            return Err(ExperienceError::Suspended);
        }
        if interaction.state.user_id.as_ref().is_some_and(|u| *u != user.id) {
            return Err(ExperienceError::IdentityConflict);
        }
        check_credentials_unchanged(record.credential_stamp, &user)?;
        audit::record(
            &mut c,
            &tenant.id,
            &format!("Interaction.{}.Identifier.Submit", event.as_str()),
            Some(&user.id),
            json!({"applicationId": interaction.params.client_id, "verificationType": record.kind}),
        )
        .await?;
        drop(c);
        interaction.state.user_id = Some(user.id);
        if record.credential_stamp.is_some() {
            interaction.state.credential_stamp = record.credential_stamp;
        }
        self.save(tenant, &interaction).await?;
        Ok(false)
    }

    /// Registration: takes the verified identifier into the profile, checks that the
    /// profile is complete and free, then creates the user.
    async fn register(
        &self,
        tenant: &TenantContext,
        mut interaction: Interaction,
        sie: &SignInExperience,
        verification_id: Option<&str>,
    ) -> Result<()> {
        if interaction.state.user_id.is_some() {
            return Err(ExperienceError::IdentityConflict);
        }
        if let Some(id) = verification_id {
            let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
            let record = record.ok_or(ExperienceError::VerificationNotFound)?;
            if record.kind == PASSWORD {
                // A password identifies an existing account; it cannot create one.
                return Err(ExperienceError::InvalidInteractionType);
            }
            self.stage_verified(tenant, &mut interaction, sie, &record).await?;
            // The verified identifier stays staged even if the profile is still incomplete.
            self.save(tenant, &interaction).await?;
        }
        let missing = missing_profile(sie, &interaction.state.profile);
        if !missing.is_empty() {
            return Err(ExperienceError::MissingProfile(missing));
        }
        if terms_required(sie, InteractionEvent::Register) && !interaction.state.terms_agreed {
            return Err(ExperienceError::TermsNotAgreed);
        }
        let profile = interaction.state.profile.clone();
        let registration = Registration {
            username: profile.username,
            primary_email: profile.primary_email,
            primary_phone: profile.primary_phone,
            password_hash: profile.password_encrypted,
        };
        let user = self.core.users().register(&tenant.id, registration).await.map_err(|e| match e {
            UserError::UsernameInUse => ExperienceError::UsernameInUse,
            UserError::EmailInUse => ExperienceError::EmailInUse,
            UserError::PhoneInUse => ExperienceError::PhoneInUse,
            UserError::Invalid(d) => ExperienceError::Invalid(d),
            other => ExperienceError::Internal(other.to_string()),
        })?;
        let mut c = self.core.store.conn().await?;
        audit::record(
            &mut c,
            &tenant.id,
            "Interaction.Register.Identifier.Submit",
            Some(&user.id),
            json!({"applicationId": interaction.params.client_id}),
        )
        .await?;
        drop(c);
        interaction.state.user_id = Some(user.id);
        self.save(tenant, &interaction).await
    }

    /// Puts a verified email or phone into a registration's profile, if the sign-up
    /// settings ask for it and no account holds it yet.
    async fn stage_verified(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        record: &VerificationRecord,
    ) -> Result<()> {
        if !record.verified {
            return Err(ExperienceError::VerificationFailed);
        }
        let kind = record.identifier.kind;
        if !sign_up_accepts(sie, kind) {
            return Err(ExperienceError::SignUpMethodNotEnabled);
        }
        let mut c = self.core.store.conn().await?;
        if user_store::find_by_identifier(&mut c, &tenant.id, kind.store(), &record.identifier.value).await?.is_some() {
            return Err(match kind {
                IdentifierType::Email => ExperienceError::EmailInUse,
                IdentifierType::Phone => ExperienceError::PhoneInUse,
                IdentifierType::Username => ExperienceError::UsernameInUse,
            });
        }
        let value = Some(record.identifier.value.clone());
        match kind {
            IdentifierType::Email => interaction.state.profile.primary_email = value,
            IdentifierType::Phone => interaction.state.profile.primary_phone = value,
            IdentifierType::Username => return Err(ExperienceError::InvalidInteractionType),
        }
        Ok(())
    }

    /// `POST /api/experience/profile`: username, password, verified email or phone of a
    /// registration.
    pub async fn set_profile(&self, tenant: &TenantContext, cookie: Option<&str>, input: ProfileInput) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        match event {
            InteractionEvent::ForgotPassword => {
                return Err(ExperienceError::NotSupportedForForgotPassword { unprocessable: false });
            }
            // Completing a signed-in user's profile arrives with the flows that need it.
            InteractionEvent::SignIn => return Err(ExperienceError::InvalidInteractionType),
            InteractionEvent::Register => {}
        }
        let sie = self.sign_in_experience(tenant).await?;
        match input {
            ProfileInput::Username(username) => {
                crate::users::check_username(&username).map_err(|e| ExperienceError::Invalid(e.to_string()))?;
                if !sie.sign_up.identifiers.contains(&SignUpIdentifier::Username)
                    && !sign_up_secondary(&sie).any(|i| i == SignUpIdentifier::Username)
                {
                    return Err(ExperienceError::SignUpMethodNotEnabled);
                }
                let mut c = self.core.store.conn().await?;
                if user_store::find_by_identifier(&mut c, &tenant.id, StoreIdentifier::Username, &username)
                    .await?
                    .is_some()
                {
                    return Err(ExperienceError::UsernameInUse);
                }
                interaction.state.profile.username = Some(username);
            }
            ProfileInput::Password(password) => {
                password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
                let profile = &interaction.state.profile;
                let user = UserInfo {
                    username: profile.username.clone(),
                    email: profile.primary_email.clone(),
                    phone: profile.primary_phone.clone(),
                    name: None,
                };
                let issues = password_policy::check(&sie.password_policy, &password, Some(&user));
                if !issues.is_empty() {
                    return Err(ExperienceError::PasswordRejected(issues));
                }
                let hash = self.core.passwords.hash(password).await?;
                interaction.state.profile.password_encrypted = Some(hash);
            }
            ProfileInput::Verified(kind, verification_id) => {
                let record = interaction
                    .state
                    .verification_records
                    .iter()
                    .find(|r| r.id == verification_id && r.identifier.kind == kind && r.kind != PASSWORD)
                    .cloned()
                    .ok_or(ExperienceError::VerificationNotFound)?;
                self.stage_verified(tenant, &mut interaction, &sie, &record).await?;
            }
            ProfileInput::Unsupported(kind) => {
                return Err(ExperienceError::Invalid(format!(
                    "profile type `{kind}` needs a connector this server does not offer yet"
                )));
            }
        }
        let mut c = self.core.store.conn().await?;
        audit::record(
            &mut c,
            &tenant.id,
            "Interaction.Register.Profile.Update",
            None,
            json!({"applicationId": interaction.params.client_id}),
        )
        .await?;
        drop(c);
        self.save(tenant, &interaction).await
    }

    /// `PUT /api/experience/profile/password`: the new password of a forgot-password
    /// interaction (checked against the policy and the old password; stored at submit).
    pub async fn reset_password(&self, tenant: &TenantContext, cookie: Option<&str>, password: String) -> Result<()> {
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        let mut interaction = self.load(tenant, cookie).await?;
        let event = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        if event != InteractionEvent::ForgotPassword {
            return Err(ExperienceError::InvalidInteractionType);
        }
        let user_id = interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)?;
        let sie = self.sign_in_experience(tenant).await?;
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        drop(c);
        let info = UserInfo {
            username: user.username.clone(),
            email: user.primary_email.clone(),
            phone: user.primary_phone.clone(),
            name: user.name.clone(),
        };
        let issues = password_policy::check(&sie.password_policy, &password, Some(&info));
        if !issues.is_empty() {
            return Err(ExperienceError::PasswordRejected(issues));
        }
        if user.password_encrypted.is_some() {
            let ticket = self.core.passwords.admit()?;
            let same = self
                .core
                .users()
                .check_password(ticket, &tenant.id, Some(&user), password.clone())
                .await
                .map_err(|e| ExperienceError::Internal(e.to_string()))?;
            if same {
                return Err(ExperienceError::SamePassword);
            }
        }
        let hash = self.core.passwords.hash(password).await?;
        interaction.state.profile.password_encrypted = Some(hash);
        let mut c = self.core.store.conn().await?;
        audit::record(
            &mut c,
            &tenant.id,
            "Interaction.ForgotPassword.Profile.Update",
            Some(&user_id),
            json!({"applicationId": interaction.params.client_id}),
        )
        .await?;
        drop(c);
        self.save(tenant, &interaction).await
    }

    /// Records that the user agreed to the terms of use and privacy policy (Kido enforces
    /// `agreeToTermsPolicy` on the server; the hosted pages' checkbox lands here).
    pub async fn agree_to_terms(&self, tenant: &TenantContext, cookie: Option<&str>) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        interaction.state.terms_agreed = true;
        self.save(tenant, &interaction).await
    }

    /// `POST /api/experience/submit`: finishes; returns where the browser goes next
    /// (`{issuer}/auth/{uid}`, which redirects to the client with a code), or nothing
    /// after a password reset (the user signs in again with the new password).
    pub async fn submit(&self, tenant: &TenantContext, cookie: Option<&str>) -> Result<Option<String>> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        let user_id = interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)?;
        let sie = self.sign_in_experience(tenant).await?;
        guard_mode(&sie, event)?;
        if event == InteractionEvent::ForgotPassword {
            return self.finish_reset(tenant, interaction, &user_id).await.map(|()| None);
        }
        if terms_required(&sie, event) && !interaction.state.terms_agreed {
            return Err(ExperienceError::TermsNotAgreed);
        }
        let now = clock::now_ms();
        let mut tx = self.core.store.begin().await?;
        let user = user_store::find(&mut tx, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        if user.is_suspended {
            return Err(ExperienceError::Suspended);
        }
        check_credentials_unchanged(interaction.state.credential_stamp, &user)?;
        user_store::set_last_sign_in(&mut tx, &tenant.id, &user_id, now).await?;
        let key = format!("Interaction.{}.Submit", event.as_str());
        audit::record(
            &mut tx,
            &tenant.id,
            &key,
            Some(&user_id),
            json!({"applicationId": interaction.params.client_id}),
        )
        .await?;
        tx.commit().await?;
        interaction.state.result = Some(LoginResult { account_id: user_id, login_ts: now / 1000 });
        self.save(tenant, &interaction).await?;
        Ok(Some(format!("{}/auth/{}", tenant.issuer, interaction.id)))
    }

    /// Stores the new password, signs the user out everywhere, and leaves the interaction
    /// ready for a fresh sign-in.
    async fn finish_reset(&self, tenant: &TenantContext, mut interaction: Interaction, user_id: &str) -> Result<()> {
        let hash = interaction.state.profile.password_encrypted.clone().ok_or(ExperienceError::NewPasswordRequired)?;
        self.core.users().reset_password(&tenant.id, user_id, hash).await.map_err(|e| match e {
            UserError::NotFound(_) => ExperienceError::UserNotExist,
            other => ExperienceError::Internal(other.to_string()),
        })?;
        let mut c = self.core.store.conn().await?;
        audit::record(
            &mut c,
            &tenant.id,
            "Interaction.ForgotPassword.Submit",
            Some(user_id),
            json!({"applicationId": interaction.params.client_id}),
        )
        .await?;
        drop(c);
        interaction.state = ExperienceState::default();
        self.save(tenant, &interaction).await
    }
}

/// A sign-in that verified a password stops if the password changed since (a reset, an
/// admin change): whoever knew the old one must not finish with it.
pub fn check_credentials_unchanged(
    stamp: Option<i64>,
    user: &kido_store::users::StoredUser,
) -> std::result::Result<(), ExperienceError> {
    match stamp {
        Some(stamp) if stamp != credential_stamp(user) => Err(ExperienceError::CredentialsChanged),
        _ => Ok(()),
    }
}

fn blocked(until: i64, now: i64) -> ExperienceError {
    ExperienceError::Blocked { minutes: ((until - now) as f64 / 60_000.0).ceil() as i64 }
}

/// `signInMode`: a sign-in-only tenant has no registration and vice versa.
fn guard_mode(sie: &SignInExperience, event: InteractionEvent) -> Result<()> {
    match (sie.sign_in_mode, event) {
        (SignInMode::Register, InteractionEvent::SignIn | InteractionEvent::ForgotPassword)
        | (SignInMode::SignIn, InteractionEvent::Register) => Err(ExperienceError::Forbidden),
        _ => Ok(()),
    }
}

fn sign_up_secondary(sie: &SignInExperience) -> impl Iterator<Item = SignUpIdentifier> + '_ {
    sie.sign_up.secondary_identifiers.iter().flatten().map(|s| s.identifier)
}

/// Whether registration takes this kind of verified identifier (primary or secondary).
fn sign_up_accepts(sie: &SignInExperience, kind: IdentifierType) -> bool {
    sie.sign_up.identifiers.iter().copied().chain(sign_up_secondary(sie)).any(|i| match kind {
        IdentifierType::Email => matches!(i, SignUpIdentifier::Email | SignUpIdentifier::EmailOrPhone),
        IdentifierType::Phone => matches!(i, SignUpIdentifier::Phone | SignUpIdentifier::EmailOrPhone),
        IdentifierType::Username => i == SignUpIdentifier::Username,
    })
}

/// Whether `signIn.methods` lets this record sign a user in.
fn sign_in_method_enabled(sie: &SignInExperience, record: &VerificationRecord) -> bool {
    let kind = record.identifier.kind;
    if record.kind == PASSWORD {
        sie.sign_in.methods.iter().any(|m| m.identifier == kind.sign_in() && m.password)
    } else {
        sends_codes(sie, InteractionEvent::SignIn, kind)
    }
}

/// Whether `forgotPasswordMethods` lets this record reset a password (codes only).
fn reset_method_enabled(sie: &SignInExperience, record: &VerificationRecord) -> bool {
    record.kind != PASSWORD && sends_codes(sie, InteractionEvent::ForgotPassword, record.identifier.kind)
}

/// The one rule of which events verify which channel by code: sign-in needs a sign-in
/// method with `verificationCode`, registration a sign-up identifier (primary or secondary),
/// a password reset an entry in `forgotPasswordMethods`.
pub fn sends_codes(sie: &SignInExperience, event: InteractionEvent, kind: IdentifierType) -> bool {
    use kido_proto::sign_in_experience::ForgotPasswordMethod as M;
    match (event, kind) {
        (_, IdentifierType::Username) => false,
        (InteractionEvent::SignIn, _) => {
            sie.sign_in.methods.iter().any(|m| m.identifier == kind.sign_in() && m.verification_code)
        }
        (InteractionEvent::Register, _) => sign_up_accepts(sie, kind),
        (InteractionEvent::ForgotPassword, IdentifierType::Email) => {
            sie.forgot_password_methods.contains(&M::EmailVerificationCode)
        }
        (InteractionEvent::ForgotPassword, IdentifierType::Phone) => {
            sie.forgot_password_methods.contains(&M::PhoneVerificationCode)
        }
    }
}

/// What the sign-up settings require that the profile lacks (Logto's `missingProfile`).
pub fn missing_profile(sie: &SignInExperience, profile: &InteractionProfile) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let (email, phone) = (profile.primary_email.is_some(), profile.primary_phone.is_some());
    let primary = &sie.sign_up.identifiers;
    // Email and phone as primary identifiers mean either one (as Logto).
    let either = primary.contains(&SignUpIdentifier::Email) && primary.contains(&SignUpIdentifier::Phone);
    let primary =
        primary.iter().copied().filter(|i| !either || !matches!(i, SignUpIdentifier::Email | SignUpIdentifier::Phone));
    let either = either.then_some(SignUpIdentifier::EmailOrPhone);
    for identifier in primary.chain(either).chain(sign_up_secondary(sie)) {
        match identifier {
            SignUpIdentifier::Username if profile.username.is_none() => missing.push("username"),
            SignUpIdentifier::Email if !email => missing.push("email"),
            SignUpIdentifier::Phone if !phone => missing.push("phone"),
            SignUpIdentifier::EmailOrPhone if !email && !phone => missing.push("emailOrPhone"),
            _ => {}
        }
    }
    if sie.sign_up.password && profile.password_encrypted.is_none() {
        missing.push("password");
    }
    missing
}

/// Whether the user must tick "I agree" before this event completes: only when there are
/// terms or a privacy policy to agree to.
pub fn terms_required(sie: &SignInExperience, event: InteractionEvent) -> bool {
    let has_terms = sie.terms_of_use_url.as_deref().is_some_and(|u| !u.is_empty())
        || sie.privacy_policy_url.as_deref().is_some_and(|u| !u.is_empty());
    has_terms
        && match sie.agree_to_terms_policy {
            AgreeToTermsPolicy::Automatic => false,
            AgreeToTermsPolicy::ManualRegistrationOnly => event == InteractionEvent::Register,
            AgreeToTermsPolicy::Manual => true,
        }
}
