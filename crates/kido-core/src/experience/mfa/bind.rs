//! `POST /profile/mfa` and the user's choices: binding what a verification made, declining,
//! turning two-step verification on.

use kido_proto::sign_in_experience::{MfaFactor, SignInExperience};
use kido_store::users as user_store;
use serde_json::json;

use crate::TenantContext;
use crate::experience::{
    Experience, ExperienceError, Interaction, InteractionCookie, Result, VerificationKind, event_of,
};
use crate::interaction::audit_keys;
use crate::interaction::mfa::MfaState;
use crate::mfa::policy;

impl Experience<'_> {
    /// `POST /profile/mfa {type, verificationId}`: the factor a verification made is bound at
    /// submit (a TOTP secret that was verified; backup codes, next to another factor).
    pub async fn bind_mfa(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        factor: MfaFactor,
        verification_id: &str,
    ) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        self.bind(tenant, &mut interaction, factor, verification_id).await?;
        self.save(tenant, &interaction, cookie).await
    }

    /// [`Self::bind_mfa`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn bind(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        factor: MfaFactor,
        verification_id: &str,
    ) -> Result<()> {
        let (sie, user) = self.verified(tenant, interaction).await?;
        let event = event_of(interaction)?;
        let key = audit_keys::bind_mfa_submit(event, factor);
        let mfa = &mut interaction.state.mfa;
        let record = mfa.record(factor, verification_id).filter(|r| r.user_id == user.user.id);
        match factor {
            MfaFactor::Totp => {
                let record = record.ok_or(ExperienceError::VerificationNotFound)?;
                if !record.verified {
                    return Err(ExperienceError::VerificationFailed);
                }
                if record.sealed_secret.is_none() {
                    return Err(ExperienceError::MfaPendingInfoNotFound);
                }
                enabled_for_binding(&sie, factor)?;
                if user.has_bound(MfaFactor::Totp) {
                    return Err(ExperienceError::TotpInUse);
                }
                mfa.bind_totp = Some(verification_id.to_owned());
            }
            MfaFactor::BackupCode => {
                let record = record.ok_or(ExperienceError::VerificationNotFound)?;
                if record.sealed_secret.is_none() && record.code_digests.is_empty() {
                    return Err(ExperienceError::MfaPendingInfoNotFound);
                }
                enabled_for_binding(&sie, factor)?;
                let pending = mfa.pending_factors();
                let other = user.factors.iter().chain(&pending).any(|f| *f != MfaFactor::BackupCode);
                if !other {
                    return Err(ExperienceError::BackupCodeAlone);
                }
                mfa.bind_backup_codes = Some(verification_id.to_owned());
            }
            MfaFactor::EmailVerificationCode | MfaFactor::PhoneVerificationCode => {
                let kind = if factor == MfaFactor::EmailVerificationCode {
                    VerificationKind::EmailVerificationCode
                } else {
                    VerificationKind::PhoneVerificationCode
                };
                let record = interaction.state.verification_records.iter().find(|r| r.id == verification_id);
                let record = record.filter(|r| r.kind == kind).ok_or(ExperienceError::VerificationNotFound)?;
                if !record.verified {
                    return Err(ExperienceError::VerificationFailed);
                }
                enabled_for_binding(&sie, factor)?;
                let identifier = record.identifier.clone();
                let mut c = self.core.store.conn().await?;
                let usernames = crate::users::username_case(&sie);
                let holder = user_store::find_by_identifier(
                    &mut c,
                    &tenant.id,
                    identifier.kind.store(),
                    &identifier.value,
                    usernames,
                )
                .await?;
                drop(c);
                match holder {
                    Some(other) if other.id != user.user.id => {
                        return Err(if factor == MfaFactor::EmailVerificationCode {
                            ExperienceError::EmailInUse
                        } else {
                            ExperienceError::PhoneInUse
                        });
                    }
                    _ => {}
                }
                let mfa = &mut interaction.state.mfa;
                mfa.bind_identifier = Some(identifier);
            }
            MfaFactor::WebAuthn => stage_passkey(&sie, mfa, verification_id, &user.user.id)?,
        }
        let mfa = &mut interaction.state.mfa;
        mfa.enabled = true;
        let mut c = self.core.store.conn().await?;
        let details = json!({"verificationId": verification_id});
        self.audit(&mut c, tenant, interaction, &key, Some(&user.user.id), details).await
    }

    /// `POST /profile/mfa/passkey {verificationId}`: the passkey a registration verified is
    /// bound at submit for passkey sign-in; unlike `POST /profile/mfa`, two-step
    /// verification is not turned on by it (Logto's).
    pub async fn bind_passkey(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: &str,
    ) -> Result<()> {
        let (mut interaction, sie, user) = self.load_verified(tenant, cookie).await?;
        stage_passkey(&sie, &mut interaction.state.mfa, verification_id, &user.user.id)?;
        let key = audit_keys::bind_passkey_submit(event_of(&interaction)?);
        let mut c = self.core.store.conn().await?;
        let details = json!({"verificationId": verification_id});
        self.audit(&mut c, tenant, &interaction, &key, Some(&user.user.id), details).await?;
        drop(c);
        self.save(tenant, &interaction, cookie).await
    }

    /// `POST /profile/mfa/passkey-skipped`: the user declines to add a passkey for passkey
    /// sign-in (kept on the user when they sign in).
    pub async fn skip_passkey(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<()> {
        let (mut interaction, _, _) = self.load_verified(tenant, cookie).await?;
        interaction.state.mfa.passkey_skipped = true;
        self.save(tenant, &interaction, cookie).await
    }

    /// `POST /profile/mfa/mfa-skipped`: the user declines to bind a factor, where the policy
    /// and their organizations let them.
    pub async fn skip_mfa(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        self.skip(tenant, &mut interaction).await?;
        self.save(tenant, &interaction, cookie).await
    }

    /// [`Self::skip_mfa`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn skip(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
    ) -> Result<()> {
        let (sie, user) = self.verified(tenant, interaction).await?;
        let mut c = self.core.store.conn().await?;
        let organization_requires = self.organization_requires(&mut c, tenant, &sie, &user.user.id).await?;
        drop(c);
        if !policy::may_skip(&sie.mfa, organization_requires) {
            return Err(ExperienceError::MfaNotSkippable);
        }
        interaction.state.mfa.skipped = true;
        Ok(())
    }

    /// `POST /profile/mfa/mfa-suggestion-skipped`: the user declines another factor (for
    /// this registration only).
    pub async fn skip_mfa_suggestion(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<()> {
        let mut interaction = self.load(tenant, cookie).await?;
        self.skip_suggestion(tenant, &mut interaction).await?;
        self.save(tenant, &interaction, cookie).await
    }

    /// [`Self::skip_mfa_suggestion`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn skip_suggestion(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
    ) -> Result<()> {
        self.verified(tenant, interaction).await?;
        interaction.state.mfa.suggestion_skipped = true;
        Ok(())
    }

    /// `POST /profile/mfa/mfa-enabled`: the user turns two-step verification on (kept on
    /// the user at submit).
    pub async fn enable_mfa(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<()> {
        let (mut interaction, _, _) = self.load_verified(tenant, cookie).await?;
        interaction.state.mfa.enabled = true;
        self.save(tenant, &interaction, cookie).await
    }
}

/// A factor may be bound when the experience enables it; a passkey also when passkey sign-in
/// is on (as Logto's).
fn enabled_for_binding(sie: &SignInExperience, factor: MfaFactor) -> Result<()> {
    let passkey = factor == MfaFactor::WebAuthn && sie.passkey_sign_in.enabled;
    if sie.mfa.factors.contains(&factor) || passkey { Ok(()) } else { Err(ExperienceError::MfaFactorNotEnabled) }
}

/// Chooses the passkey a verified registration (`verification_id`, of `user_id`) made to be
/// bound at submit.
fn stage_passkey(sie: &SignInExperience, mfa: &mut MfaState, verification_id: &str, user_id: &str) -> Result<()> {
    let record = mfa.record(MfaFactor::WebAuthn, verification_id).filter(|r| r.user_id == user_id);
    let record = record.ok_or(ExperienceError::VerificationNotFound)?;
    if !record.verified {
        return Err(ExperienceError::VerificationFailed);
    }
    if record.webauthn.as_ref().and_then(|w| w.credential.as_ref()).is_none() {
        return Err(ExperienceError::MfaPendingInfoNotFound);
    }
    enabled_for_binding(sie, MfaFactor::WebAuthn)?;
    mfa.bind_webauthn = Some(verification_id.to_owned());
    Ok(())
}
