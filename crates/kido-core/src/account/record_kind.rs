//! The kinds of verification record, and which of them prove who the user is.

use kido_proto::connectors::TemplateType;

/// Minutes a verification record lives (Logto's 10).
pub const RECORD_TTL_MS: i64 = 10 * 60 * 1000;
/// Live records one user may hold; making another drops the oldest.
pub const MAX_RECORDS_PER_USER: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Password,
    EmailVerificationCode,
    PhoneVerificationCode,
    WebAuthn,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "Password",
            Self::EmailVerificationCode => "EmailVerificationCode",
            Self::PhoneVerificationCode => "PhoneVerificationCode",
            Self::WebAuthn => "WebAuthn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Password, Self::EmailVerificationCode, Self::PhoneVerificationCode, Self::WebAuthn]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Whether a record proves the user's identity for a sensitive change (`logto-verification-id`):
/// a verified password, or a verified code to the user's own address sent with
/// `UserPermissionValidation` — never a code for a new identifier or for MFA, nor a passkey
/// registration.
pub fn proves_identity(kind: Option<RecordKind>, template: Option<&str>, verified: bool) -> bool {
    verified
        && match kind {
            Some(RecordKind::Password) => true,
            Some(RecordKind::EmailVerificationCode | RecordKind::PhoneVerificationCode) => {
                template == Some(TemplateType::UserPermissionValidation.as_str())
            }
            Some(RecordKind::WebAuthn) | None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passwords_and_permission_codes_prove_identity() {
        let permission = Some(TemplateType::UserPermissionValidation.as_str());
        assert!(proves_identity(Some(RecordKind::Password), None, true));
        assert!(!proves_identity(Some(RecordKind::Password), None, false));
        assert!(proves_identity(Some(RecordKind::EmailVerificationCode), permission, true));
        assert!(!proves_identity(Some(RecordKind::EmailVerificationCode), permission, false));
        assert!(!proves_identity(Some(RecordKind::PhoneVerificationCode), Some("BindNewIdentifier"), true));
        assert!(!proves_identity(Some(RecordKind::EmailVerificationCode), Some("BindMfa"), true));
        assert!(!proves_identity(Some(RecordKind::WebAuthn), None, true));
        assert!(!proves_identity(None, None, true));
        assert_eq!(RecordKind::parse("WebAuthn"), Some(RecordKind::WebAuthn));
        assert_eq!(RecordKind::parse("Social"), None);
    }
}
