//! Members of organizations: users, and machine-to-machine applications, each holding
//! organization roles of their own kind in each organization they belong to. Both kinds
//! follow the same rules through `MemberKind`.

use std::collections::{HashMap, HashSet};

use kido_proto::Page;
use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::ApplicationType;
use kido_proto::organizations::{
    ApplicationWithOrganizationRoles, IdName, OrganizationRole, OrganizationRoleRefs, OrganizationScope,
    OrganizationWithRoles, UserWithOrganizationRoles,
};
use kido_proto::organizations::{MemberKind, OrganizationFilter, RoleFilter};
use kido_proto::roles::RoleType;
use kido_proto::users::{FieldMatch, MatchMode, UserField, UserSearch};
use kido_proto::{OrganizationId, TenantId};
use kido_store::StoredIdName;
use kido_store::applications as app_store;
use kido_store::organization_template::{self as template_store, StoredOrganizationRole};
use kido_store::organizations as store;
use kido_store::{Exec, Tx};
use serde_json::json;

use super::{OrganizationError, Organizations, Result, find, invalid};
use crate::storage::StorageError;
use crate::{audit, clock, rows, validate};

/// The JSON names Logto's membership payloads use per kind.
fn ids_field(kind: MemberKind) -> &'static str {
    match kind {
        MemberKind::User => "userIds",
        MemberKind::Application => "applicationIds",
    }
}

fn role_type_of(kind: MemberKind) -> RoleType {
    match kind {
        MemberKind::User => RoleType::User,
        MemberKind::Application => RoleType::MachineToMachine,
    }
}

impl Organizations<'_> {
    /// A page of the organization's users, each with their roles in it. `q` is a
    /// case-insensitive substring of id, email, phone, username or name.
    pub async fn users(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        q: Option<String>,
        page: Option<Page>,
    ) -> Result<(Vec<UserWithOrganizationRoles>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, organization_id).await?;
        let groups = match q {
            None => Vec::new(),
            Some(q) => vec![
                UserField::ALL
                    .iter()
                    .map(|&field| FieldMatch { field, mode: MatchMode::Like, value: format!("%{q}%") })
                    .collect(),
            ],
        };
        let search = UserSearch { groups, organization_id: Some(organization_id.to_owned()), ..Default::default() };
        let (rows, total) = kido_store::users::list(&mut c, tenant, &search, page).await?;
        let ids: Vec<String> = rows.iter().map(|u| u.id.clone()).collect();
        let mut roles = store::member_roles(&mut c, tenant, Some(organization_id), MemberKind::User, &ids).await?;
        let items = rows
            .into_iter()
            .map(|u| {
                let organization_roles = names_only(roles.remove(&u.id));
                UserWithOrganizationRoles { user: rows::user(u), organization_roles }
            })
            .collect();
        Ok((items, total))
    }

    /// A page of the organization's applications, each with its roles in it.
    pub async fn applications(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        q: Option<String>,
        page: Option<Page>,
    ) -> Result<(Vec<ApplicationWithOrganizationRoles>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, organization_id).await?;
        let filter =
            ApplicationFilter { organization_id: Some(organization_id.to_owned()), search: q, ..Default::default() };
        let (apps, total) = app_store::list(&mut c, tenant, &filter, page).await?;
        let ids: Vec<String> = apps.iter().map(|a| a.id.clone()).collect();
        let mut roles =
            store::member_roles(&mut c, tenant, Some(organization_id), MemberKind::Application, &ids).await?;
        let items = apps
            .into_iter()
            .map(|a| {
                let organization_roles = names_only(roles.remove(&a.id));
                ApplicationWithOrganizationRoles { application: rows::application(a), organization_roles }
            })
            .collect();
        Ok((items, total))
    }

    /// `POST /organizations/{id}/{users|applications}`: adds members; those already in stay
    /// as they are (with their roles).
    pub async fn add_members(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let member_ids = validate::ids(member_ids, ids_field(kind), false).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        check_members(&mut tx, tenant, kind, &member_ids).await?;
        let already: HashSet<String> =
            store::members_among(&mut tx, tenant, organization_id, kind, &member_ids).await?.into_iter().collect();
        let added: Vec<String> = member_ids.into_iter().filter(|id| !already.contains(id)).collect();
        store::add_members(&mut tx, tenant, organization_id, kind, &added, clock::now_ms()).await?;
        membership_changed(&mut tx, tenant, organization_id, kind, &added, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `PUT /organizations/{id}/{users|applications}`: exactly these members afterwards.
    /// Members who stay keep their roles; those removed lose theirs.
    pub async fn replace_members(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let member_ids = validate::ids(member_ids, ids_field(kind), true).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        check_members(&mut tx, tenant, kind, &member_ids).await?;
        let current = store::member_ids(&mut tx, tenant, organization_id, kind).await?;
        let removed: Vec<String> = current.iter().filter(|id| !member_ids.contains(id)).cloned().collect();
        let added: Vec<String> = member_ids.into_iter().filter(|id| !current.contains(id)).collect();
        for id in &removed {
            store::remove_member(&mut tx, tenant, organization_id, kind, id).await?;
        }
        store::add_members(&mut tx, tenant, organization_id, kind, &added, clock::now_ms()).await?;
        membership_changed(&mut tx, tenant, organization_id, kind, &added, &removed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member and the roles it held in the organization.
    pub async fn remove_member(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_id: &str,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::remove_member(&mut tx, tenant, organization_id, kind, member_id).await? {
            return Err(OrganizationError::Gone);
        }
        membership_changed(&mut tx, tenant, organization_id, kind, &[], &[member_id.to_owned()]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /organizations/{id}/{users|applications}/roles`: every role to every member.
    pub async fn add_roles_to_members(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_ids: &[String],
        role_ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let member_ids = validate::ids(member_ids, ids_field(kind), false).map_err(invalid)?;
        let role_ids = validate::ids(role_ids, "organizationRoleIds", false).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        let members = store::members_among(&mut tx, tenant, organization_id, kind, &member_ids).await?;
        if let Some(outsider) = member_ids.iter().find(|id| !members.contains(id)) {
            return Err(OrganizationError::MissingReference(format!(
                "{outsider} is not a member of organization {organization_id}"
            )));
        }
        let roles = roles_by_id(&mut tx, tenant, &role_ids).await?;
        check_role_types(kind, &roles)?;
        for member_id in &member_ids {
            store::add_member_roles(&mut tx, tenant, organization_id, kind, member_id, &role_ids, clock::now_ms())
                .await?;
        }
        member_roles_changed(&mut tx, tenant, organization_id, kind, &member_ids).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The roles a member holds in the organization, by name.
    pub async fn member_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_id: &str,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationRole>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        require_membership(&mut c, tenant, organization_id, kind, member_id).await?;
        let filter = RoleFilter {
            held_by: Some((organization_id.to_owned(), kind, member_id.to_owned())),
            ..Default::default()
        };
        Ok(rows::page(template_store::list_roles(&mut c, tenant, &filter, page).await?, rows::organization_role))
    }

    /// `POST …/{userId|applicationId}/roles`: gives roles named by id and/or by name;
    /// returns the ids given.
    pub async fn add_member_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_id: &str,
        refs: &OrganizationRoleRefs,
    ) -> Result<Vec<String>> {
        let organization_id = organization_id.as_str();
        let mut tx = self.core.store.begin().await?;
        require_membership(&mut tx, tenant, organization_id, kind, member_id).await?;
        let roles = resolve_roles(&mut tx, tenant, refs, false).await?;
        check_role_types(kind, &roles)?;
        let ids: Vec<String> = roles.into_iter().map(|r| r.id).collect();
        store::add_member_roles(&mut tx, tenant, organization_id, kind, member_id, &ids, clock::now_ms()).await?;
        member_roles_changed(&mut tx, tenant, organization_id, kind, std::slice::from_ref(&member_id.to_owned()))
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// `PUT …/{userId|applicationId}/roles`: exactly these roles afterwards. Users may be
    /// left without roles; applications must keep at least one (as Logto).
    pub async fn replace_member_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_id: &str,
        refs: &OrganizationRoleRefs,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let mut tx = self.core.store.begin().await?;
        require_membership(&mut tx, tenant, organization_id, kind, member_id).await?;
        let roles = resolve_roles(&mut tx, tenant, refs, kind == MemberKind::User).await?;
        check_role_types(kind, &roles)?;
        let ids: Vec<String> = roles.into_iter().map(|r| r.id).collect();
        store::remove_all_member_roles(&mut tx, tenant, organization_id, kind, member_id).await?;
        store::add_member_roles(&mut tx, tenant, organization_id, kind, member_id, &ids, clock::now_ms()).await?;
        member_roles_changed(&mut tx, tenant, organization_id, kind, std::slice::from_ref(&member_id.to_owned()))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_member_role(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        kind: MemberKind,
        member_id: &str,
        role_id: &str,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let mut tx = self.core.store.begin().await?;
        require_membership(&mut tx, tenant, organization_id, kind, member_id).await?;
        if !store::remove_member_role(&mut tx, tenant, organization_id, kind, member_id, role_id).await? {
            return Err(OrganizationError::Gone);
        }
        member_roles_changed(&mut tx, tenant, organization_id, kind, std::slice::from_ref(&member_id.to_owned()))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organization scopes a user's roles in the organization grant.
    pub async fn user_scopes(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        user_id: &str,
    ) -> Result<Vec<OrganizationScope>> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        require_membership(&mut c, tenant, organization_id, MemberKind::User, user_id).await?;
        let rows = store::member_scopes(&mut c, tenant, organization_id, MemberKind::User, user_id).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, description)| OrganizationScope { tenant_id: tenant.to_string(), id, name, description })
            .collect())
    }

    /// The organizations a user or application belongs to, each with the roles held in it.
    pub async fn organizations_of(
        &self,
        tenant: &TenantId,
        kind: MemberKind,
        member_id: &str,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationWithRoles>, i64)> {
        let mut c = self.core.store.conn().await?;
        let exists = match kind {
            MemberKind::User => kido_store::users::find(&mut c, tenant, member_id).await?.is_some(),
            MemberKind::Application => app_store::find(&mut c, tenant, member_id).await?.is_some(),
        };
        if !exists {
            let entity = if kind == MemberKind::User { "users" } else { "applications" };
            return Err(OrganizationError::NotFound { entity, id: member_id.to_owned() });
        }
        let filter = OrganizationFilter { member: Some((kind, member_id.to_owned())), ..Default::default() };
        let (orgs, total) = store::list(&mut c, tenant, &filter, page).await?;
        let held = store::member_roles(&mut c, tenant, None, kind, std::slice::from_ref(&member_id.to_owned()))
            .await?
            .remove(member_id)
            .unwrap_or_default();
        let mut by_organization: HashMap<String, Vec<(String, StoredIdName)>> = HashMap::new();
        for (org, role) in held {
            by_organization.entry(org.clone()).or_default().push((org, role));
        }
        let items = orgs
            .into_iter()
            .map(|o| {
                let organization_roles = names_only(by_organization.remove(&o.id));
                OrganizationWithRoles { organization: rows::organization(o), organization_roles }
            })
            .collect();
        Ok((items, total))
    }
}

/// The one way a user joins by themselves (an accepted invitation, just-in-time
/// provisioning): membership if not yet a member, then `role_ids`; a new membership is
/// recorded as `Organization.Membership.Updated` with `details` added. True when the user
/// newly joined.
pub(super) async fn admit_user(
    tx: &mut Tx,
    tenant: &TenantId,
    organization_id: &str,
    user_id: &str,
    role_ids: &[String],
    details: serde_json::Value,
) -> std::result::Result<bool, StorageError> {
    let user = [user_id.to_owned()];
    let now = clock::now_ms();
    let joined = !store::is_member(tx, tenant, organization_id, MemberKind::User, user_id).await?;
    if joined {
        store::add_members(tx, tenant, organization_id, MemberKind::User, &user, now).await?;
    }
    store::add_member_roles(tx, tenant, organization_id, MemberKind::User, user_id, role_ids, now).await?;
    if joined {
        let mut entry = json!({"organizationId": organization_id, "addedUserIds": user});
        if let (Some(entry), serde_json::Value::Object(extra)) = (entry.as_object_mut(), details) {
            entry.extend(extra);
        }
        audit::record(tx, tenant, audit::keys::ORGANIZATION_MEMBERSHIP_UPDATED, Some(user_id), entry).await?;
    }
    Ok(joined)
}

/// Roles of one member in one organization, sorted by name (Logto's order).
fn names_only(roles: Option<Vec<(String, StoredIdName)>>) -> Vec<IdName> {
    let mut out: Vec<IdName> = roles.unwrap_or_default().into_iter().map(|(_, r)| rows::id_name(r)).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// For relation writes Logto answers an unknown organization like any unknown reference.
pub(super) async fn existing_organization(c: &mut impl Exec, tenant: &TenantId, organization_id: &str) -> Result<()> {
    match find(c, tenant, organization_id).await {
        Err(OrganizationError::NotFound { .. }) => {
            Err(OrganizationError::MissingReference(format!("organization {organization_id} does not exist")))
        }
        other => other.map(|_| ()),
    }
}

/// Every id names a user (or a machine-to-machine application) of this tenant. Ids of
/// other tenants are simply not found: every lookup is scoped by tenant, and the
/// memberships' composite foreign keys would refuse them anyway.
async fn check_members(c: &mut Tx, tenant: &TenantId, kind: MemberKind, ids: &[String]) -> Result<()> {
    for id in ids {
        match kind {
            MemberKind::User => {
                if kido_store::users::find(c, tenant, id).await?.is_none() {
                    return Err(OrganizationError::MissingReference(format!("user {id} does not exist")));
                }
            }
            MemberKind::Application => {
                let app = app_store::find(c, tenant, id)
                    .await?
                    .ok_or_else(|| OrganizationError::MissingReference(format!("application {id} does not exist")))?;
                if app.app_type != ApplicationType::MachineToMachine {
                    return Err(OrganizationError::WrongType(format!(
                        "application {id} is not a machine-to-machine application; only those can join organizations"
                    )));
                }
            }
        }
    }
    Ok(())
}

async fn require_membership(
    c: &mut impl Exec,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_id: &str,
) -> Result<()> {
    if store::is_member(c, tenant, organization_id, kind, member_id).await? {
        Ok(())
    } else {
        Err(OrganizationError::RequireMembership)
    }
}

/// All of `ids`, or MissingReference naming the first unknown one.
pub(super) async fn roles_by_id(
    c: &mut impl Exec,
    tenant: &TenantId,
    ids: &[String],
) -> Result<Vec<StoredOrganizationRole>> {
    let roles = template_store::find_roles(c, tenant, ids).await?;
    if let Some(missing) = ids.iter().find(|id| !roles.iter().any(|r| &r.id == *id)) {
        return Err(OrganizationError::MissingReference(format!("organization role {missing} does not exist")));
    }
    Ok(roles)
}

/// Roles named by `organizationRoleIds` and/or `organizationRoleNames`.
async fn resolve_roles(
    c: &mut impl Exec,
    tenant: &TenantId,
    refs: &OrganizationRoleRefs,
    allow_empty: bool,
) -> Result<Vec<StoredOrganizationRole>> {
    let ids = validate::ids(refs.organization_role_ids.as_deref().unwrap_or_default(), "organizationRoleIds", true)
        .map_err(invalid)?;
    let names =
        validate::ids(refs.organization_role_names.as_deref().unwrap_or_default(), "organizationRoleNames", true)
            .map_err(invalid)?;
    if ids.is_empty() && names.is_empty() && !allow_empty {
        return Err(invalid("`organizationRoleIds` or `organizationRoleNames` must name at least one role".into()));
    }
    let mut roles = roles_by_id(c, tenant, &ids).await?;
    let by_name = template_store::find_roles_by_name(c, tenant, &names).await?;
    let unknown: Vec<String> = names.iter().filter(|n| !by_name.iter().any(|r| &r.name == *n)).cloned().collect();
    if !unknown.is_empty() {
        return Err(OrganizationError::RoleNamesNotFound(unknown));
    }
    for role in by_name {
        if !roles.iter().any(|r| r.id == role.id) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// The one type rule: users hold `User` roles, applications `MachineToMachine` roles.
pub(super) fn check_role_types(kind: MemberKind, roles: &[StoredOrganizationRole]) -> Result<()> {
    let wanted = role_type_of(kind);
    match roles.iter().find(|r| r.role_type != wanted) {
        None => Ok(()),
        Some(r) => Err(OrganizationError::WrongType(format!(
            "organization role {} is of type {}; only {} roles can be given to {}",
            r.name,
            r.role_type.as_str(),
            wanted.as_str(),
            if kind == MemberKind::User { "users" } else { "applications" }
        ))),
    }
}

async fn membership_changed(
    tx: &mut Tx,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    added: &[String],
    removed: &[String],
) -> Result<()> {
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let (added_key, removed_key) = match kind {
        MemberKind::User => ("addedUserIds", "removedUserIds"),
        MemberKind::Application => ("addedApplicationIds", "removedApplicationIds"),
    };
    let mut details = json!({"organizationId": organization_id});
    if !added.is_empty() {
        details[added_key] = json!(added);
    }
    if !removed.is_empty() {
        details[removed_key] = json!(removed);
    }
    audit::record(tx, tenant, audit::keys::ORGANIZATION_MEMBERSHIP_UPDATED, None, details).await?;
    Ok(())
}

async fn member_roles_changed(
    tx: &mut Tx,
    tenant: &TenantId,
    organization_id: &str,
    kind: MemberKind,
    member_ids: &[String],
) -> Result<()> {
    let details = json!({"organizationId": organization_id, ids_field(kind): member_ids});
    audit::record(tx, tenant, audit::keys::ORGANIZATION_MEMBER_ROLES_UPDATED, None, details).await?;
    Ok(())
}
