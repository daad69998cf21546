//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic` / `client_secret_post` for confidential clients, `none` for public ones.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::clients::{self, Client};
use super::token_error::TokenError;
use crate::{Core, TenantContext, clock};

/// How a client identified itself: with its secret (by either `client_secret_basic` or
/// `client_secret_post`; the HTTP layer has already rejected both at once), or by id alone
/// (`none`, for public clients).
pub enum ClientAuth {
    Secret { client_id: String, client_secret: String },
    None { client_id: String },
}

/// Finds the client and checks how it authenticated: confidential clients by one of
/// their secrets (compared in constant time), public clients by id alone. Unknown
/// clients and wrong secrets get the same answer.
pub(crate) async fn authenticate(
    core: &Core,
    tenant: &TenantContext,
    presented: &ClientAuth,
) -> Result<Arc<Client>, TokenError> {
    authenticate_naming_secret(core, tenant, presented).await.map(|(client, _)| client)
}

/// [`authenticate`], with the index in `client.secrets` of the secret that matched.
pub(crate) async fn authenticate_naming_secret(
    core: &Core,
    tenant: &TenantContext,
    presented: &ClientAuth,
) -> Result<(Arc<Client>, Option<usize>), TokenError> {
    let failed = || TokenError::InvalidClient("client authentication failed".into());
    let (client_id, secret) = match presented {
        ClientAuth::Secret { client_id, client_secret } => (client_id, Some(client_secret)),
        ClientAuth::None { client_id } => (client_id, None),
    };
    let client = clients::find(core, tenant, client_id).await?.ok_or_else(failed)?;
    let Some(secret) = secret else {
        return if client.is_public() {
            Ok((client, None))
        } else {
            Err(TokenError::InvalidClient(
                "client authentication failed: this client must authenticate with its secret".into(),
            ))
        };
    };
    if client.is_public() {
        // A public client has no secret to present; whatever it sent is wrong.
        return Err(failed());
    }
    let now = clock::now_ms();
    let mut matched_expired = false;
    let mut matched = None;
    // Every secret is compared, so the time taken does not say which one matched.
    for (i, s) in client.secrets.iter().enumerate() {
        if bool::from(s.value.as_bytes().ct_eq(secret.as_bytes())) {
            if s.expires_at.is_some_and(|at| at <= now) {
                matched_expired = true;
            } else if matched.is_none() {
                matched = Some(i);
            }
        }
    }
    if matched.is_some() {
        return Ok((client, matched));
    }
    if matched_expired {
        return Err(TokenError::InvalidRequest("client secret has expired".into()));
    }
    Err(failed())
}
