//! The sign-in experience: stored per tenant, validated as a whole on every change, and
//! the password policy it carries.

pub mod password_policy;

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kido_proto::TenantId;
use kido_proto::sign_in_experience::{PasswordIssue, SignInExperience, SignInIdentifier, SignUpIdentifier};
use kido_store::sign_in_experiences as store;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::Core;
use crate::storage::{self, StorageError};
use crate::usage::{CacheUsage, HitCounts};
use password_policy::UserInfo;

#[derive(Debug, Error)]
pub enum SignInExperienceError {
    /// A rule of the configuration as a whole is broken.
    #[error(transparent)]
    Rule(#[from] Rule),
    #[error("{0}")]
    Invalid(String),
    #[error("user {0} does not exist")]
    UserNotFound(String),
    #[error("the password policy rejects passwords built from user information: give `userId`")]
    UserIdRequired,
    /// Usernames differing only by case exist, so they cannot become case-insensitive:
    /// how many such groups, and some of them (lower-cased).
    #[error("{total} usernames differ only by case")]
    UsernameCaseConflicts { total: i64, samples: Vec<String> },
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(SignInExperienceError);

/// The rules a sign-in experience must satisfy as a whole; each message says what to fix.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Rule {
    #[error("This language - {0} is not supported at the moment.")]
    UnsupportedDefaultLanguage(String),
    #[error("Secondary sign-up identifiers need a primary one.")]
    MissingSignUpIdentifiers,
    #[error("Duplicated sign-up identifiers.")]
    DuplicatedSignUpIdentifiers,
    #[error("Must enable verify for email/phone sign up identifier.")]
    PasswordlessRequiresVerify,
    #[error("Must enable set a password for username sign up identifier.")]
    UsernameRequiresPassword,
    #[error("You have to select at least one authentication factor.")]
    AtLeastOneAuthenticationFactor,
    #[error("Each sign-in identifier may appear only once.")]
    DuplicatedSignInMethods,
    #[error("Sign in methods must contain the sign up identifier.")]
    SignUpIdentifierMissingInSignIn,
    #[error("Password sign in must be enabled when set a password is required in sign up.")]
    PasswordSignInMustBeEnabled,
    #[error("Verification code sign in must be enabled when set a password is not required in sign up.")]
    CodeSignInMustBeEnabled,
    #[error("Duplicated MFA factors.")]
    DuplicatedMfaFactors,
    #[error("Backup code cannot be enabled alone.")]
    BackupCodeAlone,
    #[error("Email verification codes cannot be both a sign-in method and an MFA factor.")]
    EmailCodeBothSignInAndMfa,
    #[error("Phone verification codes cannot be both a sign-in method and an MFA factor.")]
    PhoneCodeBothSignInAndMfa,
    /// Something sends codes of a kind (`Email`, `Sms`) no enabled connector delivers.
    #[error("Enabled {0} connector not found.")]
    ConnectorNotFound(&'static str),
    /// A forgot-password method (`email`, `sms`) without its connector.
    #[error("Forgot password by {0} needs an enabled {0} connector.")]
    ForgotPasswordMethodRequiresConnector(&'static str),
}

pub type Result<T> = std::result::Result<T, SignInExperienceError>;

pub struct SignInExperiences<'a> {
    pub(crate) core: &'a Core,
}

/// Sign-in experiences by tenant, each with the time it was read.
pub(crate) struct Cache {
    ttl: Duration,
    /// Bumped by every invalidation: a value read before one is not cached after it (the
    /// same rule as the client cache's).
    generation: AtomicU64,
    entries: RwLock<HashMap<TenantId, (Instant, SignInExperience)>>,
    hits: HitCounts,
}

impl Cache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, generation: AtomicU64::new(0), entries: RwLock::default(), hits: HitCounts::default() }
    }

    /// Take before reading what `put` will cache.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn get(&self, tenant: &TenantId) -> Option<SignInExperience> {
        self.hits.count(self.cached(tenant))
    }

    fn cached(&self, tenant: &TenantId) -> Option<SignInExperience> {
        let entries = self.entries.read().ok()?;
        let (at, sie) = entries.get(tenant)?;
        (at.elapsed() < self.ttl).then(|| sie.clone())
    }

    /// Caches `sie`, read at `generation`, unless an invalidation came in between.
    fn put(&self, generation: u64, tenant: &TenantId, sie: &SignInExperience) {
        if let Ok(mut entries) = self.entries.write()
            && self.generation() == generation
        {
            entries.insert(tenant.clone(), (Instant::now(), sie.clone()));
        }
    }

    pub(crate) fn usage(&self) -> CacheUsage {
        self.hits.read("sign_in_experiences")
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }

    pub(crate) fn forget(&self, tenant: &TenantId) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.remove(tenant);
        }
    }
}

impl SignInExperiences<'_> {
    /// The tenant's sign-in experience (the default one until first changed).
    pub async fn get(&self, tenant: &TenantId) -> Result<SignInExperience> {
        let cache = &self.core.sign_in_experiences;
        if let Some(sie) = cache.get(tenant) {
            return Ok(sie);
        }
        let read_at = cache.generation();
        let mut c = self.core.store.conn().await?;
        let stored = store::get(&mut c, tenant).await?;
        let sie = match stored.map(serde_json::from_value::<SignInExperience>) {
            Some(Ok(sie)) => sie,
            // Nothing stored yet, or stored by an older version with another shape.
            _ => SignInExperience::default_for(tenant.as_str()),
        };
        cache.put(read_at, tenant, &sie);
        Ok(sie)
    }

    /// Applies a `PATCH` (see [`apply_patch`]), validates the result as a whole, stores it.
    pub async fn update(&self, tenant: &TenantId, patch: Map<String, Value>) -> Result<SignInExperience> {
        let current = self.get(tenant).await?;
        let sie = apply_patch(&current, patch)?;
        let mut c = self.core.store.conn().await?;
        // Turning case-insensitive would merge accounts whose usernames differ only by
        // case; only that transition needs the scan.
        if current.username_policy.case_sensitive && !sie.username_policy.case_sensitive {
            let (total, samples) =
                kido_store::users::username_case_conflicts(&mut c, tenant, CASE_CONFLICT_SAMPLES).await?;
            if total > 0 {
                return Err(SignInExperienceError::UsernameCaseConflicts { total, samples });
            }
        }
        let connectors = Connectors {
            email: kido_store::connectors::find_by_kind(&mut c, tenant, "Email").await?.is_some(),
            sms: kido_store::connectors::find_by_kind(&mut c, tenant, "Sms").await?.is_some(),
        };
        drop(c);
        validate(&sie, connectors)?;
        let value = serde_json::to_value(&sie).map_err(|e| SignInExperienceError::Invalid(e.to_string()))?;
        let mut tx = self.core.store.begin().await?;
        store::put(&mut tx, tenant, &value).await?;
        tx.commit().await?;
        Ok(sie)
    }

    /// Checks a password against the tenant's policy; `user_id` supplies the user info.
    pub async fn check_password(
        &self,
        tenant: &TenantId,
        password: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<PasswordIssue>> {
        let sie = self.get(tenant).await?;
        let policy = &sie.password_policy;
        let user = match user_id {
            Some(id) => {
                let mut c = self.core.store.conn().await?;
                let u = kido_store::users::find(&mut c, tenant, id)
                    .await?
                    .ok_or_else(|| SignInExperienceError::UserNotFound(id.to_owned()))?;
                Some(UserInfo { username: u.username, email: u.primary_email, phone: u.primary_phone, name: u.name })
            }
            None if policy.rejects.user_info => return Err(SignInExperienceError::UserIdRequired),
            None => None,
        };
        Ok(password_policy::check(policy, password, user.as_ref()))
    }
}

/// How many conflicting usernames a refused switch to case-insensitive names.
const CASE_CONFLICT_SAMPLES: i64 = 20;

/// Top-level fields that are objects in Logto's JSON columns: a patch merges its keys into
/// the stored object (PostgreSQL's `||`), so `{"passwordPolicy": {"length": {"max": 256}}}`
/// keeps the stored `characterTypes` and `rejects` (and `length.min` takes its default).
const MERGED_OBJECTS: [&str; 16] = [
    "color",
    "branding",
    "languageInfo",
    "signIn",
    "signUp",
    "socialSignIn",
    "customContent",
    "customUiCsp",
    "passwordPolicy",
    "mfa",
    "adaptiveMfa",
    "sentinelPolicy",
    "verificationCodePolicy",
    "customUiAssets",
    "usernamePolicy",
    "passkeySignIn",
];

/// Fields a patch cannot change (Logto's guard leaves them out; they are ignored).
const READ_ONLY: [&str; 2] = ["tenantId", "id"];

/// The sign-in experience after a `PATCH`: each given top-level field replaces the stored
/// one, objects of [`MERGED_OBJECTS`] are merged key by key; unknown and read-only fields
/// are ignored, as Logto's. The whole is then read back with its types, so a wrong type
/// anywhere is a 400 naming it.
pub fn apply_patch(current: &SignInExperience, patch: Map<String, Value>) -> Result<SignInExperience> {
    let invalid = |e: serde_json::Error| SignInExperienceError::Invalid(format!("invalid sign-in experience: {e}"));
    let Value::Object(mut merged) = serde_json::to_value(current).map_err(invalid)? else {
        return Err(SignInExperienceError::Invalid("the stored sign-in experience is not an object".into()));
    };
    for (key, value) in patch {
        if READ_ONLY.contains(&key.as_str()) || !merged.contains_key(&key) {
            continue;
        }
        match (merged.get_mut(&key), value) {
            (Some(Value::Object(stored)), Value::Object(given)) if MERGED_OBJECTS.contains(&key.as_str()) => {
                stored.extend(given);
            }
            (_, value) => {
                merged.insert(key, value);
            }
        }
    }
    let sie: SignInExperience = serde_json::from_value(Value::Object(merged)).map_err(invalid)?;
    check_custom_ui(&sie)?;
    Ok(sie)
}

/// Most sources one CSP directive of a custom UI may list.
const MAX_CSP_SOURCES: usize = 32;

/// `customUiAssets` is `null` or `{id, createdAt}`; `customUiCsp` lists CSP source
/// expressions (`https:`, `https://*.example.com`, `'self'`…), never anything that could end
/// the directive or add another.
fn check_custom_ui(sie: &SignInExperience) -> Result<()> {
    if let Some(assets) = &sie.custom_ui_assets {
        let id_ok = assets.get("id").and_then(Value::as_str).is_some_and(|id| !id.is_empty() && id.len() <= 128);
        if !id_ok || !assets.get("createdAt").is_some_and(Value::is_i64) {
            return Err(SignInExperienceError::Invalid(
                "`customUiAssets` must be null or {\"id\": string, \"createdAt\": number}".into(),
            ));
        }
    }
    let csp = &sie.custom_ui_csp;
    for (field, sources) in [("scriptSrc", &csp.script_src), ("connectSrc", &csp.connect_src)] {
        let sources = sources.as_deref().unwrap_or_default();
        if sources.len() > MAX_CSP_SOURCES {
            return Err(SignInExperienceError::Invalid(format!(
                "`customUiCsp.{field}` lists at most {MAX_CSP_SOURCES} sources"
            )));
        }
        if let Some(bad) = sources.iter().find(|s| !is_csp_source(s)) {
            return Err(SignInExperienceError::Invalid(format!(
                "`customUiCsp.{field}`: `{bad}` is not a CSP source (e.g. `https://cdn.example.com`, `https:`, `'self'`)"
            )));
        }
    }
    Ok(())
}

/// A CSP source expression: a keyword of the few that make sense, or a scheme/host source
/// made of URL characters only (no spaces, `;`, `,` or quotes that would change the policy).
pub fn is_csp_source(source: &str) -> bool {
    const KEYWORDS: [&str; 3] = ["'self'", "'unsafe-inline'", "'unsafe-eval'"];
    if KEYWORDS.contains(&source) {
        return true;
    }
    !source.is_empty()
        && source.len() <= 256
        && source.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&()*+=%".contains(&b))
}

fn sign_up_covers(id: SignUpIdentifier, sign_in: SignInIdentifier) -> bool {
    match id {
        SignUpIdentifier::Username => sign_in == SignInIdentifier::Username,
        SignUpIdentifier::Email => sign_in == SignInIdentifier::Email,
        SignUpIdentifier::Phone => sign_in == SignInIdentifier::Phone,
        SignUpIdentifier::EmailOrPhone => matches!(sign_in, SignInIdentifier::Email | SignInIdentifier::Phone),
    }
}

fn is_url(v: &Option<String>) -> bool {
    v.as_deref()
        .filter(|u| !u.is_empty())
        .is_none_or(|u| matches!(url::Url::parse(u), Ok(u) if matches!(u.scheme(), "http" | "https")))
}

fn is_color(v: &str) -> bool {
    v.len() == 7 && v.starts_with('#') && v[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Experience languages Kido can show (`languageInfo.fallbackLanguage` must be one).
pub const LANGUAGES: [&str; 21] = [
    "ar", "cs", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl-PL", "pt-BR", "pt-PT", "ru", "sv", "th", "tr-TR",
    "uk-UA", "zh-CN", "zh-HK", "zh-TW",
];

/// Which passwordless connectors a tenant has (what code sign-in and reset depend on).
#[derive(Debug, Clone, Copy, Default)]
pub struct Connectors {
    pub email: bool,
    pub sms: bool,
}

/// The rules a sign-in experience must satisfy as a whole (Logto's, old and new).
pub fn validate(sie: &SignInExperience, connectors: Connectors) -> Result<()> {
    use kido_proto::sign_in_experience::{ForgotPasswordMethod, MfaFactor};
    if !is_color(&sie.color.primary_color) || !is_color(&sie.color.dark_primary_color) {
        return Err(SignInExperienceError::Invalid("`color` values must be hex codes like #6139F6".into()));
    }
    for (field, value) in [
        ("termsOfUseUrl", &sie.terms_of_use_url),
        ("privacyPolicyUrl", &sie.privacy_policy_url),
        ("supportWebsiteUrl", &sie.support_website_url),
        ("unknownSessionRedirectUrl", &sie.unknown_session_redirect_url),
    ] {
        if !is_url(value) {
            return Err(SignInExperienceError::Invalid(format!("`{field}` must be an http(s) URL, \"\" or null")));
        }
    }
    let names = &sie.username_policy;
    if !(1..=128).contains(&names.min_length) || !(names.min_length..=128).contains(&names.max_length) {
        return Err(SignInExperienceError::Invalid("`usernamePolicy` needs 1 ≤ minLength ≤ maxLength ≤ 128".into()));
    }
    if !LANGUAGES.contains(&sie.language_info.fallback_language.as_str()) {
        let language = &sie.language_info.fallback_language;
        return Err(Rule::UnsupportedDefaultLanguage(language.clone()).into());
    }
    // Sign-up.
    let sign_up = &sie.sign_up;
    let secondary: Vec<SignUpIdentifier> =
        sign_up.secondary_identifiers.iter().flatten().map(|s| s.identifier).collect();
    if !secondary.is_empty() && sign_up.identifiers.is_empty() {
        return Err(Rule::MissingSignUpIdentifiers.into());
    }
    let all: Vec<SignUpIdentifier> = sign_up.identifiers.iter().copied().chain(secondary.iter().copied()).collect();
    let overlaps = |a: SignUpIdentifier, b: SignUpIdentifier| {
        a == b
            || matches!((a, b), (SignUpIdentifier::EmailOrPhone, SignUpIdentifier::Email | SignUpIdentifier::Phone))
            || matches!((b, a), (SignUpIdentifier::EmailOrPhone, SignUpIdentifier::Email | SignUpIdentifier::Phone))
    };
    if all.iter().enumerate().any(|(i, a)| all[..i].iter().any(|b| overlaps(*a, *b))) {
        return Err(Rule::DuplicatedSignUpIdentifiers.into());
    }
    let unverified_secondary = sign_up
        .secondary_identifiers
        .iter()
        .flatten()
        .any(|s| s.identifier != SignUpIdentifier::Username && s.verify != Some(true));
    let unverified_primary = !sign_up.verify && sign_up.identifiers.iter().any(|i| *i != SignUpIdentifier::Username);
    if unverified_primary || unverified_secondary {
        return Err(Rule::PasswordlessRequiresVerify.into());
    }
    if sign_up.identifiers.contains(&SignUpIdentifier::Username) && !sign_up.password {
        return Err(Rule::UsernameRequiresPassword.into());
    }
    // Sign-in.
    let methods = &sie.sign_in.methods;
    for (i, m) in methods.iter().enumerate() {
        if !m.password && !m.verification_code {
            return Err(Rule::AtLeastOneAuthenticationFactor.into());
        }
        if methods[..i].iter().any(|o| o.identifier == m.identifier) {
            return Err(Rule::DuplicatedSignInMethods.into());
        }
    }
    for id in &sign_up.identifiers {
        if !methods.iter().any(|m| sign_up_covers(*id, m.identifier)) {
            return Err(Rule::SignUpIdentifierMissingInSignIn.into());
        }
    }
    if sign_up.password
        && sign_up.identifiers.iter().any(|id| !methods.iter().any(|m| sign_up_covers(*id, m.identifier) && m.password))
    {
        return Err(Rule::PasswordSignInMustBeEnabled.into());
    }
    if sign_up.verify
        && !sign_up.password
        && methods.iter().any(|m| m.identifier != SignInIdentifier::Username && !m.verification_code)
    {
        return Err(Rule::CodeSignInMustBeEnabled.into());
    }
    // MFA.
    let factors = &sie.mfa.factors;
    if factors.iter().enumerate().any(|(i, f)| factors[..i].contains(f)) {
        return Err(Rule::DuplicatedMfaFactors.into());
    }
    if factors.as_slice() == [MfaFactor::BackupCode] {
        return Err(Rule::BackupCodeAlone.into());
    }
    let code_sign_in = |id: SignInIdentifier| methods.iter().any(|m| m.identifier == id && m.verification_code);
    if factors.contains(&MfaFactor::EmailVerificationCode) && code_sign_in(SignInIdentifier::Email) {
        return Err(Rule::EmailCodeBothSignInAndMfa.into());
    }
    if factors.contains(&MfaFactor::PhoneVerificationCode) && code_sign_in(SignInIdentifier::Phone) {
        return Err(Rule::PhoneCodeBothSignInAndMfa.into());
    }
    // Everything that sends a code needs a connector of its kind.
    let needs_email = all.iter().any(|i| matches!(i, SignUpIdentifier::Email | SignUpIdentifier::EmailOrPhone))
        || code_sign_in(SignInIdentifier::Email);
    let needs_sms = all.iter().any(|i| matches!(i, SignUpIdentifier::Phone | SignUpIdentifier::EmailOrPhone))
        || code_sign_in(SignInIdentifier::Phone);
    for (needed, present, kind) in [(needs_email, connectors.email, "Email"), (needs_sms, connectors.sms, "Sms")] {
        if needed && !present {
            return Err(Rule::ConnectorNotFound(kind).into());
        }
    }
    for method in &sie.forgot_password_methods {
        let (method, present) = match method {
            ForgotPasswordMethod::EmailVerificationCode => ("email", connectors.email),
            ForgotPasswordMethod::PhoneVerificationCode => ("sms", connectors.sms),
        };
        if !present {
            return Err(Rule::ForgotPasswordMethodRequiresConnector(method).into());
        }
    }
    // Numbers the types cannot bound.
    let policy = &sie.password_policy;
    if policy.length.min < 1 || policy.length.max > 256 || policy.length.min > policy.length.max {
        return Err(SignInExperienceError::Invalid("`passwordPolicy.length` needs 1 ≤ min ≤ max ≤ 256".into()));
    }
    if !(1..=4).contains(&policy.character_types.min) {
        return Err(SignInExperienceError::Invalid("`passwordPolicy.characterTypes.min` must be 1–4".into()));
    }
    let codes = &sie.verification_code_policy;
    if codes.expiration_duration.is_some_and(|d| !(60..=3600).contains(&d)) {
        return Err(SignInExperienceError::Invalid(
            "`verificationCodePolicy.expirationDuration` must be 60–3600".into(),
        ));
    }
    if codes.max_retry_attempts.is_some_and(|n| !(1..=100).contains(&n)) {
        return Err(SignInExperienceError::Invalid("`verificationCodePolicy.maxRetryAttempts` must be 1–100".into()));
    }
    let sentinel = &sie.sentinel_policy;
    if sentinel.max_attempts.is_some_and(|n| !(1..=10_000).contains(&n))
        || sentinel.lockout_duration.is_some_and(|m| !(1..=10_080).contains(&m))
    {
        return Err(SignInExperienceError::Invalid(
            "`sentinelPolicy`: maxAttempts must be 1–10000 and lockoutDuration 1–10080 minutes".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    /// A value read before an invalidation is not cached after it.
    #[test]
    fn a_fill_that_read_before_an_invalidation_is_dropped() {
        let cache = Cache::new(Duration::from_secs(10));
        let tenant = TenantId::new("default");
        let sie = SignInExperience::default_for("default");
        let read_at = cache.generation();
        cache.forget(&tenant);
        cache.put(read_at, &tenant, &sie);
        assert!(cache.get(&tenant).is_none());
        cache.put(cache.generation(), &tenant, &sie);
        assert!(cache.get(&tenant).is_some());
        cache.clear();
        assert!(cache.get(&tenant).is_none());
    }
}
