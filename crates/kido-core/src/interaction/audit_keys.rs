//! The `Interaction.*` audit log keys (Logto's), in one place.

use kido_proto::sign_in_experience::MfaFactor;

use super::{InteractionEvent, VerificationKind};

pub const REGISTER_PROFILE_UPDATE: &str = "Interaction.Register.Profile.Update";
pub const FORGOT_PASSWORD_PROFILE_UPDATE: &str = "Interaction.ForgotPassword.Profile.Update";

/// `Interaction.<event>.Identifier.Submit`: a user was identified (or registered).
pub fn identifier_submit(event: InteractionEvent) -> String {
    format!("Interaction.{}.Identifier.Submit", event.as_str())
}

/// `Interaction.<event>.Submit`: the interaction finished.
pub fn submit(event: InteractionEvent) -> String {
    format!("Interaction.{}.Submit", event.as_str())
}

/// `Interaction.<event>.Verification.<kind>.Create`: a code was sent.
pub fn verification_create(event: InteractionEvent, kind: VerificationKind) -> String {
    format!("Interaction.{}.Verification.{}.Create", event.as_str(), kind.as_str())
}

/// `Interaction.<event>.Verification.<kind>.Submit`: a code was checked.
pub fn verification_submit(event: InteractionEvent, kind: VerificationKind) -> String {
    format!("Interaction.{}.Verification.{}.Submit", event.as_str(), kind.as_str())
}

/// `Interaction.<event>.Verification.<Totp|BackupCode>.<Create|Submit>`: a new secret or code
/// set was made (`Create`), or a code was checked (`Submit`).
pub fn mfa_verification(event: InteractionEvent, factor: MfaFactor, created: bool) -> String {
    let action = if created { "Create" } else { "Submit" };
    format!("Interaction.{}.Verification.{}.{action}", event.as_str(), crate::mfa::policy::name_of(factor))
}

/// `Interaction.<event>.BindMfa.<factor>.Submit`: a factor was chosen to be bound at submit.
pub fn bind_mfa_submit(event: InteractionEvent, factor: MfaFactor) -> String {
    format!("Interaction.{}.BindMfa.{}.Submit", event.as_str(), crate::mfa::policy::name_of(factor))
}

/// `Interaction.<event>.Verification.SignInPasskey.<Create|Submit>`: a passkey sign-in
/// ceremony was begun for an identifier's user (`Create`), or answered (`Submit`).
pub fn sign_in_passkey_verification(event: InteractionEvent, created: bool) -> String {
    let action = if created { "Create" } else { "Submit" };
    format!("Interaction.{}.Verification.SignInPasskey.{action}", event.as_str())
}

/// `Interaction.<event>.SignInPasskey.Submit`: a new passkey was chosen to be bound for
/// passkey sign-in (`POST /profile/mfa/passkey`).
pub fn bind_passkey_submit(event: InteractionEvent) -> String {
    format!("Interaction.{}.SignInPasskey.Submit", event.as_str())
}
