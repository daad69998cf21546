//! What may happen next in a sign-in: pure functions of the sign-in experience, the
//! interaction's state and the user, so each rule is written once and tested without a
//! database. The Experience API, the hosted pages (through it), `oidc::authorize` and the
//! token grants all ask here.

use kido_proto::sign_in_experience::{AgreeToTermsPolicy, SignInExperience, SignInMode, SignUpIdentifier};
use kido_store::users::StoredUser;

use super::{
    ExperienceState, IdentifierType, InteractionEvent, InteractionProfile, VerificationKind, VerificationRecord,
};
use crate::users::credential_stamp;

/// Why a rule refused a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant's `signInMode` does not offer this event.
    ModeForbids,
    /// Forgot-password cannot be switched to or from.
    ForgotPasswordSwitch,
    /// The terms must be agreed to first.
    TermsNotAgreed,
    /// The password changed after it was verified.
    CredentialsChanged,
}

/// The one "may this user sign in" rule: a suspended user may not (Experience API, hosted
/// pages, silent sign-in by session, code and refresh-token grants).
pub fn may_sign_in(user: &StoredUser) -> bool {
    !user.is_suspended
}

/// `signInMode`: a sign-in-only tenant has no registration and vice versa.
pub fn mode_allows(sie: &SignInExperience, event: InteractionEvent) -> Result<(), Refusal> {
    match (sie.sign_in_mode, event) {
        (SignInMode::Register, InteractionEvent::SignIn | InteractionEvent::ForgotPassword)
        | (SignInMode::SignIn, InteractionEvent::Register) => Err(Refusal::ModeForbids),
        _ => Ok(()),
    }
}

/// `signInMode` for this interaction: a verified one-time token may register even where
/// registration is closed (Logto lets a magic link invite new users).
pub fn mode_allows_in(sie: &SignInExperience, event: InteractionEvent, state: &ExperienceState) -> Result<(), Refusal> {
    let invited = state.verification_records.iter().any(|r| r.kind == VerificationKind::OneTimeToken && r.verified);
    if event == InteractionEvent::Register && invited {
        return Ok(());
    }
    mode_allows(sie, event)
}

/// Where only a one-time token opened registration, the account made must be the one the
/// token invites: the profile's email is a verified token's email.
pub fn invited_email_staged(sie: &SignInExperience, state: &ExperienceState) -> Result<(), Refusal> {
    if mode_allows(sie, InteractionEvent::Register).is_ok() {
        return Ok(());
    }
    let email = state.profile.primary_email.as_deref();
    let invited = state.verification_records.iter().any(|r| {
        r.kind == VerificationKind::OneTimeToken
            && r.verified
            && email.is_some_and(|e| e.eq_ignore_ascii_case(&r.identifier.value))
    });
    if invited { Ok(()) } else { Err(Refusal::ModeForbids) }
}

/// Switching events: sign-in and registration swap freely; forgot-password stands alone.
pub fn may_switch(current: InteractionEvent, next: InteractionEvent) -> Result<(), Refusal> {
    let forgot = |e| e == InteractionEvent::ForgotPassword;
    if current != next && (forgot(current) || forgot(next)) {
        return Err(Refusal::ForgotPasswordSwitch);
    }
    Ok(())
}

/// A sign-in that verified a password stops if the password changed since (a reset, an
/// admin change): whoever knew the old one must not finish with it.
pub fn credentials_unchanged(stamp: Option<i64>, user: &StoredUser) -> Result<(), Refusal> {
    match stamp {
        Some(stamp) if stamp != credential_stamp(user) => Err(Refusal::CredentialsChanged),
        _ => Ok(()),
    }
}

/// Terms must be agreed to when `terms_required` says so.
pub fn terms_satisfied(sie: &SignInExperience, event: InteractionEvent, agreed: bool) -> Result<(), Refusal> {
    if terms_required(sie, event) && !agreed {
        return Err(Refusal::TermsNotAgreed);
    }
    Ok(())
}

fn sign_up_secondary(sie: &SignInExperience) -> impl Iterator<Item = SignUpIdentifier> + '_ {
    sie.sign_up.secondary_identifiers.iter().flatten().map(|s| s.identifier)
}

/// Whether registration asks for a username (primary or secondary identifier).
pub fn sign_up_takes_username(sie: &SignInExperience) -> bool {
    sie.sign_up.identifiers.contains(&SignUpIdentifier::Username)
        || sign_up_secondary(sie).any(|i| i == SignUpIdentifier::Username)
}

/// Whether registration takes this kind of verified identifier (primary or secondary).
pub fn sign_up_accepts(sie: &SignInExperience, kind: IdentifierType) -> bool {
    sie.sign_up.identifiers.iter().copied().chain(sign_up_secondary(sie)).any(|i| match kind {
        IdentifierType::Email => matches!(i, SignUpIdentifier::Email | SignUpIdentifier::EmailOrPhone),
        IdentifierType::Phone => matches!(i, SignUpIdentifier::Phone | SignUpIdentifier::EmailOrPhone),
        IdentifierType::Username => i == SignUpIdentifier::Username,
    })
}

/// Whether `signIn.methods` offers a password for this kind of identifier.
pub fn password_sign_in_enabled(sie: &SignInExperience, kind: IdentifierType) -> bool {
    sie.sign_in.methods.iter().any(|m| m.identifier == kind.sign_in() && m.password)
}

/// Whether `signIn.methods` lets this record sign a user in.
pub fn sign_in_method_enabled(sie: &SignInExperience, record: &VerificationRecord) -> bool {
    let kind = record.identifier.kind;
    match record.kind {
        VerificationKind::Password => password_sign_in_enabled(sie, kind),
        VerificationKind::EmailVerificationCode | VerificationKind::PhoneVerificationCode => {
            sends_codes(sie, InteractionEvent::SignIn, kind)
        }
        // It names an account that does not exist yet.
        VerificationKind::NewPasswordIdentity => false,
        // Second factors identify no one.
        VerificationKind::MfaEmailVerificationCode | VerificationKind::MfaPhoneVerificationCode => false,
        // A token the tenant issued proves the email whatever the sign-in methods (as Logto).
        VerificationKind::OneTimeToken => true,
    }
}

/// Whether `forgotPasswordMethods` lets this record reset a password (codes only).
pub fn reset_method_enabled(sie: &SignInExperience, record: &VerificationRecord) -> bool {
    record.kind.is_code() && sends_codes(sie, InteractionEvent::ForgotPassword, record.identifier.kind)
}

/// The one rule of which events verify which channel by code: sign-in needs a sign-in
/// method with `verificationCode`, registration a sign-up identifier (primary or secondary),
/// a password reset an entry in `forgotPasswordMethods`.
pub fn sends_codes(sie: &SignInExperience, event: InteractionEvent, kind: IdentifierType) -> bool {
    use kido_proto::sign_in_experience::ForgotPasswordMethod as M;
    match (event, kind) {
        (_, IdentifierType::Username) => false,
        (InteractionEvent::SignIn, _) => {
            sie.sign_in.methods.iter().any(|m| m.identifier == kind.sign_in() && m.verification_code)
        }
        (InteractionEvent::Register, _) => sign_up_accepts(sie, kind),
        (InteractionEvent::ForgotPassword, IdentifierType::Email) => {
            sie.forgot_password_methods.contains(&M::EmailVerificationCode)
        }
        (InteractionEvent::ForgotPassword, IdentifierType::Phone) => {
            sie.forgot_password_methods.contains(&M::PhoneVerificationCode)
        }
    }
}

/// Whether an identified user may prove this channel by code to bind it as a second factor:
/// the experience takes it as a factor and the sign-up does not ask for it.
pub fn binds_mfa_channel(sie: &SignInExperience, kind: IdentifierType) -> bool {
    use kido_proto::sign_in_experience::MfaFactor;
    let factor = match kind {
        IdentifierType::Email => MfaFactor::EmailVerificationCode,
        IdentifierType::Phone => MfaFactor::PhoneVerificationCode,
        IdentifierType::Username => return false,
    };
    sie.mfa.factors.contains(&factor) && !sign_up_accepts(sie, kind)
}

/// Codes are not sent to channels the tenant does not use. Sign-in and registration share
/// their channels, since a client may switch between the two with the same verification.
pub fn channel_used(sie: &SignInExperience, kind: IdentifierType, event: InteractionEvent) -> bool {
    match event {
        InteractionEvent::ForgotPassword => sends_codes(sie, event, kind),
        InteractionEvent::SignIn | InteractionEvent::Register => {
            sends_codes(sie, InteractionEvent::SignIn, kind) || sends_codes(sie, InteractionEvent::Register, kind)
        }
    }
}

/// What the sign-up settings require that the profile lacks (Logto's `missingProfile`).
pub fn missing_profile(sie: &SignInExperience, profile: &InteractionProfile) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let (email, phone) = (profile.primary_email.is_some(), profile.primary_phone.is_some());
    let primary = &sie.sign_up.identifiers;
    // Email and phone as primary identifiers mean either one (as Logto).
    let either = primary.contains(&SignUpIdentifier::Email) && primary.contains(&SignUpIdentifier::Phone);
    let primary =
        primary.iter().copied().filter(|i| !either || !matches!(i, SignUpIdentifier::Email | SignUpIdentifier::Phone));
    let either = either.then_some(SignUpIdentifier::EmailOrPhone);
    for identifier in primary.chain(either).chain(sign_up_secondary(sie)) {
        match identifier {
            SignUpIdentifier::Username if profile.username.is_none() => missing.push("username"),
            SignUpIdentifier::Email if !email => missing.push("email"),
            SignUpIdentifier::Phone if !phone => missing.push("phone"),
            SignUpIdentifier::EmailOrPhone if !email && !phone => missing.push("emailOrPhone"),
            _ => {}
        }
    }
    if sie.sign_up.password && profile.password_encrypted.is_none() {
        missing.push("password");
    }
    missing
}

/// Whether the user must tick "I agree" before this event completes: only when there are
/// terms or a privacy policy to agree to.
pub fn terms_required(sie: &SignInExperience, event: InteractionEvent) -> bool {
    let has_terms = sie.terms_of_use_url.as_deref().is_some_and(|u| !u.is_empty())
        || sie.privacy_policy_url.as_deref().is_some_and(|u| !u.is_empty());
    has_terms
        && match sie.agree_to_terms_policy {
            AgreeToTermsPolicy::Automatic => false,
            AgreeToTermsPolicy::ManualRegistrationOnly => event == InteractionEvent::Register,
            AgreeToTermsPolicy::Manual => true,
        }
}

#[cfg(test)]
mod tests;
