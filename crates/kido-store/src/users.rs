//! Users, their global roles, and the user search of the Management API.

use std::collections::HashMap;

use kido_proto::TenantId;
use kido_proto::mfa::UserLogtoConfig;
use kido_proto::users::UserProfile;
use kido_proto::users::{FieldMatch, MatchMode, UserField, UserSearch};
use serde_json::Value;
use sqlx::types::Json;

use crate::db::{Backend, Exec, run};
use crate::error::{StoreError, StoreResult};
use crate::{ListQuery, Page, placeholders};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

pub(crate) const COLUMNS: &str = "tenant_id, id, username, primary_email, primary_phone, password_encrypted, \
                       password_encryption_method, name, avatar, application_id, profile, identities, custom_data, \
                       is_suspended, last_sign_in_at, password_updated_at, created_at, updated_at, logto_config";

/// A user row, password hash included (never leaves the domain).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUser {
    pub tenant_id: String,
    pub id: String,
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub password_encrypted: Option<String>,
    pub password_encryption_method: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub application_id: Option<String>,
    pub profile: Json<UserProfile>,
    pub identities: Json<Value>,
    pub custom_data: Json<Value>,
    pub is_suspended: bool,
    pub last_sign_in_at: Option<i64>,
    pub password_updated_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub logto_config: Json<UserLogtoConfig>,
}

pub async fn insert(c: &mut impl Exec, u: &StoredUser) -> StoreResult<()> {
    let sql = format!("INSERT INTO users ({COLUMNS}) VALUES ({})", placeholders(1, 19));
    run!(c, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&u.tenant_id)
        .bind(&u.id)
        .bind(&u.username)
        .bind(&u.primary_email)
        .bind(&u.primary_phone)
        .bind(&u.password_encrypted)
        .bind(&u.password_encryption_method)
        .bind(&u.name)
        .bind(&u.avatar)
        .bind(&u.application_id)
        .bind(&u.profile)
        .bind(&u.identities)
        .bind(&u.custom_data)
        .bind(u.is_suspended)
        .bind(u.last_sign_in_at)
        .bind(u.password_updated_at)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(&u.logto_config)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// Writes every mutable column of `u` back.
pub async fn update(c: &mut impl Exec, u: &StoredUser) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET username = $3, primary_email = $4, primary_phone = $5, password_encrypted = $6, \
                       password_encryption_method = $7, name = $8, avatar = $9, profile = $10, identities = $11, \
                       custom_data = $12, is_suspended = $13, last_sign_in_at = $14, password_updated_at = $15, \
                       updated_at = $16 WHERE tenant_id = $1 AND id = $2";
    run!(c, |c| sqlx::query(SQL)
        .bind(&u.tenant_id)
        .bind(&u.id)
        .bind(&u.username)
        .bind(&u.primary_email)
        .bind(&u.primary_phone)
        .bind(&u.password_encrypted)
        .bind(&u.password_encryption_method)
        .bind(&u.name)
        .bind(&u.avatar)
        .bind(&u.profile)
        .bind(&u.identities)
        .bind(&u.custom_data)
        .bind(u.is_suspended)
        .bind(u.last_sign_in_at)
        .bind(u.password_updated_at)
        .bind(u.updated_at)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredUser>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM users WHERE tenant_id = $1 AND id = $2";
    let n = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

/// How usernames compare: the sign-in experience's `usernamePolicy.caseSensitive` (the
/// unique index is on the exact name; case-insensitive tenants compare lower-cased).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameCase {
    Sensitive,
    Insensitive,
}

impl UsernameCase {
    /// The condition on `username` for bind `$2`, and the value to bind.
    fn condition(self, username: &str) -> (&'static str, String) {
        match self {
            Self::Sensitive => ("username = $2", username.to_owned()),
            Self::Insensitive => ("lower(username) = $2", username.to_ascii_lowercase()),
        }
    }
}

/// Which identifier columns are taken (username as `usernames` says, email
/// case-insensitively, phone exactly) by a user other than `except_id`. Returns the names
/// of the taken fields.
pub async fn taken_identifiers(
    c: &mut impl Exec,
    tenant: &TenantId,
    (username, usernames): (Option<&str>, UsernameCase),
    email: Option<&str>,
    phone: Option<&str>,
    except_id: Option<&str>,
) -> StoreResult<Vec<&'static str>> {
    let mut taken = Vec::new();
    let username = username.map(|u| usernames.condition(u));
    let checks = [
        ("username", username.as_ref().map_or("", |(sql, _)| *sql), username.as_ref().map(|(_, v)| v.clone())),
        ("primaryEmail", "lower(primary_email) = $2", email.map(str::to_ascii_lowercase)),
        ("primaryPhone", "primary_phone = $2", phone.map(str::to_owned)),
    ];
    for (field, condition, value) in checks {
        let Some(value) = value else { continue };
        let sql = format!("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND {condition} AND id <> $3");
        let n: i64 = run!(c, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(tenant.as_str())
            .bind(&value)
            .bind(except_id.unwrap_or(""))
            .fetch_one(&mut *c)
            .await?);
        if n > 0 {
            taken.push(field);
        }
    }
    Ok(taken)
}

// --- search -------------------------------------------------------------------------------

/// Where each searchable field lives in the `users` table.
trait UserColumn {
    fn column(self) -> &'static str;
    fn indexed_lower(self) -> bool;
}

impl UserColumn for UserField {
    fn column(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::PrimaryEmail => "primary_email",
            Self::PrimaryPhone => "primary_phone",
            Self::Username => "username",
            Self::Name => "name",
        }
    }

    /// Whether the column is indexed by `lower(column)` (else by the raw column, whose
    /// values have no case: ids are lowercase, phones are digits).
    fn indexed_lower(self) -> bool {
        matches!(self, Self::PrimaryEmail | Self::Username | Self::Name)
    }
}

/// Newest first. Exact and prefix matches run on the identifier indexes.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    search: &UserSearch,
    page: Option<Page>,
) -> StoreResult<(Vec<StoredUser>, i64)> {
    let backend = c.backend();
    let mut binds = vec![tenant.to_string()];
    let mut conditions = vec!["u.tenant_id = $1".to_owned()];
    let mut groups = Vec::new();
    for group in &search.groups {
        let alternatives = group
            .iter()
            .map(|m| match_sql(backend, m, search.case_sensitive, &mut binds))
            .collect::<StoreResult<Vec<_>>>()?;
        if alternatives.is_empty() {
            continue;
        }
        let alternatives = format!("({})", alternatives.join(" OR "));
        groups.push(match search_text_prefilter(backend, group, &mut binds) {
            Some(prefilter) => format!("({prefilter} AND {alternatives})"),
            None => alternatives,
        });
    }
    if !groups.is_empty() {
        conditions.push(format!("({})", groups.join(if search.match_all { " AND " } else { " OR " })));
    }
    let holds = "SELECT 1 FROM users_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id AND ur.role_id";
    if let Some(role) = &search.role_id {
        binds.push(role.clone());
        conditions.push(format!("EXISTS ({holds} = ${})", binds.len()));
    }
    if let Some(role) = &search.exclude_role_id {
        binds.push(role.clone());
        conditions.push(format!("NOT EXISTS ({holds} = ${})", binds.len()));
    }
    let member = "SELECT 1 FROM organization_user_relations ou \
                  WHERE ou.tenant_id = u.tenant_id AND ou.user_id = u.id AND ou.organization_id";
    if let Some(org) = &search.organization_id {
        binds.push(org.clone());
        conditions.push(format!("EXISTS ({member} = ${})", binds.len()));
    }
    if let Some(org) = &search.exclude_organization_id {
        binds.push(org.clone());
        conditions.push(format!("NOT EXISTS ({member} = ${})", binds.len()));
    }
    let columns = COLUMNS.split(", ").map(|col| format!("u.{col}")).collect::<Vec<_>>().join(", ");
    let unfiltered = conditions.len() == 1;
    let query = ListQuery {
        columns: &columns,
        from: "users u",
        where_clause: &conditions.join(" AND "),
        order_by: "u.created_at DESC, u.id DESC",
        binds: &binds,
    };
    if unfiltered {
        // Counting a million rows costs more than the page: the triggers keep the count.
        query
            .fetch_with_total(c, page, "SELECT COALESCE((SELECT users FROM user_counts WHERE tenant_id = $1), 0)")
            .await
    } else {
        query.fetch(c, page).await
    }
}

/// The searchable identifiers of a user in one string, as PostgreSQL's trigram index
/// `users__search_text` (migration 0007) has it; the two must stay the same expression.
const SEARCH_TEXT: &str = "lower(u.id || ' ' || COALESCE(u.username, '') || ' ' || COALESCE(u.primary_email, '') \
                           || ' ' || COALESCE(u.primary_phone, '') || ' ' || COALESCE(u.name, ''))";

/// A group searching several fields for one LIKE pattern (Logto's `search=%…%`) matches
/// only users whose identifiers, joined, contain the pattern: a necessary condition that
/// the trigram index answers, so the exact per-field conditions run on a few rows, not all.
fn search_text_prefilter(backend: Backend, group: &[FieldMatch], binds: &mut Vec<String>) -> Option<String> {
    let first = group.first()?;
    let one_pattern = group.iter().all(|m| m.mode == MatchMode::Like && m.value == first.value);
    if backend != Backend::Postgres || !one_pattern {
        return None;
    }
    binds.push(format!("%{}%", first.value.to_ascii_lowercase()));
    Some(format!("{SEARCH_TEXT} LIKE ${} ESCAPE '\\'", binds.len()))
}

/// SQL for one field match; pushes its binds.
fn match_sql(backend: Backend, m: &FieldMatch, case_sensitive: bool, binds: &mut Vec<String>) -> StoreResult<String> {
    let col = format!("u.{}", m.field.column());
    // What the index is on, and the value in the same shape.
    let (indexed, fold): (String, fn(&str) -> String) = if m.field.indexed_lower() {
        (format!("lower({col})"), |s| s.to_ascii_lowercase())
    } else {
        (col.clone(), |s| s.to_owned())
    };
    let mut bind = |v: String| {
        binds.push(v);
        format!("${}", binds.len())
    };
    let exact_case = case_sensitive && m.field.indexed_lower();
    Ok(match m.mode {
        MatchMode::Exact => {
            let mut sql = format!("{indexed} = {}", bind(fold(&m.value)));
            if exact_case {
                sql.push_str(&format!(" AND {col} = {}", bind(m.value.clone())));
            }
            sql
        }
        MatchMode::Like => {
            let mut parts = Vec::new();
            // The literal text before the first wildcard narrows the index to a range.
            let literal = like_literal_prefix(&m.value);
            if !literal.is_empty() {
                let low = fold(&literal);
                if let Some(high) = successor(&low) {
                    parts.push(format!("{indexed} >= {} AND {indexed} < {}", bind(low), bind(high)));
                }
            }
            let pure_prefix = m.value.len() == literal.len() + 1 && m.value.ends_with('%') && !literal.is_empty();
            if pure_prefix && !exact_case {
                // The range is the whole condition.
            } else if !case_sensitive || !m.field.indexed_lower() {
                parts.push(format!("{indexed} LIKE {} ESCAPE '\\'", bind(fold(&m.value))));
            } else {
                match backend {
                    Backend::Postgres => parts.push(format!("{col} LIKE {} ESCAPE '\\'", bind(m.value.clone()))),
                    // SQLite's LIKE ignores ASCII case; GLOB does not.
                    Backend::Sqlite => parts.push(format!("{col} GLOB {}", bind(like_to_glob(&m.value)))),
                }
            }
            if parts.is_empty() { "TRUE".to_owned() } else { parts.join(" AND ") }
        }
        MatchMode::Posix => match backend {
            Backend::Postgres => {
                format!("{col} {} {}", if case_sensitive { "~" } else { "~*" }, bind(m.value.clone()))
            }
            Backend::Sqlite => {
                let pattern = if case_sensitive { m.value.clone() } else { format!("(?i){}", m.value) };
                format!("{col} REGEXP {}", bind(pattern))
            }
        },
        MatchMode::SimilarTo => match backend {
            Backend::Postgres if case_sensitive => format!("{col} SIMILAR TO {}", bind(m.value.clone())),
            Backend::Postgres => format!("lower({col}) SIMILAR TO {}", bind(m.value.to_lowercase())),
            // SQLite has no SIMILAR TO: the pattern becomes the regular expression PostgreSQL
            // itself turns it into, matched by the REGEXP function sqlx registers (the
            // `regex` crate: linear time, bounded compiled size, so no pattern can hang).
            Backend::Sqlite => {
                let regex = similar_to_regex(&m.value);
                let pattern = if case_sensitive { regex } else { format!("(?i){regex}") };
                format!("{col} REGEXP {}", bind(pattern))
            }
        },
    })
}

/// The characters of a LIKE pattern before its first unescaped wildcard, unescaped.
fn like_literal_prefix(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '%' | '_' => break,
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => break,
            },
            other => out.push(other),
        }
    }
    out
}

/// The smallest string greater than every string starting with `s` (byte order), if any.
fn successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A LIKE pattern as a GLOB pattern (case-sensitive matching on SQLite).
/// A SQL `SIMILAR TO` pattern as the anchored regular expression it means (PostgreSQL's
/// own translation): `%` any run, `_` one character, `(` a group; `|`, `*`, `+`, `?`,
/// `{m,n}` and bracket expressions keep their regex meaning; `\` escapes the next
/// character, and `.`, `^`, `$` are literal.
fn similar_to_regex(pattern: &str) -> String {
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(ch) = chars.next() {
        if in_class {
            match ch {
                ']' => in_class = false,
                '\\' => out.push('\\'),
                _ => {}
            }
            out.push(ch);
            continue;
        }
        match ch {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '(' => out.push_str("(?:"),
            '[' => {
                in_class = true;
                out.push('[');
                // A leading `]` (after an optional `^`) is a member, not the end.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    push_regex_literal(&mut out, next);
                }
            }
            '.' | '^' | '$' => push_regex_literal(&mut out, ch),
            other => out.push(other),
        }
    }
    out.push_str(")$");
    out
}

fn push_regex_literal(out: &mut String, ch: char) {
    if "\\.+*?()|[]{}^$#&-~".contains(ch) {
        out.push('\\');
    }
    out.push(ch);
}

fn like_to_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => {
                if let Some(next) = chars.next() {
                    push_glob_literal(&mut out, next);
                }
            }
            other => push_glob_literal(&mut out, other),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, ch: char) {
    match ch {
        '*' | '?' | '[' | ']' => {
            out.push('[');
            out.push(ch);
            out.push(']');
        }
        other => out.push(other),
    }
}

// --- roles of users --------------------------------------------------------------------------

pub async fn role_ids(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT role_id FROM users_roles WHERE tenant_id = $1 AND user_id = $2";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(user_id).fetch_all(&mut *c).await?))
}

pub async fn assign_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    user_id: &str,
    role_ids: &[String],
    now: i64,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO users_roles (tenant_id, user_id, role_id, created_at) VALUES ($1, $2, $3, $4)";
    for role_id in role_ids {
        run!(c, |c| sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(user_id)
            .bind(role_id)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn remove_all_roles(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM users_roles WHERE tenant_id = $1 AND user_id = $2";
    run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(user_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn remove_role(c: &mut impl Exec, tenant: &TenantId, user_id: &str, role_id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM users_roles WHERE tenant_id = $1 AND user_id = $2 AND role_id = $3";
    let n = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(user_id)
        .bind(role_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(n > 0)
}

/// A user among the first few in a group (holding a role, member of an organization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFeaturedUser {
    pub id: String,
    pub avatar: Option<String>,
    pub name: Option<String>,
}

/// How many users hold each role, and the first three of them.
pub async fn role_stats(
    c: &mut impl Exec,
    tenant: &TenantId,
    role_ids: &[String],
) -> StoreResult<HashMap<String, (i64, Vec<StoredFeaturedUser>)>> {
    featured_users(c, tenant, "users_roles", "role_id", role_ids).await
}

/// Per group (a role, an organization) of the `relation` table: how many users are in it
/// and the first three of them.
pub(crate) async fn featured_users(
    c: &mut impl Exec,
    tenant: &TenantId,
    relation: &'static str,
    group_key: &'static str,
    group_ids: &[String],
) -> StoreResult<HashMap<String, (i64, Vec<StoredFeaturedUser>)>> {
    let holders = crate::roles::Holders {
        relation,
        group_key,
        holder_table: "users",
        holder_key: "user_id",
        columns: &["id", "avatar", "name"],
    };
    type Featured = (String, String, Option<String>, Option<String>);
    let (counts, featured) = holders.stats::<Featured>(c, tenant, group_ids).await?;
    let mut stats: HashMap<String, (i64, Vec<StoredFeaturedUser>)> =
        counts.into_iter().map(|(group, n)| (group, (n, Vec::new()))).collect();
    for (group_id, id, avatar, name) in featured {
        stats.entry(group_id).or_default().1.push(StoredFeaturedUser { id, avatar, name });
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_helpers() {
        assert_eq!(like_literal_prefix("john%"), "john");
        assert_eq!(like_literal_prefix("jo_n%"), "jo");
        assert_eq!(like_literal_prefix("%x"), "");
        assert_eq!(like_literal_prefix("a\\%b%"), "a%b");
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("").as_deref(), None);
        assert_eq!(like_to_glob("J_hn%[x]"), "J?hn*[[]x[]]");
    }

    #[test]
    fn similar_to_becomes_an_anchored_regex() {
        assert_eq!(similar_to_regex("(alpha|gamma)"), "^(?:(?:alpha|gamma))$");
        assert_eq!(similar_to_regex("a%b_c"), "^(?:a.*b.c)$");
        assert_eq!(similar_to_regex("a.b^$"), "^(?:a\\.b\\^\\$)$");
        assert_eq!(similar_to_regex("\\%x\\_"), "^(?:%x_)$");
        assert_eq!(similar_to_regex("[%_a-z]+"), "^(?:[%_a-z]+)$");
        assert_eq!(similar_to_regex("[]x]"), "^(?:[\\]x])$");
        assert_eq!(similar_to_regex("ab{2}c*"), "^(?:ab{2}c*)$");
    }
}

/// Which identifier a user signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInIdentifier {
    Username,
    Email,
    Phone,
}

/// The identifier whose unique index a write broke (a concurrent write won), matched
/// exactly against the migrations' index names.
pub fn taken_identifier(e: &StoreError) -> Option<SignInIdentifier> {
    let StoreError::Conflict(constraint) = e else { return None };
    match constraint.as_str() {
        "users__username" => Some(SignInIdentifier::Username),
        "users__primary_email" => Some(SignInIdentifier::Email),
        "users__primary_phone" => Some(SignInIdentifier::Phone),
        _ => None,
    }
}

/// The user a sign-in identifier names (username as `usernames` says, email
/// case-insensitively, phone exactly).
/// The condition that a `users` row has `identifier` = the value bound at `$2` (username as
/// `usernames` says, email case-insensitively, phone exactly), and the value to bind: the
/// sign-in lookup, also joined by `oidc::find_interaction_and_user`.
pub(crate) fn identifier_condition(
    identifier: SignInIdentifier,
    value: &str,
    usernames: UsernameCase,
) -> (&'static str, String) {
    match identifier {
        SignInIdentifier::Username => usernames.condition(value),
        SignInIdentifier::Email => ("lower(primary_email) = $2", value.to_ascii_lowercase()),
        SignInIdentifier::Phone => ("primary_phone = $2", value.to_owned()),
    }
}

pub async fn find_by_identifier(
    c: &mut impl Exec,
    tenant: &TenantId,
    identifier: SignInIdentifier,
    value: &str,
    usernames: UsernameCase,
) -> StoreResult<Option<StoredUser>> {
    let (condition, value) = identifier_condition(identifier, value, usernames);
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND {condition}");
    Ok(run!(c, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(&value)
        .fetch_optional(&mut *c)
        .await?))
}

/// Usernames that differ only by case, lower-cased, at most `limit` of them, and how many
/// such groups there are: what makes a tenant unable to turn case-insensitive.
pub async fn username_case_conflicts(
    c: &mut impl Exec,
    tenant: &TenantId,
    limit: i64,
) -> StoreResult<(i64, Vec<String>)> {
    const GROUPS: &str = "SELECT lower(username) FROM users WHERE tenant_id = $1 AND username IS NOT NULL \
                          GROUP BY lower(username) HAVING COUNT(*) > 1";
    let count_sql = format!("SELECT COUNT(*) FROM ({GROUPS}) AS conflicts");
    let total: i64 = run!(c, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str()))
        .bind(tenant.as_str())
        .fetch_one(&mut *c)
        .await?);
    let sample_sql = format!("{GROUPS} ORDER BY lower(username) LIMIT $2");
    let samples: Vec<String> = run!(c, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sample_sql.as_str()))
        .bind(tenant.as_str())
        .bind(limit)
        .fetch_all(&mut *c)
        .await?);
    Ok((total, samples))
}

/// Which sign-ins [`set_last_sign_in`] stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampWhen {
    Always,
    /// Only one the row lets through: the user is not suspended and, with `Some` stamp, the
    /// password is still the one verified (`password_updated_at`, 0 when never set). The
    /// same conditions as the sign-in rules that then check the returned row, so a refused
    /// sign-in leaves no trace without a transaction to roll it back.
    Allowed {
        password_stamp: Option<i64>,
    },
}

/// Records a sign-in and returns the user as it now stands (`None`: no such user), so the
/// sign-in reads the row it checks in the same statement.
pub async fn set_last_sign_in(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    at: i64,
    when: StampWhen,
) -> StoreResult<Option<StoredUser>> {
    let (value, stamp) = match when {
        StampWhen::Always => ("$3", None),
        StampWhen::Allowed { password_stamp } => (
            "CASE WHEN NOT is_suspended AND COALESCE(password_updated_at, 0) = COALESCE($4, password_updated_at, 0) \
             THEN $3 ELSE last_sign_in_at END",
            Some(password_stamp),
        ),
    };
    let sql =
        format!("UPDATE users SET last_sign_in_at = {value} WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}");
    Ok(run!(c, |c| {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(tenant.as_str()).bind(id).bind(at);
        let q = if let Some(stamp) = stamp { q.bind(stamp) } else { q };
        q.fetch_optional(&mut *c).await?
    }))
}

/// Replaces the user's second-factor choices; false when there is no such user.
pub async fn set_logto_config(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    config: &Json<UserLogtoConfig>,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE users SET logto_config = $3 WHERE tenant_id = $1 AND id = $2";
    Ok(run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(config)
        .execute(&mut *c)
        .await?
        .rows_affected())
        > 0)
}

/// Names of the roles a user holds (the `roles` claim). Here rather than in roles.rs:
/// a read on a sign-in's path, in a module that writes no cached table (db.rs, `run!`).
pub async fn role_names(c: &mut impl Exec, tenant: &TenantId, user_id: &str) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT r.name FROM users_roles ur \
                       JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id \
                       WHERE ur.tenant_id = $1 AND ur.user_id = $2 ORDER BY r.name";
    Ok(run!(c, |c| sqlx::query_scalar(SQL).bind(tenant.as_str()).bind(user_id).fetch_all(&mut *c).await?))
}
