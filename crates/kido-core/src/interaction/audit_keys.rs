//! The `Interaction.*` audit log keys (Logto's), in one place.

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
