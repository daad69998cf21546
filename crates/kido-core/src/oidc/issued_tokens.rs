//! What becomes of the tokens the grants issued: userinfo for an opaque access token,
//! introspection (RFC 7662) and revocation (RFC 7009) for a client's own tokens.

use kido_store::oidc as store;
use serde_json::{Map, Value, json};

use super::claims::{self, Audience};
use super::client_auth::{self, ClientAuth};
use super::grants::{KIND_ACCESS, KIND_CODE};
use super::token_error::{TokenError, server_error};
use crate::{Core, TenantContext, clock, ids};

/// Why userinfo refuses a bearer token.
#[derive(Debug, PartialEq, Eq)]
pub enum UserinfoError {
    InvalidToken(&'static str),
    InsufficientScope(&'static str),
    Server,
}

fn looks_like_jwt(token: &str) -> bool {
    token.matches('.').count() == 2
}

/// Userinfo, introspection and revocation; `Core::issued_tokens`.
pub struct IssuedTokens<'a> {
    pub(crate) core: &'a Core,
}

impl IssuedTokens<'_> {
    /// `POST /oidc/me`'s answer for a bearer token: the claims of its scopes.
    pub async fn userinfo(&self, tenant: &TenantContext, token: &str) -> Result<Map<String, Value>, UserinfoError> {
        let invalid = UserinfoError::InvalidToken("invalid token provided");
        if looks_like_jwt(token) {
            // JWTs are for API resources; userinfo takes the opaque token issued without one.
            return Err(invalid);
        }
        let mut c = self.core.store.conn().await.map_err(|_| UserinfoError::Server)?;
        let row = store::find_token(&mut c, &tenant.id, &ids::digest(token))
            .await
            .map_err(|_| UserinfoError::Server)?
            .filter(|t| t.kind == KIND_ACCESS && t.expires_at > clock::now_ms())
            .ok_or(invalid)?;
        let scopes: Vec<&str> = row.scope.split(' ').filter(|s| !s.is_empty()).collect();
        if !scopes.contains(&"openid") {
            return Err(UserinfoError::InsufficientScope("access token missing 'openid' scope"));
        }
        let grant = store::find_grant(&mut c, &tenant.id, &row.grant_id, clock::now_ms())
            .await
            .map_err(|_| UserinfoError::Server)?
            .ok_or(UserinfoError::InvalidToken("invalid token provided"))?;
        let user = kido_store::users::find(&mut c, &tenant.id, &grant.user_id)
            .await
            .map_err(|_| UserinfoError::Server)?
            .filter(crate::interaction::rules::may_sign_in)
            .ok_or(UserinfoError::InvalidToken("invalid token provided"))?;
        let related = claims::Related::load(&mut c, &tenant.id, &user.id, &scopes, None)
            .await
            .map_err(|_| UserinfoError::Server)?;
        Ok(claims::user_claims(&user, &related, &scopes, Audience::Userinfo))
    }

    /// RFC 7662 for the authenticated client's own opaque access tokens and refresh tokens.
    /// Anything else (unknown, expired, revoked, another client's) is `{active: false}`.
    pub async fn introspect(
        &self,
        tenant: &TenantContext,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<Value, TokenError> {
        let client = client_auth::authenticate(self.core, tenant, auth).await?;
        if looks_like_jwt(token) {
            return Err(TokenError::UnsupportedTokenType(
                "Structured JWT Tokens cannot be introspected via the introspection_endpoint".into(),
            ));
        }
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await.map_err(server_error)?;
        let row = store::find_token(&mut c, &tenant.id, &ids::digest(token)).await.map_err(server_error)?.filter(|t| {
            t.client_id == client.id() && t.kind != KIND_CODE && t.expires_at > now && t.consumed_at.is_none()
        });
        let Some(row) = row else { return Ok(json!({"active": false})) };
        let Some(grant) = store::find_grant(&mut c, &tenant.id, &row.grant_id, now).await.map_err(server_error)? else {
            return Ok(json!({"active": false}));
        };
        let mut out = json!({
            "active": true,
            "sub": grant.user_id,
            "client_id": row.client_id,
            "exp": row.expires_at / 1000,
            "iat": row.created_at / 1000,
            "iss": tenant.issuer,
        });
        if let Some(map) = out.as_object_mut() {
            if !row.scope.is_empty() {
                map.insert("scope".into(), row.scope.clone().into());
            }
            if row.kind == KIND_ACCESS {
                map.insert("token_type".into(), "Bearer".into());
            }
            if let Some(sid) = grant.session_id {
                map.insert("sid".into(), sid.into());
            }
        }
        Ok(out)
    }

    /// RFC 7009: revoking an access or refresh token revokes its whole grant. Unknown
    /// tokens are not an error (the client's goal is reached either way).
    pub async fn revoke(&self, tenant: &TenantContext, auth: &ClientAuth, token: &str) -> Result<(), TokenError> {
        let client = client_auth::authenticate(self.core, tenant, auth).await?;
        if looks_like_jwt(token) {
            return Err(TokenError::UnsupportedTokenType(
                "Structured JWT Tokens cannot be revoked via the revocation_endpoint".into(),
            ));
        }
        let mut c = self.core.store.conn().await.map_err(server_error)?;
        let row = store::find_token(&mut c, &tenant.id, &ids::digest(token)).await.map_err(server_error)?;
        if let Some(row) = row.filter(|t| t.client_id == client.id() && t.kind != KIND_CODE) {
            store::delete_grant(&mut c, &tenant.id, &row.grant_id).await.map_err(server_error)?;
        }
        Ok(())
    }
}
