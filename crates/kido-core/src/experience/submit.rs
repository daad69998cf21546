//! `POST /api/experience/submit`: the end of an interaction.

use kido_proto::UserId;
use kido_proto::sign_in_experience::SignInExperience;
use kido_store::Exec;
use kido_store::users::{self as user_store, StampWhen, StoredUser};
use serde_json::json;

use super::one_time_token::{may_provision, token_organizations};
use super::{
    Experience, ExperienceError, ExperienceState, Interaction, InteractionCookie, InteractionEvent, LoginResult,
    Result, allow_sign_in, event_of, resume_url, saved,
};
use crate::interaction::{audit_keys, rules, store as interactions};
use crate::organizations::jit;
use crate::users::UserError;
use crate::{TenantContext, clock};

/// An audit entry written with the submit, in its transaction.
#[derive(Clone)]
pub(super) struct AuditEntry {
    pub key: String,
    pub details: serde_json::Value,
}

impl Experience<'_> {
    /// Finishes; returns where the browser goes next (`{issuer}/auth/{uid}`, which
    /// redirects to the client with a code), or nothing after a password reset (the user
    /// signs in again with the new password).
    pub async fn submit(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<Option<String>> {
        let mut interaction = self.load(tenant, cookie).await?;
        let sie = self.sign_in_experience(tenant).await?;
        self.finish(tenant, cookie, &mut interaction, &sie, None).await
    }

    /// The submit step on a loaded interaction. `earlier` is an audit entry of an earlier
    /// step of the same request, written with the submit's save. The user is read by the
    /// statement that records the sign-in (and checked before anything else is written).
    /// Saves the interaction (once).
    pub(super) async fn finish(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        sie: &SignInExperience,
        earlier: Option<AuditEntry>,
    ) -> Result<Option<String>> {
        let event = event_of(interaction)?;
        let user_id = interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)?;
        rules::mode_allows_in(sie, event, &interaction.state)?;
        if event == InteractionEvent::ForgotPassword {
            return self.finish_reset(tenant, cookie, interaction, &user_id).await.map(|()| None);
        }
        rules::terms_satisfied(sie, event, interaction.state.terms_agreed)?;
        let user = if self.mfa_settles(sie) || may_provision(&interaction.state) {
            // Factors bound, organizations joined and the sign-in saved commit together (a
            // second factor still asked for rolls all of it back).
            let mut tx = self.core.store.begin().await?;
            let user = self.stamp_sign_in(&mut tx, tenant, interaction, sie).await?;
            let organizations = token_organizations(&interaction.state, &user);
            if !organizations.is_empty() {
                jit::provision_by_one_time_token(&mut tx, &tenant.id, &user.id, &organizations).await?;
            }
            self.save_result(&mut tx, tenant, cookie, interaction, earlier).await?;
            tx.commit().await?;
            user
        } else {
            // Two single-statement writes: the stamp is conditional (a refused sign-in leaves
            // none), so no transaction is needed. A save that then finds the interaction
            // moved by a parallel request leaves the stamp of a sign-in it did not finish.
            let mut c = self.core.store.conn().await?;
            let user = self.stamp_sign_in(&mut c, tenant, interaction, sie).await?;
            self.save_result(&mut c, tenant, cookie, interaction, earlier).await?;
            user
        };
        self.report_sign_in(tenant, interaction, Some(&user.id), Ok(()));
        Ok(Some(resume_url(tenant, &interaction.id)))
    }

    /// The last sign-in stamped if the user may sign in (checked on the row that statement
    /// returns), then the second factor settled. Returns the user.
    async fn stamp_sign_in(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        interaction: &Interaction,
        sie: &SignInExperience,
    ) -> Result<StoredUser> {
        let user_id = interaction.state.user_id.as_deref().ok_or(ExperienceError::IdentifierNotFound)?;
        let when = StampWhen::Allowed { password_stamp: interaction.state.credential_stamp };
        let user = user_store::set_last_sign_in(c, &tenant.id, user_id, clock::now_ms(), when)
            .await?
            .ok_or(ExperienceError::UserNotExist)?;
        allow_sign_in(&user)?;
        rules::credentials_unchanged(interaction.state.credential_stamp, &user)?;
        self.settle_mfa(c, tenant, sie, interaction, &user).await?;
        Ok(user)
    }

    /// Saves the interaction signed in, with the submit's audit entries (and `earlier`).
    async fn save_result(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        earlier: Option<AuditEntry>,
    ) -> Result<()> {
        let event = event_of(interaction)?;
        let user_id = interaction.state.user_id.clone().ok_or(ExperienceError::IdentifierNotFound)?;
        let now = clock::now_ms();
        let mut logs = Vec::with_capacity(2);
        if let Some(entry) = earlier {
            logs.push(self.audit_entry(tenant, interaction, &entry.key, Some(&user_id), entry.details));
        }
        logs.push(self.audit_entry(tenant, interaction, &audit_keys::submit(event), Some(&user_id), json!({})));
        interaction.state.result = Some(LoginResult { account_id: user_id, login_ts: now / 1000 });
        saved(interactions::save(c, &tenant.id, interaction, cookie, &logs).await?)
    }

    /// Stores the new password, signs the user out everywhere, and leaves the interaction
    /// ready for a fresh sign-in.
    async fn finish_reset(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        user_id: &str,
    ) -> Result<()> {
        let hash = interaction.state.profile.password_encrypted.clone().ok_or(ExperienceError::NewPasswordRequired)?;
        self.core.users().reset_password(&tenant.id, &UserId::new(user_id), hash).await.map_err(|e| match e {
            UserError::NotFound(_) => ExperienceError::UserNotExist,
            other => ExperienceError::Internal(other.to_string()),
        })?;
        // Written at once: the password is reset whether or not the save below finds the
        // interaction still there.
        let mut c = self.core.store.conn().await?;
        let key = audit_keys::submit(InteractionEvent::ForgotPassword);
        self.audit(&mut c, tenant, interaction, &key, Some(user_id), json!({})).await?;
        drop(c);
        interaction.state = ExperienceState::default();
        self.save(tenant, interaction, cookie).await
    }
}
