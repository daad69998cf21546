//! The user's second factors through the Account API: list, add (TOTP with an optional code,
//! a backup-code set, a passkey registered through the Verification API), replace TOTP, read
//! the backup codes, rename a passkey, remove one; and the user's MFA choices. The rules of
//! binding are the `Mfa` service's; this adds Logto's switches, scope gates, proofs and the
//! sign-in experience's enabled factors.

use kido_proto::account::{AccountBackupCode, AccountMfaSettings};
use kido_proto::mfa::{
    CreatedUserMfaVerification, UpdateUserLogtoConfig, UpdateUserMfaChoices, UserLogtoConfig, UserMfaVerification,
};
use kido_proto::sign_in_experience::MfaFactor;

use super::caller::{AccountCaller, scopes};
use super::center::{passkey_control, require_edit, require_readable};
use super::error::{AccountError, Result};
use super::record_kind::RecordKind;
use super::records::registered_passkey;
use super::service::Account;
use crate::mfa::{MfaError, TotpCheck, VerifiedPasskey, authenticator_issuer, backup_codes, totp};
use crate::{TenantContext, clock, ids};

/// A factor to add through the Account API.
pub enum NewFactor {
    Totp { secret: String, code: Option<String> },
    BackupCode { codes: Vec<String> },
    WebAuthn { record_id: String, name: Option<String> },
}

impl NewFactor {
    fn factor(&self) -> MfaFactor {
        match self {
            Self::Totp { .. } => MfaFactor::Totp,
            Self::BackupCode { .. } => MfaFactor::BackupCode,
            Self::WebAuthn { .. } => MfaFactor::WebAuthn,
        }
    }
}

const MAX_NAME_CHARS: usize = 128;

impl Account<'_> {
    /// `GET /api/my-account/mfa-verifications`.
    pub async fn factors(&self, tenant: &TenantContext, caller: &AccountCaller) -> Result<Vec<UserMfaVerification>> {
        require_readable(caller.center.fields.mfa)?;
        caller.require_scope(scopes::IDENTITIES, true)?;
        Ok(self.core.mfa().list(&tenant.id, &caller.user_id()).await?)
    }

    /// The checks every change to the factors makes first, in Logto's order.
    async fn may_change_factors(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        control: Option<kido_proto::account::AccountCenterControl>,
    ) -> Result<()> {
        caller.require_verified()?;
        require_edit(control)?;
        caller.require_scope(scopes::IDENTITIES, true)?;
        self.require_first_party(tenant, &caller.client_id).await
    }

    async fn require_factor_enabled(&self, tenant: &TenantContext, factor: MfaFactor) -> Result<()> {
        let sie =
            self.core.sign_in_experiences().get(&tenant.id).await.map_err(|e| AccountError::Internal(e.to_string()))?;
        if sie.mfa.factors.contains(&factor) { Ok(()) } else { Err(AccountError::FactorNotEnabled) }
    }

    /// `POST /api/my-account/mfa-verifications`.
    pub async fn add_factor(&self, tenant: &TenantContext, caller: &AccountCaller, new: NewFactor) -> Result<()> {
        let fields = &caller.center.fields;
        let control = if matches!(new, NewFactor::WebAuthn { .. }) { passkey_control(fields) } else { fields.mfa };
        self.may_change_factors(tenant, caller, control).await?;
        self.require_factor_enabled(tenant, new.factor()).await?;
        let user = caller.user_id();
        let bound = self.core.mfa().list(&tenant.id, &user).await?;
        match new {
            NewFactor::Totp { secret, code } => {
                if bound.iter().any(|v| v.kind == MfaFactor::Totp) {
                    return Err(MfaError::TotpInUse.into());
                }
                let secret = totp::normalize_secret(&secret).ok_or(AccountError::TotpSecretInvalid)?;
                let check = TotpCheck { code: code.as_deref().filter(|c| !c.is_empty()), replace: false };
                self.bind_totp(tenant, caller, secret, check).await?;
            }
            NewFactor::BackupCode { codes } => {
                if bound.iter().any(|v| v.kind == MfaFactor::BackupCode && v.remain_codes.unwrap_or(0) > 0) {
                    return Err(MfaError::BackupCodesInUse.into());
                }
                if !bound.iter().any(|v| v.kind != MfaFactor::BackupCode) {
                    return Err(MfaError::BackupCodeAlone.into());
                }
                if backup_codes::normalize_set(&codes).is_none() {
                    return Err(AccountError::BackupCodeFormat(format!(
                        "{} distinct codes of {} hex digits",
                        backup_codes::COUNT,
                        backup_codes::LENGTH
                    )));
                }
                self.core.mfa().bind_backup_codes(&tenant.id, &user, Some(codes)).await?;
            }
            NewFactor::WebAuthn { record_id, name } => {
                let record = self.record(tenant, caller, &record_id, RecordKind::WebAuthn).await?;
                let (credential, agent) = registered_passkey(&record).ok_or(AccountError::RecordNotFound)?;
                let rp = super::records::relying_party(tenant)?;
                let id = ids::new_id();
                let mut tx = self.core.store.begin().await?;
                let passkey =
                    VerifiedPasskey { id: &id, credential: &credential, rp_id: &rp.id, agent: agent.as_deref() };
                self.core.mfa().bind_passkey(&mut tx, &tenant.id, &user, passkey).await?;
                if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
                    let name: String = name.chars().take(MAX_NAME_CHARS).collect();
                    kido_store::mfa_verifications::rename(&mut tx, &tenant.id, user.as_str(), &id, "WebAuthn", &name)
                        .await?;
                }
                // The registration is spent: it binds once.
                kido_store::verification_records::delete(&mut tx, &tenant.id, &record.id).await?;
                tx.commit().await?;
            }
        }
        self.turn_mfa_on(tenant, caller).await
    }

    /// `PUT /api/my-account/mfa-verifications/totp`: a new secret, proven by a code, replacing
    /// the user's TOTP (or added when there is none).
    pub async fn replace_totp(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        secret: String,
        code: String,
    ) -> Result<()> {
        self.may_change_factors(tenant, caller, caller.center.fields.mfa).await?;
        self.require_factor_enabled(tenant, MfaFactor::Totp).await?;
        let secret = totp::normalize_secret(&secret).ok_or(AccountError::TotpSecretInvalid)?;
        if code.is_empty() {
            return Err(MfaError::WrongTotpCode.into());
        }
        self.bind_totp(tenant, caller, secret, TotpCheck { code: Some(&code), replace: true }).await?;
        self.turn_mfa_on(tenant, caller).await
    }

    async fn bind_totp(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        secret: String,
        check: TotpCheck<'_>,
    ) -> Result<CreatedUserMfaVerification> {
        let issuer = authenticator_issuer(&tenant.issuer);
        Ok(self.core.mfa().bind_totp(&tenant.id, &caller.user_id(), &issuer, Some(secret), Some(check)).await?)
    }

    /// Logto 1.42 turns two-step verification on for a user who binds a factor.
    async fn turn_mfa_on(&self, tenant: &TenantContext, caller: &AccountCaller) -> Result<()> {
        let update = UpdateUserLogtoConfig {
            mfa: Some(UpdateUserMfaChoices { enabled: Some(true), ..UpdateUserMfaChoices::default() }),
            passkey_sign_in: None,
        };
        self.core.mfa().update_logto_config(&tenant.id, &caller.user_id(), update).await?;
        Ok(())
    }

    /// `GET /api/my-account/mfa-verifications/backup-codes`.
    pub async fn backup_codes(&self, tenant: &TenantContext, caller: &AccountCaller) -> Result<Vec<AccountBackupCode>> {
        caller.require_verified()?;
        caller.require_scope(scopes::IDENTITIES, true)?;
        let codes = self.core.mfa().backup_codes(&tenant.id, &caller.user_id()).await?;
        let codes = codes.ok_or(AccountError::BackupCodesNotFound)?;
        Ok(codes
            .into_iter()
            .map(|(code, used_at)| AccountBackupCode { code, used_at: used_at.map(clock::iso8601) })
            .collect())
    }

    /// `PATCH /api/my-account/mfa-verifications/{id}/name`: passkeys only.
    pub async fn rename_factor(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        id: &str,
        name: &str,
    ) -> Result<()> {
        self.may_change_factors(tenant, caller, passkey_control(&caller.center.fields)).await?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(AccountError::Invalid(format!("`name` is at most {MAX_NAME_CHARS} characters")));
        }
        self.core.mfa().rename_passkey(&tenant.id, &caller.user_id(), id, name).await.map_err(not_found)
    }

    /// `DELETE /api/my-account/mfa-verifications/{id}`.
    pub async fn remove_factor(&self, tenant: &TenantContext, caller: &AccountCaller, id: &str) -> Result<()> {
        caller.require_verified()?;
        caller.require_scope(scopes::IDENTITIES, true)?;
        self.require_first_party(tenant, &caller.client_id).await?;
        let user = caller.user_id();
        let factor = self.core.mfa().factor_of(&tenant.id, &user, id).await.map_err(not_found)?;
        let fields = &caller.center.fields;
        require_edit(if factor == MfaFactor::WebAuthn { passkey_control(fields) } else { fields.mfa })?;
        self.core.mfa().delete(&tenant.id, &user, id).await.map_err(not_found)
    }

    /// `GET /api/my-account/mfa-settings`.
    pub async fn mfa_settings(&self, caller: &AccountCaller) -> Result<AccountMfaSettings> {
        caller.require_scope(scopes::IDENTITIES, true)?;
        require_readable(caller.center.fields.mfa)?;
        Ok(AccountMfaSettings { skip_mfa_on_sign_in: caller.user.logto_config.0.mfa.skip_mfa_on_sign_in })
    }

    /// `PATCH /api/my-account/mfa-settings`.
    pub async fn update_mfa_settings(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        settings: AccountMfaSettings,
    ) -> Result<AccountMfaSettings> {
        caller.require_verified()?;
        caller.require_scope(scopes::IDENTITIES, true)?;
        require_edit(caller.center.fields.mfa)?;
        self.require_first_party(tenant, &caller.client_id).await?;
        let update = UpdateUserLogtoConfig {
            mfa: Some(UpdateUserMfaChoices {
                skip_mfa_on_sign_in: Some(settings.skip_mfa_on_sign_in),
                ..UpdateUserMfaChoices::default()
            }),
            passkey_sign_in: None,
        };
        let config = self.core.mfa().update_logto_config(&tenant.id, &caller.user_id(), update).await?;
        Ok(AccountMfaSettings { skip_mfa_on_sign_in: config.mfa.skip_mfa_on_sign_in })
    }

    /// `GET /api/my-account/logto-configs`.
    pub async fn logto_config(&self, caller: &AccountCaller) -> Result<UserLogtoConfig> {
        caller.require_scope(scopes::IDENTITIES, true)?;
        require_readable(caller.center.fields.mfa)?;
        Ok(caller.user.logto_config.0.clone())
    }

    /// `PATCH /api/my-account/logto-configs`.
    pub async fn update_logto_config(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        update: UpdateUserLogtoConfig,
    ) -> Result<UserLogtoConfig> {
        caller.require_scope(scopes::IDENTITIES, true)?;
        require_edit(caller.center.fields.mfa)?;
        self.require_first_party(tenant, &caller.client_id).await?;
        Ok(self.core.mfa().update_logto_config(&tenant.id, &caller.user_id(), update).await?)
    }
}

/// A factor the user does not have: `verification_record.not_found`, as Logto.
fn not_found(e: MfaError) -> AccountError {
    match e {
        MfaError::NotFound(_) => AccountError::RecordNotFound,
        other => other.into(),
    }
}
