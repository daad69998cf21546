//! The Verification API (`/api/verifications`): the records a signed-in user makes to prove
//! who they are (password, a code to their own address) or to bring a new identifier (a code
//! to a new address) or passkey. Each record is a row bound to its user and to the grant of
//! the token that made it, lives `RECORD_TTL_MS`, and at most `MAX_RECORDS_PER_USER` are
//! kept per user. Codes themselves stay in `verification_codes` (digests, tries, rate limits).

use kido_proto::account::{CodeIdentifier, CodeIdentifierType, CreatedVerificationRecord, VerificationCodeTemplate};
use kido_proto::connectors::TemplateType;
use kido_proto::webauthn::{RegistrationOptions, RegistrationPayload};
use kido_store::Json;
use kido_store::mfa_verifications as mfa_store;
use kido_store::verification_records::{self as store, StoredVerificationRecord};
use serde_json::{Value, json};

use super::caller::AccountCaller;
use super::error::{AccountError, Result};
use super::record_kind::{MAX_RECORDS_PER_USER, RECORD_TTL_MS, RecordKind};
use super::service::Account;
use crate::mfa::webauthn::{self, Credential, RelyingParty, UserInfo};
use crate::mfa::{account_name, display_name, webauthn_credentials};
use crate::verification_codes::{Delivery, Recipient, SendRequest};
use crate::{TenantContext, clock, identifiers, ids};

/// Characters of a User-Agent kept with a passkey.
const MAX_AGENT_CHARS: usize = 256;

/// Where a code goes, normalized as users are stored (a phone's canonical form).
fn recipient(identifier: &CodeIdentifier) -> Result<Recipient> {
    Ok(match identifier.kind {
        CodeIdentifierType::Email => Recipient::email(identifier.value.trim())?,
        CodeIdentifierType::Phone => {
            let phone = identifiers::normalize_phone(&identifier.value).unwrap_or_else(|| identifier.value.clone());
            Recipient::phone(&phone)?
        }
    })
}

fn code_kind(kind: CodeIdentifierType) -> RecordKind {
    match kind {
        CodeIdentifierType::Email => RecordKind::EmailVerificationCode,
        CodeIdentifierType::Phone => RecordKind::PhoneVerificationCode,
    }
}

/// A verified code record's identifier (email or phone), if the record is one.
pub fn verified_identifier(record: &StoredVerificationRecord) -> Option<&str> {
    record.verified.then(|| record.data.0.get("identifier")?.get("value")?.as_str()).flatten()
}

impl Account<'_> {
    /// Stores a new record for the caller; its id and expiry.
    async fn insert_record(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        kind: RecordKind,
        data: Value,
        verified: bool,
    ) -> Result<CreatedVerificationRecord> {
        let now = clock::now_ms();
        let record = StoredVerificationRecord {
            tenant_id: tenant.id.as_str().to_owned(),
            id: ids::new_id(),
            user_id: caller.user.id.clone(),
            grant_id: caller.grant_id.clone(),
            kind: kind.as_str().to_owned(),
            data: Json(data),
            verified,
            created_at: now,
            expires_at: now + RECORD_TTL_MS,
        };
        let mut tx = self.core.store.begin().await?;
        store::insert_capped(&mut tx, &record, MAX_RECORDS_PER_USER).await?;
        tx.commit().await?;
        Ok(CreatedVerificationRecord {
            verification_record_id: record.id,
            expires_at: clock::iso8601(record.expires_at),
        })
    }

    /// The caller's live record `id` of `kind` (another user's, another grant's, an expired
    /// one or another kind: `verification_record.not_found`).
    pub async fn record(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        id: &str,
        kind: RecordKind,
    ) -> Result<StoredVerificationRecord> {
        if id.is_empty() || id.len() > 64 {
            return Err(AccountError::RecordNotFound);
        }
        let mut c = self.core.store.conn().await?;
        store::find_live(&mut c, &tenant.id, id, &caller.user.id, &caller.grant_id, clock::now_ms())
            .await?
            .filter(|r| RecordKind::parse(&r.kind) == Some(kind))
            .ok_or(AccountError::RecordNotFound)
    }

    /// `POST /api/verifications/password`: the user's own password proves who they are (rate
    /// limited per user, as the Management API's check).
    pub async fn verify_password(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        password: String,
    ) -> Result<CreatedVerificationRecord> {
        self.require_first_party(tenant, &caller.client_id).await?;
        self.core.users().verify_password(&tenant.id, &caller.user_id(), password).await?;
        self.insert_record(tenant, caller, RecordKind::Password, json!({}), true).await
    }

    /// `POST /api/verifications/verification-code`: a code to the user's own address
    /// (`UserPermissionValidation` unless `BindMfa` is asked) or to a new one
    /// (`BindNewIdentifier`).
    pub async fn send_code(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        identifier: CodeIdentifier,
        template: Option<VerificationCodeTemplate>,
        locale: Option<&str>,
        ip: Option<&str>,
    ) -> Result<CreatedVerificationRecord> {
        self.require_first_party(tenant, &caller.client_id).await?;
        let to = recipient(&identifier)?;
        let own = match &to {
            Recipient::Email(v) => caller.user.primary_email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(v)),
            Recipient::Phone(v) => caller.user.primary_phone.as_deref() == Some(v.as_str()),
        };
        let template = match (own, template) {
            (false, _) => TemplateType::BindNewIdentifier,
            (true, Some(VerificationCodeTemplate::BindMfa)) => TemplateType::BindMfa,
            (true, _) => TemplateType::UserPermissionValidation,
        };
        let request = SendRequest { template, locale, ip, delivery: Delivery::Now };
        let code_id = self.core.verification_codes().send(&tenant.id, &to, request).await?;
        let data = json!({
            "identifier": {"type": identifier.kind, "value": to.value()},
            "templateType": template.as_str(),
            "codeId": code_id,
        });
        self.insert_record(tenant, caller, code_kind(identifier.kind), data, false).await
    }

    /// `POST /api/verifications/verification-code/verify`: the code sent for the record; the
    /// record is verified.
    pub async fn verify_code(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        identifier: CodeIdentifier,
        verification_id: &str,
        code: &str,
    ) -> Result<String> {
        let mut record = self.record(tenant, caller, verification_id, code_kind(identifier.kind)).await?;
        let to = recipient(&identifier)?;
        let data = &record.data.0;
        let same_identifier =
            data.get("identifier").and_then(|i| i.get("value")).and_then(Value::as_str) == Some(to.value());
        let template = data.get("templateType").and_then(Value::as_str).and_then(TemplateType::parse);
        let code_id = data.get("codeId").and_then(Value::as_str).map(str::to_owned);
        let (Some(template), Some(code_id), true) = (template, code_id, same_identifier) else {
            return Err(AccountError::RecordNotFound);
        };
        self.core.verification_codes().verify(&tenant.id, &to, template, code.trim(), Some(&code_id)).await?;
        record.verified = true;
        let mut c = self.core.store.conn().await?;
        if !store::update(&mut c, &record, clock::now_ms()).await? {
            return Err(AccountError::RecordNotFound);
        }
        Ok(record.id)
    }

    /// `POST /api/verifications/web-authn/registration`: options to create a passkey for the
    /// user (their passkeys excluded); the challenge waits in the record.
    pub async fn webauthn_registration(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
    ) -> Result<(CreatedVerificationRecord, RegistrationOptions)> {
        self.require_first_party(tenant, &caller.client_id).await?;
        let rp = relying_party(tenant)?;
        let mut c = self.core.store.conn().await?;
        let bound = mfa_store::list(&mut c, &tenant.id, &caller.user.id).await?;
        drop(c);
        let existing: Vec<Credential> = webauthn_credentials(&bound).into_iter().map(|(_, c)| c).collect();
        let challenge = webauthn::new_challenge().ok_or_else(|| AccountError::Internal("no randomness".into()))?;
        let (name, display) = (account_name(&caller.user), display_name(&caller.user));
        let info = UserInfo { id: &caller.user.id, name: &name, display_name: &display };
        let options = webauthn::registration_options(&rp, &info, &challenge, &existing);
        let data = json!({"challenge": challenge, "rpId": rp.id});
        let created = self.insert_record(tenant, caller, RecordKind::WebAuthn, data, false).await?;
        Ok((created, options))
    }

    /// `POST /api/verifications/web-authn/registration/verify`: the new passkey answers the
    /// record's challenge (spent by this call, right or wrong); it waits in the record to be
    /// bound by `POST /api/my-account/mfa-verifications`.
    pub async fn verify_webauthn_registration(
        &self,
        tenant: &TenantContext,
        caller: &AccountCaller,
        verification_id: &str,
        payload: &RegistrationPayload,
        agent: Option<&str>,
    ) -> Result<String> {
        let mut record = self.record(tenant, caller, verification_id, RecordKind::WebAuthn).await?;
        let challenge = match record.data.0.as_object_mut().and_then(|d| d.remove("challenge")) {
            Some(Value::String(challenge)) if !record.verified => challenge,
            _ => return Err(AccountError::RecordNotFound),
        };
        let rp = relying_party(tenant)?;
        let mut c = self.core.store.conn().await?;
        // The challenge is spent before the answer is judged.
        if !store::update(&mut c, &record, clock::now_ms()).await? {
            return Err(AccountError::RecordNotFound);
        }
        let credential = webauthn::verify_registration(&rp, &challenge, payload, false)
            .map_err(|e| AccountError::WebAuthn(e.to_string()))?;
        if self.core.mfa().passkey_in_use(&mut c, &tenant.id, &credential.credential_id).await? {
            return Err(AccountError::WebAuthn("this passkey is already registered".into()));
        }
        let agent: Option<String> = agent.map(|a| a.chars().take(MAX_AGENT_CHARS).collect());
        if let Some(data) = record.data.0.as_object_mut() {
            data.insert("credential".into(), serde_json::to_value(&credential).unwrap_or(Value::Null));
            data.insert("agent".into(), agent.map_or(Value::Null, Value::String));
        }
        record.verified = true;
        if !store::update(&mut c, &record, clock::now_ms()).await? {
            return Err(AccountError::RecordNotFound);
        }
        Ok(record.id)
    }

    /// `POST /api/verifications/social` and `…/social/verify`: Kido has no social connectors
    /// yet, so every connector id is unknown (Logto's answer for one).
    pub async fn social_verification(&self, tenant: &TenantContext, caller: &AccountCaller) -> Result<()> {
        self.require_first_party(tenant, &caller.client_id).await?;
        Err(AccountError::ConnectorNotFound)
    }
}

/// The tenant as a WebAuthn relying party.
pub(crate) fn relying_party(tenant: &TenantContext) -> Result<RelyingParty> {
    RelyingParty::of_issuer(&tenant.issuer).ok_or_else(|| AccountError::Internal("the issuer is not a URL".into()))
}

/// A verified passkey registration's credential and agent.
pub fn registered_passkey(record: &StoredVerificationRecord) -> Option<(Credential, Option<String>)> {
    if !record.verified {
        return None;
    }
    let credential = serde_json::from_value(record.data.0.get("credential")?.clone()).ok()?;
    let agent = record.data.0.get("agent").and_then(Value::as_str).map(str::to_owned);
    Some((credential, agent))
}
