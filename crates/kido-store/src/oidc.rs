//! End-user sign-in state: interactions, sessions, grants, tokens (by digest) and the
//! sign-in failure counters. Rows carry their own expiry; `delete_expired` sweeps them.

use kido_proto::TenantId;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, FromRow, Row};

use crate::db::{Backend, Exec, run};
use crate::error::StoreResult;
use crate::logs::StoredLog;
use crate::users::{SignInIdentifier, StoredUser, UsernameCase};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

// --- interactions ---------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredInteraction {
    pub tenant_id: String,
    pub id: String,
    pub cookie_hash: String,
    pub client_id: String,
    pub params: Json<Value>,
    pub state: Json<Value>,
    pub expires_at: i64,
    pub created_at: i64,
    /// Digest of the address that started it (absent when unknown).
    pub client_ip_hash: Option<String>,
    /// The answer to the consent prompt, once given (`set_interaction_consent`; never
    /// written by the insert).
    pub consent: Option<Json<Value>>,
    /// The challenge of a passkey sign-in begun without an identifier, and when it stops
    /// being accepted (`set_passkey_challenge`; never written by the insert).
    #[sqlx(default)]
    pub passkey_challenge: Option<String>,
    #[sqlx(default)]
    pub passkey_challenge_expires_at: Option<i64>,
}

const INTERACTION_COLUMNS: &str =
    "tenant_id, id, cookie_hash, client_id, params, state, expires_at, created_at, client_ip_hash";

/// Stores the interaction unless its client address already holds `max_per_client_ip` live
/// ones, counted and inserted by one statement; false when refused. An interaction without
/// an address is not counted. SQLite: the statement holds the write lock from its start.
/// PostgreSQL: the statement calls migration 0013's function, which serialises the count per
/// address with a transaction-level advisory lock; either way a parallel burst cannot
/// overshoot, and no transaction is needed around the call.
pub async fn insert_interaction(c: &mut impl Exec, i: &StoredInteraction, max_per_client_ip: i64) -> StoreResult<bool> {
    let sql = match c.backend() {
        Backend::Sqlite => format!(
            "INSERT INTO oidc_interactions ({INTERACTION_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE $9 IS NULL OR (SELECT COUNT(*) FROM oidc_interactions \
               WHERE tenant_id = $1 AND client_ip_hash = $9 AND expires_at > $8) < $10 RETURNING 1 = 1"
        ),
        Backend::Postgres => "SELECT insert_capped_interaction($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)".to_owned(),
    };
    let inserted: Option<bool> = run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(&i.tenant_id)
        .bind(&i.id)
        .bind(&i.cookie_hash)
        .bind(&i.client_id)
        .bind(&i.params)
        .bind(&i.state)
        .bind(i.expires_at)
        .bind(i.created_at)
        .bind(&i.client_ip_hash)
        .bind(max_per_client_ip)
        .fetch_optional(&mut *c)
        .await?);
    Ok(inserted == Some(true))
}

/// How many sign-ins are pending in a tenant (live interactions).
pub async fn count_live_interactions(c: &mut impl Exec, tenant: &TenantId, now: i64) -> StoreResult<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM oidc_interactions WHERE tenant_id = $1 AND expires_at > $2";
    Ok(run!(c, |c| sqlx::query_scalar::<_, i64>(SQL).bind(tenant.as_str()).bind(now).fetch_one(&mut *c).await?))
}

/// The live interaction a browser's cookie points at.
pub async fn find_interaction(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie_hash: &str,
    now: i64,
) -> StoreResult<Option<StoredInteraction>> {
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS}, consent, passkey_challenge, passkey_challenge_expires_at \
         FROM oidc_interactions WHERE tenant_id = $1 AND cookie_hash = $2 AND expires_at > $3"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(cookie_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Which user [`find_interaction_and_user`] reads with the interaction.
#[derive(Debug, Clone, Copy)]
pub enum UserOf<'a> {
    /// The one an identifier names, as `users::find_by_identifier` (usernames compared as
    /// the `UsernameCase` says): the password step's account.
    Identifier(SignInIdentifier, &'a str, UsernameCase),
    /// The one the interaction's verification record of this id names (its `userId` in the
    /// state's `verificationRecords`): the user identification makes the interaction's.
    Record(&'a str),
}

/// [`find_interaction`] and the user `of` names in one statement (a step's two reads).
/// `None` when the cookie names no live interaction; the user `None` when no one matches.
pub async fn find_interaction_and_user(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie_hash: &str,
    now: i64,
    of: UserOf<'_>,
) -> StoreResult<Option<(StoredInteraction, Option<StoredUser>)>> {
    // The user's columns under their own names (its row type reads them), the
    // interaction's prefixed; `$2` is the identifier or record id.
    let (condition, value) = match of {
        UserOf::Identifier(identifier, value, usernames) => {
            crate::users::identifier_condition(identifier, value, usernames)
        }
        UserOf::Record(id) => {
            let condition = match c.backend() {
                Backend::Postgres => {
                    "u.id = (SELECT r ->> 'userId' FROM jsonb_array_elements(i.state -> 'verificationRecords') AS r \
                     WHERE r ->> 'id' = $2 LIMIT 1)"
                }
                Backend::Sqlite => {
                    "u.id = (SELECT r.value ->> 'userId' FROM json_each(i.state, '$.verificationRecords') AS r \
                     WHERE r.value ->> 'id' = $2 LIMIT 1)"
                }
            };
            (condition, id.to_owned())
        }
    };
    let user_columns: Vec<String> = crate::users::COLUMNS.split(',').map(|c| format!("u.{}", c.trim())).collect();
    let interaction_columns: Vec<String> = INTERACTION_COLUMNS
        .split(',')
        .chain(["consent", "passkey_challenge", "passkey_challenge_expires_at"])
        .map(|c| format!("i.{0} AS i_{0}", c.trim()))
        .collect();
    let sql = format!(
        "SELECT {}, {} FROM oidc_interactions i LEFT JOIN users u ON u.tenant_id = i.tenant_id AND {condition} \
         WHERE i.tenant_id = $1 AND i.cookie_hash = $3 AND i.expires_at > $4",
        user_columns.join(", "),
        interaction_columns.join(", ")
    );
    Ok(run!(c, |c| {
        let row = sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(&value)
            .bind(cookie_hash)
            .bind(now)
            .fetch_optional(&mut *c)
            .await?;
        match row {
            None => None,
            Some(row) => {
                let interaction = StoredInteraction {
                    tenant_id: row.try_get("i_tenant_id")?,
                    id: row.try_get("i_id")?,
                    cookie_hash: row.try_get("i_cookie_hash")?,
                    client_id: row.try_get("i_client_id")?,
                    params: row.try_get("i_params")?,
                    state: row.try_get("i_state")?,
                    expires_at: row.try_get("i_expires_at")?,
                    created_at: row.try_get("i_created_at")?,
                    client_ip_hash: row.try_get("i_client_ip_hash")?,
                    consent: row.try_get("i_consent")?,
                    passkey_challenge: row.try_get("i_passkey_challenge")?,
                    passkey_challenge_expires_at: row.try_get("i_passkey_challenge_expires_at")?,
                };
                // The LEFT JOIN's user columns are all NULL when no user matched.
                let user = match row.try_get::<Option<String>, _>("id")? {
                    Some(_) => Some(StoredUser::from_row(&row)?),
                    None => None,
                };
                Some((interaction, user))
            }
        }
    }))
}

/// Records `consent` on the live interaction of `client_id` that `cookie_hash` names, in
/// one statement; its id, or `None` when the cookie names no such interaction.
pub async fn set_interaction_consent(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie_hash: &str,
    client_id: &str,
    consent: &Value,
    now: i64,
) -> StoreResult<Option<String>> {
    const SQL: &str = "UPDATE oidc_interactions SET consent = $4 \
                       WHERE tenant_id = $1 AND cookie_hash = $2 AND client_id = $3 AND expires_at > $5 RETURNING id";
    Ok(run!(c, |c| sqlx::query_scalar::<_, String>(SQL)
        .bind(tenant.as_str())
        .bind(cookie_hash)
        .bind(client_id)
        .bind(Json(consent))
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Writes interaction `id`'s state and, by the same statement, the audit entries `logs`
/// (their tenant is the interaction's): migration 0027's trigger moves them into `logs`.
pub async fn update_interaction_state(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    state: &Value,
    logs: &[StoredLog],
) -> StoreResult<()> {
    const SQL: &str = "UPDATE oidc_interactions SET state = $3, audit = $4 WHERE tenant_id = $1 AND id = $2";
    let audit = audit_entries(logs);
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(Json(state))
        .bind(audit.as_ref().map(Json))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// The `audit` column's value for `logs` (the shape migration 0027's triggers read);
/// NULL when there are none.
fn audit_entries(logs: &[StoredLog]) -> Option<Value> {
    let entries = logs.iter().map(|l| {
        serde_json::json!({
            "id": l.id,
            "key": l.key,
            "userId": l.user_id,
            "applicationId": l.application_id,
            "payload": l.payload.0,
            "createdAt": l.created_at,
        })
    });
    (!logs.is_empty()).then(|| Value::Array(entries.collect()))
}

/// Replaces the state of the live interaction a cookie names, moving it to `new_hash`
/// (equal to `old_hash` when no move is due) in the same statement; false when the cookie
/// names none.
pub async fn replace_interaction_state(
    c: &mut impl Exec,
    tenant: &TenantId,
    old_hash: &str,
    new_hash: &str,
    state: &Value,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_interactions SET state = $3, cookie_hash = $4 \
        WHERE tenant_id = $1 AND cookie_hash = $2 AND expires_at > $5";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(old_hash)
        .bind(Json(state))
        .bind(new_hash)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Writes the state and moves the interaction to a new cookie (by digest) in one
/// statement; false when `old_hash` no longer names it (another holder moved it first).
pub async fn update_interaction_state_rotating(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    state: &Value,
    old_hash: &str,
    new_hash: &str,
    logs: &[StoredLog],
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_interactions SET state = $3, cookie_hash = $5, audit = $6 \
        WHERE tenant_id = $1 AND id = $2 AND cookie_hash = $4";
    let audit = audit_entries(logs);
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(Json(state))
        .bind(old_hash)
        .bind(new_hash)
        .bind(audit.as_ref().map(Json))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Puts a passkey sign-in challenge on the live interaction `old_hash` names (replacing any
/// earlier one) and moves it to `new_hash` (equal to `old_hash` when no move is due), in one
/// statement that neither reads nor writes the state; false when the cookie names none.
#[allow(clippy::too_many_arguments)]
pub async fn set_passkey_challenge(
    c: &mut impl Exec,
    tenant: &TenantId,
    old_hash: &str,
    new_hash: &str,
    challenge: &str,
    challenge_expires_at: i64,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_interactions SET passkey_challenge = $3, passkey_challenge_expires_at = $4, \
        cookie_hash = $5 WHERE tenant_id = $1 AND cookie_hash = $2 AND expires_at > $6";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(old_hash)
        .bind(challenge)
        .bind(challenge_expires_at)
        .bind(new_hash)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Spends interaction `id`'s passkey sign-in challenge if it is still `challenge`: one
/// conditional statement, so of two answers to it exactly one gets true.
pub async fn take_passkey_challenge(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    challenge: &str,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_interactions SET passkey_challenge = NULL, passkey_challenge_expires_at = NULL \
        WHERE tenant_id = $1 AND id = $2 AND passkey_challenge = $3";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(challenge)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Gives a live interaction a new cookie (by digest); false when `old_hash` names none.
/// One conditional statement: of two holders of the old cookie, exactly one moves on.
pub async fn rotate_interaction_cookie(
    c: &mut impl Exec,
    tenant: &TenantId,
    old_hash: &str,
    new_hash: &str,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_interactions SET cookie_hash = $3 \
        WHERE tenant_id = $1 AND cookie_hash = $2 AND expires_at > $4";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(old_hash)
        .bind(new_hash)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// Deletes the interaction; false when it was already gone (someone else finished it).
pub async fn delete_interaction(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_interactions WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

/// Spends the live interaction `id` that `cookie_hash` names, if its sign-in was submitted
/// (its state holds a `result`) and its consent prompt answered (`consent` set, granted or
/// not): deletes it and returns it in one statement, so of two requests finishing it
/// exactly one gets it. `None` when there is no such interaction or it is not that far (it
/// is then left as it is).
pub async fn take_answered_interaction(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    cookie_hash: &str,
    now: i64,
) -> StoreResult<Option<StoredInteraction>> {
    // `->>` is NULL for a missing key and for JSON null alike, on both backends.
    let sql = format!(
        "DELETE FROM oidc_interactions WHERE tenant_id = $1 AND id = $2 AND cookie_hash = $3 AND expires_at > $4 \
         AND state ->> 'result' IS NOT NULL AND consent IS NOT NULL RETURNING {INTERACTION_COLUMNS}, consent"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .bind(cookie_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

// --- sessions -------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSession {
    pub tenant_id: String,
    pub id: String,
    pub cookie_hash: String,
    pub user_id: String,
    pub auth_time: i64,
    pub xsrf: String,
    pub expires_at: i64,
    pub created_at: i64,
    /// The application the sign-in was for (migration 0026; `None` on older rows).
    pub client_id: Option<String>,
}

const SESSION_COLUMNS: &str = "tenant_id, id, cookie_hash, user_id, auth_time, xsrf, expires_at, created_at, client_id";

/// Stores the session. With `password_stamp`, only if the user's password stamp
/// (`password_updated_at`, 0 when never set: what kido-core's `users::credential_stamp`
/// computes) still equals it, checked by the insert itself (`INSERT … SELECT … FROM users`),
/// so a concurrent password change cannot slip between check and insert. False when the
/// check refused it (or the user is gone); without a stamp a missing user is
/// `MissingReference`.
pub async fn insert_session(c: &mut impl Exec, s: &StoredSession, password_stamp: Option<i64>) -> StoreResult<bool> {
    let source = match password_stamp {
        None => "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        Some(_) => {
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM users \
             WHERE tenant_id = $1 AND id = $4 AND COALESCE(password_updated_at, 0) = $10"
        }
    };
    let sql = format!("INSERT INTO oidc_sessions ({SESSION_COLUMNS}) {source}");
    let n = run!(c, |c| {
        let q = sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(&s.tenant_id)
            .bind(&s.id)
            .bind(&s.cookie_hash)
            .bind(&s.user_id)
            .bind(s.auth_time)
            .bind(&s.xsrf)
            .bind(s.expires_at)
            .bind(s.created_at)
            .bind(&s.client_id);
        let q = if let Some(stamp) = password_stamp { q.bind(stamp) } else { q };
        q.execute(&mut *c).await?.rows_affected()
    });
    Ok(n == 1)
}

pub async fn find_session(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie_hash: &str,
    now: i64,
) -> StoreResult<Option<StoredSession>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM oidc_sessions WHERE tenant_id = $1 AND cookie_hash = $2 AND expires_at > $3"
    );
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(cookie_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

pub async fn delete_session(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_sessions WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

/// Signs a user out everywhere (suspension, password reset).
pub async fn delete_user_sessions(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM oidc_sessions WHERE tenant_id = $1 AND user_id = $2";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected()))
}

// --- grants ---------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredGrant {
    pub tenant_id: String,
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    /// Space-separated scopes granted at authorization.
    pub scope: String,
    /// Resource indicators requested at authorization.
    pub resources: Json<Vec<String>>,
    pub auth_time: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

const GRANT_COLUMNS: &str =
    "tenant_id, id, client_id, user_id, session_id, scope, resources, auth_time, expires_at, created_at";

pub async fn insert_grant(c: &mut impl Exec, g: &StoredGrant) -> StoreResult<()> {
    let sql = format!("INSERT INTO oidc_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(&g.tenant_id)
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.user_id)
        .bind(&g.session_id)
        .bind(&g.scope)
        .bind(&g.resources)
        .bind(g.auth_time)
        .bind(g.expires_at)
        .bind(g.created_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find_grant(c: &mut impl Exec, tenant: &TenantId, id: &str, now: i64) -> StoreResult<Option<StoredGrant>> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM oidc_grants WHERE tenant_id = $1 AND id = $2 AND expires_at > $3");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?))
}

/// Revokes a grant and, through the foreign key, every code and token issued under it.
pub async fn delete_grant(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_grants WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

/// Revokes every grant of a user (and every code and token issued under them).
pub async fn delete_user_grants(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM oidc_grants WHERE tenant_id = $1 AND user_id = $2";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected()))
}

/// Which grants of a session end with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndingGrants<'a> {
    /// The grants without `offline_access` (they live as long as the browser session; offline
    /// grants outlive it), and with `Some(client)` that client's grant whatever its scope
    /// (the client signing out, RP-initiated logout).
    Online { also_client: Option<&'a str> },
    /// The grants without `offline_access` and every first-party application's.
    OnlineAndFirstParty,
    /// Every grant of the session.
    All,
}

/// Revokes the grants of `session_id` that `which` names (and, through the foreign key,
/// their codes and tokens).
pub async fn delete_session_grants(
    c: &mut impl Exec,
    tenant: &TenantId,
    session_id: &str,
    which: EndingGrants<'_>,
) -> StoreResult<u64> {
    const ONLINE: &str = "' ' || scope || ' ' NOT LIKE '% offline_access %'";
    let (condition, client) = match which {
        EndingGrants::Online { also_client } => (format!(" AND (client_id = $3 OR {ONLINE})"), also_client),
        EndingGrants::OnlineAndFirstParty => (
            format!(
                " AND ({ONLINE} OR client_id IN \
                 (SELECT id FROM applications WHERE tenant_id = $1 AND NOT is_third_party))"
            ),
            None,
        ),
        EndingGrants::All => (String::new(), None),
    };
    let sql = format!("DELETE FROM oidc_grants WHERE tenant_id = $1 AND session_id = $2{condition}");
    Ok(run!(c, |c| {
        let q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(session_id);
        let q = if matches!(which, EndingGrants::Online { .. }) { q.bind(client.unwrap_or("")) } else { q };
        q.execute(&mut *c).await?.rows_affected()
    }))
}

// --- tokens ---------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredToken {
    pub tenant_id: String,
    /// SHA-256 of the token, base64url.
    pub token_hash: String,
    /// `AuthorizationCode`, `RefreshToken` or `AccessToken`.
    pub kind: String,
    pub grant_id: String,
    pub client_id: String,
    pub scope: String,
    /// What the kind needs besides (code: redirect URI, PKCE challenge, nonce…).
    pub data: Json<Value>,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub created_at: i64,
}

const TOKEN_COLUMNS: &str =
    "tenant_id, token_hash, kind, grant_id, client_id, scope, data, expires_at, consumed_at, created_at";

pub async fn insert_token(c: &mut impl Exec, t: &StoredToken) -> StoreResult<()> {
    insert_tokens(c, std::slice::from_ref(t)).await
}

/// At most this many tokens are stored by one statement.
pub const MAX_TOKENS_PER_INSERT: usize = 4;

/// Stores `tokens` (at most [`MAX_TOKENS_PER_INSERT`]) in one statement.
pub async fn insert_tokens(c: &mut impl Exec, tokens: &[StoredToken]) -> StoreResult<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    if tokens.len() > MAX_TOKENS_PER_INSERT {
        return Err(crate::StoreError::Corrupt(format!("{} tokens in one insert", tokens.len())));
    }
    let rows: Vec<String> = (0..tokens.len()).map(|i| format!("({})", crate::placeholders(i * 10 + 1, 10))).collect();
    let sql = format!("INSERT INTO oidc_tokens ({TOKEN_COLUMNS}) VALUES {}", rows.join(", "));
    run!(c, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
        for t in tokens {
            q = q
                .bind(&t.tenant_id)
                .bind(&t.token_hash)
                .bind(&t.kind)
                .bind(&t.grant_id)
                .bind(&t.client_id)
                .bind(&t.scope)
                .bind(&t.data)
                .bind(t.expires_at)
                .bind(t.consumed_at)
                .bind(t.created_at);
        }
        q.execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// A token with its grant and the grant's user, read together (what a token grant checks).
#[derive(Debug, Clone)]
pub struct TokenOfUser {
    pub token: StoredToken,
    pub grant: StoredGrant,
    pub user: StoredUser,
    /// The names of the user's (global) roles, sorted: the `roles` claim, read by the same
    /// statement so an exchange asking for it needs no second query.
    pub role_names: Vec<String>,
}

/// The row of [`find_token_of_user`]: the user's columns as they are, the token's and the
/// grant's prefixed.
#[derive(sqlx::FromRow)]
struct TokenOfUserRow {
    #[sqlx(flatten)]
    user: StoredUser,
    t_token_hash: String,
    t_kind: String,
    t_client_id: String,
    t_scope: String,
    t_data: Json<Value>,
    t_expires_at: i64,
    t_consumed_at: Option<i64>,
    t_created_at: i64,
    g_id: String,
    g_client_id: String,
    g_session_id: Option<String>,
    g_scope: String,
    g_resources: Json<Vec<String>>,
    g_auth_time: i64,
    g_expires_at: i64,
    g_created_at: i64,
    role_names: Json<Vec<String>>,
}

/// A token by digest (expired or not) with its grant (expired or not), the grant's user and
/// the user's role names, in one statement; `None` when any of the first three is missing.
pub async fn find_token_of_user(
    c: &mut impl Exec,
    tenant: &TenantId,
    token_hash: &str,
) -> StoreResult<Option<TokenOfUser>> {
    let user_columns: Vec<String> = crate::users::COLUMNS.split(',').map(|c| format!("u.{}", c.trim())).collect();
    // The role names as one JSON array (empty when none): the dialects name the aggregate differently.
    let role_names = match c.backend() {
        Backend::Sqlite => "json_group_array(r.name ORDER BY r.name)",
        Backend::Postgres => "COALESCE(jsonb_agg(r.name ORDER BY r.name), '[]'::jsonb)",
    };
    let sql = format!(
        "SELECT {}, t.token_hash AS t_token_hash, t.kind AS t_kind, t.client_id AS t_client_id, \
         t.scope AS t_scope, t.data AS t_data, t.expires_at AS t_expires_at, t.consumed_at AS t_consumed_at, \
         t.created_at AS t_created_at, g.id AS g_id, g.client_id AS g_client_id, g.session_id AS g_session_id, \
         g.scope AS g_scope, g.resources AS g_resources, g.auth_time AS g_auth_time, \
         g.expires_at AS g_expires_at, g.created_at AS g_created_at, \
         (SELECT {role_names} FROM users_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id \
          WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id) AS role_names \
         FROM oidc_tokens t \
         JOIN oidc_grants g ON g.tenant_id = t.tenant_id AND g.id = t.grant_id \
         JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id \
         WHERE t.tenant_id = $1 AND t.token_hash = $2",
        user_columns.join(", ")
    );
    let row: Option<TokenOfUserRow> = run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row.map(|r| {
        let token = StoredToken {
            tenant_id: r.user.tenant_id.clone(),
            token_hash: r.t_token_hash,
            kind: r.t_kind,
            grant_id: r.g_id.clone(),
            client_id: r.t_client_id,
            scope: r.t_scope,
            data: r.t_data,
            expires_at: r.t_expires_at,
            consumed_at: r.t_consumed_at,
            created_at: r.t_created_at,
        };
        let grant = StoredGrant {
            tenant_id: r.user.tenant_id.clone(),
            id: r.g_id,
            client_id: r.g_client_id,
            user_id: r.user.id.clone(),
            session_id: r.g_session_id,
            scope: r.g_scope,
            resources: r.g_resources,
            auth_time: r.g_auth_time,
            expires_at: r.g_expires_at,
            created_at: r.g_created_at,
        };
        TokenOfUser { token, grant, user: r.user, role_names: r.role_names.0 }
    }))
}

/// A token by digest, expired or not (the caller tells an expired code from an unknown one).
pub async fn find_token(c: &mut impl Exec, tenant: &TenantId, token_hash: &str) -> StoreResult<Option<StoredToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM oidc_tokens WHERE tenant_id = $1 AND token_hash = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?))
}

/// Marks a single-use token used, writing the audit entries `logs` by the same statement
/// (migration 0027's trigger). False when it already was: exactly one caller wins, and
/// only the winner's entries are written.
pub async fn consume_token(
    c: &mut impl Exec,
    tenant: &TenantId,
    token_hash: &str,
    now: i64,
    logs: &[StoredLog],
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE oidc_tokens SET consumed_at = $3, audit = $4 \
                       WHERE tenant_id = $1 AND token_hash = $2 AND consumed_at IS NULL";
    let audit = audit_entries(logs);
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(token_hash)
        .bind(now)
        .bind(audit.as_ref().map(Json))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

pub async fn delete_token(c: &mut impl Exec, tenant: &TenantId, token_hash: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM oidc_tokens WHERE tenant_id = $1 AND token_hash = $2";
    let n =
        run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

// --- sign-in failures -----------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInFailures {
    pub failures: i32,
    pub window_started_at: i64,
    pub locked_until: Option<i64>,
}

pub async fn sign_in_failures(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: &str,
) -> StoreResult<Option<SignInFailures>> {
    const SQL: &str = "SELECT failures, window_started_at, locked_until FROM sign_in_failures \
                       WHERE tenant_id = $1 AND identifier = $2";
    Ok(run!(c, |c| sqlx::query_as(SQL).bind(tenant.as_str()).bind(identifier).fetch_optional(&mut *c).await?))
}

/// Whether a stored window no longer counts (its lock is over, or it was never locked and
/// began at or before `$4`); `$3` is now.
const FRESH: &str = "((sign_in_failures.locked_until IS NULL AND sign_in_failures.window_started_at <= $4) \
                     OR sign_in_failures.locked_until <= $3)";

/// Reserves one attempt for `identifier` before it is checked, in one atomic upsert: a
/// stale window starts over at 1; a live one counts up unless it is locked or already
/// holds `max` attempts. Returns the attempt's number, or `None` when refused.
pub async fn reserve_sign_in_attempt(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: &str,
    now: i64,
    window_started_before: i64,
    max: i32,
) -> StoreResult<Option<i32>> {
    let sql = format!(
        "INSERT INTO sign_in_failures (tenant_id, identifier, failures, window_started_at, locked_until) \
         VALUES ($1, $2, 1, $3, NULL) ON CONFLICT (tenant_id, identifier) DO UPDATE SET \
         failures = CASE WHEN {FRESH} THEN 1 ELSE sign_in_failures.failures + 1 END, \
         window_started_at = CASE WHEN {FRESH} THEN $3 ELSE sign_in_failures.window_started_at END, \
         locked_until = CASE WHEN {FRESH} THEN NULL ELSE sign_in_failures.locked_until END \
         WHERE {FRESH} OR (sign_in_failures.locked_until IS NULL AND sign_in_failures.failures < $5) \
         RETURNING failures"
    );
    Ok(run!(c, |c| sqlx::query_scalar(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(identifier)
        .bind(now)
        .bind(window_started_before)
        .bind(max)
        .fetch_optional(&mut *c)
        .await?))
}

/// Locks `identifier` until `until` unless it is locked already; returns the lock's end.
pub async fn lock_sign_in_failures(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: &str,
    until: i64,
) -> StoreResult<i64> {
    const SQL: &str = "UPDATE sign_in_failures SET locked_until = COALESCE(locked_until, $3) \
                       WHERE tenant_id = $1 AND identifier = $2 RETURNING locked_until";
    let end: Option<Option<i64>> = run!(c, |c| sqlx::query_scalar(SQL)
        .bind(tenant.as_str())
        .bind(identifier)
        .bind(until)
        .fetch_optional(&mut *c)
        .await?);
    Ok(end.flatten().unwrap_or(until))
}

/// Gives back a reserved attempt that turned out not to be a failure.
pub async fn release_sign_in_attempt(c: &mut impl Exec, tenant: &TenantId, identifier: &str) -> StoreResult<()> {
    const SQL: &str = "UPDATE sign_in_failures SET failures = failures - 1 \
                       WHERE tenant_id = $1 AND identifier = $2 AND failures > 0 AND locked_until IS NULL";
    run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(identifier).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Removes windows that no longer count (see `FRESH`), in every tenant.
pub async fn delete_expired_sign_in_failures(
    c: &mut impl Exec,
    now: i64,
    window_started_before: i64,
) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM sign_in_failures \
                       WHERE (locked_until IS NULL AND window_started_at <= $2) OR locked_until <= $1";
    Ok(run!(c, |c| sqlx::query(SQL).bind(now).bind(window_started_before).execute(&mut *c).await?.rows_affected()))
}

/// Writes a counter as given (tests and repairs; sign-ins go through the reservation).
pub async fn put_sign_in_failures(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: &str,
    f: &SignInFailures,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO sign_in_failures (tenant_id, identifier, failures, window_started_at, locked_until) \
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, identifier) DO UPDATE SET \
                       failures = excluded.failures, window_started_at = excluded.window_started_at, \
                       locked_until = excluded.locked_until";
    run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(identifier)
        .bind(f.failures)
        .bind(f.window_started_at)
        .bind(f.locked_until)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

// --- housekeeping ---------------------------------------------------------------------------

/// Removes what has expired in every tenant (a maintenance sweep, not a request path).
pub async fn delete_expired(c: &mut impl Exec, now: i64) -> StoreResult<u64> {
    let mut total = 0;
    for table in ["oidc_interactions", "oidc_tokens", "oidc_grants", "oidc_sessions"] {
        let sql = format!("DELETE FROM {table} WHERE expires_at <= $1");
        total +=
            run!(c, |c| sqlx::query(AssertSqlSafe(sql.as_str())).bind(now).execute(&mut *c).await?.rows_affected());
    }
    Ok(total)
}
