//! Management API authentication: a bearer JWT checked in memory against the tenant's keys.

use kido_proto::{MANAGEMENT_API_SCOPE_ALL, management_api_indicator};
use serde_json::{Map, Value};
use thiserror::Error;

use super::jwt;
use crate::{Core, TenantContext, clock};

/// Why a Management API bearer token is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManagementAuthError {
    /// Bad signature, wrong issuer or audience, expired, malformed.
    #[error("the token is not valid for this tenant's Management API: {0}")]
    Unauthorized(jwt::JwtError),
    #[error("the token does not carry the `all` scope")]
    Forbidden,
    #[error("the tenant has no signing keys loaded")]
    NoKeys,
}

/// The Management API's token check; `Core::management_auth`.
pub struct ManagementAuth<'a> {
    pub(crate) core: &'a Core,
}

impl ManagementAuth<'_> {
    /// Checks a bearer token for the tenant's Management API: our signature, our issuer,
    /// audience `https://<tenant>.logto.app/api`, not expired, scope `all`. No I/O.
    pub fn verify(&self, tenant: &TenantContext, token: &str) -> Result<Map<String, Value>, ManagementAuthError> {
        let ring = self.core.key_ring(&tenant.id).ok_or(ManagementAuthError::NoKeys)?;
        let audience = management_api_indicator(tenant.id.as_str());
        let expect = jwt::Expectation { issuer: &tenant.issuer, audience: &audience, now_secs: clock::now_secs() };
        let claims = jwt::verify(&ring, token, &expect).map_err(ManagementAuthError::Unauthorized)?;
        if !jwt::scopes(&claims).any(|s| s == MANAGEMENT_API_SCOPE_ALL) {
            return Err(ManagementAuthError::Forbidden);
        }
        Ok(claims)
    }
}
