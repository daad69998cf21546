//! The Experience API (a sign-in in progress) and its verification codes.

use axum::http::StatusCode;
use serde_json::json;

use super::{ApiError, BAD_REQUEST, UNPROCESSABLE, store_error};
use kido_core::experience::{ExperienceError, IdentifierType};
use kido_core::mfa::policy::MfaDemand;
use kido_core::users::UserError;
use kido_core::verification_codes::CodeError;

impl From<ExperienceError> for ApiError {
    fn from(e: ExperienceError) -> Self {
        use ExperienceError as E;
        let forgot = "This operation is not supported for forgot password.";
        match e {
            E::PasswordLength(details) => Self::invalid_input("body", details),
            E::SessionNotFound => {
                Self::new(BAD_REQUEST, "session.not_found", "Session not found. Please go back and sign in again.")
            }
            E::InteractionNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "session.interaction_not_found",
                "Interaction session not found. Please go back and start the session again.",
            ),
            E::InvalidCredentials => Self::new(
                UNPROCESSABLE,
                "session.invalid_credentials",
                "Incorrect account or password. Please check your input.",
            ),
            E::Suspended => Self::new(StatusCode::UNAUTHORIZED, "user.suspended", "This account is suspended."),
            E::SignInMethodNotEnabled => {
                Self::new(UNPROCESSABLE, "user.sign_in_method_not_enabled", "This sign-in method is not enabled.")
            }
            E::SignUpMethodNotEnabled => {
                Self::new(UNPROCESSABLE, "user.sign_up_method_not_enabled", "This sign-up method is not enabled.")
            }
            E::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "Forbidden. Please check your user roles and permissions.",
            ),
            E::ResetChannelNotEnabled => Self::new(UNPROCESSABLE, "session.not_supported_for_forgot_password", forgot),
            E::ForgotPasswordStandsAlone => Self::new(BAD_REQUEST, "session.not_supported_for_forgot_password", forgot),
            E::VerificationNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "session.verification_session_not_found",
                "The verification was not successful. Restart the verification flow and try again.",
            ),
            E::VerificationFailed => Self::new(
                BAD_REQUEST,
                "session.verification_failed",
                "The verification was not successful. Restart the verification flow and try again.",
            ),
            E::IdentifierNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "session.identifier_not_found",
                "User identifier not found. Please go back and sign in again.",
            ),
            E::UserNotExist => Self::new(StatusCode::NOT_FOUND, "user.user_not_exist", "The user does not exist."),
            E::IdentityConflict => Self::new(
                StatusCode::CONFLICT,
                "session.identity_conflict",
                "This session already identified another user. Please start a new session.",
            ),
            E::InvalidInteractionType => Self::new(
                BAD_REQUEST,
                "session.invalid_interaction_type",
                "This operation is not supported for the current interaction. Please initiate a new session.",
            ),
            E::MissingProfile(missing) => Self::new(
                UNPROCESSABLE,
                "user.missing_profile",
                "You need to provide additional info before signing-in.",
            )
            .with_data(json!({"missingProfile": missing})),
            // The same answers as the Management API's for a taken identifier.
            E::UsernameInUse => UserError::UsernameInUse.into(),
            E::EmailInUse => UserError::EmailInUse.into(),
            E::PhoneInUse => UserError::PhoneInUse.into(),
            E::IdentifierMismatch(kind) => {
                let (code, what) = match kind {
                    IdentifierType::Phone => ("verification_code.phone_mismatch", "phone number"),
                    _ => ("verification_code.email_mismatch", "email"),
                };
                Self::new(BAD_REQUEST, code, format!("The {what} does not match the one the code was sent to."))
            }
            E::SamePassword => {
                Self::new(UNPROCESSABLE, "user.same_password", "New password cannot be the same as your old password.")
            }
            E::NewPasswordRequired => {
                Self::new(UNPROCESSABLE, "user.new_password_required_in_profile", "You need to set a new password.")
            }
            E::Code(e) => e.into(),
            E::OneTimeToken(e) => e.into(),
            E::PasswordRejected(issues) => Self::new(
                UNPROCESSABLE,
                "password.rejected",
                "Password rejected. Please check if your password meets the requirements.",
            )
            .with_data(json!(issues)),
            E::Blocked { minutes } => Self::new(
                BAD_REQUEST,
                "session.verification_blocked_too_many_attempts",
                format!("Too many attempts in a short time. Please try again in {minutes} minutes."),
            ),
            E::CredentialsChanged => Self::new(
                BAD_REQUEST,
                "session.verification_failed",
                "The password changed after it was verified. Please sign in again.",
            ),
            E::Password(e) => e.into(),
            E::TermsNotAgreed => Self::new(
                UNPROCESSABLE,
                "session.terms_not_agreed",
                "Please agree to the terms of use and privacy policy to continue.",
            ),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Mfa(demand) => mfa_demand(demand),
            E::MfaFactorNotEnabled => {
                Self::new(BAD_REQUEST, "session.mfa.mfa_factor_not_enabled", "This MFA factor is not enabled.")
            }
            E::InvalidTotpCode => Self::new(BAD_REQUEST, "session.mfa.invalid_totp_code", "Invalid TOTP code."),
            E::InvalidBackupCode => Self::new(BAD_REQUEST, "session.mfa.invalid_backup_code", "Invalid backup code."),
            E::MfaPendingInfoNotFound => Self::new(
                BAD_REQUEST,
                "session.mfa.pending_info_not_found",
                "Pending MFA info not found; start the binding again.",
            ),
            E::TotpInUse => Self::new(UNPROCESSABLE, "user.totp_already_in_use", "TOTP is already in use."),
            E::BackupCodeAlone => Self::new(
                UNPROCESSABLE,
                "session.mfa.backup_code_can_not_be_alone",
                "Backup code can not be the only MFA factor; bind another factor first.",
            ),
            E::MfaNotSkippable => Self::new(
                UNPROCESSABLE,
                "session.mfa.mfa_policy_not_user_controlled",
                "The MFA policy does not let users skip binding a factor.",
            ),
            E::WebAuthnFailed(why) => Self::new(
                BAD_REQUEST,
                "session.mfa.webauthn_verification_failed",
                format!("WebAuthn verification failed: {why}."),
            ),
            E::PasskeyPreferred => Self::new(
                UNPROCESSABLE,
                "user.passkey_preferred",
                "Add a passkey to sign in with it next time, or skip.",
            ),
            E::TooManyRequests { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "guard.too_many_requests",
                format!("Too many requests. Please try again in {retry_after_secs} seconds."),
            )
            .with_retry_after(retry_after_secs),
            E::WebAuthnNotFound => Self::new(
                BAD_REQUEST,
                "session.mfa.webauthn_verification_not_found",
                "WebAuthn verification not found: the user has no passkey.",
            ),
            E::Internal(what) => Self::internal(&what),
            E::Store(e) => store_error(e),
        }
    }
}

/// What the MFA policy asks, with the data the sign-in page needs to offer it.
fn mfa_demand(demand: MfaDemand) -> ApiError {
    match demand {
        MfaDemand::Verify { available, masked } => {
            let mut data = json!({"availableFactors": available});
            if !masked.is_empty() {
                data["maskedIdentifiers"] = json!(masked);
            }
            ApiError::new(
                StatusCode::FORBIDDEN,
                "session.mfa.require_mfa_verification",
                "MFA verification is required to sign in.",
            )
            .with_data(data)
        }
        MfaDemand::Bind { available, skippable } => {
            let mut data = json!({"availableFactors": available});
            if skippable {
                data["skippable"] = true.into();
            }
            ApiError::new(UNPROCESSABLE, "user.missing_mfa", "You need to bind an MFA factor before signing in.")
                .with_data(data)
        }
        MfaDemand::Suggest { available, masked } => ApiError::new(
            UNPROCESSABLE,
            "session.mfa.suggest_additional_mfa",
            "Add another MFA factor to keep your account safe.",
        )
        .with_data(
            json!({"availableFactors": available, "maskedIdentifiers": masked, "skippable": true, "suggestion": true}),
        ),
        MfaDemand::BackupCodes => {
            ApiError::new(UNPROCESSABLE, "session.mfa.backup_code_required", "Backup codes are required.")
        }
    }
}

impl From<CodeError> for ApiError {
    fn from(e: CodeError) -> Self {
        use CodeError as E;
        match e {
            E::NotFound => Self::new(
                BAD_REQUEST,
                "verification_code.not_found",
                "Verification code not found. Please send a verification code first.",
            ),
            E::Expired => Self::new(
                BAD_REQUEST,
                "verification_code.expired",
                "Verification code has expired. Please send a new verification code.",
            ),
            E::ExceedMaxTry => Self::new(
                BAD_REQUEST,
                "verification_code.exceed_max_try",
                "Verification code retries limitation exceeded. Please send a new verification code.",
            ),
            E::Mismatch => Self::new(
                BAD_REQUEST,
                "verification_code.code_mismatch",
                "Invalid verification code. Please check your input.",
            ),
            E::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "request.message_rate_limited",
                "Too many messages were sent to this recipient or from this address. Please try again later.",
            ),
            E::InvalidRecipient(_) => Self::invalid_input("body", e.to_string()),
            E::Connector(e) => e.into(),
            E::Store(e) => store_error(e),
        }
    }
}
