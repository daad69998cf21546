//! Client authentication and the client_credentials grant; the user grants live in
//! `grants.rs`.

use std::sync::Arc;

use kido_proto::applications::ApplicationType;
use serde_json::json;
use subtle::ConstantTimeEq;
use thiserror::Error;

use kido_proto::organizations::MemberKind;

use super::clients::{Client, ResourceGrant};
use super::keys::KeyRing;
use super::{Oidc, organizations};
use crate::{TenantContext, clock, ids, limits, validate};

/// RFC 6749 §5.2 errors (plus RFC 8707 `invalid_target`).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidTarget(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnsupportedTokenType(String),
    /// The client or user may not have what was asked (e.g. not an organization member).
    #[error("{0}")]
    AccessDenied(String),
    /// The refresh token lacks a scope the request needs (RFC 6750 §3.1).
    #[error("{0}")]
    InsufficientScope(String),
    #[error("{0}")]
    ServerError(String),
    /// Storage cannot take writes for now (disk full); RFC 6749's `temporarily_unavailable`.
    #[error("{0}")]
    TemporarilyUnavailable(String),
}

impl TokenError {
    /// The RFC 6749 `error` value.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidTarget(_) => "invalid_target",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::AccessDenied(_) => "access_denied",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::ServerError(_) => "server_error",
            Self::TemporarilyUnavailable(_) => "temporarily_unavailable",
        }
    }
}

/// How a client identified itself: with its secret (by either `client_secret_basic` or
/// `client_secret_post`; the HTTP layer has already rejected both at once), or by id alone
/// (`none`, for public clients).
pub enum ClientAuth {
    Secret { client_id: String, client_secret: String },
    None { client_id: String },
}

pub struct ClientCredentialsRequest {
    /// `resource` parameters (RFC 8707); at most one is allowed for this grant.
    pub resources: Vec<String>,
    pub scope: Option<String>,
    /// For an organization token (the application must be a member).
    pub organization_id: Option<String>,
}

#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: Option<String>,
}

impl Oidc<'_> {
    /// OAuth 2.0 client_credentials (RFC 6749 §4.4) for machine-to-machine applications.
    /// Warm path: no database round trip (client and grant come from the cache), one
    /// constant-time secret comparison, one signature.
    pub async fn client_credentials(
        &self,
        tenant: &TenantContext,
        credentials: &ClientAuth,
        request: &ClientCredentialsRequest,
    ) -> Result<IssuedToken, TokenError> {
        let client = self.authenticate(tenant, credentials).await?;
        if client.app.app_type != ApplicationType::MachineToMachine {
            return Err(TokenError::UnauthorizedClient("requested grant type is not allowed for this client".into()));
        }
        let requested = parse_scope(request.scope.as_deref())?;
        let indicator = match request.resources.as_slice() {
            [] => None,
            [one] => Some(one.as_str()),
            _ => {
                return Err(TokenError::InvalidTarget(
                    "only a single resource indicator value is supported for this grant".into(),
                ));
            }
        };
        if let Some(indicator) = indicator
            && !validate::resource_indicator(indicator)
        {
            return Err(TokenError::InvalidTarget(
                "resource indicator must be an absolute URI without a fragment".into(),
            ));
        }
        let grant = match &request.organization_id {
            Some(org) => self.organization_grant(tenant, client.id(), org, indicator).await?,
            None => self.resource_grant(tenant, client.id(), indicator).await?,
        };
        let granted: Vec<&str> = requested.iter().copied().filter(|s| grant.scopes.iter().any(|g| g == s)).collect();
        let scope = (!granted.is_empty()).then(|| granted.join(" "));

        let ring = self.core.key_ring(&tenant.id).ok_or_else(|| TokenError::ServerError("no signing key".into()))?;
        let access_token = AccessToken {
            subject: client.id(),
            client_id: client.id(),
            audience: &grant.indicator,
            ttl: grant.access_token_ttl,
            scope: scope.as_deref().unwrap_or(""),
            // An API-resource token narrowed to one organization says which.
            organization_id: request.organization_id.as_deref().filter(|_| indicator.is_some()),
        }
        .sign(&ring, &tenant.issuer)?;
        Ok(IssuedToken { access_token, expires_in: grant.access_token_ttl, scope })
    }

    /// Finds the client and checks how it authenticated: confidential clients by one of
    /// their secrets (compared in constant time), public clients by id alone. Unknown
    /// clients and wrong secrets get the same answer.
    pub(crate) async fn authenticate(
        &self,
        tenant: &TenantContext,
        presented: &ClientAuth,
    ) -> Result<Arc<Client>, TokenError> {
        let failed = || TokenError::InvalidClient("client authentication failed".into());
        let (client_id, secret) = match presented {
            ClientAuth::Secret { client_id, client_secret } => (client_id, Some(client_secret)),
            ClientAuth::None { client_id } => (client_id, None),
        };
        let client = self.client(tenant, client_id).await?.ok_or_else(failed)?;
        let Some(secret) = secret else {
            return if client.is_public() {
                Ok(client)
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
        for (value, expires_at) in &client.secrets {
            if bool::from(value.as_bytes().ct_eq(secret.as_bytes())) {
                if expires_at.is_some_and(|at| at <= now) {
                    matched_expired = true;
                    continue;
                }
                return Ok(client);
            }
        }
        if matched_expired {
            return Err(TokenError::InvalidRequest("client secret has expired".into()));
        }
        Err(failed())
    }

    /// A client by id, from the cache when warm.
    pub(crate) async fn client(
        &self,
        tenant: &TenantContext,
        client_id: &str,
    ) -> Result<Option<Arc<Client>>, TokenError> {
        // Longer than any id Kido issues: unknown without a lookup, and never cached.
        if client_id.len() > limits::MAX_CLIENT_ID_LEN {
            return Ok(None);
        }
        let cache = &self.core.clients;
        if let Some(hit) = cache.client(&tenant.id, client_id) {
            return Ok(hit);
        }
        let generation = cache.generation();
        let mut c = self.core.store.conn().await.map_err(server_error)?;
        let app = kido_store::applications::find(&mut c, &tenant.id, client_id).await.map_err(server_error)?;
        let client = match app {
            None => None,
            Some(app) => {
                let secrets = kido_store::applications::list_secrets(&mut c, &tenant.id, client_id)
                    .await
                    .map_err(server_error)?;
                Some(Arc::new(Client { app, secrets: secrets.into_iter().map(|s| (s.value, s.expires_at)).collect() }))
            }
        };
        cache.put_client(generation, &tenant.id, client_id, client.clone());
        Ok(client)
    }

    /// The resource a token is for (the requested one or the tenant's default) and the
    /// scopes of it the client holds.
    async fn resource_grant(
        &self,
        tenant: &TenantContext,
        client_id: &str,
        indicator: Option<&str>,
    ) -> Result<Arc<ResourceGrant>, TokenError> {
        let cache = &self.core.clients;
        let key = indicator.unwrap_or("");
        let cached = cache.grant(&tenant.id, client_id, key);
        let grant = match cached {
            Some(hit) => hit,
            None => {
                let generation = cache.generation();
                let mut c = self.core.store.conn().await.map_err(server_error)?;
                let resource = match indicator {
                    Some(i) => kido_store::resources::find_by_indicator(&mut c, &tenant.id, i).await,
                    None => kido_store::resources::find_default(&mut c, &tenant.id).await,
                }
                .map_err(server_error)?;
                let grant = match resource {
                    None => None,
                    Some(r) => {
                        let scopes = kido_store::roles::application_scope_names(&mut c, &tenant.id, client_id, &r.id)
                            .await
                            .map_err(server_error)?;
                        Some(Arc::new(ResourceGrant {
                            indicator: r.indicator,
                            access_token_ttl: r.access_token_ttl,
                            scopes,
                        }))
                    }
                };
                cache.put_grant(generation, &tenant.id, client_id, key, grant.clone());
                grant
            }
        };
        grant.ok_or_else(|| match indicator {
            Some(_) => TokenError::InvalidTarget("resource indicator is missing, or unknown".into()),
            None => TokenError::InvalidTarget("both `resource` and `organization_id` are not provided".into()),
        })
    }
}

impl Oidc<'_> {
    /// What a machine-to-machine application may get for an organization: an organization
    /// token (the organization scopes of its roles there) or, with `indicator`, a token for
    /// that resource narrowed to the resource scopes of those roles. Cached like
    /// [`Self::resource_grant`]; membership is checked first.
    async fn organization_grant(
        &self,
        tenant: &TenantContext,
        client_id: &str,
        organization_id: &str,
        indicator: Option<&str>,
    ) -> Result<Arc<ResourceGrant>, TokenError> {
        let membership_key = format!("organization:{organization_id}");
        let membership = match self.core.clients.grant(&tenant.id, client_id, &membership_key) {
            Some(hit) => hit,
            None => {
                let generation = self.core.clients.generation();
                let mut c = self.core.store.conn().await.map_err(server_error)?;
                let member = kido_store::organizations::is_member(
                    &mut c,
                    &tenant.id,
                    organization_id,
                    MemberKind::Application,
                    client_id,
                )
                .await
                .map_err(server_error)?;
                let grant = if member {
                    let scopes = kido_store::organizations::member_scope_names(
                        &mut c,
                        &tenant.id,
                        organization_id,
                        MemberKind::Application,
                        client_id,
                    )
                    .await
                    .map_err(server_error)?;
                    Some(Arc::new(ResourceGrant {
                        indicator: organizations::audience(organization_id),
                        access_token_ttl: organizations::ORGANIZATION_TOKEN_TTL_SECS,
                        scopes,
                    }))
                } else {
                    None
                };
                self.core.clients.put_grant(generation, &tenant.id, client_id, &membership_key, grant.clone());
                grant
            }
        };
        let membership = membership
            .ok_or_else(|| TokenError::AccessDenied("app has not associated with the organization".into()))?;
        let Some(indicator) = indicator else { return Ok(membership) };

        let key = format!("organization:{organization_id} {indicator}");
        let grant = match self.core.clients.grant(&tenant.id, client_id, &key) {
            Some(hit) => hit,
            None => {
                let generation = self.core.clients.generation();
                let mut c = self.core.store.conn().await.map_err(server_error)?;
                let resource = kido_store::resources::find_by_indicator(&mut c, &tenant.id, indicator)
                    .await
                    .map_err(server_error)?;
                let grant = match resource {
                    None => None,
                    Some(r) => {
                        let scopes = kido_store::organizations::member_resource_scope_names(
                            &mut c,
                            &tenant.id,
                            Some(organization_id),
                            MemberKind::Application,
                            client_id,
                            &r.id,
                        )
                        .await
                        .map_err(server_error)?;
                        Some(Arc::new(ResourceGrant {
                            indicator: r.indicator,
                            access_token_ttl: r.access_token_ttl,
                            scopes,
                        }))
                    }
                };
                self.core.clients.put_grant(generation, &tenant.id, client_id, &key, grant.clone());
                grant
            }
        };
        grant.ok_or_else(|| TokenError::InvalidTarget("resource indicator is missing, or unknown".into()))
    }
}

/// The claims of a JWT access token (RFC 9068), the same for users and machines.
pub(crate) struct AccessToken<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    pub audience: &'a str,
    pub ttl: i64,
    /// Space-separated; the claim is left out when empty (as oidc-provider, so as Logto).
    pub scope: &'a str,
    /// On a resource token narrowed to one organization.
    pub organization_id: Option<&'a str>,
}

impl AccessToken<'_> {
    pub(crate) fn sign(&self, ring: &KeyRing, issuer: &str) -> Result<String, TokenError> {
        let now = clock::now_secs();
        let mut claims = json!({
            "jti": ids::new_token_id(),
            "sub": self.subject,
            "iat": now,
            "exp": now.saturating_add(self.ttl),
            "client_id": self.client_id,
            "iss": issuer,
            "aud": self.audience,
        });
        if let Some(map) = claims.as_object_mut() {
            if !self.scope.is_empty() {
                map.insert("scope".into(), self.scope.into());
            }
            if let Some(org) = self.organization_id {
                map.insert("organization_id".into(), org.into());
            }
        }
        ring.current.sign(&claims, true).map_err(|e| TokenError::ServerError(e.to_string()))
    }
}

pub(crate) fn server_error(e: kido_store::StoreError) -> TokenError {
    if let kido_store::StoreError::Full(_) = e {
        tracing::error!(error = %e, "the database's disk is full: free disk space");
        return TokenError::TemporarilyUnavailable(crate::STORAGE_FULL_MESSAGE.into());
    }
    tracing::error!(error = %e, "token endpoint storage failure");
    TokenError::ServerError("the server could not complete the request".into())
}

/// RFC 6749 §3.3: space-delimited scope tokens of printable ASCII without `"` or `\`.
pub(crate) fn parse_scope(scope: Option<&str>) -> Result<Vec<&str>, TokenError> {
    let Some(scope) = scope else { return Ok(Vec::new()) };
    let tokens = scope.split(' ').filter(|s| !s.is_empty());
    let scopes = limits::distinct(tokens, limits::MAX_SCOPES)
        .map_err(|e| TokenError::InvalidScope(format!("at most {} scopes may be requested", e.max)))?;
    if let Some(bad) = scopes
        .iter()
        .find(|t| !t.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)))
    {
        return Err(TokenError::InvalidScope(format!("scope `{bad}` is malformed")));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::parse_scope;

    #[test]
    fn scopes() {
        assert_eq!(parse_scope(Some("all  read:x all")).unwrap(), ["all", "read:x"]);
        assert!(parse_scope(Some("bad\"scope")).is_err());
        assert!(parse_scope(None).unwrap().is_empty());
        let too_many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
        assert!(matches!(parse_scope(Some(&too_many.join(" "))), Err(super::TokenError::InvalidScope(_))));
    }
}
