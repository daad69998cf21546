//! Users: identifiers, profile, password, suspension and global roles.

use std::collections::HashSet;

use kido_proto::Page;
use kido_proto::roles::{Role, RoleType};
use kido_proto::sign_in_experience::{SignInExperience, UsernamePolicy};
use kido_proto::users::{CreateUser, SocialIdentity, UpdateUser, User, UserProfile, UserWithPasswordHash};
use kido_proto::{RoleId, TenantId, UserId};
use kido_store::user_social_identities as identity_store;
use kido_store::users::{self as store, StoredUser, UsernameCase};
use kido_store::{Exec, Json, StoreError, Tx, roles as role_store};
use serde_json::{Value, json};
use thiserror::Error;

use kido_proto::users::UserSearch;

use crate::audit::{self, keys};
use crate::identifiers::{is_email, normalize_phone};
use crate::passwords::{self, PasswordError, STORED_METHOD};
use crate::sign_in_experience::password_policy;
use crate::storage::{self, StorageError};
use crate::{Core, clock, ids, rows, validate};

#[derive(Debug, Error)]
pub enum UserError {
    #[error("user {0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("give either `password` or `passwordDigest`, not both")]
    PasswordAndDigest,
    #[error("`passwordDigest` needs `passwordAlgorithm`")]
    AlgorithmRequired,
    #[error("this username is already in use")]
    UsernameInUse,
    #[error("this email is already in use")]
    EmailInUse,
    #[error("this phone number is already in use")]
    PhoneInUse,
    #[error("`primaryPhone` is not a valid phone number")]
    InvalidPhone,
    #[error("{0}")]
    UnsupportedSearch(String),
    #[error("role {0} does not exist")]
    RoleNotFound(String),
    #[error("machine-to-machine roles cannot be given to users")]
    RoleNotForUsers,
    /// The same refusal on `POST /roles/{id}/users`, where Logto leaves it to the database's
    /// role-type constraint and answers with that.
    #[error("machine-to-machine roles cannot hold users")]
    RoleTypeConstraint,
    #[error("user {0} already holds this role")]
    UserHasRole(String),
    #[error("the user does not hold this role")]
    RoleNotAssigned,
    #[error("the user has no password")]
    NoPassword,
    #[error("the password does not match")]
    PasswordMismatch,
    #[error("the user has no identity of this connector target")]
    IdentityNotFound,
    #[error("this social identity is linked to another user")]
    IdentityInUse,
    /// The change would leave no username, email, phone or identity to sign in with.
    #[error("the user must keep at least one sign-in identifier")]
    LastSignInIdentifier,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(StorageError),
}

impl From<StorageError> for UserError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unsupported(why) => Self::UnsupportedSearch(why),
            other => Self::Store(other),
        }
    }
}

storage::from_store_error!(UserError);

pub type Result<T> = std::result::Result<T, UserError>;

/// What a role assignment did: the roles asked for, and those the user did not hold before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedRoles {
    pub role_ids: Vec<String>,
    pub added_role_ids: Vec<String>,
}

pub struct Users<'a> {
    pub(crate) core: &'a Core,
}

/// What a sign-in that checked `user`'s password is bound to: the time the password was
/// last set, which every change moves forward (`next_password_stamp`), so a reset, an admin
/// change or an import stops an in-flight sign-in that verified the old one.
pub fn credential_stamp(user: &StoredUser) -> i64 {
    user.password_updated_at.unwrap_or(0)
}

/// How many identifiers a user can be found by at sign-in: username, primary email, primary
/// phone and each social identity (Logto's count; enterprise SSO identities join it with SSO
/// sign-in). A user's own change may not take it to zero.
pub fn sign_in_identifier_count(user: &StoredUser) -> usize {
    let identities = user.identities.0.as_object().map_or(0, |m| m.len());
    [&user.username, &user.primary_email, &user.primary_phone].iter().filter(|v| v.is_some()).count() + identities
}

/// `UserError::LastSignInIdentifier` unless `user` still has an identifier after `change`.
pub fn require_identifier_left(user: &StoredUser, change: impl FnOnce(&mut StoredUser)) -> Result<()> {
    let mut after = user.clone();
    change(&mut after);
    if sign_in_identifier_count(&after) > 0 { Ok(()) } else { Err(UserError::LastSignInIdentifier) }
}

/// A new `password_updated_at`: now, but always later than the previous one (two changes
/// in one millisecond must still tell apart).
fn next_password_stamp(previous: Option<i64>, now: i64) -> i64 {
    previous.map_or(now, |p| now.max(p.saturating_add(1)))
}

pub(crate) fn check_username(v: &str) -> Result<()> {
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || v.len() > 128 {
        return Err(UserError::Invalid(format!(
            "`username` must start with a letter or `_` and contain only letters, digits and `_` (got `{v}`)"
        )));
    }
    Ok(())
}

/// How the tenant's usernames compare (`usernamePolicy.caseSensitive`): uniqueness and
/// every lookup by username follow it.
pub(crate) fn username_case(sie: &SignInExperience) -> UsernameCase {
    if sie.username_policy.case_sensitive { UsernameCase::Sensitive } else { UsernameCase::Insensitive }
}

/// The policy's rules for a username an end user picks (on top of `check_username`, which
/// every write keeps): its length and the kinds of characters allowed.
pub(crate) fn check_username_policy(policy: &UsernamePolicy, v: &str) -> std::result::Result<(), String> {
    let length = v.chars().count();
    if length < policy.min_length as usize || length > policy.max_length as usize {
        return Err(format!("`username` must be {}–{} characters long", policy.min_length, policy.max_length));
    }
    let allowed = &policy.allowed_chars;
    let ok = |c: char| {
        (allowed.lowercase && c.is_ascii_lowercase())
            || (allowed.uppercase && c.is_ascii_uppercase())
            || (allowed.numbers && c.is_ascii_digit())
            || (allowed.underscore && c == '_')
    };
    match v.chars().find(|c| !ok(*c)) {
        Some(c) => Err(format!("`username` may not contain `{c}` under this tenant's username policy")),
        None => Ok(()),
    }
}

/// What a self-registration supplies.
#[derive(Debug, Clone, Default)]
/// A user signing themselves up (the Experience API, the hosted pages). An email or phone
/// here has been verified with a code, so organizations provisioning its email domain take
/// the user in.
pub struct Registration {
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub password_hash: Option<String>,
}

/// Whether creating a user may make them an organization member by email domain: only
/// for users who signed themselves up (never through the Management API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provisioning {
    None,
    ByVerifiedEmail,
}

fn check_email(v: &str) -> Result<()> {
    if is_email(v) {
        Ok(())
    } else {
        Err(UserError::Invalid(format!("`primaryEmail` is not a valid email address (got `{v}`)")))
    }
}

/// A phone number in the form it is stored and looked up in (see `normalize_phone`).
fn check_phone(v: &str) -> Result<String> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UserError::Invalid(format!("`primaryPhone` must contain digits only (got `{v}`)")));
    }
    normalize_phone(v).ok_or(UserError::InvalidPhone)
}

fn check_text(v: &Option<String>, field: &str, max: usize) -> Result<()> {
    validate::text(v.clone(), field, max).map(|_| ()).map_err(UserError::Invalid)
}

/// Refuses identifiers another user of the tenant already has.
async fn ensure_identifiers_free(
    c: &mut impl Exec,
    tenant: &TenantId,
    user: &StoredUser,
    usernames: UsernameCase,
) -> Result<()> {
    let taken = store::taken_identifiers(
        c,
        tenant,
        (user.username.as_deref(), usernames),
        user.primary_email.as_deref(),
        user.primary_phone.as_deref(),
        Some(&user.id),
    )
    .await?;
    match taken.first() {
        Some(&"username") => Err(UserError::UsernameInUse),
        Some(&"primaryEmail") => Err(UserError::EmailInUse),
        Some(_) => Err(UserError::PhoneInUse),
        None => Ok(()),
    }
}

/// A unique index fired although the pre-check passed (a concurrent write): say which.
fn identifier_conflict(e: StoreError) -> UserError {
    match store::taken_identifier(&e) {
        Some(store::SignInIdentifier::Username) => UserError::UsernameInUse,
        Some(store::SignInIdentifier::Email) => UserError::EmailInUse,
        Some(store::SignInIdentifier::Phone) => UserError::PhoneInUse,
        None => e.into(),
    }
}

impl Users<'_> {
    pub async fn create(&self, tenant: &TenantId, mut input: CreateUser) -> Result<User> {
        for (v, check) in
            [(&input.username, check_username as fn(&str) -> Result<()>), (&input.primary_email, check_email)]
        {
            if let Some(v) = v {
                check(v)?;
            }
        }
        input.primary_phone = input.primary_phone.as_deref().map(check_phone).transpose()?;
        check_text(&input.name, "name", 128)?;
        check_text(&input.avatar, "avatar", 2048)?;
        let (password_encrypted, method) = match (input.password, input.password_digest, input.password_algorithm) {
            (Some(_), Some(_), _) => return Err(UserError::PasswordAndDigest),
            (Some(password), None, _) => {
                password_policy::check_length(&password).map_err(UserError::Invalid)?;
                (Some(self.core.passwords.hash(password).await?), Some(STORED_METHOD.to_owned()))
            }
            (None, Some(digest), Some(algorithm)) => {
                passwords::check_imported_digest(algorithm, &digest)?;
                (Some(digest), Some(algorithm.as_str().to_owned()))
            }
            (None, Some(_), None) => return Err(UserError::AlgorithmRequired),
            (None, None, _) => (None, None),
        };
        let now = clock::now_ms();
        let user = StoredUser {
            tenant_id: tenant.to_string(),
            id: ids::new_short_id(),
            username: input.username,
            primary_email: input.primary_email,
            primary_phone: input.primary_phone,
            password_updated_at: password_encrypted.as_ref().map(|_| now),
            password_encrypted,
            password_encryption_method: method,
            name: input.name,
            avatar: input.avatar,
            application_id: None,
            profile: Json(input.profile.unwrap_or_default()),
            identities: Json(json!({})),
            custom_data: Json(validate::object(input.custom_data, "customData").map_err(UserError::Invalid)?),
            is_suspended: false,
            last_sign_in_at: None,
            created_at: now,
            updated_at: now,
            logto_config: Default::default(),
        };
        self.insert_new(tenant, user, Provisioning::None).await
    }

    /// A user who registered on the sign-in pages, with what they proved or chose there
    /// (the password already hashed).
    pub async fn register(&self, tenant: &TenantId, new: Registration) -> Result<User> {
        if let Some(v) = &new.username {
            check_username(v)?;
        }
        let now = clock::now_ms();
        let user = StoredUser {
            tenant_id: tenant.to_string(),
            id: ids::new_short_id(),
            username: new.username,
            primary_email: new.primary_email,
            primary_phone: new.primary_phone,
            password_updated_at: new.password_hash.as_ref().map(|_| now),
            password_encryption_method: new.password_hash.as_ref().map(|_| STORED_METHOD.to_owned()),
            password_encrypted: new.password_hash,
            name: None,
            avatar: None,
            application_id: None,
            profile: Json(Default::default()),
            identities: Json(json!({})),
            custom_data: Json(json!({})),
            is_suspended: false,
            last_sign_in_at: None,
            created_at: now,
            updated_at: now,
            logto_config: Default::default(),
        };
        self.insert_new(tenant, user, Provisioning::ByVerifiedEmail).await
    }

    /// A forgotten password replaced after the user proved their email or phone: the new
    /// hash is stored and the user is signed out everywhere (sessions, grants and with them
    /// every refresh token), since whoever knew the old password may hold one.
    pub async fn reset_password(&self, tenant: &TenantId, id: &UserId, password_hash: String) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut user = find(&mut tx, tenant, id).await?;
        let now = clock::now_ms();
        user.password_encrypted = Some(password_hash);
        user.password_encryption_method = Some(STORED_METHOD.to_owned());
        user.password_updated_at = Some(next_password_stamp(user.password_updated_at, now));
        user.updated_at = now;
        store::update(&mut tx, &user).await?;
        let sessions = kido_store::oidc::delete_user_sessions(&mut tx, tenant, id).await?;
        let grants = kido_store::oidc::delete_user_grants(&mut tx, tenant, id).await?;
        audit::record(
            &mut tx,
            tenant,
            keys::USER_PASSWORD_UPDATED,
            Some(id),
            json!({"reason": "ForgotPassword", "revokedSessions": sessions, "revokedGrants": grants}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new user with the tenant's default roles, refusing taken identifiers; a
    /// self-registered user with a verified email joins the organizations provisioning its
    /// domain, in the same transaction.
    async fn insert_new(&self, tenant: &TenantId, user: StoredUser, provisioning: Provisioning) -> Result<User> {
        let now = user.created_at;
        let usernames = self.usernames(tenant).await?;
        let mut tx = self.core.store.begin().await?;
        ensure_identifiers_free(&mut tx, tenant, &user, usernames).await?;
        store::insert(&mut tx, &user).await.map_err(identifier_conflict)?;
        let defaults = role_store::default_user_role_ids(&mut tx, tenant).await?;
        store::assign_roles(&mut tx, tenant, &user.id, &defaults, now).await?;
        audit::record(&mut tx, tenant, keys::USER_CREATED, Some(&user.id), json!({"defaultRoleIds": defaults})).await?;
        if let (Provisioning::ByVerifiedEmail, Some(email)) = (provisioning, &user.primary_email) {
            crate::organizations::jit::provision_by_email(&mut tx, tenant, &user.id, email).await?;
        }
        tx.commit().await?;
        Ok(rows::user(user))
    }

    /// The tenant's username comparison (its sign-in experience is cached: no query when warm).
    async fn usernames(&self, tenant: &TenantId) -> Result<UsernameCase> {
        match self.core.sign_in_experiences().get(tenant).await {
            Ok(sie) => Ok(username_case(&sie)),
            Err(crate::sign_in_experience::SignInExperienceError::Store(e)) => Err(e.into()),
            Err(other) => Err(UserError::Invalid(other.to_string())),
        }
    }

    pub async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<User> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        Ok(rows::user(find(&mut c, tenant, id).await?))
    }

    /// The user with its stored password hash and algorithm (Logto's `includePasswordHash`).
    pub async fn get_with_password_hash(&self, tenant: &TenantId, id: &UserId) -> Result<UserWithPasswordHash> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        let stored = find(&mut c, tenant, id).await?;
        let (password_digest, password_algorithm) =
            (stored.password_encrypted.clone(), stored.password_encryption_method.clone());
        Ok(UserWithPasswordHash { user: rows::user(stored), password_digest, password_algorithm })
    }

    pub async fn list(&self, tenant: &TenantId, search: &UserSearch, page: Page) -> Result<(Vec<User>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (rows, total) = store::list(&mut c, tenant, search, Some(page)).await?;
        Ok((rows.into_iter().map(rows::user).collect(), total))
    }

    /// Loads a user, lets `change` edit it, checks identifiers, stores it and logs `key`.
    async fn modify(
        &self,
        tenant: &TenantId,
        id: &str,
        key: &str,
        change: impl FnOnce(&mut StoredUser) -> Result<Value>,
    ) -> Result<User> {
        let usernames = self.usernames(tenant).await?;
        let mut tx = self.core.store.begin().await?;
        let mut user = find(&mut tx, tenant, id).await?;
        let identities_before = user.identities.0.clone();
        let details = change(&mut user)?;
        user.updated_at = clock::now_ms();
        ensure_identifiers_free(&mut tx, tenant, &user, usernames).await?;
        if user.identities.0 != identities_before {
            sync_identities(&mut tx, tenant, id, &identities_before, &user.identities.0).await?;
        }
        store::update(&mut tx, &user).await.map_err(identifier_conflict)?;
        audit::record(&mut tx, tenant, key, Some(id), details).await?;
        tx.commit().await?;
        Ok(rows::user(user))
    }

    pub async fn update(&self, tenant: &TenantId, id: &UserId, mut patch: UpdateUser) -> Result<User> {
        let id = id.as_str();
        if let Some(Some(v)) = &patch.username {
            check_username(v)?;
        }
        if let Some(Some(v)) = &patch.primary_email {
            check_email(v)?;
        }
        if let Some(Some(v)) = &mut patch.primary_phone {
            *v = check_phone(v)?;
        }
        if let Some(v) = &patch.name {
            check_text(v, "name", 128)?;
        }
        if let Some(v) = &patch.avatar {
            check_text(v, "avatar", 2048)?;
        }
        let custom_data = patch
            .custom_data
            .map(|d| validate::object(Some(d), "customData"))
            .transpose()
            .map_err(UserError::Invalid)?;
        self.modify(tenant, id, keys::USER_DATA_UPDATED, move |u| {
            let mut changed = Vec::new();
            let mut set = |field: &'static str, target: &mut Option<String>, value: Option<Option<String>>| {
                if let Some(v) = value {
                    *target = v;
                    changed.push(field);
                }
            };
            set("username", &mut u.username, patch.username);
            set("primaryEmail", &mut u.primary_email, patch.primary_email);
            set("primaryPhone", &mut u.primary_phone, patch.primary_phone);
            set("name", &mut u.name, patch.name);
            set("avatar", &mut u.avatar, patch.avatar);
            if let Some(data) = custom_data {
                u.custom_data = Json(data);
                changed.push("customData");
            }
            if let Some(profile) = patch.profile {
                u.profile = Json(profile);
                changed.push("profile");
            }
            Ok(audit::changed(&changed))
        })
        .await
    }

    pub async fn custom_data(&self, tenant: &TenantId, id: &UserId) -> Result<Value> {
        Ok(self.get(tenant, id).await?.custom_data)
    }

    /// Merges the given top-level keys into the custom data; returns all of it.
    pub async fn merge_custom_data(&self, tenant: &TenantId, id: &UserId, data: Value) -> Result<Value> {
        let id = id.as_str();
        let Value::Object(given) = validate::object(Some(data), "customData").map_err(UserError::Invalid)? else {
            return Err(UserError::Invalid("`customData` must be a JSON object".into()));
        };
        let user = self
            .modify(tenant, id, keys::USER_DATA_UPDATED, move |u| {
                if let Value::Object(stored) = &mut u.custom_data.0 {
                    stored.extend(given);
                } else {
                    u.custom_data = Json(Value::Object(given));
                }
                Ok(audit::changed(&["customData"]))
            })
            .await?;
        Ok(user.custom_data)
    }

    /// Links a social identity (`{userId, details?}`) under connector `target`, replacing the
    /// one the user had there; whether it is new, and the user's identities after. A provider
    /// account another user holds: `IdentityInUse`.
    pub async fn put_identity(
        &self,
        tenant: &TenantId,
        id: &UserId,
        target: &str,
        identity: SocialIdentity,
    ) -> Result<(bool, Value)> {
        check_identity(target, &identity)?;
        let identity = serde_json::to_value(identity).map_err(|e| UserError::Invalid(e.to_string()))?;
        let mut created = false;
        let user = self
            .modify(tenant, id.as_str(), keys::USER_DATA_UPDATED, |u| {
                let Some(map) = u.identities.0.as_object_mut() else {
                    return Err(UserError::Invalid("the stored identities are not an object".into()));
                };
                if !map.contains_key(target) && map.len() >= MAX_IDENTITIES {
                    return Err(UserError::Invalid(format!("a user holds at most {MAX_IDENTITIES} identities")));
                }
                created = map.insert(target.to_owned(), identity).is_none();
                Ok(audit::changed(&["identities"]))
            })
            .await?;
        Ok((created, user.identities))
    }

    /// The user's social identity of connector `target`.
    pub async fn identity(&self, tenant: &TenantId, id: &UserId, target: &str) -> Result<SocialIdentity> {
        let user = self.get(tenant, id).await?;
        let identity = user.identities.get(target).ok_or(UserError::IdentityNotFound)?;
        serde_json::from_value(identity.clone()).map_err(|_| UserError::IdentityNotFound)
    }

    /// Unlinks the social identity of connector `target`. With `keep_a_way_in` (the user's own
    /// request) the user must keep another identifier, checked in the change's transaction;
    /// an administrator may remove the last.
    pub async fn remove_identity(
        &self,
        tenant: &TenantId,
        id: &UserId,
        target: &str,
        keep_a_way_in: bool,
    ) -> Result<User> {
        self.modify(tenant, id.as_str(), keys::USER_DATA_UPDATED, |u| {
            // An error drops the transaction, and this change with it.
            if u.identities.0.as_object_mut().and_then(|m| m.remove(target)).is_none() {
                return Err(UserError::IdentityNotFound);
            }
            if keep_a_way_in && sign_in_identifier_count(u) == 0 {
                return Err(UserError::LastSignInIdentifier);
            }
            Ok(audit::changed(&["identities"]))
        })
        .await
    }

    /// Merges the given profile fields into the stored profile; returns the profile.
    pub async fn update_profile(&self, tenant: &TenantId, id: &UserId, patch: UserProfile) -> Result<UserProfile> {
        let id = id.as_str();
        let user = self
            .modify(tenant, id, keys::USER_DATA_UPDATED, move |u| {
                let mut merged = serde_json::to_value(&u.profile.0).unwrap_or_else(|_| json!({}));
                if let (Some(target), Ok(Value::Object(given))) = (merged.as_object_mut(), serde_json::to_value(&patch))
                {
                    target.extend(given);
                }
                u.profile = Json(serde_json::from_value(merged).map_err(|e| UserError::Invalid(e.to_string()))?);
                Ok(audit::changed(&["profile"]))
            })
            .await?;
        Ok(user.profile)
    }

    pub async fn set_password(&self, tenant: &TenantId, id: &UserId, password: String) -> Result<User> {
        let id = id.as_str();
        password_policy::check_length(&password).map_err(UserError::Invalid)?;
        // Hash first (outside the transaction: it is the slow part).
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, id).await?;
        drop(c);
        let hash = self.core.passwords.hash(password).await?;
        self.modify(tenant, id, keys::USER_PASSWORD_UPDATED, move |u| {
            u.password_encrypted = Some(hash);
            u.password_encryption_method = Some(STORED_METHOD.to_owned());
            u.password_updated_at = Some(next_password_stamp(u.password_updated_at, clock::now_ms()));
            Ok(json!({}))
        })
        .await
    }

    /// `POST /api/users/{id}/password/verify`: checks a password under the same rules as a
    /// sign-in (rate limit per user, a place in the hashing queue, equal-cost failures).
    /// No per-IP limit: the caller is a trusted backend that may check for many users.
    pub async fn verify_password(&self, tenant: &TenantId, id: &UserId, password: String) -> Result<()> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        let user = find(&mut c, tenant, id).await?;
        let now = clock::now_ms();
        self.core
            .password_rate_limits
            .hit(&mut c, tenant, None, &format!("user:{id}"), now)
            .await?
            .map_err(PasswordError::from)?;
        drop(c);
        let ticket = self.core.passwords.admit()?;
        if self.check_password(ticket, tenant, Some(&user), password).await? {
            Ok(())
        } else if user.password_encrypted.is_none() {
            Err(UserError::NoPassword)
        } else {
            Err(UserError::PasswordMismatch)
        }
    }

    /// Whether `password` is `user`'s, for a caller that already took its place in the
    /// hashing queue. No user, no password, a digest beyond the cost bounds: false, after
    /// the same hash work as a wrong password. An imported or outdated hash is replaced by
    /// a fresh argon2id one on success (skipped, not failed, when the queue is full).
    pub async fn check_password(
        &self,
        ticket: passwords::HashTicket,
        tenant: &TenantId,
        user: Option<&StoredUser>,
        password: String,
    ) -> Result<bool> {
        let stored = user.and_then(|u| u.password_encrypted.clone().zip(u.password_encryption_method.clone()));
        if !self.core.passwords.verify(ticket, password.clone(), stored.clone()).await {
            return Ok(false);
        }
        let (Some(user), Some((digest, method))) = (user, stored) else { return Ok(false) };
        if self.core.passwords.needs_upgrade(&digest, &method) {
            let hash = match self.core.passwords.hash(password).await {
                Ok(hash) => hash,
                Err(PasswordError::Busy) => return Ok(true),
                Err(e) => return Err(e.into()),
            };
            let mut tx = self.core.store.begin().await?;
            let mut user = find(&mut tx, tenant, &user.id).await?;
            // Only if nobody changed the password meanwhile.
            if user.password_encrypted.as_deref() == Some(digest.as_str()) {
                user.password_encrypted = Some(hash);
                user.password_encryption_method = Some(STORED_METHOD.to_owned());
                store::update(&mut tx, &user).await?;
                tx.commit().await?;
            }
        }
        Ok(true)
    }

    pub async fn set_suspended(&self, tenant: &TenantId, id: &UserId, suspended: bool) -> Result<User> {
        let id = id.as_str();
        let user = self
            .modify(tenant, id, keys::USER_SUSPENSION_UPDATED, move |u| {
                u.is_suspended = suspended;
                Ok(json!({"isSuspended": suspended}))
            })
            .await?;
        if suspended {
            // Signed out everywhere at once; refresh tokens stop at their next use (suspension check).
            let mut c = self.core.store.conn().await?;
            kido_store::oidc::delete_user_sessions(&mut c, tenant, id).await?;
        }
        Ok(user)
    }

    pub async fn delete(&self, tenant: &TenantId, id: &UserId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(UserError::NotFound(id.to_owned()));
        }
        audit::record(&mut tx, tenant, keys::USER_DELETED, Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    // --- roles -------------------------------------------------------------------------

    pub async fn roles(
        &self,
        tenant: &TenantId,
        id: &UserId,
        search: Option<String>,
        page: Page,
    ) -> Result<(Vec<Role>, i64)> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, id).await?;
        let filter = kido_proto::roles::RoleFilter { user_id: Some(id.to_owned()), search, ..Default::default() };
        Ok(rows::page(role_store::list(&mut c, tenant, &filter, Some(page)).await?, rows::role))
    }

    /// Gives roles to a user; roles already held are skipped (`replace`: the user holds
    /// exactly these afterwards).
    pub async fn assign_roles(
        &self,
        tenant: &TenantId,
        id: &UserId,
        role_ids: &[RoleId],
        replace: bool,
    ) -> Result<AssignedRoles> {
        let id = id.as_str();
        let role_ids = validate::ids(role_ids, "roleIds", true).map_err(UserError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        find(&mut tx, tenant, id).await?;
        if replace {
            store::remove_all_roles(&mut tx, tenant, id).await?;
        }
        let held: HashSet<String> = store::role_ids(&mut tx, tenant, id).await?.into_iter().collect();
        let new: Vec<String> = role_ids.iter().filter(|r| !held.contains(*r)).cloned().collect();
        self.assign_checked(&mut tx, tenant, id, &new).await?;
        tx.commit().await?;
        Ok(AssignedRoles { role_ids, added_role_ids: new })
    }

    /// The one rule for giving roles to users: they must exist and be user roles.
    async fn assign_checked(&self, tx: &mut Tx, tenant: &TenantId, user_id: &str, role_ids: &[String]) -> Result<()> {
        let roles = role_store::find_many(tx, tenant, role_ids).await?;
        if let Some(missing) = role_ids.iter().find(|id| !roles.iter().any(|r| &r.id == *id)) {
            return Err(UserError::RoleNotFound(missing.clone()));
        }
        if roles.iter().any(|r| r.role_type != RoleType::User) {
            return Err(UserError::RoleNotForUsers);
        }
        store::assign_roles(tx, tenant, user_id, role_ids, clock::now_ms()).await?;
        audit::record(tx, tenant, keys::USER_ROLES_UPDATED, Some(user_id), json!({"addedRoleIds": role_ids})).await?;
        Ok(())
    }

    pub async fn remove_role(&self, tenant: &TenantId, id: &UserId, role_id: &RoleId) -> Result<()> {
        let (id, role_id) = (id.as_str(), role_id.as_str());
        let mut c = self.core.store.conn().await?;
        if !store::remove_role(&mut c, tenant, id, role_id).await? {
            return Err(UserError::RoleNotAssigned);
        }
        Ok(())
    }

    /// Users holding a role.
    pub async fn of_role(
        &self,
        tenant: &TenantId,
        role_id: &RoleId,
        search: UserSearch,
        page: Page,
    ) -> Result<(Vec<User>, i64)> {
        let role_id = role_id.as_str();
        let mut c = self.core.store.conn().await?;
        if role_store::find(&mut c, tenant, role_id).await?.is_none() {
            return Err(UserError::RoleNotFound(role_id.to_owned()));
        }
        let search = UserSearch { role_id: Some(role_id.to_owned()), ..search };
        let (rows, total) = store::list(&mut c, tenant, &search, Some(page)).await?;
        Ok((rows.into_iter().map(rows::user).collect(), total))
    }

    /// `POST /roles/{id}/users`: gives one role to several users.
    pub async fn add_to_role(&self, tenant: &TenantId, role_id: &RoleId, user_ids: &[UserId]) -> Result<()> {
        let role_id = role_id.as_str();
        let user_ids = validate::ids(user_ids, "userIds", false).map_err(UserError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        if role_store::find(&mut tx, tenant, role_id).await?.is_none() {
            return Err(UserError::RoleNotFound(role_id.to_owned()));
        }
        let role = [role_id.to_owned()];
        for user_id in &user_ids {
            if store::role_ids(&mut tx, tenant, user_id).await?.contains(&role[0]) {
                return Err(UserError::UserHasRole(user_id.clone()));
            }
        }
        for user_id in &user_ids {
            find(&mut tx, tenant, user_id).await?;
            self.assign_checked(&mut tx, tenant, user_id, &role).await.map_err(|e| match e {
                UserError::RoleNotForUsers => UserError::RoleTypeConstraint,
                other => other,
            })?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Social identities one user may hold, and the bounds of one.
const MAX_IDENTITIES: usize = 32;
const MAX_TARGET_LEN: usize = 128;
const MAX_IDENTITY_ID_LEN: usize = 256;
const MAX_IDENTITY_DETAILS_BYTES: usize = 16 * 1024;

/// A connector target and an identity as Logto takes them, bounded.
fn check_identity(target: &str, identity: &SocialIdentity) -> Result<()> {
    if target.is_empty() || target.len() > MAX_TARGET_LEN || target.chars().any(char::is_control) {
        return Err(UserError::Invalid(format!("`target` must be 1 to {MAX_TARGET_LEN} printable characters")));
    }
    if identity.user_id.is_empty() || identity.user_id.len() > MAX_IDENTITY_ID_LEN {
        return Err(UserError::Invalid(format!("`userId` must be 1 to {MAX_IDENTITY_ID_LEN} characters")));
    }
    let details = identity.details.as_ref().map_or(0, |d| Value::Object(d.clone()).to_string().len());
    if details > MAX_IDENTITY_DETAILS_BYTES {
        return Err(UserError::Invalid(format!("`details` must be at most {MAX_IDENTITY_DETAILS_BYTES} bytes")));
    }
    Ok(())
}

/// Brings `user_social_identities` in step with a change of `users.identities`: a target gone
/// or pointing elsewhere is unlinked, a new one linked; a provider account another user of
/// the tenant holds is `IdentityInUse` (the table's unique index decides, on every node).
async fn sync_identities(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    before: &Value,
    after: &Value,
) -> Result<()> {
    let id_of = |v: &Value, target: &str| v.get(target)?.get("userId")?.as_str().map(str::to_owned);
    let targets: std::collections::BTreeSet<&String> =
        before.as_object().into_iter().chain(after.as_object()).flat_map(|m| m.keys()).collect();
    for target in targets {
        let (old, new) = (id_of(before, target), id_of(after, target));
        if old == new {
            continue;
        }
        match new {
            Some(identity_id) => {
                identity_store::link(c, tenant, user_id, target, &identity_id).await.map_err(|e| match e {
                    StoreError::Conflict(name) if name == identity_store::IDENTITY_IN_USE => UserError::IdentityInUse,
                    e => e.into(),
                })?
            }
            None => {
                identity_store::unlink(c, tenant, user_id, target).await?;
            }
        }
    }
    Ok(())
}

async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredUser> {
    store::find(c, tenant, id).await?.ok_or_else(|| UserError::NotFound(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_start_with_a_letter_or_underscore_and_hold_word_characters() {
        assert!(check_username("alice_1").is_ok());
        assert!(check_username("_bob").is_ok());
        assert!(check_username("1alice").is_err());
        assert!(check_username("al-ice").is_err());
        assert!(check_username("").is_err());
        assert!(check_username(&"a".repeat(129)).is_err());
    }

    #[test]
    fn a_new_password_stamp_is_later_than_the_previous_one() {
        assert_eq!(next_password_stamp(None, 100), 100);
        assert_eq!(next_password_stamp(Some(50), 100), 100);
        // Two changes within one millisecond still differ.
        assert_eq!(next_password_stamp(Some(100), 100), 101);
    }
}
