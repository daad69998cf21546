//! The user's own profile through the Account API: what the token's scopes and the account
//! center let them read, and the changes they may make (name, avatar, username, custom data,
//! profile claims, password, primary email and phone), each under Logto's switches, scope
//! gates and proofs, in Logto's order. The changes themselves are `Users`'.

use kido_proto::account::{AccountProfile, UpdateAccount};
use kido_proto::sign_in_experience::SignUpIdentifier;
use kido_proto::users::{UpdateUser, User, UserProfile};

use super::caller::{AccountCaller, scopes};
use super::center::{readable, require_edit};
use super::error::{AccountError, Result};
use super::record_kind::RecordKind;
use super::records::verified_identifier;
use super::service::Account;
use crate::{TenantContext, identifiers, rows, users};

impl Account<'_> {
    /// `GET /api/my-account`: the fields the scopes grant and the account center shows.
    pub async fn profile(&self, caller: &AccountCaller) -> Result<AccountProfile> {
        Ok(scoped_profile(&rows::user(caller.user.clone()), caller))
    }

    /// `PATCH /api/my-account`.
    pub async fn update_account(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        update: UpdateAccount,
    ) -> Result<AccountProfile> {
        let fields = &caller.center.fields;
        for (given, field) in [
            (update.name.is_some(), fields.name),
            (update.avatar.is_some(), fields.avatar),
            (update.username.is_some(), fields.username),
            (update.custom_data.is_some(), fields.custom_data),
        ] {
            if given {
                require_edit(field)?;
            }
        }
        caller.require_scope(scopes::PROFILE, false)?;
        if update.custom_data.is_some() {
            caller.require_scope(scopes::CUSTOM_DATA, false)?;
        }
        if let Some(username) = &update.username {
            caller.require_verified()?;
            if username.is_none() {
                users::require_identifier_left(&caller.user, |u| u.username = None)?;
            }
        }
        self.require_first_party(tenant, &caller.client_id).await?;
        let patch = UpdateUser {
            name: update.name,
            avatar: update.avatar,
            username: update.username,
            custom_data: update.custom_data,
            ..UpdateUser::default()
        };
        let user = self.core.users().update(&tenant.id, &caller.user_id(), patch).await?;
        Ok(scoped_profile(&user, caller))
    }

    /// `PATCH /api/my-account/profile`: the given claims merged into the profile.
    pub async fn update_profile(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        profile: UserProfile,
    ) -> Result<UserProfile> {
        require_edit(caller.center.fields.profile)?;
        caller.require_scope(scopes::PROFILE, false)?;
        if profile.address.is_some() {
            caller.require_scope(scopes::ADDRESS, false)?;
        }
        self.require_first_party(tenant, &caller.client_id).await?;
        let mut merged = self.core.users().update_profile(&tenant.id, &caller.user_id(), profile).await?;
        if !caller.has_scope(scopes::ADDRESS) {
            merged.address = None;
        }
        Ok(merged)
    }

    /// `POST /api/my-account/password`: a new password under the tenant's policy. A user with
    /// a password, email or phone proves who they are first; a user with none of them (an
    /// account from a social sign-in) sets an initial password without.
    pub async fn set_password(&self, tenant: &TenantContext, caller: &AccountCaller, password: String) -> Result<()> {
        let user = &caller.user;
        if user.password_encrypted.is_some() || user.primary_email.is_some() || user.primary_phone.is_some() {
            caller.require_verified()?;
        }
        require_edit(caller.center.fields.password)?;
        self.require_first_party(tenant, &caller.client_id).await?;
        let issues = self
            .core
            .sign_in_experiences()
            .check_password(&tenant.id, &password, Some(&user.id))
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))?;
        if !issues.is_empty() {
            return Err(AccountError::PasswordRejected(issues));
        }
        self.core.users().set_password(&tenant.id, &caller.user_id(), password).await?;
        Ok(())
    }

    /// `POST /api/my-account/primary-email`: an address proven by a code record of this user.
    pub async fn set_primary_email(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        email: &str,
        record_id: &str,
    ) -> Result<()> {
        caller.require_verified()?;
        require_edit(caller.center.fields.email)?;
        caller.require_scope(scopes::EMAIL, false)?;
        if !identifiers::is_email(email) {
            return Err(AccountError::Invalid("`email` is not a valid email address".into()));
        }
        let record = self.record(tenant, caller, record_id, RecordKind::EmailVerificationCode).await?;
        if !verified_identifier(&record).is_some_and(|v| v.eq_ignore_ascii_case(email)) {
            return Err(AccountError::RecordNotFound);
        }
        self.require_first_party(tenant, &caller.client_id).await?;
        let patch = UpdateUser { primary_email: Some(Some(email.to_owned())), ..UpdateUser::default() };
        self.core.users().update(&tenant.id, &caller.user_id(), patch).await?;
        Ok(())
    }

    /// `POST /api/my-account/primary-phone`: a number proven by a code record of this user.
    pub async fn set_primary_phone(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        phone: &str,
        record_id: &str,
    ) -> Result<()> {
        caller.require_verified()?;
        require_edit(caller.center.fields.phone)?;
        caller.require_scope(scopes::PHONE, false)?;
        let phone = identifiers::normalize_phone(phone)
            .filter(|p| identifiers::is_phone(p))
            .ok_or_else(|| AccountError::Invalid("`phone` is not a valid phone number".into()))?;
        let record = self.record(tenant, caller, record_id, RecordKind::PhoneVerificationCode).await?;
        if verified_identifier(&record) != Some(phone.as_str()) {
            return Err(AccountError::RecordNotFound);
        }
        self.require_first_party(tenant, &caller.client_id).await?;
        let patch = UpdateUser { primary_phone: Some(Some(phone)), ..UpdateUser::default() };
        self.core.users().update(&tenant.id, &caller.user_id(), patch).await?;
        Ok(())
    }

    /// `DELETE /api/my-account/primary-email` (`phone: false`) or `…/primary-phone`: not while
    /// the sign-up needs it and the user has no other of the two.
    pub async fn remove_primary_identifier(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        phone: bool,
    ) -> Result<()> {
        caller.require_verified()?;
        let fields = &caller.center.fields;
        require_edit(if phone { fields.phone } else { fields.email })?;
        caller.require_scope(if phone { scopes::PHONE } else { scopes::EMAIL }, false)?;
        self.require_first_party(tenant, &caller.client_id).await?;
        let sie =
            self.core.sign_in_experiences().get(&tenant.id).await.map_err(|e| AccountError::Internal(e.to_string()))?;
        let needs = |i: SignUpIdentifier| sie.sign_up.identifiers.contains(&i);
        let (this, other) = if phone {
            (SignUpIdentifier::Phone, SignUpIdentifier::Email)
        } else {
            (SignUpIdentifier::Email, SignUpIdentifier::Phone)
        };
        if needs(this) {
            if !needs(other) {
                return Err(if phone { AccountError::PhoneRequired } else { AccountError::EmailRequired });
            }
            let has_other =
                if phone { caller.user.primary_email.is_some() } else { caller.user.primary_phone.is_some() };
            if !has_other {
                return Err(AccountError::EmailOrPhoneRequired);
            }
        }
        users::require_identifier_left(&caller.user, |u| {
            if phone { u.primary_phone = None } else { u.primary_email = None }
        })?;
        let patch = if phone {
            UpdateUser { primary_phone: Some(None), ..UpdateUser::default() }
        } else {
            UpdateUser { primary_email: Some(None), ..UpdateUser::default() }
        };
        self.core.users().update(&tenant.id, &caller.user_id(), patch).await?;
        Ok(())
    }
}

/// The profile as the scopes grant it (Logto's `getScopedProfile`), then as the account
/// center shows it (`getAccountCenterFilteredProfile`).
fn scoped_profile(user: &User, caller: &AccountCaller) -> AccountProfile {
    let fields = &caller.center.fields;
    let scope = |s: &str| caller.has_scope(s);
    let shown = |granted: bool, field| granted && readable(field);
    let profile_scope = scope(scopes::PROFILE);
    let mut profile = user.profile.clone();
    if !scope(scopes::ADDRESS) {
        profile.address = None;
    }
    AccountProfile {
        id: user.id.clone(),
        username: shown(profile_scope, fields.username).then(|| user.username.clone()),
        primary_email: shown(scope(scopes::EMAIL), fields.email).then(|| user.primary_email.clone()),
        primary_phone: shown(scope(scopes::PHONE), fields.phone).then(|| user.primary_phone.clone()),
        name: shown(profile_scope, fields.name).then(|| user.name.clone()),
        avatar: shown(profile_scope, fields.avatar).then(|| user.avatar.clone()),
        custom_data: shown(scope(scopes::CUSTOM_DATA), fields.custom_data).then(|| user.custom_data.clone()),
        identities: shown(scope(scopes::IDENTITIES), fields.social).then(|| user.identities.clone()),
        profile: shown(profile_scope, fields.profile).then_some(profile),
        last_sign_in_at: profile_scope.then_some(user.last_sign_in_at),
        created_at: profile_scope.then_some(user.created_at),
        updated_at: profile_scope.then_some(user.updated_at),
        application_id: profile_scope.then(|| user.application_id.clone()),
        is_suspended: profile_scope.then_some(user.is_suspended),
        has_password: shown(profile_scope, fields.password).then_some(user.has_password),
    }
}
