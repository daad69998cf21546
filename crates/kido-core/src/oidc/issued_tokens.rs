//! What becomes of the tokens the grants issued: userinfo for an opaque access token,
//! introspection (RFC 7662) and revocation (RFC 7009) for a client's own tokens.

use kido_store::Exec;
use kido_store::oidc as store;
use kido_store::users::StoredUser;
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

/// Who an access token speaks for: its user, client, grant (and the grant's session) and
/// scopes.
pub struct TokenHolder {
    pub user: StoredUser,
    pub client_id: String,
    pub grant_id: String,
    pub session_id: Option<String>,
    pub scopes: Vec<String>,
}

/// Userinfo, introspection and revocation; `Core::issued_tokens`.
pub struct IssuedTokens<'a> {
    pub(crate) core: &'a Core,
}

impl IssuedTokens<'_> {
    /// `POST /oidc/me`'s answer for a bearer token: the claims of its scopes.
    pub async fn userinfo(&self, tenant: &TenantContext, token: &str) -> Result<Map<String, Value>, UserinfoError> {
        let mut c = self.core.store.conn().await.map_err(|_| UserinfoError::Server)?;
        let holder = self.holder(&mut c, tenant, token).await?;
        let scopes: Vec<&str> = holder.scopes.iter().map(String::as_str).collect();
        let related = claims::Related::load(&mut c, &tenant.id, &holder.user.id, &scopes, None)
            .await
            .map_err(|_| UserinfoError::Server)?;
        Ok(claims::user_claims(&holder.user, &related, &scopes, Audience::Userinfo))
    }

    /// Who an opaque access token with `openid` speaks for (userinfo and the Account API):
    /// a live token of a live grant whose user may sign in. A JWT is refused (it is for API
    /// resources), as is a token without `openid` (`InsufficientScope`).
    pub async fn holder(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        token: &str,
    ) -> Result<TokenHolder, UserinfoError> {
        let invalid = || UserinfoError::InvalidToken("invalid token provided");
        if looks_like_jwt(token) {
            return Err(invalid());
        }
        let now = clock::now_ms();
        let row = store::find_token(c, &tenant.id, &ids::digest(token))
            .await
            .map_err(|_| UserinfoError::Server)?
            .filter(|t| t.kind == KIND_ACCESS && t.expires_at > now)
            .ok_or_else(invalid)?;
        let scopes: Vec<String> = row.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(UserinfoError::InsufficientScope("access token missing 'openid' scope"));
        }
        let grant = store::find_grant(c, &tenant.id, &row.grant_id, now)
            .await
            .map_err(|_| UserinfoError::Server)?
            .ok_or_else(invalid)?;
        let user = kido_store::users::find(c, &tenant.id, &grant.user_id)
            .await
            .map_err(|_| UserinfoError::Server)?
            .filter(crate::interaction::rules::may_sign_in)
            .ok_or_else(invalid)?;
        Ok(TokenHolder { user, client_id: row.client_id, grant_id: grant.id, session_id: grant.session_id, scopes })
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
