//! Second factors.

use super::{ApiError, UNPROCESSABLE, store_error};
use kido_core::mfa::MfaError;

impl From<MfaError> for ApiError {
    fn from(e: MfaError) -> Self {
        use MfaError as E;
        match e {
            E::UserNotFound(_) | E::NotFound(_) => Self::not_found(),
            E::TotpInUse => Self::new(UNPROCESSABLE, "user.totp_already_in_use", "TOTP is already in use."),
            E::BackupCodesInUse => {
                Self::new(UNPROCESSABLE, "user.backup_code_already_in_use", "Backup code is already in use.")
            }
            E::BackupCodeAlone => Self::new(
                UNPROCESSABLE,
                "session.mfa.backup_code_can_not_be_alone",
                "Backup code can not be the only MFA factor; bind another factor first.",
            ),
            E::WebAuthnCredentialInUse => Self::new(
                super::BAD_REQUEST,
                "session.mfa.webauthn_verification_failed",
                "This passkey is already registered.",
            ),
            E::Invalid(details) | E::BackupCodeFormat(details) => Self::invalid_input("body", details),
            E::WrongTotpCode => Self::new(super::BAD_REQUEST, "session.mfa.invalid_totp_code", "Invalid TOTP code."),
            E::BackupCodesUnreadable => Self::new(
                UNPROCESSABLE,
                "user.backup_code_unreadable",
                "These backup codes were bound before they could be kept readable; generate a new set.",
            ),
            E::Sealing(e) => Self::internal(&e),
            E::Store(e) => store_error(e),
        }
    }
}
