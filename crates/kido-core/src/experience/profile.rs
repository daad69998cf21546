//! `POST /api/experience/profile` (a registration's username, password, verified email or
//! phone) and `PUT /api/experience/profile/password` (a reset's new password).

use kido_proto::sign_in_experience::SignInExperience;
use kido_store::users::{self as user_store, SignInIdentifier as StoreIdentifier};
use serde_json::json;

use super::{
    Experience, ExperienceError, Interaction, InteractionCookie, InteractionEvent, ProfileInput, Result, event_of,
};
use crate::TenantContext;
use crate::interaction::{audit_keys, rules};
use crate::sign_in_experience::password_policy::{self, UserInfo};

impl Experience<'_> {
    /// `POST /api/experience/profile`: username, password, verified email or phone of a
    /// registration.
    pub async fn set_profile(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        input: ProfileInput,
    ) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        let sie = self.sign_in_experience_for_profile(tenant, &interaction).await?;
        self.update_profile(tenant, &mut interaction, &sie, input).await?;
        self.audit_profile(tenant, &interaction).await?;
        self.save(tenant, &interaction, cookie).await
    }

    /// The sign-in experience, once the event is one that builds a profile.
    async fn sign_in_experience_for_profile(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
    ) -> Result<SignInExperience> {
        match event_of(interaction)? {
            InteractionEvent::ForgotPassword => return Err(ExperienceError::ForgotPasswordStandsAlone),
            // Completing a signed-in user's profile arrives with the flows that need it.
            InteractionEvent::SignIn => return Err(ExperienceError::InvalidInteractionType),
            InteractionEvent::Register => {}
        }
        self.sign_in_experience(tenant).await
    }

    pub(super) async fn audit_profile(&self, tenant: &TenantContext, interaction: &Interaction) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        self.audit(&mut c, tenant, interaction, audit_keys::REGISTER_PROFILE_UPDATE, None, json!({})).await
    }

    /// One profile field of a registration, checked and staged.
    pub(super) async fn update_profile(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        input: ProfileInput,
    ) -> Result<()> {
        match input {
            ProfileInput::Username(username) => {
                crate::users::check_username(&username).map_err(|e| ExperienceError::Invalid(e.to_string()))?;
                crate::users::check_username_policy(&sie.username_policy, &username)
                    .map_err(ExperienceError::Invalid)?;
                if !rules::sign_up_takes_username(sie) {
                    return Err(ExperienceError::SignUpMethodNotEnabled);
                }
                let mut c = self.core.store.conn().await?;
                let usernames = crate::users::username_case(sie);
                if user_store::find_by_identifier(&mut c, &tenant.id, StoreIdentifier::Username, &username, usernames)
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
                    .find(|r| r.id == verification_id && r.identifier.kind == kind && r.kind.is_code())
                    .cloned()
                    .ok_or(ExperienceError::VerificationNotFound)?;
                self.stage_verified(tenant, interaction, sie, &record).await?;
            }
            ProfileInput::Unsupported(kind) => {
                return Err(ExperienceError::Invalid(format!(
                    "profile type `{kind}` needs a connector this server does not offer yet"
                )));
            }
        }
        Ok(())
    }

    /// `PUT /api/experience/profile/password`: the new password of a forgot-password
    /// interaction (checked against the policy and the old password; stored at submit).
    pub async fn reset_password(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        password: String,
    ) -> Result<()> {
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        let mut interaction = self.load(tenant, cookie).await?;
        self.stage_new_password(tenant, &mut interaction, password).await?;
        self.save(tenant, &interaction, cookie).await
    }

    /// The reset step on a loaded interaction (the length already checked): the new
    /// password, checked and hashed into the profile.
    pub(super) async fn stage_new_password(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        password: String,
    ) -> Result<()> {
        if event_of(interaction)? != InteractionEvent::ForgotPassword {
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
        let key = audit_keys::FORGOT_PASSWORD_PROFILE_UPDATE;
        self.audit(&mut c, tenant, interaction, key, Some(&user_id), json!({})).await?;
        Ok(())
    }
}
