//! A user's browser sessions and the grants their sign-ins made, as the Management API (and
//! the Account API) list and end them. The user is part of every statement: a session or grant
//! of another user, or of another tenant, is not found. Ending a session's grants is
//! `oidc::delete_session_grants`, shared with RP-initiated logout.

use kido_proto::TenantId;
use sqlx::AssertSqlSafe;

use crate::Json;
use crate::db::{Exec, run};
use crate::error::StoreResult;

/// Whether this module's statements may change a cached table (`run!`): it writes
/// oidc_sessions only, which no cache reads.
const TOUCHES_CACHED_TABLES: bool = false;

/// A live session of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUserSession {
    pub id: String,
    pub user_id: String,
    /// The application the sign-in was for (`None` on sessions older than migration 0026).
    pub client_id: Option<String>,
    /// Epoch seconds of the sign-in.
    pub auth_time: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

const SESSION_COLUMNS: &str = "id, user_id, client_id, auth_time, expires_at, created_at";

/// The user's live sessions, newest first, at most `limit`.
pub async fn list_sessions(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<StoredUserSession>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM oidc_sessions WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3 \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?))
}

/// The user's live session `id`.
pub async fn find_session(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    id: &str,
    now: i64,
) -> StoreResult<Option<StoredUserSession>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM oidc_sessions WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND expires_at > $4"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .bind(user_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Whether the tenant has a live session `id`, whoever its user (to tell a session of another
/// user from none at all, as Logto's codes do).
pub async fn session_exists(c: &mut impl Exec, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str = "SELECT 1 FROM oidc_sessions WHERE tenant_id = $1 AND id = $2 AND expires_at > $3";
    let found: Option<i32> =
        run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(id).bind(now).fetch_optional(&mut *c).await?);
    Ok(found.is_some())
}

/// Deletes the user's live session `id`; false when the user has no such session.
pub async fn delete_session(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    id: &str,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_sessions WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND expires_at > $4";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// A grant of the user with its application's name and party.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUserGrant {
    pub id: String,
    pub client_id: String,
    pub session_id: Option<String>,
    /// Space-separated scopes granted at authorization.
    pub scope: String,
    /// Resource indicators requested at authorization.
    pub resources: Json<Vec<String>>,
    pub expires_at: i64,
    pub created_at: i64,
    pub application_name: String,
    pub is_third_party: bool,
}

/// Which of the user's grants to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantFilter<'a> {
    /// Only the grants of this session.
    pub session_id: Option<&'a str>,
    /// Only third-party (`true`) or first-party (`false`) applications' grants.
    pub third_party: Option<bool>,
}

/// The user's live grants that still hold a live code or token, newest first, at most
/// `limit`. A grant whose codes and tokens are all spent or expired can issue nothing again
/// (Kido never reuses a grant for a later authorization), so it is not listed.
pub async fn live_grants(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    filter: GrantFilter<'_>,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<StoredUserGrant>> {
    let mut conditions = String::new();
    let mut next = 5;
    if filter.session_id.is_some() {
        conditions.push_str(&format!(" AND g.session_id = ${next}"));
        next += 1;
    }
    if filter.third_party.is_some() {
        conditions.push_str(&format!(" AND a.is_third_party = ${next}"));
    }
    let sql = format!(
        "SELECT g.id, g.client_id, g.session_id, g.scope, g.resources, g.expires_at, g.created_at, \
         a.name AS application_name, a.is_third_party \
         FROM oidc_grants g JOIN applications a ON a.tenant_id = g.tenant_id AND a.id = g.client_id \
         WHERE g.tenant_id = $1 AND g.user_id = $2 AND g.expires_at > $3{conditions} \
         AND EXISTS (SELECT 1 FROM oidc_tokens t WHERE t.tenant_id = g.tenant_id AND t.grant_id = g.id \
                     AND t.expires_at > $3 AND t.consumed_at IS NULL) \
         ORDER BY g.created_at DESC, g.id DESC LIMIT $4"
    );
    Ok(run!(c, |c| {
        let mut q =
            sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(user_id).bind(now).bind(limit);
        if let Some(session) = filter.session_id {
            q = q.bind(session);
        }
        if let Some(third_party) = filter.third_party {
            q = q.bind(third_party);
        }
        q.fetch_all(&mut *c).await?
    }))
}

/// Revokes the user's grant `id` and, through the foreign key, every code and token issued
/// under it; false when the user has no such grant.
pub async fn delete_grant(c: &mut impl Exec, tenant: &TenantId, user_id: &str, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_grants WHERE tenant_id = $1 AND id = $2 AND user_id = $3";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}
