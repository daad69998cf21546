//! The Account API, the Verification API and the account center settings.

use axum::http::StatusCode;
use kido_core::account::AccountError;
use kido_core::mfa::MfaError;
use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE};

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        use AccountError as E;
        const UNAUTHORIZED: StatusCode = StatusCode::UNAUTHORIZED;
        match e {
            E::InvalidToken => {
                Self::new(UNAUTHORIZED, "auth.unauthorized", "Unauthorized. Please check credentials and its scope.")
            }
            E::NoOpenId => Self::new(
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "Forbidden. Please check your user roles and permissions.",
            ),
            E::NotEnabled => Self::new(BAD_REQUEST, "account_center.not_enabled", "Account center is not enabled."),
            E::FieldNotEditable => {
                Self::new(BAD_REQUEST, "account_center.field_not_editable", "Field is not editable.")
            }
            E::FieldNotEnabled => Self::new(BAD_REQUEST, "account_center.field_not_enabled", "Field is not enabled."),
            E::MissingScope { explicit } => Self::new(
                if explicit { UNAUTHORIZED } else { BAD_REQUEST },
                "auth.unauthorized",
                "Unauthorized. Please check credentials and its scope.",
            ),
            E::PermissionDenied => Self::new(
                UNAUTHORIZED,
                "verification_record.permission_denied",
                "Permission denied, please re-authenticate.",
            ),
            E::ThirdPartyApplication => Self::new(
                StatusCode::FORBIDDEN,
                "auth.third_party_application_forbidden",
                "Third-party applications cannot access the Account API.",
            ),
            E::RecordNotFound => {
                Self::new(BAD_REQUEST, "verification_record.not_found", "Verification record not found.")
            }
            E::BackupCodesNotFound => {
                Self::new(StatusCode::NOT_FOUND, "verification_record.not_found", "Verification record not found.")
            }
            E::FactorNotEnabled => Self::new(
                BAD_REQUEST,
                "session.mfa.mfa_factor_not_enabled",
                "This MFA factor is not enabled in the sign-in experience.",
            ),
            E::TotpSecretInvalid => Self::new(BAD_REQUEST, "user.totp_secret_invalid", "Invalid TOTP secret supplied."),
            E::BackupCodeFormat(_) | E::Mfa(MfaError::BackupCodeFormat(_)) => {
                Self::new(UNPROCESSABLE, "user.wrong_backup_code_format", "Backup code format is invalid.")
            }
            E::EmailRequired => Self::new(BAD_REQUEST, "user.email_required", "Email is required."),
            E::PhoneRequired => Self::new(BAD_REQUEST, "user.phone_required", "Phone is required."),
            E::EmailOrPhoneRequired => {
                Self::new(BAD_REQUEST, "user.email_or_phone_required", "Email address or phone number is required.")
            }
            E::TokenSetNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "secrets.third_party_token_set.token_not_found",
                "No token set of the identity provider is stored for this user.",
            ),
            E::ConnectorNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "entity.not_found",
                "The connector does not exist (Kido has no social connectors yet).",
            ),
            E::PasswordRejected(issues) => Self::new(
                UNPROCESSABLE,
                "password.rejected",
                "Password rejected. Please check if your password meets the requirements.",
            )
            .with_data(json!(issues)),
            E::WebAuthn(why) => Self::new(BAD_REQUEST, "session.mfa.webauthn_verification_failed", why),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::User(e) => e.into(),
            E::Mfa(e) => e.into(),
            E::Sessions(e) => e.into(),
            E::Code(e) => e.into(),
            E::Connector(e) => e.into(),
            E::Internal(what) => Self::internal(&what),
            E::Store(e) => e.into(),
        }
    }
}
