//! Passkeys (WebAuthn) as a second factor in a sign-in: registering one for the identified
//! user (bound at submit through `POST /profile/mfa`), and proving one they have bound. Each
//! ceremony's challenge is kept in the interaction and answered once; wrong assertions count
//! in the user's second-factor sentinel, as wrong TOTP codes do.

use kido_proto::sign_in_experience::MfaFactor;
use kido_proto::webauthn::{AuthenticationOptions, AuthenticationPayload, RegistrationOptions, RegistrationPayload};
use kido_store::mfa_verifications::{self as mfa_store, StoredMfaVerification};
use kido_store::users as user_store;
use serde_json::json;

use super::{Experience, ExperienceError, Interaction, InteractionCookie, InteractionEvent, Result, event_of};
use crate::interaction::audit_keys;
use crate::interaction::mfa::{MfaRecord, WebAuthnCeremony};
use crate::mfa::webauthn::{self, Credential, RelyingParty, UserInfo, WebAuthnError};
use crate::mfa::{self as factors, account_name, display_name};
use crate::{TenantContext, clock, ids};

/// The longest User-Agent kept with a passkey (characters).
const MAX_AGENT_CHARS: usize = 256;

pub(super) fn failed(e: WebAuthnError) -> ExperienceError {
    ExperienceError::WebAuthnFailed(e.to_string())
}

/// A User-Agent, cut to a bounded length.
fn bounded_agent(agent: Option<&str>) -> Option<String> {
    agent.map(|a| a.chars().take(MAX_AGENT_CHARS).collect())
}

impl Experience<'_> {
    /// A new ceremony record for the identified user, with a fresh challenge.
    fn new_ceremony(user_id: &str, registration: bool) -> Result<(MfaRecord, String)> {
        let challenge = webauthn::new_challenge().ok_or_else(|| ExperienceError::Internal("no randomness".into()))?;
        let mut record = MfaRecord::proof(&ids::new_id(), MfaFactor::WebAuthn, user_id);
        record.verified = false;
        record.webauthn = Some(WebAuthnCeremony {
            registration,
            challenge: Some(challenge.clone()),
            expires_at: clock::now_ms() + webauthn::CHALLENGE_TTL_MS,
            credential: None,
            agent: None,
        });
        Ok((record, challenge))
    }

    /// Keeps a new ceremony in the interaction (audited as its `Create`) and saves; its id.
    async fn keep_ceremony(
        &self,
        mut c: kido_store::Conn,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        event: InteractionEvent,
        record: MfaRecord,
    ) -> Result<String> {
        let (id, user_id) = (record.id.clone(), record.user_id.clone());
        interaction.state.mfa.put(record);
        let key = audit_keys::mfa_verification(event, MfaFactor::WebAuthn, true);
        self.audit(&mut c, tenant, interaction, &key, Some(&user_id), json!({"verificationId": id})).await?;
        drop(c);
        self.save(tenant, interaction, cookie).await?;
        Ok(id)
    }

    /// `POST /verification/web-authn/registration`: the options to create a passkey for the
    /// identified user (their passkeys excluded).
    pub async fn webauthn_registration(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
    ) -> Result<(String, RegistrationOptions)> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = super::mfa::identified(&interaction)?;
        let rp = super::mfa::relying_party(tenant)?;
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, &user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        let bound = mfa_store::list(&mut c, &tenant.id, &user_id).await?;
        let existing: Vec<_> = factors::webauthn_credentials(&bound).into_iter().map(|(_, c)| c).collect();
        let (record, challenge) = Self::new_ceremony(&user_id, true)?;
        let (name, display) = (account_name(&user), display_name(&user));
        let info = UserInfo { id: &user_id, name: &name, display_name: &display };
        let options = webauthn::registration_options(&rp, &info, &challenge, &existing);
        let id = self.keep_ceremony(c, tenant, cookie, &mut interaction, event, record).await?;
        Ok((id, options))
    }

    /// `POST /verification/web-authn/registration/verify`: checks the new passkey against the
    /// registration's challenge (spent by this call, whatever its outcome); the passkey waits
    /// in the interaction to be bound.
    pub async fn verify_webauthn_registration(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: &str,
        payload: &RegistrationPayload,
        agent: Option<&str>,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = super::mfa::identified(&interaction)?;
        let rp = super::mfa::relying_party(tenant)?;
        let record = interaction.state.mfa.record(MfaFactor::WebAuthn, verification_id);
        let registering = |r: &&MfaRecord| r.user_id == user_id && r.webauthn.as_ref().is_some_and(|w| w.registration);
        let mut record = record.filter(registering).ok_or(ExperienceError::VerificationNotFound)?.clone();
        let challenge = record.webauthn.as_mut().and_then(|w| w.take_challenge(clock::now_ms()));
        let challenge = challenge.ok_or(ExperienceError::MfaPendingInfoNotFound)?;
        let mut c = self.core.store.conn().await?;
        let checked = match webauthn::verify_registration(&rp, &challenge, payload, false) {
            Ok(credential) if self.core.mfa().passkey_in_use(&mut c, &tenant.id, &credential.credential_id).await? => {
                Err(ExperienceError::WebAuthnFailed("this passkey is already registered".into()))
            }
            Ok(credential) => Ok(credential),
            Err(e) => Err(failed(e)),
        };
        let key = audit_keys::mfa_verification(event, MfaFactor::WebAuthn, false);
        if let (Ok(credential), Some(ceremony)) = (&checked, record.webauthn.as_mut()) {
            ceremony.credential = Some(credential.clone());
            ceremony.agent = bounded_agent(agent);
            record.verified = true;
            self.audit(&mut c, tenant, &interaction, &key, Some(&user_id), json!({"verificationId": verification_id}))
                .await?;
        }
        drop(c);
        interaction.state.mfa.put(record);
        self.save(tenant, &interaction, cookie).await?;
        checked.map(|_| verification_id.to_owned())
    }

    /// `POST /verification/web-authn/authentication`: the options to prove one of the
    /// identified user's passkeys.
    pub async fn webauthn_authentication(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
    ) -> Result<(String, AuthenticationOptions)> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = super::mfa::identified(&interaction)?;
        let rp = super::mfa::relying_party(tenant)?;
        let mut c = self.core.store.conn().await?;
        let bound = mfa_store::list(&mut c, &tenant.id, &user_id).await?;
        let allowed: Vec<_> = factors::webauthn_credentials(&bound).into_iter().map(|(_, c)| c).collect();
        if allowed.is_empty() {
            return Err(ExperienceError::WebAuthnNotFound);
        }
        let (record, challenge) = Self::new_ceremony(&user_id, false)?;
        let options = webauthn::authentication_options(&rp, &challenge, &allowed, webauthn::UV_REQUIRED);
        let id = self.keep_ceremony(c, tenant, cookie, &mut interaction, event, record).await?;
        Ok((id, options))
    }

    /// `POST /verification/web-authn/authentication/verify`: an assertion by one of the
    /// user's passkeys answering the authentication's challenge (spent by this call, whatever
    /// its outcome), its counter moving forward. Proves the WebAuthn factor.
    pub async fn verify_webauthn_authentication(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        verification_id: &str,
        payload: &AuthenticationPayload,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let event = event_of(&interaction)?;
        let user_id = super::mfa::identified(&interaction)?;
        let rp = super::mfa::relying_party(tenant)?;
        let record = interaction.state.mfa.record(MfaFactor::WebAuthn, verification_id);
        let proving = |r: &&MfaRecord| r.user_id == user_id && r.webauthn.as_ref().is_some_and(|w| !w.registration);
        let mut record = record.filter(proving).ok_or(ExperienceError::VerificationNotFound)?.clone();
        let challenge = record.webauthn.as_mut().and_then(|w| w.take_challenge(clock::now_ms()));
        let challenge = challenge.ok_or(ExperienceError::MfaPendingInfoNotFound)?;
        let key = audit_keys::mfa_verification(event, MfaFactor::WebAuthn, false);
        let mut c = self.core.store.conn().await?;
        let attempt = self.begin_mfa_attempt(&mut c, tenant, &user_id).await;
        let checked = match attempt {
            Ok(attempt) => {
                let outcome = match self.passkey_of(&mut c, tenant, payload, Some(&user_id)).await? {
                    Ok(passkey) => self.check_assertion(&mut c, tenant, &rp, &passkey, &challenge, payload).await?,
                    Err(e) => Err(e),
                };
                let wrong = outcome.clone().err().map(failed).unwrap_or(ExperienceError::VerificationFailed);
                let passed = outcome.is_ok();
                self.end_mfa_attempt(&mut c, tenant, &interaction, &user_id, attempt, passed, wrong, &key).await
            }
            Err(e) => Err(e),
        };
        if checked.is_ok() {
            record.verified = true;
            self.audit(&mut c, tenant, &interaction, &key, Some(&user_id), json!({"verificationId": verification_id}))
                .await?;
        }
        drop(c);
        interaction.state.mfa.put(record);
        self.save(tenant, &interaction, cookie).await?;
        checked.map(|()| verification_id.to_owned())
    }

    /// The stored passkey `payload` names, if it is one of `user`'s (any user's with `None`):
    /// its row and credential, or why the answer is refused (unknown, another user's, a user
    /// handle naming someone else).
    pub(super) async fn passkey_of(
        &self,
        c: &mut impl kido_store::Exec,
        tenant: &TenantContext,
        payload: &AuthenticationPayload,
        user: Option<&str>,
    ) -> Result<std::result::Result<(StoredMfaVerification, Credential), WebAuthnError>> {
        let named = match webauthn::named_credential(&payload.id, &payload.raw_id) {
            Ok(named) => named,
            Err(e) => return Ok(Err(e)),
        };
        let row = mfa_store::find_by_credential(c, &tenant.id, &named).await?;
        let row = row.filter(|row| user.is_none_or(|u| row.user_id == u));
        let Some((row, credential)) = row.and_then(|row| factors::stored_credential(&row).map(|c| (row, c))) else {
            return Ok(Err(WebAuthnError::CredentialMismatch));
        };
        // A user handle, when sent, must be the passkey's user's.
        let handle = payload.response.user_handle.as_deref();
        if handle.is_some_and(|h| webauthn::user_of_handle(h).as_deref() != Some(row.user_id.as_str())) {
            return Ok(Err(WebAuthnError::CredentialMismatch));
        }
        Ok(Ok((row, credential)))
    }

    /// Whether `payload` is a valid assertion by `credential` (stored as `row`) answering
    /// `challenge`, user verified; a valid one records its counter (refused when it did not
    /// move forward).
    pub(super) async fn check_assertion(
        &self,
        c: &mut impl kido_store::Exec,
        tenant: &TenantContext,
        rp: &RelyingParty,
        (row, credential): &(StoredMfaVerification, Credential),
        challenge: &str,
        payload: &AuthenticationPayload,
    ) -> Result<std::result::Result<(), WebAuthnError>> {
        let counter = match webauthn::verify_assertion(rp, challenge, payload, credential, true) {
            Ok(counter) => counter,
            Err(e) => return Ok(Err(e)),
        };
        if !webauthn::counter_moves_forward(credential.counter, counter)
            || !self.core.mfa().use_passkey(c, &tenant.id, &row.id, counter).await?
        {
            return Ok(Err(WebAuthnError::Counter));
        }
        Ok(Ok(()))
    }
}
