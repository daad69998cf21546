//! `POST /api/experience/verification/password`: an identifier and its password.

use kido_proto::sign_in_experience::SignInExperience;
use kido_store::oidc::UserOf;
use kido_store::users::{self as user_store, StoredUser};

use super::{
    Experience, ExperienceError, Identifier, Interaction, InteractionCookie, Result, allow_sign_in, blocked, event_of,
    sentinel,
};
use crate::interaction::store as interactions;
use crate::interaction::{VerificationKind, VerificationRecord, rules};
use crate::passwords::PasswordError;
use crate::sign_in_experience::password_policy;
use crate::users::credential_stamp;
use crate::{TenantContext, clock, ids};

/// One password check's input. `account` is the user the identifier names when it was
/// already read with the interaction (`Some(None)`: no one has it); `None` reads it.
pub(super) struct PasswordAttempt<'a> {
    pub identifier: Identifier,
    pub password: String,
    pub ip: Option<&'a str>,
    pub account: Option<Option<StoredUser>>,
}

impl Experience<'_> {
    /// Checks an identifier and password; returns the verification record's id.
    pub async fn verify_password(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        password: String,
        ip: Option<&str>,
    ) -> Result<String> {
        password_policy::check_length(&password).map_err(ExperienceError::PasswordLength)?;
        let sie = self.sign_in_experience(tenant).await?;
        let identifier = identifier.canonical();
        // The interaction and the account its identifier names, by one statement.
        let mut c = self.core.store.conn().await?;
        let usernames = crate::users::username_case(&sie);
        let account = UserOf::Identifier(identifier.kind.store(), &identifier.value, usernames);
        let loaded = interactions::load_with_user(&mut c, &tenant.id, cookie, account).await?;
        drop(c);
        let (mut interaction, user) = loaded.ok_or(ExperienceError::SessionNotFound)?;
        event_of(&interaction)?;
        let attempt = PasswordAttempt { identifier, password, ip, account: Some(user) };
        let (id, _) = self.check_password(tenant, &mut interaction, &sie, attempt).await?;
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }

    /// The password step on a loaded interaction (its length already checked): records a
    /// verified password record and returns its id and the user (read once, passed on to
    /// the next steps).
    ///
    /// In order, each step before any costlier one: the rate limits per client IP and per
    /// identifier (429), a place in the hashing queue (503), an attempt reserved in the
    /// sentinel's window (locked: 400), then exactly one hash, whether or not the account
    /// exists, has a password or is suspended; unknown accounts and wrong passwords get the
    /// same answer after the same work.
    pub(super) async fn check_password(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        attempt: PasswordAttempt<'_>,
    ) -> Result<(String, StoredUser)> {
        let mut account = None;
        let checked = self.check_password_of(tenant, interaction, sie, attempt, &mut account).await;
        if let Err(e) = &checked {
            self.report_sign_in(tenant, interaction, account.as_deref(), Err(e));
        }
        checked
    }

    /// [`Self::check_password`] without the report; `account` is the id of the account the
    /// identifier names, once it is known (the failure's report names it).
    async fn check_password_of(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        attempt: PasswordAttempt<'_>,
        account: &mut Option<String>,
    ) -> Result<(String, StoredUser)> {
        let PasswordAttempt { identifier, password, ip, account: read } = attempt;
        let identifier = identifier.canonical();
        if !rules::password_sign_in_enabled(sie, identifier.kind) {
            return Err(ExperienceError::SignInMethodNotEnabled);
        }
        let limits = sentinel::Limits::from(&sie.sentinel_policy);
        let key = sentinel::key(identifier.kind.as_str(), &identifier.value);
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        self.core.password_rate_limits.hit(&mut c, &tenant.id, ip, &key, now).await?.map_err(PasswordError::from)?;
        let ticket = self.core.passwords.admit()?;
        let attempt = match sentinel::begin(&mut c, &tenant.id, &key, limits, now).await? {
            Ok(attempt) => attempt,
            Err(until) => return Err(blocked(until, now)),
        };
        let user = match read {
            Some(user) => user,
            None => {
                let (kind, usernames) = (identifier.kind.store(), crate::users::username_case(sie));
                user_store::find_by_identifier(&mut c, &tenant.id, kind, &identifier.value, usernames).await?
            }
        };
        drop(c);
        account.clone_from(&user.as_ref().map(|u| u.id.clone()));
        let verified = self
            .core
            .users()
            .check_password(ticket, &tenant.id, user.as_ref(), password)
            .await
            .map_err(|e| ExperienceError::Internal(e.to_string()))?;
        let mut c = self.core.store.conn().await?;
        let Some(user) = user.filter(|_| verified) else {
            if let Some(until) = sentinel::failed(&mut c, &tenant.id, &key, attempt, limits, now).await? {
                return Err(self.locked_out(tenant, interaction, account.as_deref(), until, now));
            }
            return Err(ExperienceError::InvalidCredentials);
        };
        sentinel::not_a_failure(&mut c, &tenant.id, &key, attempt).await?;
        drop(c);
        allow_sign_in(&user)?;
        let id = ids::new_id();
        interaction.state.verification_records.push(VerificationRecord {
            id: id.clone(),
            kind: VerificationKind::Password,
            identifier,
            verified: true,
            user_id: Some(user.id.clone()),
            template: None,
            credential_stamp: Some(credential_stamp(&user)),
            password_encrypted: None,
            one_time_token_context: None,
        });
        Ok((id, user))
    }
}
