//! Second factors in a sign-in: verifying one the user has bound (TOTP, backup code, a code
//! to their email or phone), making a new TOTP secret or backup-code set and choosing to
//! bind it at submit (`POST /profile/mfa`), declining (`/profile/mfa/mfa-skipped`), and the
//! policy checks submit applies (`settle_mfa`).
//!
//! Wrong TOTP and backup codes count towards a per-user lockout (the sentinel), like wrong
//! passwords; no check here does argon2-class work.

//!
//! `prove`: verifying a bound factor and making new secrets or codes; `bind`: binding what a
//! verification made and the user's choices; `settle`: what submit asks and binds.

mod bind;
mod prove;
mod settle;

use kido_proto::sign_in_experience::{MfaFactor, SignInExperience};
use kido_store::mfa_verifications::{self as mfa_store, StoredMfaVerification};
use kido_store::users::{self as user_store, StoredUser};
use kido_store::{Exec, organizations as organization_store};
use serde_json::json;

use super::{
    Experience, ExperienceError, ExperienceState, Interaction, InteractionCookie, InteractionEvent, Result, blocked,
    event_of, sentinel,
};
use crate::TenantContext;
use crate::mfa::MfaError;
use crate::mfa::policy::{self, MaskedIdentifiers, MfaDemand};

/// A new TOTP secret to show the user once (`POST /verification/totp/secret`).
#[derive(Debug, Clone)]
pub struct NewTotpSecret {
    pub verification_id: String,
    pub secret: String,
    /// The `otpauth://` URI as a QR code image (data URI).
    pub secret_qr_code: String,
}

impl NewTotpSecret {
    fn of(tenant: &TenantContext, user: &StoredUser, verification_id: String, secret: String) -> Self {
        let issuer = crate::mfa::authenticator_issuer(&tenant.issuer);
        let secret_qr_code = crate::mfa::secret_qr_code(&issuer, user, &secret);
        Self { verification_id, secret, secret_qr_code }
    }
}

impl From<MfaError> for ExperienceError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::TotpInUse => Self::TotpInUse,
            MfaError::BackupCodeAlone => Self::BackupCodeAlone,
            MfaError::WebAuthnCredentialInUse => Self::WebAuthnFailed(e.to_string()),
            MfaError::UserNotFound(_) => Self::UserNotExist,
            MfaError::Store(e) => Self::Store(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The user a second factor is for: the one the sign-in identified.
pub(super) fn identified(interaction: &Interaction) -> Result<String> {
    interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)
}

/// The tenant as a relying party: its public origin.
pub(super) fn relying_party(tenant: &TenantContext) -> Result<crate::mfa::webauthn::RelyingParty> {
    crate::mfa::webauthn::RelyingParty::of_issuer(&tenant.issuer)
        .ok_or_else(|| ExperienceError::Internal("the tenant's issuer is not a URL".into()))
}

/// The sentinel counter of a user's second factors.
fn sentinel_key(user_id: &str) -> String {
    sentinel::key("mfa", user_id)
}

/// A place in the user's second-factor sentinel window (`begin_mfa_attempt`).
pub(super) struct MfaAttempt {
    key: String,
    attempt: sentinel::Attempt,
    limits: sentinel::Limits,
    now: i64,
}

/// What the sign-in knows of the user's second factors.
struct UserMfa {
    user: StoredUser,
    bound: Vec<StoredMfaVerification>,
    /// `policy::user_factors`.
    factors: Vec<MfaFactor>,
}

impl UserMfa {
    fn of(sie: &SignInExperience, user: StoredUser, bound: Vec<StoredMfaVerification>) -> Self {
        let factors =
            policy::user_factors(&sie.mfa, &bound, user.primary_email.as_deref(), user.primary_phone.as_deref());
        Self { user, bound, factors }
    }

    fn has_bound(&self, factor: MfaFactor) -> bool {
        self.bound.iter().any(|row| row.kind == policy::name_of(factor))
    }

    fn masked(&self, factors: &[MfaFactor]) -> MaskedIdentifiers {
        MaskedIdentifiers::of(factors, self.user.primary_email.as_deref(), self.user.primary_phone.as_deref())
    }
}

/// The factors the sign-in has proven for `user_id` (not counting new bindings).
fn proven_factors(state: &ExperienceState, user_id: &str) -> Vec<MfaFactor> {
    let records =
        state.mfa.records.iter().filter(|r| r.user_id == user_id && r.proves_bound_factor()).map(|r| r.factor);
    let codes = state
        .verification_records
        .iter()
        .filter(|r| r.verified && r.user_id.as_deref() == Some(user_id))
        .filter_map(|r| r.kind.mfa_factor());
    records.chain(codes).collect()
}

/// A sign-in may go on only with a second factor proven, when the policy asks for one. A
/// passkey sign-in proved one (the authenticator verified the user), as Logto's.
fn check_verified(sie: &SignInExperience, state: &ExperienceState, user: &UserMfa) -> Result<()> {
    if state.sign_in_passkey.as_ref().is_some_and(|r| r.proves(&user.user.id)) {
        return Ok(());
    }
    if !policy::verification_required(&sie.mfa, &user.user.logto_config.0, &user.factors) {
        return Ok(());
    }
    if proven_factors(state, &user.user.id).iter().any(|f| user.factors.contains(f)) {
        return Ok(());
    }
    Err(ExperienceError::Mfa(MfaDemand::Verify { available: user.factors.clone(), masked: user.masked(&user.factors) }))
}

impl Experience<'_> {
    async fn user_mfa(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        sie: &SignInExperience,
        user_id: &str,
    ) -> Result<UserMfa> {
        let user = user_store::find(c, &tenant.id, user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        let bound = mfa_store::list(c, &tenant.id, user_id).await?;
        Ok(UserMfa::of(sie, user, bound))
    }

    /// An interaction whose identified user may bind factors or make choices about them
    /// (Logto's "verified interaction"): not a password reset, and at sign-in, past the
    /// second factor.
    async fn load_verified(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
    ) -> Result<(Interaction, SignInExperience, UserMfa)> {
        let interaction = self.load(tenant, cookie).await?;
        let (sie, user) = self.verified(tenant, &interaction).await?;
        Ok((interaction, sie, user))
    }

    /// [`Self::load_verified`]'s checks on a loaded interaction.
    async fn verified(&self, tenant: &TenantContext, interaction: &Interaction) -> Result<(SignInExperience, UserMfa)> {
        let event = event_of(interaction)?;
        if event == InteractionEvent::ForgotPassword {
            return Err(ExperienceError::ForgotPasswordStandsAlone);
        }
        let user_id = identified(interaction)?;
        let sie = self.sign_in_experience(tenant).await?;
        let mut c = self.core.store.conn().await?;
        let user = self.user_mfa(&mut c, tenant, &sie, &user_id).await?;
        drop(c);
        if event == InteractionEvent::SignIn {
            check_verified(&sie, &interaction.state, &user)?;
        }
        Ok((sie, user))
    }

    /// Reserves a place in the user's second-factor sentinel window, before a code of a
    /// bound factor is checked (or says the user's second factors are locked).
    pub(super) async fn begin_mfa_attempt(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        user_id: &str,
    ) -> Result<MfaAttempt> {
        let sie = self.sign_in_experience(tenant).await?;
        let limits = sentinel::Limits::from(&sie.sentinel_policy);
        let key = sentinel_key(user_id);
        let now = crate::clock::now_ms();
        match sentinel::begin(c, &tenant.id, &key, limits, now).await? {
            Ok(attempt) => Ok(MfaAttempt { key, attempt, limits, now }),
            Err(until) => Err(blocked(until, now)),
        }
    }

    /// Ends the attempt: a right code gives its place back; a wrong one keeps it (and may
    /// lock the user's second factors), is audited and reported, and answers `wrong`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn end_mfa_attempt(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        interaction: &Interaction,
        user_id: &str,
        attempt: MfaAttempt,
        passed: bool,
        wrong: ExperienceError,
        audit_key: &str,
    ) -> Result<()> {
        let MfaAttempt { key, attempt, limits, now } = attempt;
        if passed {
            return Ok(sentinel::not_a_failure(c, &tenant.id, &key, attempt).await?);
        }
        let details = json!({"result": "Error", "error": wrong.to_string()});
        self.audit(c, tenant, interaction, audit_key, Some(user_id), details).await?;
        let error = match sentinel::failed(c, &tenant.id, &key, attempt, limits, now).await? {
            Some(until) => self.locked_out(tenant, interaction, Some(user_id), until, now),
            None => wrong,
        };
        self.report_sign_in(tenant, interaction, Some(user_id), Err(&error));
        Err(error)
    }

    /// Whether the user belongs to an organization requiring MFA and the experience enforces it.
    async fn organization_requires(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        sie: &SignInExperience,
        user_id: &str,
    ) -> Result<bool> {
        if !policy::organizations_enforced(&sie.mfa) {
            return Ok(false);
        }
        Ok(organization_store::in_mfa_required_organization(c, &tenant.id, user_id).await?)
    }
}
