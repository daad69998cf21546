//! Invitations to join an organization. An invitation is `Pending` until it is accepted
//! (the invitee becomes a member with the invitation's roles), revoked, or its expiry
//! passes; those three are final. Expiry is read from the clock, so an invitation is
//! `Expired` the moment its time is up, whether or not anything has written it yet.

use kido_proto::TenantId;
use kido_proto::connectors::{ConnectorType, TemplateType};
use kido_proto::organizations::{CreateOrganizationInvitation, InvitationStatus, OrganizationInvitation};
use kido_proto::organizations::{InvitationFilter, MemberKind};
use kido_store::Exec;
use kido_store::organization_invitations::{self as store, StoredInvitation};
use kido_store::organizations as member_store;
use serde_json::{Map, Value, json};

use super::members::{admit_user, check_role_types, roles_by_id};
use super::{OrganizationError, Result, invalid};
use crate::connectors::Message;
use crate::{Core, audit, clock, ids, rows};

pub struct Invitations<'a> {
    pub(crate) core: &'a Core,
}

impl Invitations<'_> {
    /// Creates a pending invitation; with a `messagePayload` object, emails it to the
    /// invitee through the tenant's email connector (no invitation without its email).
    pub async fn create(
        &self,
        tenant: &TenantId,
        input: CreateOrganizationInvitation,
    ) -> Result<OrganizationInvitation> {
        let invitee = input.invitee.trim().to_owned();
        if !crate::identifiers::is_email(&invitee) {
            return Err(invalid("`invitee` must be an email address".into()));
        }
        let now = clock::now_ms();
        if input.expires_at <= now {
            return Err(OrganizationError::ExpiryNotInFuture);
        }
        let payload = match input.message_payload {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err(invalid("`messagePayload` must be an object or false".into())),
        };
        let role_ids = crate::validate::ids(
            input.organization_role_ids.as_deref().unwrap_or_default(),
            "organizationRoleIds",
            true,
        )
        .map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        if kido_store::organizations::find(&mut tx, tenant, &input.organization_id).await?.is_none() {
            return Err(OrganizationError::MissingReference(format!(
                "organization {} does not exist",
                input.organization_id
            )));
        }
        if let Some(inviter) = &input.inviter_id
            && kido_store::users::find(&mut tx, tenant, inviter).await?.is_none()
        {
            return Err(OrganizationError::MissingReference(format!("user {inviter} does not exist")));
        }
        // Invitees become user members.
        check_role_types(MemberKind::User, &roles_by_id(&mut tx, tenant, &role_ids).await?)?;
        if let Some(user) = kido_store::users::find_by_identifier(
            &mut tx,
            tenant,
            kido_store::users::SignInIdentifier::Email,
            &invitee,
            // An email lookup: how usernames compare does not matter.
            kido_store::users::UsernameCase::Sensitive,
        )
        .await?
            && member_store::is_member(&mut tx, tenant, &input.organization_id, MemberKind::User, &user.id).await?
        {
            return Err(OrganizationError::InvitationRule(
                "The invitee is already a member of the organization.".into(),
            ));
        }
        // An overdue pending invitation no longer blocks a new one.
        store::expire_overdue(&mut tx, tenant, now).await?;
        let row = StoredInvitation {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            inviter_id: input.inviter_id,
            invitee,
            accepted_user_id: None,
            organization_id: input.organization_id,
            status: InvitationStatus::Pending.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            expires_at: input.expires_at,
        };
        // A second pending invitation for the same invitee is a unique violation (422).
        store::insert(&mut tx, &row, &role_ids).await?;
        let details = json!({"organizationInvitationId": row.id, "organizationId": row.organization_id});
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_INVITATION_CREATED, None, details).await?;
        tx.commit().await?;
        if let Some(payload) = payload
            && let Err(e) = self.deliver(tenant, &row, payload).await
        {
            // As if it had never been created: the inviter is told and may try again.
            let mut c = self.core.store.conn().await?;
            store::delete(&mut c, tenant, &row.id).await?;
            return Err(e);
        }
        self.get(tenant, &row.id).await
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<OrganizationInvitation> {
        let mut c = self.core.store.conn().await?;
        let row = find(&mut c, tenant, id).await?;
        Ok(with_roles(&mut c, tenant, vec![row]).await?.remove(0))
    }

    /// Newest first (not paged, as Logto).
    pub async fn list(&self, tenant: &TenantId, filter: &InvitationFilter) -> Result<Vec<OrganizationInvitation>> {
        let mut c = self.core.store.conn().await?;
        let rows = store::list(&mut c, tenant, filter).await?;
        with_roles(&mut c, tenant, rows).await
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(OrganizationError::Gone);
        }
        let details = json!({"organizationInvitationId": id});
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_INVITATION_DELETED, None, details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `PUT /organization-invitations/{id}/status`: accept (the user, whose email must be
    /// the invitee's, becomes a member with the invitation's roles) or revoke a pending
    /// invitation.
    pub async fn set_status(
        &self,
        tenant: &TenantId,
        id: &str,
        status: InvitationStatus,
        accepted_user_id: Option<&str>,
    ) -> Result<OrganizationInvitation> {
        if !matches!(status, InvitationStatus::Accepted | InvitationStatus::Revoked) {
            return Err(invalid("`status` must be Accepted or Revoked".into()));
        }
        let now = clock::now_ms();
        let mut tx = self.core.store.begin().await?;
        let row = find(&mut tx, tenant, id).await?;
        if effective_status(&row, now)? != InvitationStatus::Pending {
            return Err(not_changeable());
        }
        let accepted_by = if status == InvitationStatus::Accepted {
            let user_id = accepted_user_id.ok_or_else(|| {
                OrganizationError::InvitationRule(
                    "The `acceptedUserId` is required when accepting an invitation.".into(),
                )
            })?;
            let user = kido_store::users::find(&mut tx, tenant, user_id)
                .await?
                .ok_or_else(|| OrganizationError::NotFound { entity: "users", id: user_id.to_owned() })?;
            if !user.primary_email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&row.invitee)) {
                return Err(OrganizationError::InvitationRule(
                    "The accepting user must have the same email as the invitee.".into(),
                ));
            }
            let roles: Vec<String> = store::roles_of(&mut tx, tenant, std::slice::from_ref(&row.id))
                .await?
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.id)
                .collect();
            let details = json!({"organizationInvitationId": row.id});
            admit_user(&mut tx, tenant, &row.organization_id, &user.id, &roles, details).await?;
            Some(user.id)
        } else {
            None
        };
        let from = InvitationStatus::Pending;
        if !store::transition(&mut tx, tenant, id, from, status, accepted_by.as_deref(), now).await? {
            return Err(not_changeable());
        }
        let details = json!({"organizationInvitationId": id, "status": status.as_str()});
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_INVITATION_STATUS_UPDATED, None, details).await?;
        tx.commit().await?;
        self.get(tenant, id).await
    }

    /// `POST /organization-invitations/{id}/message`: (re)sends the invitation email.
    pub async fn send_message(&self, tenant: &TenantId, id: &str, payload: Map<String, Value>) -> Result<()> {
        let row = {
            let mut c = self.core.store.conn().await?;
            find(&mut c, tenant, id).await?
        };
        self.deliver(tenant, &row, payload).await?;
        let mut c = self.core.store.conn().await?;
        let details = json!({"organizationInvitationId": id});
        audit::record(&mut c, tenant, audit::keys::ORGANIZATION_INVITATION_MESSAGE_SENT, None, details).await?;
        Ok(())
    }

    async fn deliver(&self, tenant: &TenantId, row: &StoredInvitation, payload: Map<String, Value>) -> Result<()> {
        let message =
            Message { to: row.invitee.clone(), template: TemplateType::OrganizationInvitation, payload, ip: None };
        self.core.connectors().send(tenant, ConnectorType::Email, message).await.map_err(OrganizationError::Message)
    }
}

fn not_changeable() -> OrganizationError {
    OrganizationError::InvitationRule("The invitation status cannot be changed anymore.".into())
}

/// The status as of `now`: a pending invitation past its expiry is expired.
fn effective_status(row: &StoredInvitation, now: i64) -> Result<InvitationStatus> {
    let status = row.status()?;
    Ok(if status == InvitationStatus::Pending && row.expires_at <= now { InvitationStatus::Expired } else { status })
}

async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredInvitation> {
    store::find(c, tenant, id)
        .await?
        .ok_or_else(|| OrganizationError::NotFound { entity: "organization_invitations", id: id.to_owned() })
}

async fn with_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    rows: Vec<StoredInvitation>,
) -> Result<Vec<OrganizationInvitation>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut roles = store::roles_of(c, tenant, &ids).await?;
    let now = clock::now_ms();
    rows.into_iter()
        .map(|row| {
            Ok(OrganizationInvitation {
                status: effective_status(&row, now)?,
                organization_roles: roles.remove(&row.id).unwrap_or_default().into_iter().map(rows::id_name).collect(),
                tenant_id: row.tenant_id,
                id: row.id,
                inviter_id: row.inviter_id,
                invitee: row.invitee,
                accepted_user_id: row.accepted_user_id,
                organization_id: row.organization_id,
                created_at: row.created_at,
                updated_at: row.updated_at,
                expires_at: row.expires_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(status: InvitationStatus, expires_at: i64) -> StoredInvitation {
        StoredInvitation {
            tenant_id: "t".into(),
            id: "i".into(),
            inviter_id: None,
            invitee: "a@example.com".into(),
            accepted_user_id: None,
            organization_id: "o".into(),
            status: status.as_str().into(),
            created_at: 0,
            updated_at: 0,
            expires_at,
        }
    }

    #[test]
    fn a_pending_invitation_expires_at_its_expiry_and_others_keep_their_status() {
        assert_eq!(effective_status(&invitation(InvitationStatus::Pending, 10), 9).unwrap(), InvitationStatus::Pending);
        assert_eq!(
            effective_status(&invitation(InvitationStatus::Pending, 10), 10).unwrap(),
            InvitationStatus::Expired
        );
        let accepted = invitation(InvitationStatus::Accepted, 10);
        assert_eq!(effective_status(&accepted, 20).unwrap(), InvitationStatus::Accepted);
        let revoked = invitation(InvitationStatus::Revoked, 10);
        assert_eq!(effective_status(&revoked, 20).unwrap(), InvitationStatus::Revoked);
    }
}
