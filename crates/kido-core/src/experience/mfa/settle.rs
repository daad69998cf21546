//! What submit asks of the user's second factors, and what it binds (in its transaction).

use kido_proto::UserId;
use kido_proto::mfa::UserLogtoConfig;
use kido_proto::sign_in_experience::{MfaFactor, SignInExperience};
use kido_store::mfa_verifications as mfa_store;
use kido_store::users::{self as user_store, StoredUser};
use kido_store::{Exec, Json};

use crate::TenantContext;
use crate::experience::{
    Experience, ExperienceError, ExperienceState, IdentifierType, Interaction, InteractionCookie, InteractionEvent,
    Result, event_of,
};
use crate::mfa::policy::{self, BindingState, MfaDemand};
use crate::mfa::{NewBackupCodes, SetCodes, VerifiedPasskey, VerifiedTotp};

use super::{NewTotpSecret, UserMfa, check_verified, identified, relying_party};

impl Experience<'_> {
    /// What submit would ask of the user's second factors now (`Err(Mfa(..))`): at sign-in
    /// a proof first, then what the policy asks to be bound.
    async fn demand_of(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        sie: &SignInExperience,
        interaction: &Interaction,
        user: &UserMfa,
    ) -> Result<()> {
        let event = event_of(interaction)?;
        let state = &interaction.state;
        if event == InteractionEvent::SignIn {
            check_verified(sie, state, user)?;
        }
        self.passkey_preferred(sie, state, user)?;
        if sie.mfa.factors.is_empty() {
            return Ok(());
        }
        let organization_requires = self.organization_requires(c, tenant, sie, &user.user.id).await?;
        let config = &user.user.logto_config.0;
        let pending = state.mfa.pending_factors();
        let binding = BindingState {
            event,
            organization_requires,
            skipped: state.mfa.skipped || config.mfa.skipped,
            suggestion_skipped: state.mfa.suggestion_skipped,
            user_factors: &user.factors,
            pending: &pending,
            email: user.user.primary_email.as_deref(),
            phone: user.user.primary_phone.as_deref(),
        };
        policy::binding_demand(sie, &binding).map_err(ExperienceError::Mfa)
    }

    /// Passkey sign-in is on: a user with no passkey (bound, or to be bound by this sign-in)
    /// is asked to add one, unless they declined (now or at an earlier sign-in).
    fn passkey_preferred(&self, sie: &SignInExperience, state: &ExperienceState, user: &UserMfa) -> Result<()> {
        if !self.offers_passkeys || !sie.passkey_sign_in.enabled {
            return Ok(());
        }
        let skipped = state.mfa.passkey_skipped || user.user.logto_config.0.passkey_sign_in.skipped;
        let has_passkey = user.has_bound(MfaFactor::WebAuthn) || state.mfa.bind_webauthn.is_some();
        if skipped || has_passkey { Ok(()) } else { Err(ExperienceError::PasskeyPreferred) }
    }

    /// What the identified user's second factors still need before submit can finish
    /// (`None`: nothing), without changing anything: the hosted pages draw the second-factor
    /// page from it.
    pub async fn mfa_demand(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<Option<MfaDemand>> {
        let interaction = self.load(tenant, cookie).await?;
        let user_id = identified(&interaction)?;
        let sie = self.sign_in_experience(tenant).await?;
        if sie.mfa.factors.is_empty() {
            return Ok(None);
        }
        let mut c = self.core.store.conn().await?;
        let user = self.user_mfa(&mut c, tenant, &sie, &user_id).await?;
        match self.demand_of(&mut c, tenant, &sie, &interaction, &user).await {
            Ok(()) => Ok(None),
            Err(ExperienceError::Mfa(demand)) => Ok(Some(demand)),
            Err(e) => Err(e),
        }
    }

    /// The new TOTP secret of verification `verification_id`, not yet verified, shown again
    /// (the binding page after a wrong code).
    pub async fn unverified_totp_secret(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: &str,
    ) -> Result<NewTotpSecret> {
        let interaction = self.load(tenant, cookie).await?;
        let user_id = identified(&interaction)?;
        let record = interaction.state.mfa.record(MfaFactor::Totp, verification_id);
        let record =
            record.filter(|r| r.user_id == user_id && !r.verified).ok_or(ExperienceError::VerificationNotFound)?;
        let sealed = record.sealed_secret.as_deref().ok_or(ExperienceError::MfaPendingInfoNotFound)?;
        let secret = self.core.mfa().open_totp(&tenant.id, &user_id, verification_id, sealed)?;
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        drop(c);
        Ok(NewTotpSecret::of(tenant, &user, verification_id.to_owned(), secret))
    }

    /// Whether submit has a second factor (or a passkey prompt) to settle: the experience
    /// enables a factor, or asks this client for a passkey.
    pub(in crate::experience) fn mfa_settles(&self, sie: &SignInExperience) -> bool {
        !sie.mfa.factors.is_empty() || (self.offers_passkeys && sie.passkey_sign_in.enabled)
    }

    /// Submit's second-factor part, in its transaction (`user` just read by it): at sign-in a
    /// second factor must be proven; then what the policy asks to be bound must be; then what
    /// the sign-in verified is bound and the user's choices kept. Costs nothing when the
    /// experience enables no factor and asks for no passkey.
    pub(in crate::experience) async fn settle_mfa(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        sie: &SignInExperience,
        interaction: &Interaction,
        user: &StoredUser,
    ) -> Result<()> {
        if !self.mfa_settles(sie) {
            return Ok(());
        }
        let bound = mfa_store::list(c, &tenant.id, &user.id).await?;
        let user = UserMfa::of(sie, user.clone(), bound);
        self.demand_of(c, tenant, sie, interaction, &user).await?;
        let state = &interaction.state;
        let config = &user.user.logto_config.0;
        let user_id = UserId::new(&user.user.id);
        let totp = state.mfa.pending(MfaFactor::Totp).and_then(|r| {
            Some(VerifiedTotp { id: &r.id, sealed_secret: r.sealed_secret.as_deref()?, last_step: r.last_step })
        });
        let codes = state.mfa.pending(MfaFactor::BackupCode).map(|r| NewBackupCodes {
            id: &r.id,
            codes: match &r.sealed_secret {
                Some(sealed) => SetCodes::Sealed(sealed),
                None => SetCodes::Digests(&r.code_digests),
            },
        });
        self.core.mfa().bind_verified(c, &tenant.id, &user_id, totp, codes).await?;
        if let Some(identifier) = &state.mfa.bind_identifier {
            let mut row = user.user.clone();
            match identifier.kind {
                IdentifierType::Email => row.primary_email = Some(identifier.value.clone()),
                IdentifierType::Phone => row.primary_phone = Some(identifier.value.clone()),
                IdentifierType::Username => {}
            }
            row.updated_at = crate::clock::now_ms();
            user_store::update(c, &row).await.map_err(|e| match user_store::taken_identifier(&e) {
                Some(user_store::SignInIdentifier::Email) => ExperienceError::EmailInUse,
                Some(_) => ExperienceError::PhoneInUse,
                None => e.into(),
            })?;
        }
        if let Some(record) = state.mfa.pending(MfaFactor::WebAuthn) {
            let ceremony = record.webauthn.as_ref();
            if let Some(credential) = ceremony.and_then(|w| w.credential.as_ref()) {
                let rp = relying_party(tenant)?;
                let agent = ceremony.and_then(|w| w.agent.as_deref());
                let passkey = VerifiedPasskey { id: &record.id, credential, rp_id: &rp.id, agent };
                self.core.mfa().bind_passkey(c, &tenant.id, &user_id, passkey).await?;
            }
        }
        let chosen = chosen_config(config, state, event_of(interaction)?);
        if chosen != *config {
            user_store::set_logto_config(c, &tenant.id, &user.user.id, &Json(chosen)).await?;
        }
        Ok(())
    }
}

/// The user's choices with this sign-in's applied (declining a passkey is kept from a
/// sign-in only; at registration it holds for that registration, as Logto's).
fn chosen_config(config: &UserLogtoConfig, state: &ExperienceState, event: InteractionEvent) -> UserLogtoConfig {
    let mut chosen = config.clone();
    if state.mfa.passkey_skipped && event == InteractionEvent::SignIn {
        chosen.passkey_sign_in.skipped = true;
    }
    if state.mfa.skipped {
        chosen.mfa.skipped = true;
    }
    if state.mfa.enabled {
        chosen.mfa.enabled = Some(true);
    }
    chosen
}
