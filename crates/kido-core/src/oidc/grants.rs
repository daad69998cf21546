//! The user grants of the token endpoint (authorization_code, refresh_token) and what they
//! issue: opaque access tokens (userinfo), JWT access tokens for API resources, ID tokens
//! and rotating refresh tokens. What becomes of them afterwards (userinfo, introspection,
//! revocation) is `issued_tokens.rs`. Every secret handed out is stored as a digest only.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kido_proto::organizations::MemberKind;
use kido_store::oidc::{self as store, StoredGrant, StoredToken, TokenOfUser};
use kido_store::users::StoredUser;
use kido_store::{Exec, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;
use subtle::ConstantTimeEq;

use super::claims::{self, Audience};
use super::client_auth::{self, ClientAuth};
use super::clients::Client;
use super::keys::SigningAlgorithm;
use super::organizations;
use super::params::is_pkce_value;
use super::token::{AccessToken, parse_scope};
use super::token_error::{TokenError, server_error};
use crate::audit;
use crate::events::{Event, GrantType};
use crate::storage::StorageError;
use crate::{Core, TenantContext, clock, ids, validate};

pub const KIND_CODE: &str = "AuthorizationCode";
pub const KIND_REFRESH: &str = "RefreshToken";
pub const KIND_ACCESS: &str = "AccessToken";
const OPAQUE_ACCESS_TOKEN_TTL_SECS: i64 = 3600;
const DEFAULT_ID_TOKEN_TTL_SECS: i64 = 3600;
const DEFAULT_REFRESH_TOKEN_TTL_DAYS: i64 = 14;
/// Confidential clients keep their refresh token until this share of its lifetime is used.
const ROTATE_AFTER_SHARE: f64 = 0.7;

pub struct CodeRequest {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub resources: Vec<String>,
}

pub struct RefreshRequest {
    pub refresh_token: String,
    pub scope: Option<String>,
    pub resources: Vec<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug)]
pub struct TokenSet {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeData {
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
}

fn invalid_grant(why: &str) -> TokenError {
    TokenError::InvalidGrant(why.to_owned())
}

/// The grants a user's sign-in leads to; `Core::user_grants`.
pub struct UserGrants<'a> {
    pub(crate) core: &'a Core,
}

impl UserGrants<'_> {
    /// `grant_type=authorization_code`: a code is good once, for the client and redirect
    /// URI it was issued to, with the PKCE verifier of its challenge. A code presented
    /// twice revokes everything issued under its grant.
    pub async fn authorization_code(
        &self,
        tenant: &TenantContext,
        auth: &ClientAuth,
        request: &CodeRequest,
    ) -> Result<TokenSet, TokenError> {
        let client = self.user_client(tenant, auth).await?;
        let hash = ids::digest(&request.code);
        let mut c = self.core.store.conn().await.map_err(server_error)?;
        let found = store::find_token_of_user(&mut c, &tenant.id, &hash).await.map_err(server_error)?;
        let found =
            found.filter(|f| f.token.kind == KIND_CODE).ok_or_else(|| invalid_grant("authorization code not found"))?;
        let TokenOfUser { token: code, grant, user, .. } = &found;
        if code.client_id != client.id() {
            return Err(invalid_grant("client mismatch"));
        }
        if code.expires_at <= clock::now_ms() {
            return Err(invalid_grant("authorization code is expired"));
        }
        let data: CodeData =
            serde_json::from_value(code.data.0.clone()).map_err(|_| invalid_grant("authorization code is invalid"))?;
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .ok_or_else(|| TokenError::InvalidRequest("missing required parameter 'redirect_uri'".into()))?;
        if redirect_uri != data.redirect_uri {
            return Err(invalid_grant("authorization code redirect_uri mismatch"));
        }
        check_pkce(data.code_challenge.as_deref(), request.code_verifier.as_deref())?;
        if code.consumed_at.is_some() {
            self.revoke_grant(&mut c, tenant, &code.grant_id).await?;
            return Err(invalid_grant("authorization code already consumed"));
        }
        check_live(grant, user)?;

        let scope: Vec<String> = grant.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let resource = single_resource(&request.resources, grant)?;
        let (issued, access_row) =
            self.issue_tokens(&mut c, tenant, &client, &found, &scope, resource, None, data.nonce.as_deref()).await?;
        // The code is spent by one conditional statement (of two exchanges exactly one
        // wins) before anything is stored under it, and that statement writes the
        // exchange's audit entry. No transaction: a failure after it leaves a spent code and
        // tokens nobody received, both harmless.
        let details = json!({"applicationId": client.id()});
        let entry =
            audit::entry(&tenant.id, audit::keys::EXCHANGE_TOKEN_BY_AUTHORIZATION_CODE, Some(&user.id), details);
        let spent = store::consume_token(&mut c, &tenant.id, &hash, clock::now_ms(), std::slice::from_ref(&entry));
        if !spent.await.map_err(server_error)? {
            self.revoke_grant(&mut c, tenant, &code.grant_id).await?;
            return Err(invalid_grant("authorization code already consumed"));
        }
        let refresh = scope
            .iter()
            .any(|s| s == "offline_access")
            .then(|| refresh_token_row(tenant, &client, grant, &grant.scope));
        let rows: Vec<StoredToken> = refresh.iter().map(|(_, row)| row.clone()).chain(access_row).collect();
        store::insert_tokens(&mut c, &rows).await.map_err(revoked_meanwhile)?;
        self.issued(tenant, &client, user, GrantType::AuthorizationCode);
        Ok(TokenSet { refresh_token: refresh.map(|(token, _)| token), ..issued })
    }

    /// `grant_type=refresh_token`: new access (and ID) tokens for the same grant, scope
    /// narrowed on request, resource switched among those authorized. Public clients get a
    /// new refresh token every time, confidential ones past 70 % of its lifetime; a
    /// rotated-out token presented again revokes the grant (it has leaked).
    pub async fn refresh_token(
        &self,
        tenant: &TenantContext,
        auth: &ClientAuth,
        request: &RefreshRequest,
    ) -> Result<TokenSet, TokenError> {
        let client = self.user_client(tenant, auth).await?;
        let hash = ids::digest(&request.refresh_token);
        let mut c = self.core.store.conn().await.map_err(server_error)?;
        let found = store::find_token_of_user(&mut c, &tenant.id, &hash).await.map_err(server_error)?;
        let found =
            found.filter(|f| f.token.kind == KIND_REFRESH).ok_or_else(|| invalid_grant("refresh token not found"))?;
        let TokenOfUser { token, grant, user, .. } = &found;
        if token.client_id != client.id() {
            return Err(invalid_grant("client mismatch"));
        }
        let now = clock::now_ms();
        if token.expires_at <= now {
            return Err(invalid_grant("refresh token is expired"));
        }
        if token.consumed_at.is_some() {
            self.revoke_grant(&mut c, tenant, &token.grant_id).await?;
            return Err(invalid_grant("refresh token already used"));
        }
        let held: Vec<&str> = token.scope.split(' ').filter(|s| !s.is_empty()).collect();
        if request.organization_id.is_some() && !held.contains(&organizations::ORGANIZATIONS_SCOPE) {
            return Err(TokenError::InsufficientScope("refresh token missing required scope".into()));
        }
        let requested = parse_scope(request.scope.as_deref())?;
        if let Some(missing) = requested.iter().find(|s| !held.contains(s)) {
            return Err(TokenError::InvalidScope(format!("refresh token missing requested scope `{missing}`")));
        }
        check_live(grant, user)?;
        // Before any rotation, so a refused request does not use the refresh token up.
        if let Some(org) = &request.organization_id {
            organizations::check_user_access(&mut c, tenant, &client, org, &user.id).await?;
        }

        let scope: Vec<String> =
            if requested.is_empty() { held.iter() } else { requested.iter() }.map(|s| (*s).to_owned()).collect();
        let resource = single_resource(&request.resources, grant)?;

        let rotate = client.app.custom_client_metadata.rotate_refresh_token.unwrap_or(true)
            && (client.is_public()
                || (now - token.created_at) as f64
                    >= ROTATE_AFTER_SHARE * (token.expires_at - token.created_at) as f64);
        let organization_id = request.organization_id.as_deref();
        let (issued, access_row) =
            self.issue_tokens(&mut c, tenant, &client, &found, &scope, resource, organization_id, None).await?;
        // As with codes: the old token is spent by one conditional statement before its
        // successor is stored; no transaction is needed around the rest.
        let rotated = if rotate {
            if !store::consume_token(&mut c, &tenant.id, &hash, now, &[]).await.map_err(server_error)? {
                self.revoke_grant(&mut c, tenant, &token.grant_id).await?;
                return Err(invalid_grant("refresh token already used"));
            }
            Some(refresh_token_row(tenant, &client, grant, &token.scope))
        } else {
            None
        };
        let rows: Vec<StoredToken> = rotated.iter().map(|(_, row)| row.clone()).chain(access_row).collect();
        store::insert_tokens(&mut c, &rows).await.map_err(revoked_meanwhile)?;
        audit::record(
            &mut c,
            &tenant.id,
            audit::keys::EXCHANGE_TOKEN_BY_REFRESH_TOKEN,
            Some(&user.id),
            json!({"applicationId": client.id()}),
        )
        .await
        .map_err(server_error)?;
        self.issued(tenant, &client, user, GrantType::RefreshToken);
        let refresh_token = rotated.map_or_else(|| request.refresh_token.clone(), |(token, _)| token);
        Ok(TokenSet { refresh_token: Some(refresh_token), ..issued })
    }

    fn issued(&self, tenant: &TenantContext, client: &Client, user: &StoredUser, grant: GrantType) {
        let user_id = Some(user.id.as_str());
        self.core.report(Event::TokenIssued { tenant: &tenant.id, client_id: client.id(), user_id, grant });
    }

    /// An authenticated client that users sign in to.
    async fn user_client(&self, tenant: &TenantContext, auth: &ClientAuth) -> Result<Arc<Client>, TokenError> {
        let client = client_auth::authenticate(self.core, tenant, auth).await?;
        if !client.is_interactive() {
            return Err(TokenError::UnauthorizedClient("requested grant type is not allowed for this client".into()));
        }
        Ok(client)
    }

    async fn revoke_grant(&self, c: &mut impl Exec, tenant: &TenantContext, grant_id: &str) -> Result<(), TokenError> {
        store::delete_grant(c, &tenant.id, grant_id).await.map_err(server_error)?;
        tracing::warn!(tenant = %tenant.id, grant = grant_id, "a used code or refresh token was presented again: grant revoked");
        Ok(())
    }

    /// The access token (a JWT for an API resource, else an opaque one for userinfo) and,
    /// with `openid`, the ID token, for the grant and user of `found`; only reads: an opaque
    /// access token's row is returned for the caller to store with the rest.
    #[allow(clippy::too_many_arguments)]
    async fn issue_tokens(
        &self,
        c: &mut impl Exec,
        tenant: &TenantContext,
        client: &Client,
        found: &TokenOfUser,
        scope: &[String],
        resource: Option<&str>,
        organization_id: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<(TokenSet, Option<StoredToken>), TokenError> {
        let (grant, user) = (&found.grant, &found.user);
        let ring = self.core.key_ring(&tenant.id).ok_or_else(|| TokenError::ServerError("no signing key".into()))?;
        let now = clock::now_secs();
        let requested = |held: &[String]| -> Vec<String> {
            scope.iter().filter(|s| !claims::is_oidc_scope(s) && held.contains(s)).cloned().collect()
        };
        let jwt = |audience: &str, ttl: i64, granted: &[String], organization_id: Option<&str>| {
            let scope = granted.join(" ");
            AccessToken { subject: &user.id, client_id: client.id(), audience, ttl, scope: &scope, organization_id }
                .sign(&ring, &tenant.issuer)
        };
        let mut access_row = None;
        let (access_token, expires_in, granted) = match (resource, organization_id) {
            (None, Some(org)) => {
                // An organization token: the organization scopes the user's roles there grant.
                let held =
                    kido_store::organizations::member_scope_names(c, &tenant.id, org, MemberKind::User, &user.id)
                        .await
                        .map_err(server_error)?;
                let granted = requested(&held);
                let ttl = organizations::ORGANIZATION_TOKEN_TTL_SECS;
                (jwt(&organizations::audience(org), ttl, &granted, None)?, ttl, granted.join(" "))
            }
            (Some(indicator), organization_id) => {
                let resource = kido_store::resources::find_by_indicator(c, &tenant.id, indicator)
                    .await
                    .map_err(server_error)?
                    .ok_or_else(|| TokenError::InvalidTarget("resource indicator is missing, or unknown".into()))?;
                // Global roles, plus organization roles: those of the one organization the
                // token is for, or of all the user's organizations.
                let mut held = kido_store::roles::user_scope_names(c, &tenant.id, &user.id, &resource.id)
                    .await
                    .map_err(server_error)?;
                held.extend(
                    kido_store::organizations::member_resource_scope_names(
                        c,
                        &tenant.id,
                        organization_id,
                        MemberKind::User,
                        &user.id,
                        &resource.id,
                    )
                    .await
                    .map_err(server_error)?,
                );
                let granted = requested(&held);
                let token = jwt(&resource.indicator, resource.access_token_ttl, &granted, organization_id)?;
                (token, resource.access_token_ttl, granted.join(" "))
            }
            (None, None) => {
                let oidc: Vec<&str> = scope.iter().map(String::as_str).filter(|s| claims::is_oidc_scope(s)).collect();
                let token = ids::new_opaque_token();
                let row = StoredToken {
                    tenant_id: tenant.id.to_string(),
                    token_hash: ids::digest(&token),
                    kind: KIND_ACCESS.to_owned(),
                    grant_id: grant.id.clone(),
                    client_id: client.id().to_owned(),
                    scope: oidc.join(" "),
                    data: Json(json!({})),
                    expires_at: clock::now_ms() + OPAQUE_ACCESS_TOKEN_TTL_SECS * 1000,
                    consumed_at: None,
                    created_at: clock::now_ms(),
                };
                access_row = Some(row);
                (token, OPAQUE_ACCESS_TOKEN_TTL_SECS, oidc.join(" "))
            }
        };

        let id_token = if scope.iter().any(|s| s == "openid") {
            let scopes: Vec<&str> = scope.iter().map(String::as_str).collect();
            let related = claims::Related::load(c, &tenant.id, &user.id, &scopes, Some(&found.role_names))
                .await
                .map_err(server_error)?;
            let mut claims = claims::user_claims(user, &related, &scopes, Audience::IdToken);
            let ttl = client.app.custom_client_metadata.id_token_ttl.map_or(DEFAULT_ID_TOKEN_TTL_SECS, |t| t as i64);
            claims.insert("iss".into(), tenant.issuer.clone().into());
            claims.insert("aud".into(), client.id().into());
            claims.insert("iat".into(), now.into());
            claims.insert("exp".into(), now.saturating_add(ttl).into());
            claims.insert("auth_time".into(), grant.auth_time.into());
            claims.insert("at_hash".into(), at_hash(ring.current.alg, &access_token).into());
            if let Some(nonce) = nonce {
                claims.insert("nonce".into(), nonce.into());
            }
            if let Some(sid) = &grant.session_id {
                claims.insert("sid".into(), sid.clone().into());
            }
            Some(ring.current.sign(&Value::Object(claims), false).map_err(|e| TokenError::ServerError(e.to_string()))?)
        } else {
            None
        };
        let set = TokenSet {
            access_token,
            expires_in,
            scope: (!granted.is_empty()).then_some(granted),
            id_token,
            refresh_token: None,
        };
        Ok((set, access_row))
    }
}

/// Storing tokens under a grant that a replay revoked since it was read: the grant is gone.
fn revoked_meanwhile(e: kido_store::StoreError) -> TokenError {
    match StorageError::from(e) {
        StorageError::MissingReference(_) => invalid_grant("grant not found"),
        other => server_error(other),
    }
}

/// The grant is live and its user may still receive tokens.
fn check_live(grant: &StoredGrant, user: &StoredUser) -> Result<(), TokenError> {
    if grant.expires_at <= clock::now_ms() {
        return Err(invalid_grant("grant not found"));
    }
    if !crate::interaction::rules::may_sign_in(user) {
        return Err(invalid_grant("user is suspended"));
    }
    Ok(())
}

/// A new refresh token under `grant` and its row (stored by the caller).
fn refresh_token_row(
    tenant: &TenantContext,
    client: &Client,
    grant: &StoredGrant,
    scope: &str,
) -> (String, StoredToken) {
    let days = client
        .app
        .custom_client_metadata
        .refresh_token_ttl_in_days
        .map_or(DEFAULT_REFRESH_TOKEN_TTL_DAYS, |d| d as i64);
    let now = clock::now_ms();
    let token = ids::new_opaque_token();
    let row = StoredToken {
        tenant_id: tenant.id.to_string(),
        token_hash: ids::digest(&token),
        kind: KIND_REFRESH.to_owned(),
        grant_id: grant.id.clone(),
        client_id: client.id().to_owned(),
        scope: scope.to_owned(),
        data: Json(json!({})),
        // Never beyond the grant's own end (a year after sign-in).
        expires_at: now.saturating_add(days.saturating_mul(86_400_000)).min(grant.expires_at),
        consumed_at: None,
        created_at: now,
    };
    (token, row)
}

/// The one resource a token request names, which must have been authorized.
fn single_resource<'a>(resources: &'a [String], grant: &StoredGrant) -> Result<Option<&'a str>, TokenError> {
    match resources {
        [] => Ok(None),
        [one] if validate::resource_indicator(one) && grant.resources.0.iter().any(|r| r == one) => Ok(Some(one)),
        [_] => Err(TokenError::InvalidTarget("resource indicator is missing, or unknown".into())),
        _ => {
            Err(TokenError::InvalidTarget("only a single resource indicator value is supported for this grant".into()))
        }
    }
}

/// RFC 7636 S256: `BASE64URL(SHA256(verifier)) == challenge`, compared in constant time.
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), TokenError> {
    let failed = || invalid_grant("PKCE verification failed");
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) => {
            if !is_pkce_value(verifier) {
                return Err(TokenError::InvalidRequest("code_verifier must be 43 to 128 unreserved characters".into()));
            }
            let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            if bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) { Ok(()) } else { Err(failed()) }
        }
        _ => Err(failed()),
    }
}

/// OIDC Core §3.1.3.6: the left half of the access token's hash, with the ID token's hash.
fn at_hash(alg: SigningAlgorithm, access_token: &str) -> String {
    let digest = if alg.uses_sha384() {
        sha2::Sha384::digest(access_token.as_bytes()).to_vec()
    } else {
        sha2::Sha256::digest(access_token.as_bytes()).to_vec()
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_pkce(Some(challenge), Some(verifier)).is_ok());
        assert_eq!(check_pkce(Some(challenge), Some(&"a".repeat(43))), Err(invalid_grant("PKCE verification failed")));
        assert!(check_pkce(Some(challenge), None).is_err());
        assert!(check_pkce(None, Some(verifier)).is_err());
        assert!(matches!(check_pkce(Some(challenge), Some("short")), Err(TokenError::InvalidRequest(_))));
        assert!(check_pkce(None, None).is_ok());
    }

    #[test]
    fn at_hash_is_left_half() {
        assert_eq!(at_hash(SigningAlgorithm::Es256, "x").len(), 22);
        assert_eq!(at_hash(SigningAlgorithm::Es384, "x").len(), 32);
    }
}
