//! Verification by a one-time token (a magic link the Management API issued for an email
//! address): `POST /api/experience/verification/one-time-token/verify`. The token is spent
//! here, once; the record it leaves proves the email for identification (sign-in of the user
//! holding it, or registration of it — even where registration is otherwise closed) and
//! carries the organizations the user joins at submit.

use kido_store::users::StoredUser;
use serde_json::json;

use super::{
    Experience, ExperienceError, ExperienceState, Identifier, IdentifierType, Interaction, InteractionCookie, Result,
    VerificationKind, VerificationRecord, blocked, event_of, sentinel,
};
use crate::interaction::audit_keys;
use crate::one_time_tokens::{self, OneTimeTokenError};
use crate::{TenantContext, clock, ids};

impl Experience<'_> {
    /// Spends `token`, which must have been issued for the email `identifier`; wrong tokens
    /// count towards the identifier's lockout as wrong codes do. Returns the verification id.
    pub async fn verify_one_time_token(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        token: &str,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let verified = self.verify_one_time_token_of(tenant, cookie, &mut interaction, identifier, token).await;
        if let Err(e) = &verified {
            self.report_sign_in(tenant, &interaction, None, Err(e));
        }
        verified
    }

    async fn verify_one_time_token_of(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        identifier: Identifier,
        token: &str,
    ) -> Result<String> {
        let event = event_of(interaction)?;
        if identifier.kind != IdentifierType::Email {
            return Err(ExperienceError::Invalid("`identifier.type` must be `email`".into()));
        }
        let sie = self.sign_in_experience(tenant).await?;
        let limits = sentinel::Limits::from(&sie.sentinel_policy);
        let key = sentinel::key(identifier.kind.as_str(), &identifier.value);
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        let attempt = match sentinel::begin(&mut c, &tenant.id, &key, limits, now).await? {
            Ok(attempt) => attempt,
            Err(until) => return Err(blocked(until, now)),
        };
        let id = ids::new_id();
        let kind = VerificationKind::OneTimeToken;
        let audit_key = audit_keys::verification_submit(event, kind);
        // Never the token itself: the entry names the email and the record.
        let mut details = json!({"identifier": identifier, "verificationId": id});
        let spent = one_time_tokens::consume(&mut c, &tenant.id, token, &identifier.value, now).await;
        let spent = match spent {
            Ok(row) => row,
            Err(OneTimeTokenError::Store(e)) => return Err(e.into()),
            Err(e) => {
                if let Some(map) = details.as_object_mut() {
                    map.insert("result".into(), "Error".into());
                    map.insert("error".into(), e.to_string().into());
                }
                self.audit(&mut c, tenant, interaction, &audit_key, None, details).await?;
                if let Some(until) = sentinel::failed(&mut c, &tenant.id, &key, attempt, limits, now).await? {
                    return Err(self.locked_out(tenant, interaction, None, until, now));
                }
                return Err(e.into());
            }
        };
        sentinel::not_a_failure(&mut c, &tenant.id, &key, attempt).await?;
        self.audit(&mut c, tenant, interaction, &audit_key, None, details).await?;
        drop(c);
        // One record of this kind at a time (Logto replaces it).
        interaction.state.verification_records.retain(|r| r.kind != kind);
        interaction.state.verification_records.push(VerificationRecord {
            id: id.clone(),
            kind,
            identifier: Identifier { kind: IdentifierType::Email, value: spent.email.clone() },
            verified: true,
            user_id: None,
            template: None,
            credential_stamp: None,
            password_encrypted: None,
            one_time_token_context: Some(one_time_tokens::context_of(&spent)),
        });
        self.save(tenant, interaction, cookie).await?;
        Ok(id)
    }
}

/// The organizations a verified one-time token of this interaction makes `user` join: only a
/// token issued for the user's own email counts.
/// Whether a submit of `state` may join organizations ([`token_organizations`] for some
/// user): a verified one-time token that names any.
pub(super) fn may_provision(state: &ExperienceState) -> bool {
    state.verification_records.iter().any(|r| {
        r.kind == VerificationKind::OneTimeToken
            && r.verified
            && r.one_time_token_context
                .as_ref()
                .and_then(|c| c.jit_organization_ids.as_ref())
                .is_some_and(|ids| !ids.is_empty())
    })
}

pub(super) fn token_organizations(state: &ExperienceState, user: &StoredUser) -> Vec<String> {
    let Some(email) = user.primary_email.as_deref() else { return Vec::new() };
    state
        .verification_records
        .iter()
        .filter(|r| r.kind == VerificationKind::OneTimeToken && r.verified)
        .filter(|r| r.identifier.value.eq_ignore_ascii_case(email))
        .filter_map(|r| r.one_time_token_context.as_ref()?.jit_organization_ids.clone())
        .flatten()
        .collect()
}
