//! Proving a second factor the user has bound (TOTP, a backup code, a code to their email or
//! phone) and making a new TOTP secret or backup-code set to bind.

use kido_proto::UserId;
use kido_proto::connectors::TemplateType;
use kido_proto::sign_in_experience::MfaFactor;
use kido_store::users as user_store;
use serde_json::json;

use crate::experience::codes::{CodeRequest, Origin};
use crate::experience::{
    Experience, ExperienceError, Identifier, IdentifierType, Interaction, InteractionCookie, Result, VerificationKind,
    event_of,
};
use crate::interaction::audit_keys;
use crate::interaction::mfa::MfaRecord;
use crate::mfa::{backup_codes, totp};
use crate::verification_codes::Delivery;
use crate::{TenantContext, ids};

use super::{NewTotpSecret, identified};

impl Experience<'_> {
    /// `POST /verification/totp/secret`: a new secret for the identified user, kept sealed
    /// in the interaction until it is verified and bound.
    pub async fn new_totp_secret(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<NewTotpSecret> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = identified(&interaction)?;
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        let secret = totp::generate_secret().ok_or_else(|| ExperienceError::Internal("no randomness".into()))?;
        let id = ids::new_id();
        let sealed = self.core.mfa().seal_totp(&tenant.id, &user_id, &id, &secret)?;
        let shown = NewTotpSecret::of(tenant, &user, id.clone(), secret);
        interaction.state.mfa.put(MfaRecord {
            id: id.clone(),
            factor: MfaFactor::Totp,
            user_id: user_id.clone(),
            verified: false,
            sealed_secret: Some(sealed),
            code_digests: Vec::new(),
            last_step: None,
            webauthn: None,
        });
        let key = audit_keys::mfa_verification(event, MfaFactor::Totp, true);
        self.audit(&mut c, tenant, &interaction, &key, Some(&user_id), json!({"verificationId": id})).await?;
        drop(c);
        self.save(tenant, &interaction, cookie).await?;
        Ok(shown)
    }

    /// `POST /verification/totp/verify`: with a `verificationId`, checks a code of the new
    /// secret made by that verification; without, a code of the user's bound TOTP (each
    /// code's time step is accepted once). Returns the verification id.
    pub async fn verify_totp(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        code: &str,
        verification_id: Option<&str>,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let id = self.prove_totp(tenant, &mut interaction, code, verification_id).await?;
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }

    /// [`Self::verify_totp`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn prove_totp(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        code: &str,
        verification_id: Option<&str>,
    ) -> Result<String> {
        let event = event_of(interaction)?;
        let user_id = identified(interaction)?;
        let key = audit_keys::mfa_verification(event, MfaFactor::Totp, false);
        let id = match verification_id {
            Some(id) => {
                let record = interaction.state.mfa.record(MfaFactor::Totp, id);
                let record = record.filter(|r| r.user_id == user_id).ok_or(ExperienceError::VerificationNotFound)?;
                let sealed = record.sealed_secret.as_deref().ok_or(ExperienceError::InvalidTotpCode)?;
                let step = self.core.mfa().totp_step(&tenant.id, &user_id, id, sealed, code)?;
                let step = step.ok_or(ExperienceError::InvalidTotpCode)?;
                let mut record = record.clone();
                record.verified = true;
                record.last_step = Some(step);
                interaction.state.mfa.put(record);
                id.to_owned()
            }
            None => {
                let mut c = self.core.store.conn().await?;
                let attempt = self.begin_mfa_attempt(&mut c, tenant, &user_id).await?;
                let passed = self.core.mfa().verify_totp(&mut c, &tenant.id, &UserId::new(&user_id), code).await?;
                let wrong = ExperienceError::InvalidTotpCode;
                self.end_mfa_attempt(&mut c, tenant, interaction, &user_id, attempt, passed, wrong, &key).await?;
                let id = ids::new_id();
                interaction.state.mfa.put(MfaRecord::proof(&id, MfaFactor::Totp, &user_id));
                id
            }
        };
        let mut c = self.core.store.conn().await?;
        self.audit(&mut c, tenant, interaction, &key, Some(&user_id), json!({"verificationId": id})).await?;
        Ok(id)
    }

    /// `POST /verification/backup-code/generate`: a new set of backup codes to show once;
    /// the interaction keeps them sealed (for the id the set will be stored under) until bound.
    pub async fn generate_backup_codes(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
    ) -> Result<(String, Vec<String>)> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = identified(&interaction)?;
        let codes = backup_codes::generate().ok_or_else(|| ExperienceError::Internal("no randomness".into()))?;
        let id = ids::new_id();
        let sealed = self.core.mfa().seal_backup_codes(&tenant.id, &user_id, &id, &codes)?;
        interaction.state.mfa.put(MfaRecord {
            id: id.clone(),
            factor: MfaFactor::BackupCode,
            user_id: user_id.clone(),
            verified: false,
            sealed_secret: Some(sealed),
            code_digests: Vec::new(),
            last_step: None,
            webauthn: None,
        });
        let mut c = self.core.store.conn().await?;
        let key = audit_keys::mfa_verification(event, MfaFactor::BackupCode, true);
        self.audit(&mut c, tenant, &interaction, &key, Some(&user_id), json!({"verificationId": id})).await?;
        drop(c);
        self.save(tenant, &interaction, cookie).await?;
        Ok((id, codes))
    }

    /// `POST /verification/backup-code/verify`: one of the user's unused backup codes,
    /// used up by this check.
    pub async fn verify_backup_code(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        code: &str,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let id = self.prove_backup_code(tenant, &mut interaction, code).await?;
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }

    /// [`Self::verify_backup_code`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn prove_backup_code(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        code: &str,
    ) -> Result<String> {
        let event = event_of(interaction)?;
        let user_id = identified(interaction)?;
        let key = audit_keys::mfa_verification(event, MfaFactor::BackupCode, false);
        let mut c = self.core.store.conn().await?;
        let attempt = self.begin_mfa_attempt(&mut c, tenant, &user_id).await?;
        let passed = self.core.mfa().verify_backup_code(&mut c, &tenant.id, &UserId::new(&user_id), code).await?;
        let wrong = ExperienceError::InvalidBackupCode;
        self.end_mfa_attempt(&mut c, tenant, interaction, &user_id, attempt, passed, wrong, &key).await?;
        let id = ids::new_id();
        interaction.state.mfa.put(MfaRecord::proof(&id, MfaFactor::BackupCode, &user_id));
        self.audit(&mut c, tenant, interaction, &key, Some(&user_id), json!({"verificationId": id})).await?;
        Ok(id)
    }

    /// `POST /verification/mfa-verification-code`: a code to the identified user's own email
    /// or phone, as a second factor.
    pub async fn send_mfa_code(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        kind: IdentifierType,
        origin: Origin,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = identified(&interaction)?;
        let (record_kind, factor) = mfa_code_kind(kind)?;
        let sie = self.sign_in_experience(tenant).await?;
        if !sie.mfa.factors.contains(&factor) {
            return Err(ExperienceError::MfaFactorNotEnabled);
        }
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        drop(c);
        let value = match kind {
            IdentifierType::Email => user.primary_email,
            _ => user.primary_phone,
        };
        let value = value.filter(|v| !v.is_empty()).ok_or(ExperienceError::MfaFactorNotEnabled)?;
        let request = CodeRequest {
            kind: record_kind,
            identifier: Identifier { kind, value },
            event,
            template: TemplateType::MfaVerification,
            delivery: Delivery::Now,
            user_id: Some(user_id),
        };
        self.send_code_of(tenant, cookie, &mut interaction, request, origin).await
    }

    /// `POST /verification/mfa-verification-code/verify`.
    pub async fn verify_mfa_code(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        kind: IdentifierType,
        verification_id: &str,
        code: &str,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let id = self.prove_mfa_code(tenant, &mut interaction, kind, verification_id, code).await?;
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }

    /// [`Self::verify_mfa_code`] on a loaded interaction (the caller saves).
    pub(in crate::experience) async fn prove_mfa_code(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        kind: IdentifierType,
        verification_id: &str,
        code: &str,
    ) -> Result<String> {
        let user_id = identified(interaction)?;
        let (record_kind, _) = mfa_code_kind(kind)?;
        let record = interaction.state.verification_records.iter().find(|r| {
            r.id == verification_id && r.kind == record_kind && r.user_id.as_deref() == Some(user_id.as_str())
        });
        let identifier = record.ok_or(ExperienceError::VerificationNotFound)?.identifier.clone();
        let verified = self.check_code(tenant, interaction, record_kind, identifier, verification_id, code).await;
        if let Err(e) = &verified {
            self.report_sign_in(tenant, interaction, Some(&user_id), Err(e));
        }
        verified
    }
}

/// The record kind and factor of a code to the user's own email or phone.
fn mfa_code_kind(kind: IdentifierType) -> Result<(VerificationKind, MfaFactor)> {
    match kind {
        IdentifierType::Email => Ok((VerificationKind::MfaEmailVerificationCode, MfaFactor::EmailVerificationCode)),
        IdentifierType::Phone => Ok((VerificationKind::MfaPhoneVerificationCode, MfaFactor::PhoneVerificationCode)),
        IdentifierType::Username => Err(ExperienceError::Invalid("`identifierType` must be `email` or `phone`".into())),
    }
}
