//! One-time verification codes sent by email or SMS: 6 digits, stored only as a keyed
//! digest, valid for `verificationCodePolicy.expirationDuration` (10 min) and
//! `maxRetryAttempts` (10) wrong guesses. A new code for the same recipient and purpose
//! retires the old one. Sending is rate-limited per recipient and per client IP.

use kido_proto::TenantId;
use kido_proto::connectors::{ConnectorType, TemplateType};
use kido_proto::sign_in_experience::VerificationCodePolicy;
use kido_store::verification_codes::{self as store, StoredCode};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::connectors::{ConnectorError, Message};
use crate::storage::{self, StorageError};
use crate::{Core, clock, ids};

const DEFAULT_TTL_SECS: u32 = 600;
const DEFAULT_MAX_TRIES: u32 = 10;
const RATE_WINDOW_MS: i64 = 3600 * 1000;
/// Messages per recipient per hour (Logto's `MessageRateGuard`).
pub const MAX_SENDS_PER_RECIPIENT: i64 = 5;
/// Messages per client IP per hour, across recipients.
pub const MAX_SENDS_PER_IP: i64 = 30;

#[derive(Debug, Error)]
pub enum CodeError {
    #[error("no verification code was requested for this recipient")]
    NotFound,
    #[error("the verification code has expired")]
    Expired,
    #[error("too many wrong attempts; request a new code")]
    ExceedMaxTry,
    #[error("the verification code is wrong")]
    Mismatch,
    #[error("too many messages; try again later")]
    RateLimited,
    #[error("`{0}` is not a valid email address or phone number")]
    InvalidRecipient(String),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(CodeError);

type Result<T> = std::result::Result<T, CodeError>;

/// Where a code goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Email(String),
    Phone(String),
}

impl Recipient {
    pub fn email(v: &str) -> Result<Self> {
        if crate::identifiers::is_email(v) {
            Ok(Self::Email(v.to_owned()))
        } else {
            Err(CodeError::InvalidRecipient(v.into()))
        }
    }

    pub fn phone(v: &str) -> Result<Self> {
        if crate::identifiers::is_phone(v) {
            Ok(Self::Phone(v.to_owned()))
        } else {
            Err(CodeError::InvalidRecipient(v.into()))
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Email(v) | Self::Phone(v) => v,
        }
    }

    pub fn connector(&self) -> ConnectorType {
        match self {
            Self::Email(_) => ConnectorType::Email,
            Self::Phone(_) => ConnectorType::Sms,
        }
    }

    /// The normalised key codes and rate limits are kept under.
    fn key(&self) -> String {
        match self {
            Self::Email(v) => format!("email:{}", v.to_lowercase()),
            Self::Phone(v) => format!("phone:{v}"),
        }
    }
}

/// The sign-in experience's policy with Logto's defaults filled in.
#[derive(Debug, Clone, Copy)]
pub struct CodePolicy {
    pub ttl_ms: i64,
    pub max_tries: i32,
}

impl From<&VerificationCodePolicy> for CodePolicy {
    fn from(p: &VerificationCodePolicy) -> Self {
        Self {
            ttl_ms: i64::from(p.expiration_duration.unwrap_or(DEFAULT_TTL_SECS)) * 1000,
            max_tries: p.max_retry_attempts.unwrap_or(DEFAULT_MAX_TRIES).clamp(1, 100) as i32,
        }
    }
}

/// How a new code reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent before answering; delivery errors reach the caller.
    Now,
    /// Sent after answering, so the answer's timing says nothing about the recipient.
    Detached,
    /// Not sent at all (no account to reset), yet stored so that guesses fail as usual.
    Withheld,
}

/// What sending needs besides the recipient.
pub struct SendRequest<'a> {
    pub template: TemplateType,
    pub locale: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub delivery: Delivery,
}

pub struct VerificationCodes<'a> {
    pub(crate) core: &'a Core,
}

impl VerificationCodes<'_> {
    async fn policy(&self, tenant: &TenantId) -> CodePolicy {
        match self.core.sign_in_experiences().get(tenant).await {
            Ok(sie) => CodePolicy::from(&sie.verification_code_policy),
            Err(_) => CodePolicy::from(&VerificationCodePolicy::default()),
        }
    }

    /// Creates a code for `to` and delivers it; returns the code's id.
    pub async fn send(&self, tenant: &TenantId, to: &Recipient, request: SendRequest<'_>) -> Result<String> {
        let now = clock::now_ms();
        let policy = self.policy(tenant).await;
        let recipient_bucket = format!("to:{}", ids::digest(&to.key()));
        let ip_bucket = request.ip.map(|ip| format!("ip:{ip}"));
        let mut tx = self.core.store.begin().await?;
        let since = now - RATE_WINDOW_MS;
        if store::sends_since(&mut tx, tenant, &recipient_bucket, since).await?.0 >= MAX_SENDS_PER_RECIPIENT {
            return Err(CodeError::RateLimited);
        }
        if let Some(bucket) = &ip_bucket
            && store::sends_since(&mut tx, tenant, bucket, since).await?.0 >= MAX_SENDS_PER_IP
        {
            return Err(CodeError::RateLimited);
        }
        if !self.core.connectors().available(&mut tx, tenant, to.connector()).await? {
            return Err(ConnectorError::NoConnector(to.connector()).into());
        }
        let code = ids::new_code();
        let id = ids::new_id();
        let row = StoredCode {
            tenant_id: tenant.as_str().to_owned(),
            id: id.clone(),
            identifier: to.key(),
            template_type: request.template.as_str().to_owned(),
            code_hash: code_digest(&id, &code),
            try_count: 0,
            expires_at: now + policy.ttl_ms,
            consumed_at: None,
            created_at: now,
        };
        store::replace(&mut tx, &row).await?;
        let mut buckets = vec![recipient_bucket.as_str()];
        buckets.extend(ip_bucket.as_deref());
        store::record_send(&mut tx, tenant, &buckets, now).await?;
        tx.commit().await?;

        let mut message = Message::code(to.value(), request.template, &code, request.locale);
        message.ip = request.ip.map(str::to_owned);
        match request.delivery {
            Delivery::Withheld => {}
            Delivery::Now => self.core.connectors().send(tenant, to.connector(), message).await?,
            Delivery::Detached => {
                let outgoing = self.core.connectors().prepare(tenant, to.connector(), message).await?;
                tokio::spawn(async move {
                    if let Err(e) = outgoing.deliver().await {
                        tracing::warn!(error = %e, "a verification code could not be delivered");
                    }
                });
            }
        }
        Ok(id)
    }

    /// Checks `code` against the live code for `to` and `template` and uses it up.
    /// `expected_id` ties the check to one issued code (an interaction's own).
    pub async fn verify(
        &self,
        tenant: &TenantId,
        to: &Recipient,
        template: TemplateType,
        code: &str,
        expected_id: Option<&str>,
    ) -> Result<()> {
        let now = clock::now_ms();
        let policy = self.policy(tenant).await;
        let mut c = self.core.store.conn().await?;
        let stored = store::find_current(&mut c, tenant, &to.key(), template.as_str())
            .await?
            .filter(|s| expected_id.is_none_or(|id| s.id == id))
            .ok_or(CodeError::NotFound)?;
        if stored.expires_at <= now {
            return Err(CodeError::Expired);
        }
        if stored.try_count >= policy.max_tries {
            return Err(CodeError::ExceedMaxTry);
        }
        let given = code_digest(&stored.id, code.trim());
        if !bool::from(given.as_bytes().ct_eq(stored.code_hash.as_bytes())) {
            let tries = store::add_try(&mut c, tenant, &stored.id).await?;
            return Err(if tries > policy.max_tries { CodeError::ExceedMaxTry } else { CodeError::Mismatch });
        }
        if !store::consume(&mut c, tenant, &stored.id, now).await? {
            return Err(CodeError::NotFound);
        }
        Ok(())
    }
}

/// Codes have a million values, so the digest is salted with the code's random id: a
/// leaked table needs a brute force per row, not one lookup table for all.
fn code_digest(id: &str, code: &str) -> String {
    ids::digest(&format!("kido-verification-code:{id}:{code}"))
}
