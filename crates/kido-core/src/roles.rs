//! Global roles: the scopes they bundle and the machine-to-machine applications holding
//! them. The same assignment rules apply from either side (`/roles/{id}/applications`
//! and `/applications/{id}/roles`).

use std::collections::HashSet;

use kido_proto::Page;
use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::{Application, ApplicationType};
use kido_proto::resources::{Resource, Scope};
use kido_proto::roles::RoleFilter;
use kido_proto::roles::{CreateRole, FeaturedApplication, Role, RoleType, RoleWithStats, UpdateRole};
use kido_proto::{ApplicationId, RoleId, ScopeId, TenantId, management_api_indicator};
use kido_store::applications::{self as app_store, StoredApplication};
use kido_store::roles::{self as store, StoredFeaturedApplication, StoredRole};
use kido_store::{Exec, Tx, resources as resource_store};
use thiserror::Error;

use crate::storage::{self, StorageError};
use crate::{Core, clock, ids, rows, validate};

#[derive(Debug, Error)]
pub enum RoleError {
    #[error("role {0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the role name {0} is already in use")]
    NameInUse(String),
    #[error("scope {0} does not exist")]
    ScopeNotFound(String),
    #[error("Management API scopes cannot be given to a user role")]
    ManagementScopeOnUserRole,
    #[error("scope {0} is already in this role")]
    ScopeExists(String),
    #[error("the scope is not in this role")]
    ScopeNotAssigned,
    #[error("application {0} does not exist")]
    ApplicationNotFound(String),
    #[error("only machine-to-machine applications can hold roles")]
    ApplicationNotMachineToMachine,
    #[error("user roles cannot be given to machine-to-machine applications")]
    RoleNotMachineToMachine,
    #[error("the application does not hold this role")]
    NotAssigned,
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(RoleError);

pub type Result<T> = std::result::Result<T, RoleError>;

pub struct Roles<'a> {
    pub(crate) core: &'a Core,
}

impl Roles<'_> {
    pub async fn create(&self, tenant: &TenantId, input: CreateRole) -> Result<Role> {
        let role = StoredRole {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            name: validate::name(&input.name, "name", 128).map_err(RoleError::Invalid)?,
            description: validate::text(Some(input.description), "description", 128)
                .map_err(RoleError::Invalid)?
                .unwrap_or_default(),
            role_type: input.role_type.unwrap_or(RoleType::User),
            is_default: input.is_default.unwrap_or(false),
        };
        let scope_ids = validate::ids(input.scope_ids.as_deref().unwrap_or_default(), "scopeIds", true)
            .map_err(RoleError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &role, clock::now_ms()).await.map_err(|e| name_conflict(e, &role.name))?;
        if !scope_ids.is_empty() {
            self.add_scopes_in(&mut tx, tenant, &role, &scope_ids).await?;
        }
        tx.commit().await?;
        Ok(rows::role(role))
    }

    pub async fn get(&self, tenant: &TenantId, id: &RoleId) -> Result<Role> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        Ok(rows::role(find(&mut c, tenant, id).await?))
    }

    /// A page of roles with how many users and applications hold each.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &RoleFilter,
        page: Option<Page>,
    ) -> Result<(Vec<RoleWithStats>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (roles, total) = store::list(&mut c, tenant, filter, page).await?;
        let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
        let mut app_stats = store::application_stats(&mut c, tenant, &ids).await?;
        let mut user_stats = kido_store::users::role_stats(&mut c, tenant, &ids).await?;
        let items = roles
            .into_iter()
            .map(|role| {
                let (applications_count, featured_applications) = app_stats.remove(&role.id).unwrap_or_default();
                let (users_count, featured_users) = user_stats.remove(&role.id).unwrap_or_default();
                RoleWithStats {
                    role: rows::role(role),
                    users_count,
                    featured_users: featured_users.into_iter().map(rows::featured_user).collect(),
                    applications_count,
                    featured_applications: featured_applications.into_iter().map(featured_application).collect(),
                }
            })
            .collect();
        Ok((items, total))
    }

    /// Roles held by an application (which must be machine-to-machine).
    pub async fn of_application(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        filter: RoleFilter,
        page: Option<Page>,
    ) -> Result<(Vec<Role>, i64)> {
        let app_id = app_id.as_str();
        let mut c = self.core.store.conn().await?;
        m2m_application(&mut c, tenant, app_id).await?;
        let filter = RoleFilter { application_id: Some(app_id.to_owned()), ..filter };
        Ok(rows::page(store::list(&mut c, tenant, &filter, page).await?, rows::role))
    }

    pub async fn update(&self, tenant: &TenantId, id: &RoleId, patch: UpdateRole) -> Result<Role> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut role = find(&mut tx, tenant, id).await?;
        if let Some(name) = patch.name {
            role.name = validate::name(&name, "name", 128).map_err(RoleError::Invalid)?;
        }
        if let Some(description) = patch.description {
            role.description =
                validate::text(Some(description), "description", 128).map_err(RoleError::Invalid)?.unwrap_or_default();
        }
        if let Some(is_default) = patch.is_default {
            role.is_default = is_default;
        }
        store::update(&mut tx, &role).await.map_err(|e| name_conflict(e, &role.name))?;
        tx.commit().await?;
        Ok(rows::role(role))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &RoleId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(RoleError::NotFound(id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    // --- scopes ------------------------------------------------------------------------

    pub async fn scopes(
        &self,
        tenant: &TenantId,
        role_id: &RoleId,
        page: Option<Page>,
    ) -> Result<(Vec<(Scope, Resource)>, i64)> {
        let role_id = role_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, role_id).await?;
        let (pairs, total) = store::list_scopes(&mut c, tenant, role_id, page).await?;
        Ok((pairs.into_iter().map(|(scope, resource)| (rows::scope(scope), rows::resource(resource))).collect(), total))
    }

    /// Adds scopes to a role; returns all of the role's scopes afterwards.
    pub async fn add_scopes(&self, tenant: &TenantId, role_id: &RoleId, scope_ids: &[ScopeId]) -> Result<Vec<Scope>> {
        let role_id = role_id.as_str();
        let scope_ids = validate::ids(scope_ids, "scopeIds", false).map_err(RoleError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        let role = find(&mut tx, tenant, role_id).await?;
        let held: HashSet<String> = store::scope_ids(&mut tx, tenant, role_id).await?.into_iter().collect();
        if let Some(dup) = scope_ids.iter().find(|id| held.contains(*id)) {
            return Err(RoleError::ScopeExists(dup.clone()));
        }
        self.add_scopes_in(&mut tx, tenant, &role, &scope_ids).await?;
        let (all, _) = store::list_scopes(&mut tx, tenant, role_id, None).await?;
        tx.commit().await?;
        Ok(all.into_iter().map(|(scope, _)| rows::scope(scope)).collect())
    }

    async fn add_scopes_in(
        &self,
        tx: &mut Tx,
        tenant: &TenantId,
        role: &StoredRole,
        scope_ids: &[String],
    ) -> Result<()> {
        let scopes = resource_store::find_scopes(tx, tenant, scope_ids).await?;
        if let Some(missing) = scope_ids.iter().find(|id| !scopes.iter().any(|s| &s.id == *id)) {
            return Err(RoleError::ScopeNotFound(missing.clone()));
        }
        if role.role_type == RoleType::User {
            let management =
                resource_store::find_by_indicator(tx, tenant, &management_api_indicator(tenant.as_str())).await?;
            if management.is_some_and(|m| scopes.iter().any(|s| s.resource_id == m.id)) {
                return Err(RoleError::ManagementScopeOnUserRole);
            }
        }
        store::add_scopes(tx, tenant, &role.id, scope_ids, clock::now_ms()).await?;
        Ok(())
    }

    pub async fn remove_scope(&self, tenant: &TenantId, role_id: &RoleId, scope_id: &ScopeId) -> Result<()> {
        let (role_id, scope_id) = (role_id.as_str(), scope_id.as_str());
        let mut tx = self.core.store.begin().await?;
        if !store::remove_scope(&mut tx, tenant, role_id, scope_id).await? {
            return Err(RoleError::ScopeNotAssigned);
        }
        tx.commit().await?;
        Ok(())
    }

    // --- applications ------------------------------------------------------------------

    pub async fn applications(
        &self,
        tenant: &TenantId,
        role_id: &RoleId,
        search: Option<String>,
        page: Option<Page>,
    ) -> Result<(Vec<Application>, i64)> {
        let role_id = role_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, role_id).await?;
        let filter = ApplicationFilter { role_id: Some(role_id.to_owned()), search, ..Default::default() };
        Ok(rows::page(app_store::list(&mut c, tenant, &filter, page).await?, rows::application))
    }

    /// `POST /roles/{id}/applications`: gives one role to several applications.
    pub async fn assign_to_applications(
        &self,
        tenant: &TenantId,
        role_id: &RoleId,
        app_ids: &[ApplicationId],
    ) -> Result<()> {
        let role_id = role_id.as_str();
        let app_ids = validate::ids(app_ids, "applicationIds", false).map_err(RoleError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        let role = find(&mut tx, tenant, role_id).await?;
        for app_id in &app_ids {
            let app = m2m_application(&mut tx, tenant, app_id).await?;
            self.assign_checked(&mut tx, tenant, &app, std::slice::from_ref(&role)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `POST /applications/{id}/roles`: gives several roles to one application; returns
    /// the ids that were added.
    pub async fn assign_to_application(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        role_ids: &[RoleId],
    ) -> Result<Vec<String>> {
        let app_id = app_id.as_str();
        let role_ids = validate::ids(role_ids, "roleIds", true).map_err(RoleError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        let app = m2m_application(&mut tx, tenant, app_id).await?;
        let roles = find_all(&mut tx, tenant, &role_ids).await?;
        let added = self.assign_checked(&mut tx, tenant, &app, &roles).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// `PUT /applications/{id}/roles`: the application holds exactly these roles afterwards.
    pub async fn replace_for_application(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        role_ids: &[RoleId],
    ) -> Result<()> {
        let app_id = app_id.as_str();
        let role_ids = validate::ids(role_ids, "roleIds", true).map_err(RoleError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        let app = m2m_application(&mut tx, tenant, app_id).await?;
        let roles = find_all(&mut tx, tenant, &role_ids).await?;
        store::remove_all_from_application(&mut tx, tenant, app_id).await?;
        self.assign_checked(&mut tx, tenant, &app, &roles).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The one rule for giving roles to an application: machine-to-machine roles only; a
    /// role the application already holds is left as it is (as Logto 1.42: no error).
    /// Returns the ids newly given.
    async fn assign_checked(
        &self,
        tx: &mut Tx,
        tenant: &TenantId,
        app: &StoredApplication,
        roles: &[StoredRole],
    ) -> Result<Vec<String>> {
        if roles.iter().any(|r| r.role_type != RoleType::MachineToMachine) {
            return Err(RoleError::RoleNotMachineToMachine);
        }
        let held: HashSet<String> = store::role_ids_of_application(tx, tenant, &app.id).await?.into_iter().collect();
        let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).filter(|id| !held.contains(id)).collect();
        if !ids.is_empty() {
            store::assign_to_application(tx, tenant, &app.id, &ids, clock::now_ms()).await?;
        }
        Ok(ids)
    }

    pub async fn remove_from_application(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        role_id: &RoleId,
    ) -> Result<()> {
        let (app_id, role_id) = (app_id.as_str(), role_id.as_str());
        let mut tx = self.core.store.begin().await?;
        if !store::remove_from_application(&mut tx, tenant, app_id, role_id).await? {
            return Err(RoleError::NotAssigned);
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredRole> {
    store::find(c, tenant, id).await?.ok_or_else(|| RoleError::NotFound(id.to_owned()))
}

/// All of `ids`, or NotFound naming the first missing one.
async fn find_all(c: &mut impl Exec, tenant: &TenantId, ids: &[String]) -> Result<Vec<StoredRole>> {
    let roles = store::find_many(c, tenant, ids).await?;
    if let Some(missing) = ids.iter().find(|id| !roles.iter().any(|r| &r.id == *id)) {
        return Err(RoleError::NotFound(missing.clone()));
    }
    Ok(roles)
}

async fn m2m_application(c: &mut impl Exec, tenant: &TenantId, app_id: &str) -> Result<StoredApplication> {
    let app =
        app_store::find(c, tenant, app_id).await?.ok_or_else(|| RoleError::ApplicationNotFound(app_id.to_owned()))?;
    if app.app_type != ApplicationType::MachineToMachine {
        return Err(RoleError::ApplicationNotMachineToMachine);
    }
    Ok(app)
}

fn featured_application(a: StoredFeaturedApplication) -> FeaturedApplication {
    FeaturedApplication { id: a.id, name: a.name, app_type: a.app_type }
}

fn name_conflict(e: impl Into<StorageError>, name: &str) -> RoleError {
    match e.into() {
        StorageError::Conflict(_) => RoleError::NameInUse(name.to_owned()),
        other => RoleError::Store(other),
    }
}
