//! One-time tokens (Logto's magic links): issued by the Management API for an email address,
//! spent once, by the Experience API (a sign-in or registration by that email) or by
//! `POST /api/one-time-tokens/verify`. Only the token's SHA-256 digest is kept; the clear
//! token leaves once, in the answer that creates it.

use kido_proto::one_time_tokens::{CreateOneTimeToken, OneTimeToken, OneTimeTokenContext, OneTimeTokenStatus};
use kido_proto::{Page, TenantId};
use kido_store::Exec;
use kido_store::Json;
use kido_store::one_time_tokens::{self as store, StoredOneTimeToken, TokenFilter};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::identifiers::is_email;
use crate::storage::{self, StorageError};
use crate::{Core, clock, ids};

/// Logto's default lifetime: 10 minutes.
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 600;
/// The longest lifetime a token may be given (a year).
pub const MAX_EXPIRES_IN_SECS: u64 = 365 * 24 * 3600;
/// Organizations one token may provision.
pub const MAX_JIT_ORGANIZATIONS: usize = 20;
/// Longest organization id a token may name.
const MAX_ORGANIZATION_ID_LEN: usize = 128;
/// Longest token a client may present; longer ones match no token and are not looked up.
const MAX_TOKEN_LEN: usize = 256;

#[derive(Debug, Error)]
pub enum OneTimeTokenError {
    /// No token has this id (`GET`/`PUT`).
    #[error("no one-time token with id {0}")]
    NotFound(String),
    /// Nothing to delete.
    #[error("no such one-time token")]
    Gone,
    #[error("the token does not exist")]
    TokenNotFound,
    #[error("the email does not match the token's")]
    EmailMismatch,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been used")]
    Consumed,
    #[error("the token has been revoked")]
    Revoked,
    #[error("a token cannot be made active again")]
    CannotReactivate,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(OneTimeTokenError);

type Result<T> = std::result::Result<T, OneTimeTokenError>;

pub struct OneTimeTokens<'a> {
    pub(crate) core: &'a Core,
}

impl OneTimeTokens<'_> {
    /// Issues a token; the answer is the only place its clear value appears.
    pub async fn create(&self, tenant: &TenantId, body: CreateOneTimeToken) -> Result<OneTimeToken> {
        let email = body.email;
        if !is_email(&email) {
            return Err(OneTimeTokenError::Invalid("`email` must be an email address".into()));
        }
        let expires_in = body.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS);
        if !(1..=MAX_EXPIRES_IN_SECS).contains(&expires_in) {
            return Err(OneTimeTokenError::Invalid(format!(
                "`expiresIn` must be between 1 and {MAX_EXPIRES_IN_SECS} seconds"
            )));
        }
        let context = check_context(body.context.unwrap_or_default())?;
        let token = ids::new_secret();
        let now = clock::now_ms();
        let row = StoredOneTimeToken {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            email,
            token_digest: ids::digest(&token),
            context: Json(serde_json::to_value(&context).map_err(|e| OneTimeTokenError::Invalid(e.to_string()))?),
            status: OneTimeTokenStatus::Active.as_str().to_owned(),
            created_at: now,
            expires_at: now.saturating_add(i64::try_from(expires_in * 1000).unwrap_or(i64::MAX)),
        };
        let mut c = self.core.store.conn().await?;
        store::insert(&mut c, &row).await?;
        let mut token_out = to_wire(row)?;
        token_out.token = Some(token);
        Ok(token_out)
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<OneTimeToken> {
        let mut c = self.core.store.conn().await?;
        let row = store::find(&mut c, tenant, id, clock::now_ms()).await?;
        to_wire(row.ok_or_else(|| OneTimeTokenError::NotFound(id.to_owned()))?)
    }

    /// Newest first; `email` compared case-insensitively, `status` as read now.
    pub async fn list(
        &self,
        tenant: &TenantId,
        email: Option<&str>,
        status: Option<OneTimeTokenStatus>,
        page: Option<Page>,
    ) -> Result<(Vec<OneTimeToken>, i64)> {
        if let Some(e) = email
            && !is_email(e)
        {
            return Err(OneTimeTokenError::Invalid("`email` must be an email address".into()));
        }
        let filter = TokenFilter { email: email.map(str::to_owned), status: status.map(|s| s.as_str().to_owned()) };
        let mut c = self.core.store.conn().await?;
        let (rows, total) = store::list(&mut c, tenant, &filter, clock::now_ms(), page).await?;
        Ok((rows.into_iter().map(to_wire).collect::<Result<_>>()?, total))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        if store::delete(&mut c, tenant, id).await? { Ok(()) } else { Err(OneTimeTokenError::Gone) }
    }

    /// Revokes, consumes or expires a token by hand; a token is never made active again.
    pub async fn set_status(&self, tenant: &TenantId, id: &str, status: OneTimeTokenStatus) -> Result<OneTimeToken> {
        let mut c = self.core.store.conn().await?;
        // An unknown id is a 404 before a refused status is a 400 (Logto's order).
        if status == OneTimeTokenStatus::Active {
            store::find(&mut c, tenant, id, clock::now_ms())
                .await?
                .ok_or_else(|| OneTimeTokenError::NotFound(id.to_owned()))?;
            return Err(OneTimeTokenError::CannotReactivate);
        }
        let row = store::set_status(&mut c, tenant, id, status.as_str()).await?;
        to_wire(row.ok_or_else(|| OneTimeTokenError::NotFound(id.to_owned()))?)
    }

    /// `POST /api/one-time-tokens/verify`: spends the token issued for `email`; the spent
    /// token (its value echoed back: the caller sent it).
    pub async fn verify(&self, tenant: &TenantId, token: &str, email: &str) -> Result<OneTimeToken> {
        let mut c = self.core.store.conn().await?;
        let row = consume(&mut c, tenant, token, email, clock::now_ms()).await?;
        let mut out = to_wire(row)?;
        out.token = Some(token.to_owned());
        Ok(out)
    }
}

/// Spends the token issued for `email`: one conditional statement, so of two parallel
/// spends exactly one wins. When it fails, the token's row says why (Logto's order: unknown,
/// another email, expired — marked so —, consumed, revoked).
pub(crate) async fn consume(
    c: &mut impl Exec,
    tenant: &TenantId,
    token: &str,
    email: &str,
    now: i64,
) -> Result<StoredOneTimeToken> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(OneTimeTokenError::TokenNotFound);
    }
    let digest = ids::digest(token);
    if let Some(row) = store::consume(c, tenant, &digest, email, now).await? {
        // The lookup is by digest; the comparison that decides is constant-time.
        if bool::from(row.token_digest.as_bytes().ct_eq(digest.as_bytes())) {
            return Ok(row);
        }
        return Err(OneTimeTokenError::TokenNotFound);
    }
    let row = store::find_by_digest(c, tenant, &digest).await?;
    let row = row.filter(|r| bool::from(r.token_digest.as_bytes().ct_eq(digest.as_bytes())));
    let row = row.ok_or(OneTimeTokenError::TokenNotFound)?;
    if !row.email.eq_ignore_ascii_case(email) {
        return Err(OneTimeTokenError::EmailMismatch);
    }
    let expired = row.expires_at <= now || row.status == OneTimeTokenStatus::Expired.as_str();
    if expired {
        if row.status == OneTimeTokenStatus::Active.as_str() {
            store::mark_expired(c, tenant, &row.id, now).await?;
        }
        return Err(OneTimeTokenError::Expired);
    }
    Err(match row.status.as_str() {
        "revoked" => OneTimeTokenError::Revoked,
        // Consumed, or spent by a parallel request between the two statements.
        _ => OneTimeTokenError::Consumed,
    })
}

/// The context a token may carry: organization ids de-duplicated, bounded in count and length.
fn check_context(mut context: OneTimeTokenContext) -> Result<OneTimeTokenContext> {
    if let Some(ids) = context.jit_organization_ids.take() {
        if ids.iter().any(|id| id.is_empty() || id.len() > MAX_ORGANIZATION_ID_LEN) {
            return Err(OneTimeTokenError::Invalid(format!(
                "`context.jitOrganizationIds` must hold ids of 1 to {MAX_ORGANIZATION_ID_LEN} characters"
            )));
        }
        let ids = crate::limits::distinct(ids, MAX_JIT_ORGANIZATIONS).map_err(|_| {
            OneTimeTokenError::Invalid(format!(
                "`context.jitOrganizationIds` may name at most {MAX_JIT_ORGANIZATIONS} organizations"
            ))
        })?;
        context.jit_organization_ids = Some(ids);
    }
    Ok(context)
}

/// The context a stored token carries (a row that does not parse carries nothing).
pub(crate) fn context_of(row: &StoredOneTimeToken) -> OneTimeTokenContext {
    serde_json::from_value(row.context.0.clone()).unwrap_or_default()
}

fn to_wire(row: StoredOneTimeToken) -> Result<OneTimeToken> {
    let status = OneTimeTokenStatus::parse(&row.status).ok_or_else(|| {
        OneTimeTokenError::Store(StorageError::Corrupt(format!("one-time token {} has status {}", row.id, row.status)))
    })?;
    let context = context_of(&row);
    Ok(OneTimeToken {
        tenant_id: row.tenant_id,
        id: row.id,
        email: row.email,
        token: None,
        context,
        status,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}
