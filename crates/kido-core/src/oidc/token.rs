//! The client_credentials grant (machine-to-machine tokens, for a resource or an
//! organization) and the JWT access token every grant signs; the user grants live in
//! `grants.rs`.

use std::sync::Arc;

use kido_proto::applications::ApplicationType;
use serde_json::json;

use kido_proto::organizations::MemberKind;

use super::client_auth::{self, ClientAuth};
use super::clients::{self, ResourceGrant};
use super::keys::KeyRing;
use super::organizations;
use super::token_error::{TokenError, server_error};
use crate::events::{Event, GrantType};
use crate::{Core, TenantContext, audit, clock, ids, limits, validate};

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

/// The client_credentials grant; `Core::client_credentials`.
pub struct ClientCredentials<'a> {
    pub(crate) core: &'a Core,
}

impl ClientCredentials<'_> {
    /// OAuth 2.0 client_credentials (RFC 6749 §4.4) for machine-to-machine applications.
    /// Warm path: no database round trip (client and grant come from the cache), one
    /// constant-time secret comparison, one signature; the audit entry is queued, not
    /// written (`audit::record_buffered`).
    pub async fn issue(
        &self,
        tenant: &TenantContext,
        credentials: &ClientAuth,
        request: &ClientCredentialsRequest,
    ) -> Result<IssuedToken, TokenError> {
        let (client, secret) = client_auth::authenticate_naming_secret(self.core, tenant, credentials).await?;
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
        // As Logto: which application, and which of its secrets by name (never its value).
        let mut details = json!({ "applicationId": client.id() });
        if let Some(secret) = secret.and_then(|i| client.secrets.get(i)) {
            details["applicationSecret"] = json!({ "name": secret.name });
        }
        audit::record_buffered(self.core, &tenant.id, audit::keys::EXCHANGE_TOKEN_BY_CLIENT_CREDENTIALS, None, details);
        self.core.report(Event::TokenIssued {
            tenant: &tenant.id,
            client_id: client.id(),
            user_id: None,
            grant: GrantType::ClientCredentials,
        });
        Ok(IssuedToken { access_token, expires_in: grant.access_token_ttl, scope })
    }

    /// The resource a token is for (the requested one or the tenant's default) and the
    /// scopes of it the client holds.
    async fn resource_grant(
        &self,
        tenant: &TenantContext,
        client_id: &str,
        indicator: Option<&str>,
    ) -> Result<Arc<ResourceGrant>, TokenError> {
        clients::resource_grant(self.core, tenant, client_id, indicator).await?.ok_or_else(|| match indicator {
            Some(_) => TokenError::InvalidTarget("resource indicator is missing, or unknown".into()),
            None => TokenError::InvalidTarget("both `resource` and `organization_id` are not provided".into()),
        })
    }

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
