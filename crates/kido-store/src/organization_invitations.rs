//! Invitations to join an organization, with the organization roles the invitee receives.

use std::collections::HashMap;

use kido_proto::TenantId;
use kido_proto::organizations::InvitationFilter;
use kido_proto::organizations::InvitationStatus;
use sqlx::AssertSqlSafe;

use crate::db::{Exec, run};
use crate::error::{StoreError, StoreResult};
use crate::{StoredIdName, placeholders};

/// Whether this module's statements may change a cached table (`run!`): no table it writes feeds a cache.
const TOUCHES_CACHED_TABLES: bool = false;

const COLUMNS: &str =
    "tenant_id, id, inviter_id, invitee, accepted_user_id, organization_id, status, created_at, updated_at, expires_at";

/// An invitation row (its roles live in their own table).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredInvitation {
    pub tenant_id: String,
    pub id: String,
    pub inviter_id: Option<String>,
    pub invitee: String,
    pub accepted_user_id: Option<String>,
    pub organization_id: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

impl StoredInvitation {
    pub fn status(&self) -> StoreResult<InvitationStatus> {
        InvitationStatus::parse(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("invitation {} has status {}", self.id, self.status)))
    }
}

pub async fn insert(c: &mut impl Exec, i: &StoredInvitation, role_ids: &[String]) -> StoreResult<()> {
    let sql = format!("INSERT INTO organization_invitations ({COLUMNS}) VALUES ({})", placeholders(1, 10));
    const ROLE_SQL: &str = "INSERT INTO organization_invitation_role_relations \
                            (tenant_id, organization_invitation_id, organization_role_id) VALUES ($1, $2, $3)";
    run!(c, |c| {
        sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(&i.tenant_id)
            .bind(&i.id)
            .bind(&i.inviter_id)
            .bind(&i.invitee)
            .bind(&i.accepted_user_id)
            .bind(&i.organization_id)
            .bind(&i.status)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.expires_at)
            .execute(&mut *c)
            .await?;
    });
    for role_id in role_ids {
        run!(c, |c| sqlx::query(ROLE_SQL)
            .bind(&i.tenant_id)
            .bind(&i.id)
            .bind(role_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

pub async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<Option<StoredInvitation>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_invitations WHERE tenant_id = $1 AND id = $2");
    Ok(run!(c, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await?))
}

/// Newest first.
pub async fn list(
    c: &mut impl Exec,
    tenant: &TenantId,
    filter: &InvitationFilter,
) -> StoreResult<Vec<StoredInvitation>> {
    let mut conditions = vec!["tenant_id = $1".to_owned()];
    let mut binds = vec![tenant.to_string()];
    if let Some(org) = &filter.organization_id {
        binds.push(org.clone());
        conditions.push(format!("organization_id = ${}", binds.len()));
    }
    if let Some(inviter) = &filter.inviter_id {
        binds.push(inviter.clone());
        conditions.push(format!("inviter_id = ${}", binds.len()));
    }
    if let Some(invitee) = &filter.invitee {
        binds.push(invitee.to_lowercase());
        conditions.push(format!("lower(invitee) = ${}", binds.len()));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_invitations WHERE {} ORDER BY created_at DESC, id",
        conditions.join(" AND ")
    );
    run!(c, |c| {
        let mut q = sqlx::query_as::<_, StoredInvitation>(AssertSqlSafe(sql.as_str()));
        for b in &binds {
            q = q.bind(b);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

/// Moves an invitation from `from` to `to`; false when it was no longer in `from` (another
/// request changed it first).
pub async fn transition(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    from: InvitationStatus,
    to: InvitationStatus,
    accepted_user_id: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    const SQL: &str = "UPDATE organization_invitations SET status = $4, accepted_user_id = $5, updated_at = $6 \
                       WHERE tenant_id = $1 AND id = $2 AND status = $3";
    let done = run!(c, |c| sqlx::query(SQL)
        .bind(tenant.as_str())
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(accepted_user_id)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// Marks every pending invitation past its expiry as `Expired`.
pub async fn expire_overdue(c: &mut impl Exec, tenant: &TenantId, now: i64) -> StoreResult<u64> {
    const SQL: &str = "UPDATE organization_invitations SET status = 'Expired', updated_at = $2 \
                       WHERE tenant_id = $1 AND status = 'Pending' AND expires_at <= $2";
    Ok(run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(now).execute(&mut *c).await?.rows_affected()))
}

pub async fn delete(c: &mut impl Exec, tenant: &TenantId, id: &str) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM organization_invitations WHERE tenant_id = $1 AND id = $2";
    let done = run!(c, |c| sqlx::query(SQL).bind(tenant.as_str()).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(done > 0)
}

/// Per invitation: the organization roles it gives, by name.
pub async fn roles_of(
    c: &mut impl Exec,
    tenant: &TenantId,
    invitation_ids: &[String],
) -> StoreResult<HashMap<String, Vec<StoredIdName>>> {
    if invitation_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT ir.organization_invitation_id, r.id, r.name FROM organization_invitation_role_relations ir \
         JOIN organization_roles r ON r.tenant_id = ir.tenant_id AND r.id = ir.organization_role_id \
         WHERE ir.tenant_id = $1 AND ir.organization_invitation_id IN ({}) ORDER BY r.name",
        placeholders(2, invitation_ids.len())
    );
    let rows: Vec<(String, String, String)> = run!(c, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
        for id in invitation_ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut *c).await?
    });
    let mut out: HashMap<String, Vec<StoredIdName>> = HashMap::new();
    for (invitation, id, name) in rows {
        out.entry(invitation).or_default().push(StoredIdName { id, name });
    }
    Ok(out)
}
