//! Passkey sign-in: a passkey as the first factor. A ceremony is begun either anonymously
//! (`preflight`: a discoverable-credential ceremony whose challenge sits beside the
//! interaction's state, so the browser's passkey autofill can run before the sign-in
//! starts) or for the passkeys of an identifier's user; its answer is checked as the MFA
//! path checks one (`passkey_of`, `check_assertion`: user handle, UV, signature, counter
//! moving forward; wrong answers count in the user's second-factor sentinel) and ends in a
//! verified record that identifies its user and proves a second factor.

use kido_proto::webauthn::{AuthenticationOptions, AuthenticationPayload};
use kido_store::mfa_verifications as mfa_store;
use kido_store::users as user_store;
use serde_json::json;

use super::webauthn::failed;
use super::{Experience, ExperienceError, Identifier, Interaction, InteractionCookie, Result, event_of};
use crate::interaction::audit_keys;
use crate::interaction::passkey::{PasskeyChallenge, SignInPasskeyRecord};
use crate::interaction::store as interactions;
use crate::mfa::{self as factors, webauthn};
use crate::{TenantContext, clock, ids, rate_limits};

fn new_challenge(now: i64) -> Result<PasskeyChallenge> {
    let challenge = webauthn::new_challenge().ok_or_else(|| ExperienceError::Internal("no randomness".into()))?;
    Ok(PasskeyChallenge { challenge, expires_at: now + webauthn::CHALLENGE_TTL_MS })
}

/// Passkey sign-in must be on (Logto answers `user.sign_in_method_not_enabled`).
pub(super) fn check_enabled(sie: &kido_proto::sign_in_experience::SignInExperience) -> Result<()> {
    if sie.passkey_sign_in.enabled { Ok(()) } else { Err(ExperienceError::SignInMethodNotEnabled) }
}

impl Experience<'_> {
    /// Counts a ceremony begun from `ip` against the address's limit.
    async fn limit_ceremonies(&self, c: &mut kido_store::Conn, tenant: &TenantContext, ip: Option<&str>) -> Result<()> {
        match rate_limits::hit_passkey_ceremony(c, &tenant.id, ip, clock::now_ms()).await? {
            Ok(()) => Ok(()),
            Err(limited) => Err(ExperienceError::TooManyRequests { retry_after_secs: limited.retry_after_secs }),
        }
    }

    /// `POST /preflight/sign-in-passkey/authentication`: options for a discoverable-credential
    /// ceremony (no credentials listed), its challenge put on the caller's interaction in
    /// place of any earlier one (one statement; the state is neither read nor written).
    pub async fn passkey_preflight(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        ip: Option<&str>,
    ) -> Result<AuthenticationOptions> {
        check_enabled(&self.sign_in_experience(tenant).await?)?;
        let rp = super::mfa::relying_party(tenant)?;
        if cookie.current().is_none() {
            return Err(ExperienceError::SessionNotFound);
        }
        let mut c = self.core.store.conn().await?;
        self.limit_ceremonies(&mut c, tenant, ip).await?;
        let ceremony = new_challenge(clock::now_ms())?;
        if !interactions::set_passkey_challenge(&mut c, &tenant.id, cookie, &ceremony).await? {
            return Err(ExperienceError::SessionNotFound);
        }
        Ok(webauthn::authentication_options(&rp, &ceremony.challenge, &[], webauthn::UV_PREFERRED))
    }

    /// `POST /verification/sign-in-passkey/authentication {identifier}`: options listing the
    /// passkeys of the identifier's user (none: `WebAuthnNotFound`; no such user:
    /// `UserNotExist`, as Logto answers), kept as the interaction's passkey record.
    pub async fn passkey_authentication(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        ip: Option<&str>,
    ) -> Result<(String, AuthenticationOptions)> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let sie = self.sign_in_experience(tenant).await?;
        check_enabled(&sie)?;
        let rp = super::mfa::relying_party(tenant)?;
        let identifier = identifier.canonical();
        let mut c = self.core.store.conn().await?;
        self.limit_ceremonies(&mut c, tenant, ip).await?;
        let usernames = crate::users::username_case(&sie);
        let user =
            user_store::find_by_identifier(&mut c, &tenant.id, identifier.kind.store(), &identifier.value, usernames)
                .await?
                .ok_or(ExperienceError::UserNotExist)?;
        let bound = mfa_store::list(&mut c, &tenant.id, &user.id).await?;
        let allowed: Vec<_> = factors::webauthn_credentials(&bound).into_iter().map(|(_, c)| c).collect();
        if allowed.is_empty() {
            return Err(ExperienceError::WebAuthnNotFound);
        }
        let ceremony = new_challenge(clock::now_ms())?;
        let options = webauthn::authentication_options(&rp, &ceremony.challenge, &allowed, webauthn::UV_REQUIRED);
        let id = ids::new_id();
        let record = SignInPasskeyRecord {
            id: id.clone(),
            user_id: user.id.clone(),
            challenge: Some(ceremony),
            verified: false,
        };
        interaction.state.sign_in_passkey = Some(record);
        let key = audit_keys::sign_in_passkey_verification(event, true);
        self.audit(&mut c, tenant, &interaction, &key, Some(&user.id), json!({"verificationId": id})).await?;
        drop(c);
        self.save(tenant, &interaction, cookie).await?;
        Ok((id, options))
    }

    /// `POST /verification/sign-in-passkey/authentication/verify {verificationId?, payload}`:
    /// the answer to the identifier ceremony `verification_id` (its challenge spent whatever
    /// the outcome), or without it to the preflight ceremony (its challenge spent by one
    /// conditional statement), the user then resolved from the credential. A passkey of
    /// another user than the one identified is `IdentityConflict`.
    pub async fn verify_passkey_sign_in(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: Option<&str>,
        payload: &AuthenticationPayload,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        check_enabled(&self.sign_in_experience(tenant).await?)?;
        let rp = super::mfa::relying_party(tenant)?;
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        let (record_id, expected_user, challenge) = match verification_id {
            Some(id) => {
                let record = interaction.state.sign_in_passkey.as_mut().filter(|r| r.id == id && !r.verified);
                let record = record.ok_or(ExperienceError::VerificationNotFound)?;
                let challenge = record.take_challenge(now);
                (id.to_owned(), Some(record.user_id.clone()), challenge)
            }
            None => (ids::new_id(), None, self.take_preflight(&mut c, tenant, &interaction, now).await?),
        };
        let key = audit_keys::sign_in_passkey_verification(event, false);
        let checked = match challenge {
            None => Err(ExperienceError::MfaPendingInfoNotFound),
            Some(challenge) => {
                self.check_sign_in_assertion(
                    &mut c,
                    tenant,
                    &interaction,
                    &rp,
                    expected_user.as_deref(),
                    &challenge,
                    payload,
                    &key,
                )
                .await
            }
        };
        let checked = checked.and_then(|user_id| match &interaction.state.user_id {
            Some(identified) if *identified != user_id => Err(ExperienceError::IdentityConflict),
            _ => Ok(user_id),
        });
        if let Ok(user_id) = &checked {
            let details = json!({"verificationId": record_id});
            self.audit(&mut c, tenant, &interaction, &key, Some(user_id), details).await?;
            let record = SignInPasskeyRecord {
                id: record_id.clone(),
                user_id: user_id.clone(),
                challenge: None,
                verified: true,
            };
            interaction.state.sign_in_passkey = Some(record);
        }
        drop(c);
        // The preflight's challenge was spent in its own statement: a failure there left the state as it was.
        if checked.is_ok() || verification_id.is_some() {
            self.save(tenant, &interaction, cookie).await?;
        }
        checked.map(|_| record_id)
    }

    /// The preflight ceremony's challenge, spent (`None` when there is none, another answer
    /// spent it first, or it expired).
    async fn take_preflight(
        &self,
        c: &mut kido_store::Conn,
        tenant: &TenantContext,
        interaction: &Interaction,
        now: i64,
    ) -> Result<Option<String>> {
        let Some(pending) = &interaction.passkey_challenge else { return Ok(None) };
        let taken = interactions::take_passkey_challenge(c, &tenant.id, &interaction.id, &pending.challenge).await?;
        Ok((taken && pending.live(now)).then(|| pending.challenge.clone()))
    }

    /// Checks an answer to `challenge` by a passkey (of `expected_user`, or anyone's): its
    /// user, once the assertion verifies. Wrong answers by a known passkey count in its
    /// user's second-factor sentinel; every wrong answer is audited and reported.
    #[allow(clippy::too_many_arguments)]
    async fn check_sign_in_assertion(
        &self,
        c: &mut kido_store::Conn,
        tenant: &TenantContext,
        interaction: &Interaction,
        rp: &webauthn::RelyingParty,
        expected_user: Option<&str>,
        challenge: &str,
        payload: &AuthenticationPayload,
        key: &str,
    ) -> Result<String> {
        let passkey = match self.passkey_of(c, tenant, payload, expected_user).await? {
            Ok(passkey) => passkey,
            Err(e) => {
                // No passkey of that user: nobody's sentinel to count in.
                let wrong = failed(e);
                let details = json!({"result": "Error", "error": wrong.to_string()});
                self.audit(c, tenant, interaction, key, expected_user, details).await?;
                self.report_sign_in(tenant, interaction, expected_user, Err(&wrong));
                return Err(wrong);
            }
        };
        let user_id = passkey.0.user_id.clone();
        let attempt = self.begin_mfa_attempt(c, tenant, &user_id).await?;
        let outcome = self.check_assertion(c, tenant, rp, &passkey, challenge, payload).await?;
        let wrong = outcome.clone().err().map(failed).unwrap_or(ExperienceError::VerificationFailed);
        self.end_mfa_attempt(c, tenant, interaction, &user_id, attempt, outcome.is_ok(), wrong, key).await?;
        Ok(user_id)
    }
}
