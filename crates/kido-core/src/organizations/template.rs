//! The organization template: organization roles (for users or for machine-to-machine
//! applications) and organization scopes, shared by every organization. A role grants
//! organization scopes and, optionally, API-resource scopes.

use kido_proto::Page;
use kido_proto::organizations::{
    CreateOrganizationRole, CreateOrganizationScope, IdName, OrganizationRole, OrganizationRoleWithScopes,
    OrganizationScope, ResourceScopeRef, UpdateOrganizationRole, UpdateOrganizationScope,
};
use kido_proto::organizations::{Grants, MemberKind, RoleFilter};
use kido_proto::resources::Scope;
use kido_proto::roles::RoleType;
use kido_proto::{OrganizationRoleId, OrganizationScopeId, TenantId};
use kido_store::organization_template::{
    self as store, StoredOrganizationRole, StoredOrganizationScope, StoredResourceScope,
};
use kido_store::organizations as member_store;
use kido_store::{Exec, Tx};
use serde_json::json;

use super::{OrganizationError, Result, invalid};
use crate::storage::StorageError;
use crate::{Core, audit, clock, ids, rows, validate};

pub struct OrganizationRoles<'a> {
    pub(crate) core: &'a Core,
}

impl OrganizationRoles<'_> {
    /// Creates a role, with the scopes it grants, in one transaction.
    pub async fn create(&self, tenant: &TenantId, input: CreateOrganizationRole) -> Result<OrganizationRole> {
        let role = StoredOrganizationRole {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            name: validate::name(&input.name, "name", 128).map_err(invalid)?,
            description: validate::text(input.description, "description", 256).map_err(invalid)?,
            role_type: input.role_type.unwrap_or(RoleType::User),
        };
        let scope_ids =
            validate::ids(input.organization_scope_ids.as_deref().unwrap_or_default(), "organizationScopeIds", true)
                .map_err(invalid)?;
        let resource_scope_ids =
            validate::ids(input.resource_scope_ids.as_deref().unwrap_or_default(), "resourceScopeIds", true)
                .map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        store::insert_role(&mut tx, &role, clock::now_ms()).await.map_err(|e| name_conflict(e, &role.name))?;
        audit::record(
            &mut tx,
            tenant,
            audit::keys::ORGANIZATION_ROLE_CREATED,
            None,
            json!({"organizationRoleId": role.id}),
        )
        .await?;
        if !scope_ids.is_empty() || !resource_scope_ids.is_empty() {
            grant_checked(&mut tx, tenant, &role.id, Grants::OrganizationScopes, &scope_ids).await?;
            grant_checked(&mut tx, tenant, &role.id, Grants::ResourceScopes, &resource_scope_ids).await?;
            scopes_changed(&mut tx, tenant, &role.id).await?;
        }
        tx.commit().await?;
        Ok(rows::organization_role(role))
    }

    /// The role as stored, as Logto's `GET /organization-roles/{id}` answers it (the list
    /// and the `scopes` / `resource-scopes` routes say what it grants).
    pub async fn get(&self, tenant: &TenantId, id: &OrganizationRoleId) -> Result<OrganizationRole> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        Ok(rows::organization_role(find_role(&mut c, tenant, id).await?))
    }

    /// A page of roles by name, each with what it grants.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &RoleFilter,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationRoleWithScopes>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (roles, total) = store::list_roles(&mut c, tenant, filter, page).await?;
        Ok((with_scopes(&mut c, tenant, roles).await?, total))
    }

    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        patch: UpdateOrganizationRole,
    ) -> Result<OrganizationRole> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut role = find_role(&mut tx, tenant, id).await?;
        let mut changed = Vec::new();
        if let Some(name) = patch.name {
            role.name = validate::name(&name, "name", 128).map_err(invalid)?;
            changed.push("name");
        }
        if let Some(description) = patch.description {
            role.description = validate::text(description, "description", 256).map_err(invalid)?;
            changed.push("description");
        }
        if let Some(role_type) = patch.role_type
            && role_type != role.role_type
        {
            // Holders of the old kind would be left with a role they cannot hold.
            let holders = if role.role_type == RoleType::User { MemberKind::User } else { MemberKind::Application };
            if member_store::role_is_held(&mut tx, tenant, holders, id).await? {
                return Err(OrganizationError::WrongType(format!(
                    "organization role {} is held by members; its type cannot change",
                    role.name
                )));
            }
            role.role_type = role_type;
            changed.push("type");
        }
        store::update_role(&mut tx, &role).await.map_err(|e| name_conflict(e, &role.name))?;
        let mut details = audit::changed(&changed);
        details["organizationRoleId"] = json!(role.id);
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_ROLE_DATA_UPDATED, None, details).await?;
        tx.commit().await?;
        Ok(rows::organization_role(role))
    }

    /// Deletes a role; its holders lose what it granted.
    pub async fn delete(&self, tenant: &TenantId, id: &OrganizationRoleId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::delete_role(&mut tx, tenant, id).await? {
            return Err(OrganizationError::Gone);
        }
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_ROLE_DELETED, None, json!({"organizationRoleId": id}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organization scopes a role grants, by name.
    pub async fn scopes(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationScope>, i64)> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        find_role(&mut c, tenant, id).await?;
        Ok(rows::page(store::list_scopes(&mut c, tenant, &None, Some(id), page).await?, rows::organization_scope))
    }

    /// The API-resource scopes a role grants, by name.
    pub async fn resource_scopes(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        page: Option<Page>,
    ) -> Result<(Vec<Scope>, i64)> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        find_role(&mut c, tenant, id).await?;
        let scopes = kido_store::resources::scopes_of_organization_role(&mut c, tenant, id, page).await?;
        Ok(rows::page(scopes, rows::scope))
    }

    /// `POST`: adds scopes of one kind (those already granted stay). `scope_ids` are
    /// `OrganizationScopeId`s or `ScopeId`s, as `kind` says.
    pub async fn grant<S: AsRef<str>>(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        kind: Grants,
        scope_ids: &[S],
    ) -> Result<()> {
        let id = id.as_str();
        let scope_ids = validate::ids(scope_ids, grants_field(kind), false).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        find_role(&mut tx, tenant, id).await?;
        grant_checked(&mut tx, tenant, id, kind, &scope_ids).await?;
        scopes_changed(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `PUT`: the role grants exactly these scopes of one kind afterwards (ids as `grant`).
    pub async fn replace_grants<S: AsRef<str>>(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        kind: Grants,
        scope_ids: &[S],
    ) -> Result<()> {
        let id = id.as_str();
        let scope_ids = validate::ids(scope_ids, grants_field(kind), true).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        find_role(&mut tx, tenant, id).await?;
        store::revoke_all(&mut tx, tenant, id, kind).await?;
        grant_checked(&mut tx, tenant, id, kind, &scope_ids).await?;
        scopes_changed(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes one scope of `kind` away (an `OrganizationScopeId` or a `ScopeId`, as `kind` says).
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        id: &OrganizationRoleId,
        kind: Grants,
        scope_id: &impl AsRef<str>,
    ) -> Result<()> {
        let (id, scope_id) = (id.as_str(), scope_id.as_ref());
        let mut tx = self.core.store.begin().await?;
        if !store::revoke(&mut tx, tenant, id, kind, scope_id).await? {
            return Err(OrganizationError::Gone);
        }
        scopes_changed(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub struct OrganizationScopes<'a> {
    pub(crate) core: &'a Core,
}

impl OrganizationScopes<'_> {
    pub async fn create(&self, tenant: &TenantId, input: CreateOrganizationScope) -> Result<OrganizationScope> {
        let scope = StoredOrganizationScope {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            name: scope_name(&input.name)?,
            description: validate::text(input.description, "description", 256).map_err(invalid)?,
        };
        let mut tx = self.core.store.begin().await?;
        store::insert_scope(&mut tx, &scope, clock::now_ms()).await.map_err(|e| name_conflict(e, &scope.name))?;
        let details = json!({"organizationScopeId": scope.id});
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_SCOPE_CREATED, None, details).await?;
        tx.commit().await?;
        Ok(rows::organization_scope(scope))
    }

    pub async fn get(&self, tenant: &TenantId, id: &OrganizationScopeId) -> Result<OrganizationScope> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        Ok(rows::organization_scope(find_scope(&mut c, tenant, id).await?))
    }

    /// A page of scopes by name; `q` is a substring of id, name or description.
    pub async fn list(
        &self,
        tenant: &TenantId,
        q: Option<String>,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationScope>, i64)> {
        let mut c = self.core.store.conn().await?;
        Ok(rows::page(store::list_scopes(&mut c, tenant, &q, None, page).await?, rows::organization_scope))
    }

    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &OrganizationScopeId,
        patch: UpdateOrganizationScope,
    ) -> Result<OrganizationScope> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut scope = find_scope(&mut tx, tenant, id).await?;
        let mut changed = Vec::new();
        if let Some(name) = patch.name {
            scope.name = scope_name(&name)?;
            changed.push("name");
        }
        if let Some(description) = patch.description {
            scope.description = validate::text(description, "description", 256).map_err(invalid)?;
            changed.push("description");
        }
        store::update_scope(&mut tx, &scope).await.map_err(|e| name_conflict(e, &scope.name))?;
        let mut details = audit::changed(&changed);
        details["organizationScopeId"] = json!(scope.id);
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_SCOPE_DATA_UPDATED, None, details).await?;
        tx.commit().await?;
        Ok(rows::organization_scope(scope))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &OrganizationScopeId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::delete_scope(&mut tx, tenant, id).await? {
            return Err(OrganizationError::Gone);
        }
        let details = json!({"organizationScopeId": id});
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_SCOPE_DELETED, None, details).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn grants_field(kind: Grants) -> &'static str {
    match kind {
        Grants::OrganizationScopes => "organizationScopeIds",
        Grants::ResourceScopes => "scopeIds",
    }
}

/// A scope name travels in space-separated `scope` strings, so it has no spaces.
fn scope_name(name: &str) -> Result<String> {
    let name = validate::name(name, "name", 128).map_err(invalid)?;
    if name.chars().any(char::is_whitespace) {
        return Err(invalid("`name` must not contain spaces".into()));
    }
    Ok(name)
}

/// Grants scopes of one kind after checking each exists in this tenant.
async fn grant_checked(
    tx: &mut Tx,
    tenant: &TenantId,
    role_id: &str,
    kind: Grants,
    scope_ids: &[String],
) -> Result<()> {
    let found: Vec<String> = match kind {
        Grants::OrganizationScopes => {
            store::find_scopes(tx, tenant, scope_ids).await?.into_iter().map(|s| s.id).collect()
        }
        Grants::ResourceScopes => {
            kido_store::resources::find_scopes(tx, tenant, scope_ids).await?.into_iter().map(|s| s.id).collect()
        }
    };
    if let Some(missing) = scope_ids.iter().find(|id| !found.contains(id)) {
        return Err(OrganizationError::MissingReference(format!("scope {missing} does not exist")));
    }
    store::grant(tx, tenant, role_id, kind, scope_ids, clock::now_ms()).await?;
    Ok(())
}

async fn scopes_changed(tx: &mut Tx, tenant: &TenantId, role_id: &str) -> Result<()> {
    let details = json!({"organizationRoleId": role_id});
    audit::record(tx, tenant, audit::keys::ORGANIZATION_ROLE_SCOPES_UPDATED, None, details).await?;
    Ok(())
}

async fn with_scopes(
    c: &mut impl Exec,
    tenant: &TenantId,
    roles: Vec<StoredOrganizationRole>,
) -> Result<Vec<OrganizationRoleWithScopes>> {
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    let mut scopes = store::scopes_of_roles(c, tenant, &ids).await?;
    let mut resource_scopes = store::resource_scopes_of_roles(c, tenant, &ids).await?;
    Ok(roles
        .into_iter()
        .map(|role| OrganizationRoleWithScopes {
            scopes: scopes.remove(&role.id).unwrap_or_default().into_iter().map(rows::id_name).collect(),
            resource_scopes: resource_scopes
                .remove(&role.id)
                .unwrap_or_default()
                .into_iter()
                .map(resource_scope)
                .collect(),
            role: rows::organization_role(role),
        })
        .collect())
}

async fn find_role(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredOrganizationRole> {
    store::find_role(c, tenant, id)
        .await?
        .ok_or_else(|| OrganizationError::NotFound { entity: "organization_roles", id: id.to_owned() })
}

async fn find_scope(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredOrganizationScope> {
    store::find_scope(c, tenant, id)
        .await?
        .ok_or_else(|| OrganizationError::NotFound { entity: "organization_scopes", id: id.to_owned() })
}

fn resource_scope(s: StoredResourceScope) -> ResourceScopeRef {
    ResourceScopeRef { id: s.id, name: s.name, resource: IdName { id: s.resource_id, name: s.resource_name } }
}

fn name_conflict(e: impl Into<StorageError>, name: &str) -> OrganizationError {
    match e.into() {
        StorageError::Conflict(_) => OrganizationError::NameInUse(name.to_owned()),
        other => OrganizationError::Store(other),
    }
}

#[cfg(test)]
mod tests {
    use super::scope_name;

    #[test]
    fn organization_scope_names_have_no_spaces() {
        assert_eq!(scope_name("read:members").unwrap(), "read:members");
        assert!(scope_name("read members").is_err());
        assert!(scope_name("").is_err());
    }
}
