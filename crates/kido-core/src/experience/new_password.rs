//! `POST /api/experience/verification/new-password-identity`: the username and password a
//! registration will create the account with (the path Logto's own sign-up UI takes).
//! Checked as `POST /profile` checks them; identification then creates the user.

use super::{
    Experience, ExperienceError, Identifier, IdentifierType, InteractionCookie, InteractionEvent, InteractionProfile,
    ProfileInput, Result, event_of,
};
use crate::interaction::{VerificationKind, VerificationRecord};
use crate::sign_in_experience::password_policy;
use crate::{TenantContext, ids};

impl Experience<'_> {
    /// Checks a new username (format, sign-up settings, not taken) and its password (the
    /// policy); records them, the password hashed. Returns the record's id.
    pub async fn verify_new_password_identity(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        password: String,
    ) -> Result<String> {
        if identifier.kind != IdentifierType::Username {
            return Err(ExperienceError::Invalid("the identifier of a new password identity is a username".into()));
        }
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        let mut interaction = self.load(tenant, cookie).await?;
        if event_of(&interaction)? != InteractionEvent::Register {
            return Err(ExperienceError::InvalidInteractionType);
        }
        let sie = self.sign_in_experience(tenant).await?;
        // The profile steps' checks, on a scratch copy: the record holds the outcome until
        // identification puts it into the profile.
        let mut scratch = interaction.clone();
        scratch.state.profile = InteractionProfile::default();
        self.update_profile(tenant, &mut scratch, &sie, ProfileInput::Username(identifier.value.clone())).await?;
        self.update_profile(tenant, &mut scratch, &sie, ProfileInput::Password(password)).await?;
        let id = ids::new_id();
        interaction.state.verification_records.push(VerificationRecord {
            id: id.clone(),
            kind: VerificationKind::NewPasswordIdentity,
            identifier,
            verified: true,
            user_id: None,
            template: None,
            credential_stamp: None,
            password_encrypted: scratch.state.profile.password_encrypted,
            one_time_token_context: None,
        });
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }
}
