//! The sign-in experience's configuration: each broken rule gets Logto's code.

use axum::http::StatusCode;
use kido_core::sign_in_experience::{Rule, SignInExperienceError};
use serde_json::json;

use super::{ApiError, BAD_REQUEST, store_error};

impl From<SignInExperienceError> for ApiError {
    fn from(e: SignInExperienceError) -> Self {
        use SignInExperienceError as E;
        match e {
            E::Rule(rule) => rule.into(),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::UserNotFound(_) => Self::not_found(),
            E::UserIdRequired => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. User information data is required to check user information.",
            )
            .with_data(json!({"message": "User information data is required to check user information."})),
            E::UsernameCaseConflicts { total, samples } => Self::new(
                StatusCode::CONFLICT,
                "sign_in_experiences.username_policy_case_conflicts_exist",
                format!("{total} usernames differ only by case; rename them before usernames become case-insensitive."),
            )
            .with_data(json!({"totalConflicts": total, "samples": samples})),
            E::Store(e) => store_error(e),
        }
    }
}

impl From<Rule> for ApiError {
    fn from(rule: Rule) -> Self {
        let message = rule.to_string();
        let (code, data) = match rule {
            Rule::UnsupportedDefaultLanguage(language) => {
                ("sign_in_experiences.unsupported_default_language", Some(json!({"language": language})))
            }
            Rule::MissingSignUpIdentifiers => ("sign_in_experiences.missing_sign_up_identifiers", None),
            Rule::DuplicatedSignUpIdentifiers => ("sign_in_experiences.duplicated_sign_up_identifiers", None),
            Rule::PasswordlessRequiresVerify => ("sign_in_experiences.passwordless_requires_verify", None),
            Rule::UsernameRequiresPassword => ("sign_in_experiences.username_requires_password", None),
            Rule::AtLeastOneAuthenticationFactor => ("sign_in_experiences.at_least_one_authentication_factor", None),
            Rule::DuplicatedSignInMethods => ("sign_in_experiences.duplicated_sign_in_methods", None),
            Rule::SignUpIdentifierMissingInSignIn => ("sign_in_experiences.miss_sign_up_identifier_in_sign_in", None),
            Rule::PasswordSignInMustBeEnabled => ("sign_in_experiences.password_sign_in_must_be_enabled", None),
            Rule::CodeSignInMustBeEnabled => ("sign_in_experiences.code_sign_in_must_be_enabled", None),
            Rule::DuplicatedMfaFactors => ("sign_in_experiences.duplicated_mfa_factors", None),
            Rule::BackupCodeAlone => ("sign_in_experiences.backup_code_cannot_be_enabled_alone", None),
            Rule::EmailCodeBothSignInAndMfa => {
                ("sign_in_experiences.email_verification_code_cannot_be_used_for_mfa", None)
            }
            Rule::PhoneCodeBothSignInAndMfa => {
                ("sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa", None)
            }
            Rule::ConnectorNotFound(kind) => {
                ("sign_in_experiences.enabled_connector_not_found", Some(json!({"type": kind})))
            }
            Rule::ForgotPasswordMethodRequiresConnector(method) => {
                ("sign_in_experiences.forgot_password_method_requires_connector", Some(json!({"method": method})))
            }
        };
        let error = Self::new(BAD_REQUEST, code, message);
        match data {
            Some(data) => error.with_data(data),
            None => error,
        }
    }
}
