//! One operation per hosted form post: the Experience API's steps run on one loaded
//! interaction, which is saved once, and the user is read once. A failed step saves
//! nothing (the form starts the interaction over on its next post).

use serde_json::json;

use super::identify::{check_identifying_record, identify_user};
use super::submit::AuditEntry;
use super::{
    Experience, ExperienceError, Identifier, Interaction, InteractionCookie, InteractionEvent, ProfileInput, Result,
    begin,
};
use crate::TenantContext;
use crate::interaction::audit_keys;
use crate::sign_in_experience::password_policy;

/// What the password sign-in form posts.
pub struct PasswordSignIn {
    pub identifier: Identifier,
    pub password: String,
    /// The "I agree to the terms" box was ticked.
    pub agreed: bool,
    pub ip: Option<String>,
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
        let (id, user) =
            self.check_password(tenant, &mut interaction, &sie, form.identifier, form.password, ip).await?;
        let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
        let record = record.ok_or(ExperienceError::VerificationNotFound)?;
        check_identifying_record(&sie, InteractionEvent::SignIn, &record)?;
        identify_user(&mut interaction, &record, &user)?;
        let identified = AuditEntry {
            key: audit_keys::identifier_submit(InteractionEvent::SignIn),
            details: json!({"verificationType": record.kind}),
        };
        self.finish(tenant, cookie, &mut interaction, &sie, Some(&user), Some(identified)).await
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
        self.finish(tenant, cookie, &mut interaction, &sie, None, None).await
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
        self.finish(tenant, cookie, &mut interaction, &sie, None, None).await.map(|_| ())
    }
}
