//! What the sign-in experience's MFA settings ask of a user at sign-in and sign-up, as pure
//! functions (unit-tested without a database): which factors the user can verify with, whether
//! a second factor must be verified now, and whether one must (or may) be bound first.

use kido_proto::mfa::UserLogtoConfig;
use kido_proto::sign_in_experience::{
    MfaFactor, MfaPolicy, OrganizationRequiredMfaPolicy, SignInExperience, SignUpIdentifier,
};
use kido_store::mfa_verifications::StoredMfaVerification;
use serde::Serialize;

use crate::interaction::InteractionEvent;

/// The order factors are offered in: WebAuthn, TOTP, phone, email, backup code.
const OFFER_ORDER: [MfaFactor; 5] = [
    MfaFactor::WebAuthn,
    MfaFactor::Totp,
    MfaFactor::PhoneVerificationCode,
    MfaFactor::EmailVerificationCode,
    MfaFactor::BackupCode,
];

/// `factors` in the order they are offered.
pub fn sorted(factors: &[MfaFactor]) -> Vec<MfaFactor> {
    let mut out = factors.to_vec();
    out.sort_by_key(|f| OFFER_ORDER.iter().position(|o| o == f).unwrap_or(OFFER_ORDER.len()));
    out.dedup();
    out
}

/// A policy under which binding a factor cannot be skipped (and `skipMfaOnSignIn` is ignored).
pub fn cannot_skip(policy: MfaPolicy) -> bool {
    matches!(policy, MfaPolicy::Mandatory | MfaPolicy::PromptAtSignInAndSignUpMandatory)
}

/// The stored name of a factor kind (the wire's).
pub fn factor_of(kind: &str) -> Option<MfaFactor> {
    OFFER_ORDER.into_iter().find(|f| name_of(*f) == kind)
}

/// The wire and stored name of a factor.
pub fn name_of(factor: MfaFactor) -> &'static str {
    match factor {
        MfaFactor::Totp => "Totp",
        MfaFactor::BackupCode => "BackupCode",
        MfaFactor::WebAuthn => "WebAuthn",
        MfaFactor::EmailVerificationCode => "EmailVerificationCode",
        MfaFactor::PhoneVerificationCode => "PhoneVerificationCode",
    }
}

/// The factors a user can verify with, most useful first: their bound factors the sign-in
/// experience enables (a backup-code set only while it has unused codes; WebAuthn first,
/// backup codes last, otherwise the latest used first), then their email and phone when the
/// experience takes codes to them as a second factor. No factor twice.
pub fn user_factors(
    settings: &kido_proto::sign_in_experience::Mfa,
    bound: &[StoredMfaVerification],
    email: Option<&str>,
    phone: Option<&str>,
) -> Vec<MfaFactor> {
    let mut stored: Vec<(MfaFactor, i64)> = bound
        .iter()
        .filter_map(|row| Some((factor_of(&row.kind)?, row)))
        .filter(|(factor, row)| {
            settings.factors.contains(factor) && (*factor != MfaFactor::BackupCode || row.remaining_codes > 0)
        })
        .map(|(factor, row)| (factor, row.last_used_at.unwrap_or(0)))
        .collect();
    let rank = |f: MfaFactor| match f {
        MfaFactor::WebAuthn => 0,
        MfaFactor::BackupCode => 2,
        _ => 1,
    };
    stored.sort_by(|(a, a_used), (b, b_used)| rank(*a).cmp(&rank(*b)).then(b_used.cmp(a_used)));
    let mut out: Vec<MfaFactor> = Vec::new();
    let implicit = [
        (MfaFactor::EmailVerificationCode, email.is_some_and(|e| !e.is_empty())),
        (MfaFactor::PhoneVerificationCode, phone.is_some_and(|p| !p.is_empty())),
    ];
    let implicit = implicit.into_iter().filter(|(f, present)| *present && settings.factors.contains(f));
    for factor in stored.into_iter().map(|(f, _)| f).chain(implicit.map(|(f, _)| f)) {
        if !out.contains(&factor) {
            out.push(factor);
        }
    }
    out
}

/// Whether a sign-in must prove a second factor: the user has one the experience enables,
/// unless they asked not to be asked (`skipMfaOnSignIn`) and the policy allows that.
pub fn verification_required(
    settings: &kido_proto::sign_in_experience::Mfa,
    config: &UserLogtoConfig,
    factors: &[MfaFactor],
) -> bool {
    if config.mfa.skip_mfa_on_sign_in && !cannot_skip(settings.policy) {
        return false;
    }
    !factors.is_empty()
}

/// The email and phone a code would go to, masked (`maskedIdentifiers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaskedIdentifiers {
    #[serde(rename = "EmailVerificationCode", skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "PhoneVerificationCode", skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl MaskedIdentifiers {
    /// The user's email and phone, masked, for the factors among `factors`.
    pub fn of(factors: &[MfaFactor], email: Option<&str>, phone: Option<&str>) -> Self {
        Self {
            email: email.filter(|_| factors.contains(&MfaFactor::EmailVerificationCode)).map(mask_email),
            phone: phone.filter(|_| factors.contains(&MfaFactor::PhoneVerificationCode)).map(mask_phone),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none()
    }
}

/// `jane.doe@example.com` → `jane****@example.com` (short names show nothing).
pub fn mask_email(email: &str) -> String {
    let (name, domain) = email.split_once('@').unwrap_or((email, ""));
    let preview: String = if name.chars().count() > 4 { name.chars().take(4).collect() } else { String::new() };
    format!("{preview}****@{domain}")
}

/// `+15555550123` → `****0123`.
pub fn mask_phone(phone: &str) -> String {
    let tail: String = phone.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("****{tail}")
}

/// Why a sign-in cannot finish yet, as far as second factors go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaDemand {
    /// A bound factor must be verified first (403 `session.mfa.require_mfa_verification`).
    Verify { available: Vec<MfaFactor>, masked: MaskedIdentifiers },
    /// A factor must be bound first (422 `user.missing_mfa`); `skippable` when the user may
    /// decline instead.
    Bind { available: Vec<MfaFactor>, skippable: bool },
    /// Another factor is suggested to a user registered by email or phone alone (422
    /// `session.mfa.suggest_additional_mfa`, always skippable).
    Suggest { available: Vec<MfaFactor>, masked: MaskedIdentifiers },
    /// Backup codes are enabled and must be bound too (422 `session.mfa.backup_code_required`).
    BackupCodes,
}

/// What binding needs to know about the user and this sign-in.
#[derive(Debug, Clone)]
pub struct BindingState<'a> {
    pub event: InteractionEvent,
    /// The user is a member of an organization that requires MFA, and the experience
    /// enforces that (`organizationRequiredMfaPolicy: Mandatory`).
    pub organization_requires: bool,
    /// The user declined binding, in this sign-in or before.
    pub skipped: bool,
    pub suggestion_skipped: bool,
    /// `user_factors` of the user.
    pub user_factors: &'a [MfaFactor],
    /// The factors this sign-in binds at submit.
    pub pending: &'a [MfaFactor],
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// Whether the organization rule applies to a member of an MFA-requiring organization.
pub fn organizations_enforced(settings: &kido_proto::sign_in_experience::Mfa) -> bool {
    settings.organization_required_mfa_policy == Some(OrganizationRequiredMfaPolicy::Mandatory)
}

/// Whether the user may decline binding (`POST /profile/mfa/mfa-skipped`).
pub fn may_skip(settings: &kido_proto::sign_in_experience::Mfa, organization_requires: bool) -> bool {
    !cannot_skip(settings.policy) && !organization_requires
}

/// What the policy asks to be bound before this sign-in (or registration) finishes.
pub fn binding_demand(sie: &SignInExperience, s: &BindingState<'_>) -> Result<(), MfaDemand> {
    let settings = &sie.mfa;
    if settings.factors.is_empty() {
        return Ok(());
    }
    let org = s.organization_requires;
    if settings.policy == MfaPolicy::NoPrompt && !org {
        return Ok(());
    }
    if !cannot_skip(settings.policy) && s.skipped && !org {
        return Ok(());
    }
    if s.event == InteractionEvent::Register && settings.policy == MfaPolicy::PromptOnlyAtSignIn && !org {
        return Ok(());
    }
    let available: Vec<MfaFactor> =
        sorted(&settings.factors).into_iter().filter(|f| *f != MfaFactor::BackupCode).collect();
    let linked = |f: &MfaFactor| s.user_factors.contains(f) || s.pending.contains(f);
    if !available.iter().any(linked) {
        let skippable = !cannot_skip(settings.policy) && !org;
        return Err(MfaDemand::Bind { available, skippable });
    }
    suggestion(sie, s, &available)?;
    if settings.factors.contains(&MfaFactor::BackupCode) && !linked(&MfaFactor::BackupCode) {
        return Err(MfaDemand::BackupCodes);
    }
    Ok(())
}

/// At registration, a user whose only factor is the email or phone they signed up with is
/// offered another one (once; they may decline).
fn suggestion(sie: &SignInExperience, s: &BindingState<'_>, available: &[MfaFactor]) -> Result<(), MfaDemand> {
    if s.event != InteractionEvent::Register || s.suggestion_skipped || !s.pending.is_empty() {
        return Ok(());
    }
    let has_email = s.user_factors.contains(&MfaFactor::EmailVerificationCode);
    let has_phone = s.user_factors.contains(&MfaFactor::PhoneVerificationCode);
    if !has_email && !has_phone {
        return Ok(());
    }
    let signs_up_with = |id: SignUpIdentifier| {
        sie.sign_up.identifiers.contains(&id)
            || sie
                .sign_up
                .secondary_identifiers
                .iter()
                .flatten()
                .any(|s| s.identifier == id || s.identifier == SignUpIdentifier::EmailOrPhone)
    };
    if (has_email && !signs_up_with(SignUpIdentifier::Email)) || (has_phone && !signs_up_with(SignUpIdentifier::Phone))
    {
        return Ok(());
    }
    if !available.iter().any(|f| !s.user_factors.contains(f)) {
        return Ok(());
    }
    Err(MfaDemand::Suggest {
        available: available.to_vec(),
        masked: MaskedIdentifiers::of(s.user_factors, s.email, s.phone),
    })
}

#[cfg(test)]
mod tests;
