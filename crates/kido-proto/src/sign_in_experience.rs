//! The sign-in experience: how users sign in and sign up, what the hosted pages look like,
//! and the password policy. One per tenant (id `default`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SignInIdentifier {
    Username,
    Email,
    Phone,
}

/// A sign-up identifier: one of the sign-in identifiers, or "email or phone".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SignUpIdentifier {
    Username,
    Email,
    Phone,
    EmailOrPhone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInMethod {
    pub identifier: SignInIdentifier,
    pub password: bool,
    pub verification_code: bool,
    pub is_password_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub methods: Vec<SignInMethod>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecondaryIdentifier {
    pub identifier: SignUpIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignUp {
    pub identifiers: Vec<SignUpIdentifier>,
    pub password: bool,
    pub verify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_identifiers: Option<Vec<SecondaryIdentifier>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SignInMode {
    SignIn,
    Register,
    SignInAndRegister,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AgreeToTermsPolicy {
    Automatic,
    ManualRegistrationOnly,
    Manual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Color {
    pub primary_color: String,
    pub is_dark_mode_enabled: bool,
    pub dark_primary_color: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dark_favicon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LanguageInfo {
    pub auto_detect: bool,
    pub fallback_language: String,
}

// The parts of the password policy default field by field (Logto's guard), so a partial
// object (`{"length": {"max": 256}}`) keeps the defaults of what it leaves out.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordLength {
    #[schema(minimum = 1, maximum = 256)]
    pub min: u32,
    #[schema(minimum = 1, maximum = 256)]
    pub max: u32,
}

impl Default for PasswordLength {
    fn default() -> Self {
        Self { min: 8, max: 256 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CharacterTypes {
    /// How many of lowercase, uppercase, digits and symbols a password must mix.
    #[schema(minimum = 1, maximum = 4)]
    pub min: u32,
}

impl Default for CharacterTypes {
    fn default() -> Self {
        Self { min: 1 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordRejects {
    /// Reject common and breached passwords (Kido checks a built-in list, offline).
    pub pwned: bool,
    pub repetition_and_sequence: bool,
    pub user_info: bool,
    pub words: Vec<String>,
}

impl Default for PasswordRejects {
    fn default() -> Self {
        Self { pwned: true, repetition_and_sequence: true, user_info: true, words: Vec::new() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordPolicy {
    pub length: PasswordLength,
    pub character_types: CharacterTypes,
    pub rejects: PasswordRejects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum MfaFactor {
    Totp,
    WebAuthn,
    BackupCode,
    EmailVerificationCode,
    PhoneVerificationCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum MfaPolicy {
    UserControlled,
    Mandatory,
    PromptOnlyAtSignIn,
    PromptAtSignInAndSignUp,
    NoPrompt,
    PromptAtSignInAndSignUpMandatory,
}

/// Adaptive MFA: ask for a second factor only when a sign-in looks risky.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdaptiveMfa {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Passkey sign-in (a WebAuthn credential as the first factor): whether it is on, and how
/// the sign-in page offers it. Each flag defaults to false; a `PATCH` may give any subset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySignIn {
    #[serde(default)]
    pub enabled: bool,
    /// A "Continue with passkey" button on the first screen.
    #[serde(default)]
    pub show_passkey_button: bool,
    /// Passkeys offered by the browser's autofill on the identifier input.
    #[serde(default)]
    pub allow_autofill: bool,
}

/// Which characters a username chosen at sign-up may hold (Logto's `allowedChars`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsernameAllowedChars {
    pub lowercase: bool,
    pub uppercase: bool,
    pub numbers: bool,
    pub underscore: bool,
}

/// Logto's username policy: whether usernames compare case-sensitively, and the length and
/// characters of a username an end user picks (the Management API keeps its own baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct UsernamePolicy {
    pub case_sensitive: bool,
    #[schema(minimum = 1, maximum = 128)]
    pub min_length: u32,
    #[schema(minimum = 1, maximum = 128)]
    pub max_length: u32,
    pub allowed_chars: UsernameAllowedChars,
}

impl Default for UsernamePolicy {
    /// Logto's default: case-sensitive, 1–128 characters, letters, digits and `_`.
    fn default() -> Self {
        Self {
            case_sensitive: true,
            min_length: 1,
            max_length: 128,
            allowed_chars: UsernameAllowedChars { lowercase: true, uppercase: true, numbers: true, underscore: true },
        }
    }
}

/// Sources a custom sign-in UI may load scripts from and connect to (added to the hosted
/// pages' Content-Security-Policy when custom UI assets are set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomUiCsp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_src: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_src: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OrganizationRequiredMfaPolicy {
    NoPrompt,
    Mandatory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mfa {
    pub factors: Vec<MfaFactor>,
    pub policy: MfaPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_required_mfa_policy: Option<OrganizationRequiredMfaPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialSignIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_account_linking: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_required_identifiers: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentinelPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_attempts: Option<u32>,
    /// Minutes (at most a week).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10080)]
    pub lockout_duration: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationCodePolicy {
    /// Seconds (60–3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 3600)]
    pub expiration_duration: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_retry_attempts: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ForgotPasswordMethod {
    EmailVerificationCode,
    PhoneVerificationCode,
}

/// The whole sign-in experience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInExperience {
    pub tenant_id: String,
    pub id: String,
    pub color: Color,
    pub branding: Branding,
    pub hide_logto_branding: bool,
    pub language_info: LanguageInfo,
    pub terms_of_use_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub agree_to_terms_policy: AgreeToTermsPolicy,
    pub sign_in: SignIn,
    pub sign_up: SignUp,
    pub social_sign_in: SocialSignIn,
    pub social_sign_in_connector_targets: Vec<String>,
    pub sign_in_mode: SignInMode,
    pub custom_css: Option<String>,
    #[schema(value_type = Object)]
    pub custom_content: Map<String, Value>,
    #[schema(value_type = Option<Object>)]
    pub custom_ui_assets: Option<Value>,
    #[serde(default)]
    pub custom_ui_csp: CustomUiCsp,
    pub password_policy: PasswordPolicy,
    pub mfa: Mfa,
    #[serde(default)]
    pub adaptive_mfa: AdaptiveMfa,
    pub single_sign_on_enabled: bool,
    pub support_email: Option<String>,
    pub support_website_url: Option<String>,
    pub unknown_session_redirect_url: Option<String>,
    pub sentinel_policy: SentinelPolicy,
    pub verification_code_policy: VerificationCodePolicy,
    pub forgot_password_methods: Vec<ForgotPasswordMethod>,
    #[serde(default)]
    pub username_policy: UsernamePolicy,
    #[serde(default)]
    pub passkey_sign_in: PasskeySignIn,
}

impl SignInExperience {
    /// A fresh tenant's: username + password sign-in and sign-up, terms accepted automatically.
    pub fn default_for(tenant_id: &str) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            id: "default".to_owned(),
            color: Color {
                primary_color: "#6139F6".into(),
                is_dark_mode_enabled: false,
                dark_primary_color: "#8768F8".into(),
            },
            branding: Branding::default(),
            hide_logto_branding: false,
            language_info: LanguageInfo { auto_detect: true, fallback_language: "en".into() },
            terms_of_use_url: None,
            privacy_policy_url: None,
            agree_to_terms_policy: AgreeToTermsPolicy::Automatic,
            sign_in: SignIn {
                methods: vec![SignInMethod {
                    identifier: SignInIdentifier::Username,
                    password: true,
                    verification_code: false,
                    is_password_primary: true,
                }],
            },
            sign_up: SignUp {
                identifiers: vec![SignUpIdentifier::Username],
                password: true,
                verify: false,
                secondary_identifiers: None,
            },
            social_sign_in: SocialSignIn::default(),
            social_sign_in_connector_targets: Vec::new(),
            sign_in_mode: SignInMode::SignInAndRegister,
            custom_css: None,
            custom_content: Map::new(),
            custom_ui_assets: None,
            custom_ui_csp: CustomUiCsp::default(),
            password_policy: PasswordPolicy::default(),
            mfa: Mfa { factors: Vec::new(), policy: MfaPolicy::UserControlled, organization_required_mfa_policy: None },
            adaptive_mfa: AdaptiveMfa::default(),
            single_sign_on_enabled: false,
            support_email: None,
            support_website_url: None,
            unknown_session_redirect_url: None,
            sentinel_policy: SentinelPolicy::default(),
            verification_code_policy: VerificationCodePolicy::default(),
            forgot_password_methods: Vec::new(),
            username_policy: UsernamePolicy::default(),
            passkey_sign_in: PasskeySignIn::default(),
        }
    }
}

/// `PATCH /api/sign-in-exp`: any subset of the top-level fields. An object field is merged
/// key by key into the stored one (as Logto's JSON columns), anything else replaces it.
/// Only the request's schema: the server merges the JSON as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSignInExperience {
    pub color: Option<Color>,
    pub branding: Option<Branding>,
    pub hide_logto_branding: Option<bool>,
    pub language_info: Option<LanguageInfo>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub terms_of_use_url: Option<Option<String>>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub privacy_policy_url: Option<Option<String>>,
    pub agree_to_terms_policy: Option<AgreeToTermsPolicy>,
    pub sign_in: Option<SignIn>,
    pub sign_up: Option<SignUp>,
    pub social_sign_in: Option<SocialSignIn>,
    pub social_sign_in_connector_targets: Option<Vec<String>>,
    pub sign_in_mode: Option<SignInMode>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub custom_css: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_content: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub custom_ui_assets: Option<Value>,
    pub custom_ui_csp: Option<CustomUiCsp>,
    pub password_policy: Option<PasswordPolicy>,
    pub mfa: Option<Mfa>,
    pub adaptive_mfa: Option<AdaptiveMfa>,
    pub single_sign_on_enabled: Option<bool>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub support_email: Option<Option<String>>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub support_website_url: Option<Option<String>>,
    #[serde(default, with = "crate::applications::double_option")]
    #[schema(value_type = Option<String>)]
    pub unknown_session_redirect_url: Option<Option<String>>,
    pub sentinel_policy: Option<SentinelPolicy>,
    pub verification_code_policy: Option<VerificationCodePolicy>,
    pub forgot_password_methods: Option<Vec<ForgotPasswordMethod>>,
    pub username_policy: Option<UsernamePolicy>,
    pub passkey_sign_in: Option<PasskeySignIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckPassword {
    pub password: String,
    /// The user the password is for; needed when the policy rejects passwords built from user info.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Why a password was refused: `password_rejected.<reason>` with what to interpolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordIssue {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub interpolation: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckPasswordResult {
    pub result: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<PasswordIssue>,
}
