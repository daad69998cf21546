//! A user's sessions and grants seen from outside the browser: listed, and revoked with
//! immediate effect (the Management API's `/api/users/{userId}/sessions` and `/grants`; the
//! Account API's `/api/my-account/sessions` and `/grants` call the same). `Core::user_sessions`.
//!
//! Revocation deletes rows: a grant takes its codes and tokens with it (foreign key), and every
//! node reads tokens, grants and sessions from the database on each use (no cache holds them),
//! so a revoked refresh token is refused at `/oidc/token`, and a revoked opaque access token at
//! userinfo and introspection, by the next request on any node. JWT access tokens for API
//! resources are self-contained and live out their (short) lifetime, as in Logto.

use std::collections::{BTreeMap, HashMap};

use kido_proto::sessions::{
    GrantAppType, GrantApplication, GrantKind, GrantOpenid, GrantPayload, RevokeGrantsTarget, SessionAuthorization,
    SessionKind, SessionPayload, UserGrant, UserGrants, UserSession, UserSessions as UserSessionList,
};
use kido_proto::{TenantId, UserId};
use kido_store::oidc::{self as oidc_store, EndingGrants};
use kido_store::user_sessions::{self as store, GrantFilter, StoredUserGrant, StoredUserSession};
use thiserror::Error;

use super::claims::is_oidc_scope;
use crate::storage::{self, StorageError};
use crate::{Core, clock, limits};

#[derive(Debug, Error)]
pub enum UserSessionError {
    /// No live session with this id in the tenant.
    #[error("session not found")]
    SessionNotFound,
    /// The session exists but is another user's.
    #[error("the session belongs to another user")]
    SessionOfAnotherUser,
    /// The user has no grant with this id.
    #[error("grant not found")]
    GrantNotFound,
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(UserSessionError);

pub type Result<T> = std::result::Result<T, UserSessionError>;

/// A user's sessions and grants; `Core::user_sessions`.
pub struct UserSessions<'a> {
    pub(crate) core: &'a Core,
}

impl UserSessions<'_> {
    /// The user's live sessions, newest first (at most [`limits::MAX_LISTED_SESSIONS`]), each
    /// with the applications it authorized. An unknown user has none.
    pub async fn list(&self, tenant: &TenantId, user: &UserId) -> Result<UserSessionList> {
        if !limits::is_plausible_id(user.as_str()) {
            return Ok(UserSessionList { sessions: vec![] });
        }
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        let sessions = store::list_sessions(&mut c, tenant, user.as_str(), now, limits::MAX_LISTED_SESSIONS).await?;
        if sessions.is_empty() {
            return Ok(UserSessionList { sessions: vec![] });
        }
        let grants = store::live_grants(
            &mut c,
            tenant,
            user.as_str(),
            GrantFilter::default(),
            now,
            limits::MAX_SESSION_GRANTS_READ,
        )
        .await?;
        let mut by_session: HashMap<&str, Vec<&StoredUserGrant>> = HashMap::new();
        for grant in &grants {
            if let Some(session) = grant.session_id.as_deref() {
                by_session.entry(session).or_default().push(grant);
            }
        }
        let sessions = sessions
            .into_iter()
            .map(|s| {
                let grants = by_session.remove(s.id.as_str()).unwrap_or_default();
                session_view(s, &grants)
            })
            .collect();
        Ok(UserSessionList { sessions })
    }

    /// One live session of the user.
    pub async fn get(&self, tenant: &TenantId, user: &UserId, session_id: &str) -> Result<UserSession> {
        if !limits::is_plausible_id(user.as_str()) || !limits::is_plausible_id(session_id) {
            return Err(UserSessionError::SessionNotFound);
        }
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        let session = store::find_session(&mut c, tenant, user.as_str(), session_id, now)
            .await?
            .ok_or(UserSessionError::SessionNotFound)?;
        let filter = GrantFilter { session_id: Some(session_id), third_party: None };
        let grants =
            store::live_grants(&mut c, tenant, user.as_str(), filter, now, limits::MAX_SESSION_GRANTS_READ).await?;
        Ok(session_view(session, &grants.iter().collect::<Vec<_>>()))
    }

    /// Ends the user's session, and with it its grants without `offline_access` (they live
    /// only as long as the session, as in Logto) plus those `target` names. The browser must
    /// sign in again; the revoked grants' refresh and opaque access tokens stop working at once.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        user: &UserId,
        session_id: &str,
        target: Option<RevokeGrantsTarget>,
    ) -> Result<()> {
        if !limits::is_plausible_id(user.as_str()) || !limits::is_plausible_id(session_id) {
            return Err(UserSessionError::SessionNotFound);
        }
        let now = clock::now_ms();
        let mut tx = self.core.store.begin().await?;
        // The user is in the statement: of another user's session nothing is deleted.
        if !store::delete_session(&mut tx, tenant, user.as_str(), session_id, now).await? {
            return Err(if store::session_exists(&mut tx, tenant, session_id, now).await? {
                UserSessionError::SessionOfAnotherUser
            } else {
                UserSessionError::SessionNotFound
            });
        }
        let which = match target {
            None => EndingGrants::Online { also_client: None },
            Some(RevokeGrantsTarget::FirstParty) => EndingGrants::OnlineAndFirstParty,
            Some(RevokeGrantsTarget::All) => EndingGrants::All,
        };
        oidc_store::delete_session_grants(&mut tx, tenant, session_id, which).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's live grants that can still issue tokens, newest first (at most
    /// [`limits::MAX_LISTED_GRANTS`]), of first- or third-party applications only when asked.
    pub async fn grants(&self, tenant: &TenantId, user: &UserId, app_type: Option<GrantAppType>) -> Result<UserGrants> {
        if !limits::is_plausible_id(user.as_str()) {
            return Ok(UserGrants { grants: vec![] });
        }
        let filter = GrantFilter { session_id: None, third_party: app_type.map(|t| t == GrantAppType::ThirdParty) };
        let mut c = self.core.store.conn().await?;
        let rows =
            store::live_grants(&mut c, tenant, user.as_str(), filter, clock::now_ms(), limits::MAX_LISTED_GRANTS)
                .await?;
        Ok(UserGrants { grants: rows.into_iter().map(|g| grant_view(g, user.as_str())).collect() })
    }

    /// Revokes one of the user's grants with every code and token issued under it.
    pub async fn revoke_grant(&self, tenant: &TenantId, user: &UserId, grant_id: &str) -> Result<()> {
        if !limits::is_plausible_id(user.as_str()) || !limits::is_plausible_id(grant_id) {
            return Err(UserSessionError::GrantNotFound);
        }
        let mut c = self.core.store.conn().await?;
        if store::delete_grant(&mut c, tenant, user.as_str(), grant_id).await? {
            Ok(())
        } else {
            Err(UserSessionError::GrantNotFound)
        }
    }
}

fn scopes(scope: &str) -> impl Iterator<Item = &str> {
    scope.split(' ').filter(|s| !s.is_empty())
}

/// A session as Logto shows it; `grants` are the session's live grants, newest first.
fn session_view(s: StoredUserSession, grants: &[&StoredUserGrant]) -> UserSession {
    let mut authorizations = BTreeMap::new();
    for grant in grants {
        // The newest grant of each application stands for it (Kido makes one per authorization).
        authorizations.entry(grant.client_id.clone()).or_insert_with(|| SessionAuthorization {
            sid: s.id.clone(),
            grant_id: grant.id.clone(),
            persists_logout: scopes(&grant.scope).any(|scope| scope == "offline_access"),
        });
    }
    UserSession {
        payload: SessionPayload {
            exp: s.expires_at / 1000,
            iat: s.created_at / 1000,
            jti: s.id.clone(),
            uid: s.id.clone(),
            kind: SessionKind::Session,
            login_ts: s.auth_time,
            account_id: s.user_id.clone(),
            authorizations,
        },
        last_submission: None,
        client_id: s.client_id,
        account_id: Some(s.user_id),
        expires_at: s.expires_at,
    }
}

/// A grant as Logto shows it: the user scopes under `openid`, the other scopes asked for
/// under each requested resource.
fn grant_view(g: StoredUserGrant, user_id: &str) -> UserGrant {
    let (user_scopes, resource_scopes): (Vec<&str>, Vec<&str>) = scopes(&g.scope).partition(|s| is_oidc_scope(s));
    let resource_scopes = resource_scopes.join(" ");
    let resources = g.resources.0.iter().map(|indicator| (indicator.clone(), resource_scopes.clone())).collect();
    UserGrant {
        payload: GrantPayload {
            exp: g.expires_at / 1000,
            iat: g.created_at / 1000,
            jti: g.id.clone(),
            kind: GrantKind::Grant,
            client_id: g.client_id.clone(),
            account_id: user_id.to_owned(),
            openid: GrantOpenid { scope: user_scopes.join(" ") },
            resources,
        },
        id: g.id,
        expires_at: g.expires_at,
        application: GrantApplication { id: g.client_id, name: g.application_name },
    }
}
