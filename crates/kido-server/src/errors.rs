//! The one place where domain errors become HTTP: status + Logto's `{code, message, data?}`
//! for `/api`, RFC 6749 `{error, error_description}` (plus Logto's `code`/`message`) for
//! the OAuth endpoints.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kido_core::applications::ApplicationError;
use kido_core::oidc::TokenError;
use kido_core::resources::ResourceError;
use kido_core::roles::RoleError;
use kido_core::storage::StorageError;
use kido_proto::ErrorBody;
use kido_proto::oauth::OAuthErrorBody;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub data: Option<Value>,
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (429 and 503 answers).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), data: None, details: None, retry_after: None }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// 400 `guard.invalid_input` for a request part (`body`, `query`, `params`).
    pub fn invalid_input(part: &str, details: impl Into<String>) -> Self {
        let details = details.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "guard.invalid_input",
            message: format!("The request {part} is invalid."),
            data: None,
            details: Some(Value::String(details)),
            retry_after: None,
        }
    }

    /// 404 `entity.not_exists_with_id` (Logto's answer for a missing id).
    pub fn not_exists_with_id(entity: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "entity.not_exists_with_id",
            format!("The {entity} with ID `{id}` does not exist."),
        )
    }

    /// 404 `entity.not_found` (Logto's answer when a relation or child row is missing).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "entity.not_found", "The resource does not exist.")
    }

    pub fn internal(what: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_error",
            "Internal server error. It has been logged; please try again.",
        )
    }
}

impl ApiError {
    /// 503 `storage.full`: the database's disk is full; nothing is wrong with the request.
    pub fn storage_full(what: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %what, "the database's disk is full: free disk space");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage.full", kido_core::STORAGE_FULL_MESSAGE)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { code: self.code.to_owned(), message: self.message, data: self.data, details: self.details };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn store_error(e: impl Into<StorageError>) -> ApiError {
    match e.into() {
        StorageError::Conflict(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity.unique_integrity_violation",
            "The entity already exists. Please check the input and try again.",
        ),
        StorageError::MissingReference(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity.relation_foreign_key_not_found",
            "Cannot find one or more foreign keys. Please check the input and ensure that all referenced entities exist.",
        ),
        StorageError::Full(what) => ApiError::storage_full(&what),
        other => ApiError::internal(&other),
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        store_error(e)
    }
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;

impl From<ApplicationError> for ApiError {
    fn from(e: ApplicationError) -> Self {
        use ApplicationError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("applications", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::ThirdPartyTypeInvalid => Self::new(
                BAD_REQUEST,
                "application.invalid_third_party_application_type",
                "Only traditional web applications can be marked as a third-party app.",
            ),
            E::SecretsNotSupported => Self::new(
                UNPROCESSABLE,
                "entity.db_constraint_violated",
                "Public applications (SPA and Native) cannot have secrets.",
            ),
            E::SecretNameExists => {
                Self::new(UNPROCESSABLE, "application.secret_name_exists", "Secret name already exists.")
            }
            E::SecretNotFound(_) => Self::not_found(),
            E::ExpiryNotInFuture => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. The value of `expiresAt` must be in the future.",
            ),
            E::Store(e) => store_error(e),
        }
    }
}

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> Self {
        use ResourceError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("resources", &id),
            E::ScopeNotFound(id) => Self::not_exists_with_id("scopes", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::IndicatorInUse(i) => Self::new(
                UNPROCESSABLE,
                "resource.resource_identifier_in_use",
                format!("The API identifier {i} is already in use"),
            )
            .with_data(json!({"indicator": i})),
            E::ScopeNameInUse(n) => {
                Self::new(UNPROCESSABLE, "scope.name_exists", format!("The scope name {n} is already in use"))
            }
            E::ScopeNameWithSpace => {
                Self::new(BAD_REQUEST, "scope.name_with_space", "The name of the scope cannot contain any spaces.")
            }
            E::ManagementApiImmutable => {
                Self::new(BAD_REQUEST, "resource.cannot_modify_management_api", "Cannot modify Logto management API.")
            }
            E::ManagementApiUndeletable => {
                Self::new(BAD_REQUEST, "resource.cannot_delete_management_api", "Cannot delete Logto management API.")
            }
            E::Store(e) => store_error(e),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(e: RoleError) -> Self {
        use RoleError as E;
        match e {
            E::NotFound(id) => Self::not_exists_with_id("roles", &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::NameInUse(n) => {
                Self::new(UNPROCESSABLE, "role.name_in_use", format!("This role name {n} is already in use"))
            }
            E::ScopeNotFound(id) => Self::not_exists_with_id("scopes", &id),
            E::ManagementScopeOnUserRole => Self::new(
                BAD_REQUEST,
                "role.management_api_scopes_not_assignable_to_user_role",
                "Cannot assign management API scopes to a user role.",
            ),
            E::ScopeExists(id) => Self::new(
                UNPROCESSABLE,
                "role.scope_exists",
                format!("The scope id {id} has already been added to this role"),
            ),
            E::ScopeNotAssigned | E::NotAssigned => Self::not_found(),
            E::ApplicationNotFound(id) => Self::not_exists_with_id("applications", &id),
            E::ApplicationNotMachineToMachine => Self::new(
                UNPROCESSABLE,
                "application.invalid_type",
                "Only machine to machine applications can have associated roles.",
            ),
            E::RoleNotMachineToMachine => Self::new(
                UNPROCESSABLE,
                "application.invalid_role_type",
                "Can not assign user type role to machine to machine application.",
            ),
            E::AlreadyAssigned { application_id, role_id } => Self::new(
                UNPROCESSABLE,
                "application.role_exists",
                format!("The role id {role_id} is already been added to this application."),
            )
            .with_data(json!({"applicationId": application_id, "roleId": role_id})),
            E::Store(e) => store_error(e),
        }
    }
}

/// An OAuth endpoint error: RFC 6749 JSON with Logto's `code` and `message`.
pub struct OAuthError(pub TokenError);

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        Self(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let error = self.0.code();
        let status = match &self.0 {
            TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            TokenError::AccessDenied(_) | TokenError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            TokenError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            TokenError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let message = match &self.0 {
            TokenError::InvalidRequest(_) => "Request is invalid.".to_owned(),
            TokenError::InvalidClient(_) => "Client authentication failed.".to_owned(),
            TokenError::UnauthorizedClient(_) => "The client is not allowed to use this grant type.".to_owned(),
            TokenError::UnsupportedGrantType(_) => "Unsupported `grant_type` requested.".to_owned(),
            TokenError::InvalidTarget(_) => "Invalid resource indicator.".to_owned(),
            TokenError::InvalidScope(d) => format!("Invalid scope: {d}."),
            TokenError::InvalidGrant(_) => "Grant request is invalid.".to_owned(),
            TokenError::UnsupportedTokenType(_) => "Unsupported `token_type` requested.".to_owned(),
            TokenError::AccessDenied(_) => "Access denied.".to_owned(),
            TokenError::InsufficientScope(_) => "Insufficient scope for access token.".to_owned(),
            TokenError::ServerError(_) => "An unknown OIDC error occurred. Please try again later.".to_owned(),
            TokenError::TemporarilyUnavailable(d) => d.clone(),
        };
        let body = OAuthErrorBody {
            error: error.to_owned(),
            error_description: self.0.to_string(),
            code: format!("oidc.{error}"),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"kido\""));
        }
        response
    }
}

impl From<kido_core::users::UserError> for ApiError {
    fn from(e: kido_core::users::UserError) -> Self {
        use kido_core::users::UserError as E;
        match e {
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "entity.not_found", "The resource does not exist."),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::UsernameInUse => {
                Self::new(UNPROCESSABLE, "user.username_already_in_use", "This username is already in use.")
            }
            E::EmailInUse => Self::new(
                UNPROCESSABLE,
                "user.email_already_in_use",
                "This email is associated with an existing account.",
            ),
            E::PhoneInUse => Self::new(
                UNPROCESSABLE,
                "user.phone_already_in_use",
                "This phone number is associated with an existing account.",
            ),
            E::UnsupportedSearch(why) => {
                Self::new(BAD_REQUEST, "request.invalid_input", format!("Input is invalid. {why}"))
            }
            E::RoleNotFound(id) => Self::not_exists_with_id("roles", &id),
            E::PasswordAndDigest => Self::new(
                BAD_REQUEST,
                "user.password_and_digest",
                "You cannot set both plain text password and password digest.",
            ),
            E::AlgorithmRequired => {
                Self::new(BAD_REQUEST, "user.password_algorithm_required", "Password algorithm is required.")
            }
            E::RoleNotForUsers => Self::new(
                UNPROCESSABLE,
                "user.invalid_role_type",
                "Invalid role type, can not assign machine-to-machine role to user.",
            ),
            E::UserHasRole(id) => Self::new(
                UNPROCESSABLE,
                "role.user_exists",
                format!("The user id {id} is already been added to this role"),
            )
            .with_data(json!({"userId": id})),
            E::RoleNotAssigned => Self::not_found(),
            E::NoPassword | E::PasswordMismatch => Self::new(
                UNPROCESSABLE,
                "session.invalid_credentials",
                "Incorrect account or password. Please check your input.",
            ),
            E::Password(e) => e.into(),
            E::Store(e) => store_error(e),
        }
    }
}

/// Password checks: a refused import digest, a full hashing queue, a rate limit.
impl From<kido_core::passwords::PasswordError> for ApiError {
    fn from(e: kido_core::passwords::PasswordError) -> Self {
        use kido_core::passwords::PasswordError as E;
        match e {
            E::MalformedDigest(alg) => {
                Self::invalid_input("body", format!("`passwordDigest` is not a valid {alg} digest"))
            }
            E::DigestCostOutOfBounds(alg, why) => Self::invalid_input(
                "body",
                format!("`passwordDigest` is a {alg} digest costlier than Kido verifies: {why}"),
            ),
            E::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "guard.server_busy",
                "Too many password checks are waiting. Please try again in a moment.",
            )
            .with_retry_after(1),
            E::RateLimited { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "guard.too_many_requests",
                format!("Too many password attempts. Please try again in {retry_after_secs} seconds."),
            )
            .with_retry_after(retry_after_secs),
            E::InvalidCost(_) | E::Hashing => Self::internal(&e),
        }
    }
}

impl From<kido_core::sign_in_experience::SignInExperienceError> for ApiError {
    fn from(e: kido_core::sign_in_experience::SignInExperienceError) -> Self {
        use kido_core::sign_in_experience::SignInExperienceError as E;
        match e {
            E::Rule { code, message, data } => {
                let error = Self::new(BAD_REQUEST, code, message);
                match data {
                    Some(d) => error.with_data(d),
                    None => error,
                }
            }
            E::Invalid(details) => Self::invalid_input("body", details),
            E::UserNotFound(_) => Self::not_found(),
            E::UserIdRequired => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. User information data is required to check user information.",
            )
            .with_data(json!({"message": "User information data is required to check user information."})),
            E::Store(e) => store_error(e),
        }
    }
}

impl From<kido_core::experience::ExperienceError> for ApiError {
    fn from(e: kido_core::experience::ExperienceError) -> Self {
        use kido_core::experience::ExperienceError as E;
        use kido_core::users::UserError;
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
            E::NotSupportedForForgotPassword { unprocessable: true } => {
                Self::new(UNPROCESSABLE, "session.not_supported_for_forgot_password", forgot)
            }
            E::NotSupportedForForgotPassword { unprocessable: false } => {
                Self::new(BAD_REQUEST, "session.not_supported_for_forgot_password", forgot)
            }
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
                    kido_core::experience::IdentifierType::Phone => {
                        ("verification_code.phone_mismatch", "phone number")
                    }
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
            E::Internal(what) => Self::internal(&what),
            E::StorageFull(what) => Self::storage_full(&what),
        }
    }
}

impl From<kido_core::verification_codes::CodeError> for ApiError {
    fn from(e: kido_core::verification_codes::CodeError) -> Self {
        use kido_core::verification_codes::CodeError as E;
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

impl From<kido_core::connectors::ConnectorError> for ApiError {
    fn from(e: kido_core::connectors::ConnectorError) -> Self {
        use kido_core::connectors::ConnectorError as E;
        let message = e.to_string();
        match e {
            E::NotFound(_) => Self::not_found(),
            E::FactoryNotFound(id) => Self::new(
                UNPROCESSABLE,
                "connector.not_found_with_connector_id",
                format!("Cannot find connector with given standard connector id `{id}`."),
            ),
            E::TestFactoryNotFound(_) => Self::new(BAD_REQUEST, "connector.not_found", message),
            E::NoConnector(kind) => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                "connector.not_found",
                format!(
                    "Cannot find any available connector for type: {}. Add one with POST /api/connectors.",
                    kind.as_str()
                ),
            )
            .with_data(json!({"type": kind.as_str()})),
            E::UnexpectedType => Self::new(BAD_REQUEST, "connector.unexpected_type", message),
            E::InvalidConfig(details) => {
                let mut error =
                    Self::new(BAD_REQUEST, "connector.invalid_config", "The connector's config is invalid.");
                error.details = Some(Value::String(details));
                error
            }
            E::MetadataNotAllowed => {
                Self::new(BAD_REQUEST, "connector.cannot_overwrite_metadata_for_non_standard_connector", message)
            }
            E::SyncProfileNotAllowed => Self::new(UNPROCESSABLE, "connector.invalid_type_for_syncing_profile", message),
            E::TokenStorageNotSupported => Self::new(UNPROCESSABLE, "connector.token_storage_not_supported", message),
            E::TemplateNotFound(_) => Self::new(BAD_REQUEST, "connector.template_not_found", message),
            E::Delivery(details) => {
                tracing::warn!(error = %details, "connector delivery failed");
                Self::new(
                    BAD_REQUEST,
                    "connector.general",
                    format!("The connector could not deliver the message: {details}"),
                )
            }
            E::BulkDeletionWithoutFilter => {
                Self::new(UNPROCESSABLE, "connector.email_connector.bulk_deletion_no_filter", message)
            }
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Store(e) => store_error(e),
        }
    }
}

impl From<kido_core::organizations::OrganizationError> for ApiError {
    fn from(e: kido_core::organizations::OrganizationError) -> Self {
        use kido_core::organizations::OrganizationError as E;
        match e {
            // Logto answers unknown users with `entity.not_found` everywhere.
            E::NotFound { entity: "users", .. } | E::Gone => Self::not_found(),
            E::NotFound { entity, id } => Self::not_exists_with_id(entity, &id),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::MissingReference(what) => Self::new(
                UNPROCESSABLE,
                "entity.relation_foreign_key_not_found",
                format!(
                    "Cannot find one or more foreign keys. Please check the input and ensure that all referenced \
                     entities exist: {what}."
                ),
            ),
            E::NameInUse(name) => Self::new(
                UNPROCESSABLE,
                "entity.unique_integrity_violation",
                format!("The entity already exists. Please check the input and try again: `{name}` is taken."),
            ),
            E::WrongType(what) => Self::new(
                UNPROCESSABLE,
                "entity.db_constraint_violated",
                format!("Database constraint violated: {what}."),
            ),
            E::RequireMembership => Self::new(
                UNPROCESSABLE,
                "organization.require_membership",
                "The user must be a member of the organization to proceed.",
            ),
            E::RoleNamesNotFound(names) => Self::new(
                UNPROCESSABLE,
                "organization.role_names_not_found",
                format!("Invalid role names detected: {}. Please create these roles first.", names.join(", ")),
            )
            .with_data(json!({"names": names})),
            E::InvitationRule(message) => Self::new(UNPROCESSABLE, "request.invalid_input", message),
            E::ExpiryNotInFuture => Self::new(
                BAD_REQUEST,
                "request.invalid_input",
                "Input is invalid. The value of `expiresAt` must be in the future.",
            ),
            E::Message(e) => e.into(),
            E::Store(e) => store_error(e),
        }
    }
}

impl From<kido_core::sso_connectors::SsoConnectorError> for ApiError {
    fn from(e: kido_core::sso_connectors::SsoConnectorError) -> Self {
        use kido_core::sso_connectors::SsoConnectorError as E;
        match e {
            E::NotFound(_) => Self::not_found(),
            E::UnknownProvider(name) => Self::new(
                UNPROCESSABLE,
                "connector.not_found",
                format!("Cannot find any available connector for type: {name}."),
            )
            .with_data(json!({"type": name})),
            E::NameInUse(name) => Self::new(
                StatusCode::CONFLICT,
                "single_sign_on.duplicate_connector_name",
                format!("A connector named {name} already exists. Please choose another name."),
            ),
            E::ForbiddenDomains(domains) => Self::new(
                UNPROCESSABLE,
                "single_sign_on.forbidden_domains",
                format!("Public email domains are not allowed: {}.", domains.join(", ")),
            )
            .with_data(json!(domains)),
            E::DuplicatedDomains(domains) => Self::new(
                UNPROCESSABLE,
                "single_sign_on.duplicated_domains",
                format!("There are duplicate domains: {}.", domains.join(", ")),
            )
            .with_data(json!(domains)),
            E::InvalidConfig(details) => Self::new(
                BAD_REQUEST,
                "connector.invalid_config",
                format!("The connector's config is invalid: {details}."),
            ),
            E::Invalid(details) => Self::invalid_input("body", details),
            E::Store(e) => store_error(e),
        }
    }
}
