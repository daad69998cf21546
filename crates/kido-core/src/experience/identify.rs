//! `POST /api/experience/identification`: sign-in and forgot-password identify the
//! verified user; registration creates the user from the profile.

use kido_proto::sign_in_experience::SignInExperience;
use kido_store::oidc::UserOf;
use kido_store::users::{self as user_store, StoredUser};
use serde_json::json;

use super::{
    Experience, ExperienceError, IdentifierType, Interaction, InteractionCookie, InteractionEvent, Result,
    VerificationKind, VerificationRecord, allow_sign_in, event_of,
};
use crate::TenantContext;
use crate::interaction::passkey::SignInPasskeyRecord;
use crate::interaction::store as interactions;
use crate::interaction::{audit_keys, rules};
use crate::users::{Registration, UserError};

impl Experience<'_> {
    /// Identifies the verified user (sign-in, forgot password) or creates the user
    /// (registration, with the verified email or phone when given). Returns whether a user
    /// was created.
    pub async fn identify(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: Option<&str>,
    ) -> Result<bool> {
        let (mut interaction, record_user) = self.load_with_record_user(tenant, cookie, verification_id).await?;
        let event = event_of(&interaction)?;
        let sie = self.sign_in_experience(tenant).await?;
        rules::mode_allows_in(&sie, event, &interaction.state)?;
        if event == InteractionEvent::Register {
            let staged = self.stage_verification(tenant, &mut interaction, &sie, verification_id).await?;
            rules::invited_email_staged(&sie, &interaction.state)?;
            let created = self.create_user(tenant, &mut interaction, &sie).await;
            // A staged identifier stays staged even if the profile is still incomplete.
            if staged || created.is_ok() {
                self.save(tenant, &interaction, cookie).await?;
            }
            return created.map(|()| true);
        }
        let id = verification_id.ok_or_else(|| ExperienceError::Invalid("verificationId is missing".into()))?;
        if let Some(passkey) = interaction.state.sign_in_passkey.clone().filter(|r| r.id == id) {
            return self.identify_by_passkey(tenant, cookie, &mut interaction, &sie, event, &passkey).await;
        }
        let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
        let record = record.ok_or(ExperienceError::VerificationNotFound)?;
        check_identifying_record(&sie, event, &record)?;
        let user = match (record.kind, record_user) {
            // Read with the interaction.
            (VerificationKind::Password, Some(user)) if record.user_id.as_ref() == Some(&user.id) => Some(user),
            (VerificationKind::Password, _) => {
                let user_id = record.user_id.clone().ok_or(ExperienceError::VerificationFailed)?;
                let mut c = self.core.store.conn().await?;
                user_store::find(&mut c, &tenant.id, &user_id).await?
            }
            _ => {
                let (kind, usernames) = (record.identifier.kind.store(), crate::users::username_case(&sie));
                let mut c = self.core.store.conn().await?;
                user_store::find_by_identifier(&mut c, &tenant.id, kind, &record.identifier.value, usernames).await?
            }
        };
        let user = user.ok_or(ExperienceError::UserNotExist)?;
        identify_user(&mut interaction, &record, &user)?;
        let key = audit_keys::identifier_submit(event);
        let details = json!({"verificationType": record.kind});
        let entry = self.audit_entry(tenant, &interaction, &key, Some(&user.id), details);
        self.save_logged(tenant, &interaction, cookie, &[entry]).await?;
        Ok(false)
    }

    /// The interaction and the user its verification record `id` names (a password
    /// record's), read by one statement.
    async fn load_with_record_user(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        id: Option<&str>,
    ) -> Result<(Interaction, Option<StoredUser>)> {
        let Some(id) = id else { return Ok((self.load(tenant, cookie).await?, None)) };
        let mut c = self.core.store.conn().await?;
        let loaded = interactions::load_with_user(&mut c, &tenant.id, cookie, UserOf::Record(id)).await?;
        loaded.ok_or(ExperienceError::SessionNotFound)
    }

    /// Sign-in by a verified passkey record (`sign_in_passkey`): its user, if passkey sign-in
    /// is on. A password reset takes codes only.
    async fn identify_by_passkey(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        event: InteractionEvent,
        passkey: &SignInPasskeyRecord,
    ) -> Result<bool> {
        if event == InteractionEvent::ForgotPassword {
            return Err(ExperienceError::ResetChannelNotEnabled);
        }
        super::sign_in_passkey::check_enabled(sie)?;
        if !passkey.verified {
            return Err(ExperienceError::VerificationFailed);
        }
        let mut c = self.core.store.conn().await?;
        let user =
            user_store::find(&mut c, &tenant.id, &passkey.user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        drop(c);
        may_identify(interaction, &user)?;
        interaction.state.user_id = Some(user.id.clone());
        let key = audit_keys::identifier_submit(event);
        let details = json!({"verificationType": "SignInPasskey"});
        let entry = self.audit_entry(tenant, interaction, &key, Some(&user.id), details);
        self.save_logged(tenant, interaction, cookie, &[entry]).await?;
        Ok(false)
    }

    /// Registration: takes the verified identifier of `verification_id` (if any) into the
    /// profile; returns whether one was staged.
    async fn stage_verification(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        verification_id: Option<&str>,
    ) -> Result<bool> {
        if interaction.state.user_id.is_some() {
            return Err(ExperienceError::IdentityConflict);
        }
        let Some(id) = verification_id else { return Ok(false) };
        // A passkey proves an account that exists; it creates none.
        if interaction.state.sign_in_passkey.as_ref().is_some_and(|r| r.id == id) {
            return Err(ExperienceError::VerificationFailed);
        }
        let record = interaction.state.verification_records.iter().find(|r| r.id == id).cloned();
        let record = record.ok_or(ExperienceError::VerificationNotFound)?;
        match record.kind {
            // A password identifies an existing account; it cannot create one.
            VerificationKind::Password => return Err(ExperienceError::InvalidInteractionType),
            VerificationKind::NewPasswordIdentity => stage_new_identity(interaction, sie, &record)?,
            VerificationKind::EmailVerificationCode
            | VerificationKind::PhoneVerificationCode
            | VerificationKind::OneTimeToken => self.stage_verified(tenant, interaction, sie, &record).await?,
            // A second factor proves who is already identified; it creates no one.
            VerificationKind::MfaEmailVerificationCode | VerificationKind::MfaPhoneVerificationCode => {
                return Err(ExperienceError::VerificationFailed);
            }
        }
        Ok(true)
    }

    /// Creates the user of a complete registration profile.
    pub(super) async fn create_user(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
    ) -> Result<()> {
        let missing = rules::missing_profile(sie, &interaction.state.profile);
        if !missing.is_empty() {
            return Err(ExperienceError::MissingProfile(missing));
        }
        rules::terms_satisfied(sie, InteractionEvent::Register, interaction.state.terms_agreed)?;
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
        let key = audit_keys::identifier_submit(InteractionEvent::Register);
        self.audit(&mut c, tenant, interaction, &key, Some(&user.id), json!({})).await?;
        drop(c);
        interaction.state.user_id = Some(user.id);
        Ok(())
    }

    /// Puts a verified email or phone into a registration's profile, if the sign-up
    /// settings ask for it and no account holds it yet.
    pub(super) async fn stage_verified(
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
        // A one-time token registers its email whatever the sign-up identifiers (Logto's invitations).
        if record.kind != VerificationKind::OneTimeToken && !rules::sign_up_accepts(sie, kind) {
            return Err(ExperienceError::SignUpMethodNotEnabled);
        }
        let mut c = self.core.store.conn().await?;
        let usernames = crate::users::username_case(sie);
        let existing =
            user_store::find_by_identifier(&mut c, &tenant.id, kind.store(), &record.identifier.value, usernames)
                .await?;
        if existing.is_some() {
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
}

/// Registration: the username and hashed password of a new-password-identity record
/// become the profile (taken usernames are refused when the user is created).
fn stage_new_identity(
    interaction: &mut Interaction,
    sie: &SignInExperience,
    record: &VerificationRecord,
) -> Result<()> {
    let hash = record.password_encrypted.clone().filter(|_| record.verified);
    let hash = hash.ok_or(ExperienceError::VerificationFailed)?;
    if !rules::sign_up_takes_username(sie) {
        return Err(ExperienceError::SignUpMethodNotEnabled);
    }
    interaction.state.profile.username = Some(record.identifier.value.clone());
    interaction.state.profile.password_encrypted = Some(hash);
    Ok(())
}

/// Whether this record may identify a user for a sign-in or a password reset.
pub(super) fn check_identifying_record(
    sie: &SignInExperience,
    event: InteractionEvent,
    record: &VerificationRecord,
) -> Result<()> {
    // A second factor proves who is already identified; it identifies no one.
    if record.kind.mfa_factor().is_some() {
        return Err(ExperienceError::VerificationFailed);
    }
    if event == InteractionEvent::ForgotPassword && !rules::reset_method_enabled(sie, record) {
        // A password proves nothing here; only a code sent to an enabled channel does.
        return Err(ExperienceError::ResetChannelNotEnabled);
    }
    if !record.verified {
        return Err(ExperienceError::VerificationFailed);
    }
    if event == InteractionEvent::SignIn && !rules::sign_in_method_enabled(sie, record) {
        return Err(ExperienceError::SignInMethodNotEnabled);
    }
    Ok(())
}

/// Makes `user` the interaction's user, if the rules let them sign in by this record.
pub(super) fn identify_user(
    interaction: &mut Interaction,
    record: &VerificationRecord,
    user: &StoredUser,
) -> Result<()> {
    may_identify(interaction, user)?;
    rules::credentials_unchanged(record.credential_stamp, user)?;
    interaction.state.user_id = Some(user.id.clone());
    if record.credential_stamp.is_some() {
        interaction.state.credential_stamp = record.credential_stamp;
    }
    Ok(())
}

/// Whether `user` may become the interaction's user: they may sign in and no one else is
/// identified.
fn may_identify(interaction: &Interaction, user: &StoredUser) -> Result<()> {
    allow_sign_in(user)?;
    if interaction.state.user_id.as_ref().is_some_and(|u| *u != user.id) {
        return Err(ExperienceError::IdentityConflict);
    }
    Ok(())
}
