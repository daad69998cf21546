//! One operation per hosted form post: the Experience API's steps run on one loaded
//! interaction, which is saved once, and the user is read once. A failed step saves
//! nothing (the form starts the interaction over on its next post), except a sign-in or
//! registration that needs a second factor first: it is kept for the second-factor pages.

use serde_json::json;

use super::identify::{check_identifying_record, identify_user};
use super::password::PasswordAttempt;
use super::submit::AuditEntry;
use super::{
    Experience, ExperienceError, Identifier, IdentifierType, Interaction, InteractionCookie, InteractionEvent,
    ProfileInput, Result, begin,
};
use crate::TenantContext;
use crate::interaction::audit_keys;
use crate::sign_in_experience::password_policy;
use kido_proto::sign_in_experience::{MfaFactor, SignInExperience};

/// What the password sign-in form posts.
pub struct PasswordSignIn {
    pub identifier: Identifier,
    pub password: String,
    /// The "I agree to the terms" box was ticked.
    pub agreed: bool,
    pub ip: Option<String>,
}

/// What a second-factor page posts.
pub enum SecondFactorForm<'a> {
    /// A code of a bound factor: TOTP, a backup code, or the code sent (verification `sent`)
    /// to the user's email or phone; for a passkey, `sent` is the authentication the page's
    /// script verified through the Experience API (no code).
    Prove { factor: MfaFactor, code: &'a str, sent: Option<&'a str> },
    /// A code of the new TOTP secret made by `verification_id`, which is then bound.
    BindTotp { verification_id: &'a str, code: &'a str },
    /// The backup codes made by `verification_id`, saved by the user: bound.
    BindBackupCodes { verification_id: &'a str },
    /// The passkey registered (and verified by the page's script) as `verification_id`: bound.
    BindWebAuthn { verification_id: &'a str },
    /// The user declines to bind a factor.
    Skip,
    /// The user declines the suggestion of another factor.
    SkipSuggestion,
}

/// What the username registration form posts.
pub struct UsernameRegistration {
    pub username: String,
    pub password: String,
    pub agreed: bool,
}

impl Experience<'_> {
    /// The sign-in form: start, agree, verify the password, identify, submit. Returns where
    /// the browser goes next.
    pub async fn sign_in_with_password(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        mut interaction: Interaction,
        form: PasswordSignIn,
    ) -> Result<Option<String>> {
        let sie = self.sign_in_experience(tenant).await?;
        begin(&mut interaction, &sie, InteractionEvent::SignIn)?;
        interaction.state.terms_agreed = form.agreed;
        if form.identifier.value.trim().is_empty() {
            return Err(ExperienceError::InvalidCredentials);
        }
        password_policy::check_length(&form.password).map_err(ExperienceError::PasswordLength)?;
        let ip = form.ip.as_deref();
        let attempt = PasswordAttempt { identifier: form.identifier, password: form.password, ip, account: None };
        let (id, user) = self.check_password(tenant, &mut interaction, &sie, attempt).await?;
        let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
        let record = record.ok_or(ExperienceError::VerificationNotFound)?;
        check_identifying_record(&sie, InteractionEvent::SignIn, &record)?;
        identify_user(&mut interaction, &record, &user)?;
        let identified = AuditEntry {
            key: audit_keys::identifier_submit(InteractionEvent::SignIn),
            details: json!({"verificationType": record.kind}),
        };
        self.finish_form(tenant, cookie, &mut interaction, &sie, Some(identified)).await
    }

    /// The username registration form: start, agree, username, password, create the user,
    /// submit. Returns where the browser goes next.
    pub async fn register_with_password(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        mut interaction: Interaction,
        form: UsernameRegistration,
    ) -> Result<Option<String>> {
        let sie = self.sign_in_experience(tenant).await?;
        begin(&mut interaction, &sie, InteractionEvent::Register)?;
        interaction.state.terms_agreed = form.agreed;
        self.update_profile(tenant, &mut interaction, &sie, ProfileInput::Username(form.username)).await?;
        self.audit_profile(tenant, &interaction).await?;
        self.update_profile(tenant, &mut interaction, &sie, ProfileInput::Password(form.password)).await?;
        self.audit_profile(tenant, &interaction).await?;
        self.create_user(tenant, &mut interaction, &sie).await?;
        self.finish_form(tenant, cookie, &mut interaction, &sie, None).await
    }

    /// Submit at the end of a form's steps. When a second factor is needed first, the steps
    /// so far are kept (the interaction saved with its user identified, as the Experience
    /// API's steps would have left it) so the second-factor pages go on from there.
    async fn finish_form(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        earlier: Option<AuditEntry>,
    ) -> Result<Option<String>> {
        let kept = earlier.clone();
        match self.finish(tenant, cookie, interaction, sie, earlier).await {
            Err(ExperienceError::Mfa(demand)) => {
                let user_id = interaction.state.user_id.clone();
                let logs: Vec<_> = kept
                    .into_iter()
                    .map(|entry| self.audit_entry(tenant, interaction, &entry.key, user_id.as_deref(), entry.details))
                    .collect();
                self.save_logged(tenant, interaction, cookie, &logs).await?;
                Err(ExperienceError::Mfa(demand))
            }
            other => other,
        }
    }

    /// A second-factor page's post: its step, then submit. Returns where the browser goes next
    /// (a further second-factor step is `ExperienceError::Mfa`, with the step kept).
    pub async fn second_factor_form(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        form: SecondFactorForm<'_>,
    ) -> Result<Option<String>> {
        let mut interaction = self.load(tenant, cookie).await?;
        let i = &mut interaction;
        match form {
            SecondFactorForm::Prove { factor: MfaFactor::Totp, code, .. } => {
                self.prove_totp(tenant, i, code, None).await?;
            }
            SecondFactorForm::Prove { factor: MfaFactor::BackupCode, code, .. } => {
                self.prove_backup_code(tenant, i, code).await?;
            }
            SecondFactorForm::Prove { factor: MfaFactor::EmailVerificationCode, code, sent } => {
                self.prove_mfa_code(tenant, i, IdentifierType::Email, sent.unwrap_or_default(), code).await?;
            }
            SecondFactorForm::Prove { factor: MfaFactor::PhoneVerificationCode, code, sent } => {
                self.prove_mfa_code(tenant, i, IdentifierType::Phone, sent.unwrap_or_default(), code).await?;
            }
            SecondFactorForm::Prove { factor: MfaFactor::WebAuthn, sent, .. } => {
                proven_passkey(i, sent.unwrap_or_default())?;
            }
            SecondFactorForm::BindTotp { verification_id, code } => {
                self.prove_totp(tenant, i, code, Some(verification_id)).await?;
                self.bind(tenant, i, MfaFactor::Totp, verification_id).await?;
            }
            SecondFactorForm::BindBackupCodes { verification_id } => {
                self.bind(tenant, i, MfaFactor::BackupCode, verification_id).await?;
            }
            SecondFactorForm::BindWebAuthn { verification_id } => {
                self.bind(tenant, i, MfaFactor::WebAuthn, verification_id).await?;
            }
            SecondFactorForm::Skip => self.skip(tenant, i).await?,
            SecondFactorForm::SkipSuggestion => self.skip_suggestion(tenant, i).await?,
        }
        let sie = self.sign_in_experience(tenant).await?;
        self.finish_form(tenant, cookie, &mut interaction, &sie, None).await
    }

    /// The new-password form of a password reset: the new password, then submit (the
    /// password is stored, the user signed out everywhere, the interaction left for a fresh
    /// sign-in).
    pub async fn reset_password_and_finish(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        mut interaction: Interaction,
        password: String,
    ) -> Result<()> {
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        self.stage_new_password(tenant, &mut interaction, password).await?;
        let sie = self.sign_in_experience(tenant).await?;
        self.finish(tenant, cookie, &mut interaction, &sie, None).await.map(|_| ())
    }
}

/// The passkey assertion `verification_id` was verified for the identified user (the ceremony
/// itself ran through the Experience API; the form only names it).
fn proven_passkey(interaction: &Interaction, verification_id: &str) -> Result<()> {
    let user_id = super::mfa::identified(interaction)?;
    let record = interaction.state.mfa.record(MfaFactor::WebAuthn, verification_id);
    let proving = record.filter(|r| r.user_id == user_id && r.webauthn.as_ref().is_some_and(|w| !w.registration));
    match proving {
        Some(r) if r.verified => Ok(()),
        Some(_) => Err(ExperienceError::VerificationFailed),
        None => Err(ExperienceError::VerificationNotFound),
    }
}
