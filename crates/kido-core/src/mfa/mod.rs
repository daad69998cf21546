//! Second factors: what a user has bound (TOTP, backup codes, WebAuthn passkeys), binding
//! them, and checking a code against them (a passkey's assertion: `webauthn`). A TOTP code's step and a backup code are each accepted
//! once (one conditional statement in the store), and neither check does argon2-class work.

pub mod backup_codes;
pub mod policy;
pub mod qr;
pub mod totp;
pub mod webauthn;

use kido_proto::mfa::{
    CreateUserMfaVerification, CreatedUserMfaVerification, UpdateUserLogtoConfig, UserLogtoConfig, UserMfaVerification,
};
use kido_proto::sign_in_experience::MfaFactor;
use kido_proto::{TenantId, UserId};
use kido_store::mfa_verifications::{self as store, StoredMfaVerification};
use kido_store::{Exec, Json, users as user_store};
use serde_json::json;
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::sealing::SealingError;
use crate::storage::{self, StorageError};
use crate::{Core, clock, ids};

#[derive(Debug, Error)]
pub enum MfaError {
    #[error("user {0} does not exist")]
    UserNotFound(String),
    #[error("the user has no MFA verification {0}")]
    NotFound(String),
    #[error("the user already has a TOTP factor")]
    TotpInUse,
    #[error("the user already has unused backup codes")]
    BackupCodesInUse,
    #[error("backup codes cannot be a user's only factor; bind another factor first")]
    BackupCodeAlone,
    #[error("this passkey is already registered")]
    WebAuthnCredentialInUse,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    BackupCodeFormat(String),
    #[error("the TOTP code is wrong")]
    WrongTotpCode,
    #[error("the backup codes were bound before they could be kept readable; generate a new set")]
    BackupCodesUnreadable,
    #[error(transparent)]
    Sealing(#[from] SealingError),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(MfaError);

pub type Result<T> = std::result::Result<T, MfaError>;

pub struct Mfa<'a> {
    pub(crate) core: &'a Core,
}

/// What a sealed TOTP secret is bound to: tenant, user and verification.
pub(crate) fn totp_context(tenant: &TenantId, user_id: &str, verification_id: &str) -> String {
    format!("totp:{}:{user_id}:{verification_id}", tenant.as_str())
}

/// What a sealed backup-code set is bound to: tenant, user and verification.
pub(crate) fn backup_codes_context(tenant: &TenantId, user_id: &str, verification_id: &str) -> String {
    format!("backup-codes:{}:{user_id}:{verification_id}", tenant.as_str())
}

/// A new verification of `factor` for the user, made now, with nothing bound yet.
fn new_row(tenant: &TenantId, user: &UserId, factor: MfaFactor) -> StoredMfaVerification {
    StoredMfaVerification {
        tenant_id: tenant.as_str().to_owned(),
        id: ids::new_id(),
        user_id: user.as_str().to_owned(),
        kind: policy::name_of(factor).to_owned(),
        name: None,
        sealed_secret: None,
        details: Json(json!({})),
        last_step: None,
        last_used_at: None,
        created_at: clock::now_ms(),
        remaining_codes: 0,
        credential_id: None,
    }
}

/// The factors a user binds and lists (email and phone are the user's own identifiers).
const BINDABLE: [MfaFactor; 3] = [MfaFactor::Totp, MfaFactor::BackupCode, MfaFactor::WebAuthn];

fn wire(row: &StoredMfaVerification) -> Option<UserMfaVerification> {
    let kind = policy::factor_of(&row.kind).filter(|f| BINDABLE.contains(f))?;
    Some(UserMfaVerification {
        id: row.id.clone(),
        created_at: clock::iso8601(row.created_at),
        kind,
        agent: row.details.0.get("agent").and_then(|a| a.as_str()).map(str::to_owned),
        name: row.name.clone(),
        remain_codes: (kind == MfaFactor::BackupCode).then(|| u32::try_from(row.remaining_codes).unwrap_or(0)),
    })
}

/// The label an authenticator app shows for the user: the first of name, username, email, phone.
pub fn display_name(user: &user_store::StoredUser) -> String {
    [&user.name, &user.username, &user.primary_email, &user.primary_phone]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| "Unnamed User".to_owned())
}

/// The account name a passkey shows: the first of username, email, phone (Logto's).
pub fn account_name(user: &user_store::StoredUser) -> String {
    [&user.username, &user.primary_email, &user.primary_phone]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| "Unnamed User".to_owned())
}

impl Mfa<'_> {
    /// The user's bound factors, oldest first.
    pub async fn list(&self, tenant: &TenantId, user: &UserId) -> Result<Vec<UserMfaVerification>> {
        let mut c = self.core.store.conn().await?;
        existing_user(&mut c, tenant, user).await?;
        Ok(store::list(&mut c, tenant, user.as_str()).await?.iter().filter_map(wire).collect())
    }

    /// Binds a factor for the user (the Management API: no code needed). `issuer` is what an
    /// authenticator app shows above the account (the tenant's host).
    pub async fn create(
        &self,
        tenant: &TenantId,
        user: &UserId,
        issuer: &str,
        input: CreateUserMfaVerification,
    ) -> Result<CreatedUserMfaVerification> {
        match input {
            CreateUserMfaVerification::Totp { secret } => self.bind_totp(tenant, user, issuer, secret, None).await,
            CreateUserMfaVerification::BackupCode { codes } => self.bind_backup_codes(tenant, user, codes).await,
        }
    }

    /// Binds a TOTP secret (given or generated). With `code` (the Account API), the code must
    /// be valid for the secret, and its step is spent with it; `replace` drops the user's
    /// current TOTP first, in the same transaction.
    pub async fn bind_totp(
        &self,
        tenant: &TenantId,
        user: &UserId,
        issuer: &str,
        secret: Option<String>,
        check: Option<TotpCheck<'_>>,
    ) -> Result<CreatedUserMfaVerification> {
        let secret = match secret {
            Some(given) => totp::normalize_secret(&given).ok_or_else(|| {
                MfaError::Invalid(format!(
                    "`secret` must be base32 (A–Z, 2–7) of {}–{} characters",
                    totp::SECRET_MIN_CHARS,
                    totp::SECRET_MAX_CHARS
                ))
            })?,
            None => totp::generate_secret().ok_or(SealingError::NoRandomness)?,
        };
        let mut row = new_row(tenant, user, MfaFactor::Totp);
        if let Some(check) = &check {
            let key = totp::decode_secret(&secret).unwrap_or_default();
            let step = check.code.and_then(|code| totp::matching_step(&key, code, clock::now_ms() / 1000));
            if check.code.is_some() && step.is_none() {
                return Err(MfaError::WrongTotpCode);
            }
            row.last_step = step;
        }
        let mut tx = self.core.store.begin().await?;
        let stored_user = existing_user(&mut tx, tenant, user).await?;
        if check.as_ref().is_some_and(|c| c.replace) {
            store::delete_totp(&mut tx, tenant, user.as_str()).await?;
        }
        row.sealed_secret = Some(self.seal_totp(tenant, user.as_str(), &row.id, &secret)?);
        insert_totp(&mut tx, &row).await?;
        tx.commit().await?;
        let secret_qr_code = secret_qr_code(issuer, &stored_user, &secret);
        Ok(CreatedUserMfaVerification::Totp { secret, secret_qr_code })
    }

    /// A TOTP secret sealed for the verification `id` of the user.
    pub fn seal_totp(&self, tenant: &TenantId, user_id: &str, id: &str, secret: &str) -> Result<String> {
        Ok(self.core.sealing_key.seal(&totp_context(tenant, user_id, id), secret.as_bytes())?)
    }

    /// The TOTP secret sealed for the verification `id` of the user.
    pub fn open_totp(&self, tenant: &TenantId, user_id: &str, id: &str, sealed: &str) -> Result<String> {
        let secret = self.core.sealing_key.open(&totp_context(tenant, user_id, id), sealed)?;
        String::from_utf8(secret).map_err(|_| MfaError::Invalid("the sealed secret is not text".into()))
    }

    /// A backup-code set sealed for the verification `id` of the user.
    pub fn seal_backup_codes(&self, tenant: &TenantId, user_id: &str, id: &str, codes: &[String]) -> Result<String> {
        let json = serde_json::to_vec(codes).map_err(|e| MfaError::Invalid(e.to_string()))?;
        Ok(self.core.sealing_key.seal(&backup_codes_context(tenant, user_id, id), &json)?)
    }

    /// The codes of the backup-code set sealed for the verification `id` of the user.
    pub fn open_backup_codes(&self, tenant: &TenantId, user_id: &str, id: &str, sealed: &str) -> Result<Vec<String>> {
        let json = self.core.sealing_key.open(&backup_codes_context(tenant, user_id, id), sealed)?;
        serde_json::from_slice(&json).map_err(|_| MfaError::Invalid("the sealed backup codes are not a list".into()))
    }

    /// The time step `code` is valid in for the sealed secret of verification `id`, if any.
    pub fn totp_step(
        &self,
        tenant: &TenantId,
        user_id: &str,
        id: &str,
        sealed: &str,
        code: &str,
    ) -> Result<Option<i64>> {
        let key = totp::decode_secret(&self.open_totp(tenant, user_id, id, sealed)?).unwrap_or_default();
        Ok(totp::matching_step(&key, code, clock::now_ms() / 1000))
    }

    /// Binds what a sign-in verified: a sealed TOTP secret under its verification id (its
    /// step already used), and a backup-code set replacing the user's. In the caller's
    /// transaction.
    pub async fn bind_verified(
        &self,
        c: &mut impl Exec,
        tenant: &TenantId,
        user: &UserId,
        totp: Option<VerifiedTotp<'_>>,
        backup_codes: Option<NewBackupCodes<'_>>,
    ) -> Result<()> {
        if let Some(t) = totp {
            let mut row = new_row(tenant, user, MfaFactor::Totp);
            row.id = t.id.to_owned();
            row.sealed_secret = Some(t.sealed_secret.to_owned());
            row.last_step = t.last_step;
            insert_totp(c, &row).await?;
        }
        if let Some(set) = backup_codes {
            store::delete_backup_codes(c, tenant, user.as_str()).await?;
            let mut row = new_row(tenant, user, MfaFactor::BackupCode);
            row.id = set.id.to_owned();
            let slots = match set.codes {
                SetCodes::Sealed(sealed) => {
                    let count = self.open_backup_codes(tenant, user.as_str(), set.id, sealed)?.len();
                    row.sealed_secret = Some(sealed.to_owned());
                    vec![None; count]
                }
                SetCodes::Digests(digests) => digests.iter().cloned().map(Some).collect(),
            };
            store::insert(c, &row).await?;
            store::insert_backup_codes(c, tenant, set.id, &slots).await?;
        }
        Ok(())
    }

    /// Binds a backup-code set (given or generated): not while the user has unused codes, and
    /// not as the user's only factor.
    pub async fn bind_backup_codes(
        &self,
        tenant: &TenantId,
        user: &UserId,
        codes: Option<Vec<String>>,
    ) -> Result<CreatedUserMfaVerification> {
        let codes = match codes {
            Some(given) => backup_codes::normalize_set(&given).ok_or_else(|| {
                MfaError::BackupCodeFormat(format!(
                    "`codes` must be {} distinct codes of {} hex digits",
                    backup_codes::COUNT,
                    backup_codes::LENGTH
                ))
            })?,
            None => backup_codes::generate().ok_or(SealingError::NoRandomness)?,
        };
        let mut tx = self.core.store.begin().await?;
        existing_user(&mut tx, tenant, user).await?;
        store::delete_exhausted_backup_codes(&mut tx, tenant, user.as_str()).await?;
        let current = store::list(&mut tx, tenant, user.as_str()).await?;
        if current.iter().any(|v| v.kind == policy::name_of(MfaFactor::BackupCode)) {
            return Err(MfaError::BackupCodesInUse);
        }
        if !current.iter().any(|v| v.kind != policy::name_of(MfaFactor::BackupCode)) {
            return Err(MfaError::BackupCodeAlone);
        }
        let mut row = new_row(tenant, user, MfaFactor::BackupCode);
        let id = row.id.clone();
        row.sealed_secret = Some(self.seal_backup_codes(tenant, user.as_str(), &id, &codes)?);
        store::insert(&mut tx, &row).await.map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => MfaError::BackupCodesInUse,
            other => other.into(),
        })?;
        store::insert_backup_codes(&mut tx, tenant, &id, &vec![None; codes.len()]).await?;
        tx.commit().await?;
        Ok(CreatedUserMfaVerification::BackupCode { codes })
    }

    /// What the user chose about second factors (`/logto-configs`).
    pub async fn logto_config(&self, tenant: &TenantId, user: &UserId) -> Result<UserLogtoConfig> {
        let mut c = self.core.store.conn().await?;
        Ok(existing_user(&mut c, tenant, user).await?.logto_config.0)
    }

    /// Changes the given fields of the user's choices; returns them all.
    pub async fn update_logto_config(
        &self,
        tenant: &TenantId,
        user: &UserId,
        update: UpdateUserLogtoConfig,
    ) -> Result<UserLogtoConfig> {
        let mut tx = self.core.store.begin().await?;
        let config = existing_user(&mut tx, tenant, user).await?.logto_config.0.updated(update);
        user_store::set_logto_config(&mut tx, tenant, user.as_str(), &Json(config.clone())).await?;
        tx.commit().await?;
        Ok(config)
    }

    /// Unbinds one of the user's factors.
    pub async fn delete(&self, tenant: &TenantId, user: &UserId, verification_id: &str) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        existing_user(&mut c, tenant, user).await?;
        if store::delete(&mut c, tenant, user.as_str(), verification_id).await? {
            Ok(())
        } else {
            Err(MfaError::NotFound(verification_id.to_owned()))
        }
    }

    /// Whether `code` is the user's current TOTP code, used for the first time. A code is
    /// spent by this check: the same code (its time step) is refused afterwards.
    pub async fn verify_totp(&self, c: &mut impl Exec, tenant: &TenantId, user: &UserId, code: &str) -> Result<bool> {
        let rows = store::list(c, tenant, user.as_str()).await?;
        let Some(row) = rows.iter().find(|v| v.kind == policy::name_of(MfaFactor::Totp)) else {
            return Ok(false);
        };
        let sealed = row.sealed_secret.as_deref().unwrap_or_default();
        let Some(step) = self.totp_step(tenant, user.as_str(), &row.id, sealed, code)? else {
            return Ok(false);
        };
        Ok(store::use_totp_step(c, tenant, &row.id, step, clock::now_ms()).await?)
    }

    /// Whether `code` is one of the user's unused backup codes; it is used up by this check.
    pub async fn verify_backup_code(
        &self,
        c: &mut impl Exec,
        tenant: &TenantId,
        user: &UserId,
        code: &str,
    ) -> Result<bool> {
        if !backup_codes::is_well_formed(code.trim()) {
            return Ok(false);
        }
        let rows = store::list(c, tenant, user.as_str()).await?;
        let Some(set) = rows.iter().find(|v| v.kind == policy::name_of(MfaFactor::BackupCode)) else {
            return Ok(false);
        };
        let position = match set.sealed_secret.as_deref() {
            Some(sealed) => {
                let codes = self.open_backup_codes(tenant, user.as_str(), &set.id, sealed)?;
                matching_position(codes.iter().map(|c| backup_codes::matches(c, code)))
            }
            None => {
                // A set from before sets were sealed: its digests, compared in constant time.
                let given = backup_codes::digest(&set.id, code);
                let slots = store::backup_codes(c, tenant, &set.id).await?;
                let found = matching_position(slots.iter().map(|s| {
                    s.code_digest.as_deref().is_some_and(|d| bool::from(d.as_bytes().ct_eq(given.as_bytes())))
                }));
                found.and_then(|i| slots.get(i).map(|s| s.position as usize))
            }
        };
        let Some(position) = position else { return Ok(false) };
        Ok(store::use_backup_code(c, tenant, &set.id, position as i64, clock::now_ms()).await?)
    }

    /// The user's backup codes with when each was used (`None`: the user has no set). A set
    /// bound before sets were sealed cannot be read: `BackupCodesUnreadable`.
    pub async fn backup_codes(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Vec<(String, Option<i64>)>>> {
        let mut c = self.core.store.conn().await?;
        let rows = store::list(&mut c, tenant, user.as_str()).await?;
        let Some(set) = rows.iter().find(|v| v.kind == policy::name_of(MfaFactor::BackupCode)) else {
            return Ok(None);
        };
        let sealed = set.sealed_secret.as_deref().ok_or(MfaError::BackupCodesUnreadable)?;
        let codes = self.open_backup_codes(tenant, user.as_str(), &set.id, sealed)?;
        let slots = store::backup_codes(&mut c, tenant, &set.id).await?;
        let used = |i: usize| slots.iter().find(|s| s.position == i as i64).and_then(|s| s.used_at);
        Ok(Some(codes.into_iter().enumerate().map(|(i, code)| (code, used(i))).collect()))
    }

    /// Names one of the user's passkeys.
    pub async fn rename_passkey(&self, tenant: &TenantId, user: &UserId, id: &str, name: &str) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        let kind = policy::name_of(MfaFactor::WebAuthn);
        if store::rename(&mut c, tenant, user.as_str(), id, kind, name).await? {
            Ok(())
        } else {
            Err(MfaError::NotFound(id.to_owned()))
        }
    }

    /// The factor of one of the user's verifications.
    pub async fn factor_of(&self, tenant: &TenantId, user: &UserId, id: &str) -> Result<MfaFactor> {
        let mut c = self.core.store.conn().await?;
        let rows = store::list(&mut c, tenant, user.as_str()).await?;
        rows.iter()
            .find(|v| v.id == id)
            .and_then(|v| policy::factor_of(&v.kind))
            .ok_or_else(|| MfaError::NotFound(id.to_owned()))
    }
}

/// The one position whose check is true; every check is made (no early exit).
fn matching_position(checks: impl Iterator<Item = bool>) -> Option<usize> {
    checks.enumerate().fold(None, |found, (i, hit)| if hit && found.is_none() { Some(i) } else { found })
}

/// How a TOTP secret given through the Account API is checked.
pub struct TotpCheck<'a> {
    /// A code from the user's authenticator, to prove the secret is set up (optional on add).
    pub code: Option<&'a str>,
    /// Whether the new secret replaces the user's current one.
    pub replace: bool,
}

/// A new backup-code set a sign-in made, to bind.
pub struct NewBackupCodes<'a> {
    pub id: &'a str,
    pub codes: SetCodes<'a>,
}

/// How a new set's codes are kept until it is bound.
pub enum SetCodes<'a> {
    /// Sealed for the set's id (`Mfa::seal_backup_codes`).
    Sealed(&'a str),
    /// Salted digests (a sign-in that began before sets were sealed).
    Digests(&'a [String]),
}

/// The passkeys among a user's verifications, with the counter last accepted.
pub fn webauthn_credentials(rows: &[StoredMfaVerification]) -> Vec<(&StoredMfaVerification, webauthn::Credential)> {
    rows.iter().filter_map(|row| Some((row, stored_credential(row)?))).collect()
}

/// A WebAuthn verification's credential: `details` as bound, the counter from `last_step`.
pub fn stored_credential(row: &StoredMfaVerification) -> Option<webauthn::Credential> {
    if row.kind != policy::name_of(MfaFactor::WebAuthn) {
        return None;
    }
    let mut credential: webauthn::Credential = serde_json::from_value(row.details.0.clone()).ok()?;
    if let Some(counter) = row.last_step.and_then(|c| u32::try_from(c).ok()) {
        credential.counter = counter;
    }
    Some(credential)
}

/// A passkey a sign-in registered, to bind.
pub struct VerifiedPasskey<'a> {
    pub id: &'a str,
    pub credential: &'a webauthn::Credential,
    pub rp_id: &'a str,
    pub agent: Option<&'a str>,
}

impl Mfa<'_> {
    /// Binds a passkey a sign-in registered, in the caller's transaction; a credential id the
    /// tenant already holds is `WebAuthnCredentialInUse`.
    pub async fn bind_passkey(
        &self,
        c: &mut impl Exec,
        tenant: &TenantId,
        user: &UserId,
        passkey: VerifiedPasskey<'_>,
    ) -> Result<()> {
        let VerifiedPasskey { id, credential, rp_id, agent } = passkey;
        let mut row = new_row(tenant, user, MfaFactor::WebAuthn);
        row.id = id.to_owned();
        row.credential_id = Some(credential.credential_id.clone());
        row.last_step = Some(i64::from(credential.counter));
        row.details = Json(json!({
            "type": policy::name_of(MfaFactor::WebAuthn),
            "rpId": rp_id,
            "credentialId": credential.credential_id,
            "publicKey": credential.public_key,
            "counter": credential.counter,
            "transports": credential.transports,
            "agent": agent.unwrap_or_default(),
        }));
        store::insert(c, &row).await.map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => MfaError::WebAuthnCredentialInUse,
            other => other.into(),
        })
    }

    /// Whether a credential id is bound to anyone in the tenant.
    pub async fn passkey_in_use(&self, c: &mut impl Exec, tenant: &TenantId, credential_id: &str) -> Result<bool> {
        Ok(store::credential_in_use(c, tenant, credential_id).await?)
    }

    /// Records an assertion's counter for the passkey `id`; false when it did not move forward
    /// from the one last accepted (`store::use_webauthn_counter`).
    pub async fn use_passkey(&self, c: &mut impl Exec, tenant: &TenantId, id: &str, counter: u32) -> Result<bool> {
        Ok(store::use_webauthn_counter(c, tenant, id, i64::from(counter), clock::now_ms()).await?)
    }
}

/// A TOTP secret a sign-in verified, to bind.
pub struct VerifiedTotp<'a> {
    pub id: &'a str,
    pub sealed_secret: &'a str,
    /// The step of the code that verified it (refused from now on).
    pub last_step: Option<i64>,
}

/// Stores a TOTP verification; a user's second one is `TotpInUse`.
async fn insert_totp(c: &mut impl Exec, row: &StoredMfaVerification) -> Result<()> {
    store::insert(c, row).await.map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => MfaError::TotpInUse,
        other => other.into(),
    })
}

/// The `otpauth://` URI of the secret as a QR code image (a data URI).
pub fn secret_qr_code(issuer: &str, user: &user_store::StoredUser, secret: &str) -> String {
    qr::svg_data_uri(&totp::key_uri(issuer, &display_name(user), secret)).unwrap_or_default()
}

/// What an authenticator app shows above the account: the host of the tenant's `url`, as
/// Logto does.
pub fn authenticator_issuer(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "Kido".to_owned())
}

async fn existing_user(c: &mut impl Exec, tenant: &TenantId, user: &UserId) -> Result<user_store::StoredUser> {
    user_store::find(c, tenant, user.as_str()).await?.ok_or_else(|| MfaError::UserNotFound(user.as_str().to_owned()))
}
