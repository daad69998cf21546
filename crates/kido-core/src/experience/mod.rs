//! The Experience API's state machine (Logto RFC 0004): an interaction's event, its
//! verification records, the profile being built and, once submitted, who signed in.
//! The JSON API and the hosted pages both drive it, so the rules exist once.

pub mod sentinel;

use kido_proto::sign_in_experience::{
    AgreeToTermsPolicy, PasswordIssue, SignInExperience, SignInIdentifier, SignInMode, SignUpIdentifier,
};
use kido_store::oidc as store;
use kido_store::users::{self as user_store, SignInIdentifier as StoreIdentifier};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use crate::oidc::authorize::{AuthorizationParams, PageError};
use crate::sign_in_experience::password_policy::{self, UserInfo};
use crate::users::UserError;
use crate::{Core, StoreError, TenantContext, audit, clock, ids};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InteractionEvent {
    SignIn,
    Register,
    ForgotPassword,
}

impl InteractionEvent {
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
}

/// The profile a registration builds. The password is kept hashed, never in clear.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
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
    #[serde(default)]
    pub result: Option<LoginResult>,
}

/// What `POST /profile` may set in this version.
pub enum ProfileInput {
    Username(String),
    Password(String),
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
    #[error("the identified user no longer exists")]
    UserNotExist,
    #[error("another user is already identified in this interaction")]
    IdentityConflict,
    #[error("not supported for the current interaction event")]
    InvalidInteractionType,
    #[error("profile incomplete: {0:?}")]
    MissingProfile(Vec<&'static str>),
    #[error("this username is already in use")]
    UsernameInUse,
    #[error("password rejected by the policy")]
    PasswordRejected(Vec<PasswordIssue>),
    #[error("too many failed attempts")]
    Blocked { minutes: i64 },
    #[error("the terms of use must be agreed to")]
    TermsNotAgreed,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ExperienceError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<PageError> for ExperienceError {
    fn from(e: PageError) -> Self {
        Self::Internal(e.description)
    }
}

type Result<T> = std::result::Result<T, ExperienceError>;

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
        if let Some(u) = &s.profile.username {
            profile.insert("username".into(), u.clone().into());
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

    /// `POST /api/experience/verification/password`: checks an identifier and password;
    /// unknown accounts and wrong passwords get the same answer in the same time.
    pub async fn verify_password(
        &self,
        tenant: &TenantContext,
        cookie: Option<&str>,
        identifier: Identifier,
        password: String,
    ) -> Result<String> {
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
        if let Some(until) = sentinel::locked_until(&mut c, &tenant.id, &key, now).await? {
            return Err(blocked(until, now));
        }
        let user =
            user_store::find_by_identifier(&mut c, &tenant.id, identifier.kind.store(), &identifier.value).await?;
        drop(c);
        let verified = match &user {
            Some(u) => self.core.users().verify_password(&tenant.id, &u.id, password).await.is_ok(),
            None => {
                // Same work as a real check, so timing does not tell whether the account exists.
                let _ = self.core.passwords.hash(password).await;
                false
            }
        };
        let mut c = self.core.store.conn().await?;
        let Some(user) = user.filter(|_| verified) else {
            if let Some(until) = sentinel::record_failure(&mut c, &tenant.id, &key, limits, now).await? {
                return Err(blocked(until, now));
            }
            return Err(ExperienceError::InvalidCredentials);
        };
        sentinel::clear(&mut c, &tenant.id, &key).await?;
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
            user_id: Some(user.id),
        });
        self.save(tenant, &interaction).await?;
        Ok(id)
    }

    /// `POST /api/experience/identification`: sign-in identifies the verified user;
    /// registration creates the user from the profile. Returns whether a user was created.
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
        match event {
            InteractionEvent::Register => {
                if verification_id.is_some() {
                    // Registering with a verified email or phone needs verification codes.
                    return Err(ExperienceError::InvalidInteractionType);
                }
                if interaction.state.user_id.is_some() {
                    return Err(ExperienceError::IdentityConflict);
                }
                let missing = missing_profile(&sie, &interaction.state.profile);
                if !missing.is_empty() {
                    return Err(ExperienceError::MissingProfile(missing));
                }
                if terms_required(&sie, event) && !interaction.state.terms_agreed {
                    return Err(ExperienceError::TermsNotAgreed);
                }
                let profile = interaction.state.profile.clone();
                let user = self
                    .core
                    .users()
                    .register(&tenant.id, profile.username, profile.password_encrypted)
                    .await
                    .map_err(|e| match e {
                    UserError::UsernameInUse => ExperienceError::UsernameInUse,
                    UserError::Invalid(d) => ExperienceError::Invalid(d),
                    other => ExperienceError::Internal(other.to_string()),
                })?;
                interaction.state.user_id = Some(user.id);
                self.save(tenant, &interaction).await?;
                Ok(true)
            }
            InteractionEvent::SignIn | InteractionEvent::ForgotPassword => {
                let id = verification_id.ok_or_else(|| ExperienceError::Invalid("verificationId is missing".into()))?;
                let record = interaction
                    .state
                    .verification_records
                    .iter()
                    .find(|r| r.id == id)
                    .ok_or(ExperienceError::VerificationNotFound)?;
                if event == InteractionEvent::ForgotPassword {
                    // Resetting a password needs a code sent to the user; a password proves nothing here.
                    return Err(ExperienceError::NotSupportedForForgotPassword { unprocessable: true });
                }
                let user_id =
                    record.user_id.clone().filter(|_| record.verified).ok_or(ExperienceError::VerificationFailed)?;
                let mut c = self.core.store.conn().await?;
                let user =
                    user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
                if user.is_suspended {
                    return Err(ExperienceError::Suspended);
                }
                if interaction.state.user_id.as_ref().is_some_and(|u| *u != user.id) {
                    return Err(ExperienceError::IdentityConflict);
                }
                interaction.state.user_id = Some(user.id);
                self.save(tenant, &interaction).await?;
                Ok(false)
            }
        }
    }

    /// `POST /api/experience/profile`: username and password of a registration.
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
                if !sie.sign_up.identifiers.contains(&SignUpIdentifier::Username) {
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
                let user = UserInfo { username: interaction.state.profile.username.clone(), ..UserInfo::default() };
                let issues = password_policy::check(&sie.password_policy, &password, Some(&user));
                if !issues.is_empty() {
                    return Err(ExperienceError::PasswordRejected(issues));
                }
                let hash =
                    self.core.passwords.hash(password).await.map_err(|e| ExperienceError::Internal(e.to_string()))?;
                interaction.state.profile.password_encrypted = Some(hash);
            }
            ProfileInput::Unsupported(kind) => {
                return Err(ExperienceError::Invalid(format!(
                    "profile type `{kind}` needs a verified identifier, which this server does not offer yet"
                )));
            }
        }
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
    /// (`{issuer}/auth/{uid}`, which redirects to the client with a code).
    pub async fn submit(&self, tenant: &TenantContext, cookie: Option<&str>) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = interaction.state.interaction_event.ok_or(ExperienceError::InteractionNotFound)?;
        let user_id = interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)?;
        let sie = self.sign_in_experience(tenant).await?;
        guard_mode(&sie, event)?;
        if event == InteractionEvent::ForgotPassword {
            return Err(ExperienceError::NotSupportedForForgotPassword { unprocessable: true });
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
        Ok(format!("{}/auth/{}", tenant.issuer, interaction.id))
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

/// What the sign-up settings require that the profile lacks (Logto's `missingProfile`).
fn missing_profile(sie: &SignInExperience, profile: &InteractionProfile) -> Vec<&'static str> {
    let mut missing = Vec::new();
    for identifier in &sie.sign_up.identifiers {
        match identifier {
            SignUpIdentifier::Username if profile.username.is_none() => missing.push("username"),
            SignUpIdentifier::Email => missing.push("email"),
            SignUpIdentifier::Phone => missing.push("phone"),
            SignUpIdentifier::EmailOrPhone => missing.push("emailOrPhone"),
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
