//! The second-factor part of a sign-in in progress: proofs by TOTP, backup code or passkey,
//! a new TOTP secret, backup-code set or passkey waiting to be bound at submit (a passkey
//! ceremony keeps its challenge until a response to it is checked), and what the user chose
//! (skip binding, skip the suggestion of another factor). Proofs by an email or SMS code
//! are code records (`VerificationKind::Mfa*VerificationCode`) with the other codes.
//!
//! Nothing here is a secret in clear: a new TOTP secret is sealed (`crate::sealing`) under
//! the id it will be stored with, and so is a new backup-code set.

use kido_proto::sign_in_experience::MfaFactor;
use serde::{Deserialize, Serialize};

use super::identifier::{Identifier, IdentifierType};
use crate::mfa::webauthn::Credential;

/// A TOTP or backup-code verification of the identified user (Logto's `Totp` and
/// `BackupCode` verification records).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaRecord {
    /// The verification id; for a new secret or code set, also the id it is stored under.
    pub id: String,
    #[serde(rename = "type")]
    pub factor: MfaFactor,
    pub user_id: String,
    /// A code was checked: against the user's bound factor, or against the new secret.
    pub verified: bool,
    /// A new TOTP secret or backup-code set, sealed for (tenant, user, `id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_secret: Option<String>,
    /// A new backup-code set of a sign-in begun before sets were sealed: the digests of its
    /// codes (salted with `id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_digests: Vec<String>,
    /// A new TOTP secret's time step that verified it (refused once the secret is bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<i64>,
    /// A WebAuthn ceremony: its challenge and, after a registration, the new passkey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<WebAuthnCeremony>,
}

/// A WebAuthn registration or authentication of the sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnCeremony {
    pub registration: bool,
    /// The challenge issued (base64url), until a response to it is checked: single use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// When the challenge stops being accepted (epoch ms).
    pub expires_at: i64,
    /// The passkey a registration verified, bound at submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// The User-Agent of the registration (shown with the passkey), bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl WebAuthnCeremony {
    /// The challenge, taken out: a second response to it finds none. `None` when there is
    /// none left or it expired at `now`.
    pub fn take_challenge(&mut self, now: i64) -> Option<String> {
        let challenge = self.challenge.take()?;
        (now < self.expires_at).then_some(challenge)
    }
}

impl MfaRecord {
    /// A verification that proved one of the user's bound factors.
    pub fn proof(id: &str, factor: MfaFactor, user_id: &str) -> Self {
        Self {
            id: id.to_owned(),
            factor,
            user_id: user_id.to_owned(),
            verified: true,
            sealed_secret: None,
            code_digests: Vec::new(),
            last_step: None,
            webauthn: None,
        }
    }

    /// Whether the record brings something new to bind (it then proves nothing yet).
    pub fn is_new_binding(&self) -> bool {
        self.sealed_secret.is_some()
            || !self.code_digests.is_empty()
            || self.webauthn.as_ref().is_some_and(|w| w.registration)
    }

    /// Whether the record proves the user holds one of their bound factors.
    pub fn proves_bound_factor(&self) -> bool {
        self.verified && !self.is_new_binding()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaState {
    /// One record per factor: a new one replaces the old (as Logto's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<MfaRecord>,
    /// The TOTP record whose secret is bound at submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_totp: Option<String>,
    /// The backup-code record whose codes replace the user's at submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_backup_codes: Option<String>,
    /// An email or phone the user proved by a code, to become theirs (and a second factor) at
    /// submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_identifier: Option<Identifier>,
    /// The WebAuthn registration whose passkey is bound at submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_webauthn: Option<String>,
    /// The user declined to bind a factor (kept on the user at submit).
    #[serde(default)]
    pub skipped: bool,
    /// The user declined the suggestion of another factor (this sign-in only).
    #[serde(default)]
    pub suggestion_skipped: bool,
    /// The user turned two-step verification on (kept on the user at submit).
    #[serde(default)]
    pub enabled: bool,
    /// The user declined to add a passkey for passkey sign-in (kept on the user when they
    /// sign in; for this registration only when they register, as Logto).
    #[serde(default)]
    pub passkey_skipped: bool,
}

impl MfaState {
    pub fn record(&self, factor: MfaFactor, id: &str) -> Option<&MfaRecord> {
        self.records.iter().find(|r| r.factor == factor && r.id == id)
    }

    /// Puts `record` in place of the one of its factor; a proof of a bound factor stays
    /// beside a new binding of that factor (a passkey proven, then another registered), so
    /// a factor has two records at most.
    pub fn put(&mut self, record: MfaRecord) {
        let keep_proof = !record.proves_bound_factor();
        let mut kept = false;
        self.records.retain(|r| {
            let keep = r.factor != record.factor || (keep_proof && !kept && r.proves_bound_factor());
            kept |= r.factor == record.factor && keep;
            keep
        });
        let id = record.id.clone();
        if self.bind_totp.as_deref().is_some_and(|b| b != id) && record.factor == MfaFactor::Totp {
            self.bind_totp = None;
        }
        if self.bind_backup_codes.as_deref().is_some_and(|b| b != id) && record.factor == MfaFactor::BackupCode {
            self.bind_backup_codes = None;
        }
        if self.bind_webauthn.as_deref().is_some_and(|b| b != id) && record.factor == MfaFactor::WebAuthn {
            self.bind_webauthn = None;
        }
        self.records.push(record);
    }

    /// The factors this sign-in binds at submit.
    pub fn pending_factors(&self) -> Vec<MfaFactor> {
        let mut out = Vec::new();
        if self.bind_totp.is_some() {
            out.push(MfaFactor::Totp);
        }
        if self.bind_backup_codes.is_some() {
            out.push(MfaFactor::BackupCode);
        }
        match self.bind_identifier.as_ref().map(|i| i.kind) {
            Some(IdentifierType::Email) => out.push(MfaFactor::EmailVerificationCode),
            Some(IdentifierType::Phone) => out.push(MfaFactor::PhoneVerificationCode),
            Some(IdentifierType::Username) | None => {}
        }
        if self.bind_webauthn.is_some() {
            out.push(MfaFactor::WebAuthn);
        }
        out
    }

    /// The record bound at submit for `factor`, if any.
    pub fn pending(&self, factor: MfaFactor) -> Option<&MfaRecord> {
        let id = match factor {
            MfaFactor::Totp => self.bind_totp.as_deref(),
            MfaFactor::BackupCode => self.bind_backup_codes.as_deref(),
            MfaFactor::WebAuthn => self.bind_webauthn.as_deref(),
            _ => None,
        }?;
        self.record(factor, id)
    }
}
