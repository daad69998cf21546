//! API resources and their scopes. The tenant's Management API resource is part of the
//! product: it and its scopes cannot be changed or removed.

use kido_proto::Page;
use kido_proto::resources::{
    CreateResource, CreateScope, Resource, ResourceWithScopes, Scope, UpdateResource, UpdateScope,
};
use kido_proto::{ResourceId, ScopeId, TenantId, management_api_indicator};
use kido_store::resources::{self as store, StoredResource, StoredScope};
use thiserror::Error;

use crate::storage::{self, StorageError};
use crate::{Core, clock, ids, rows, validate};

/// Default access-token lifetime of a resource, in seconds.
pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;

#[derive(Debug, Error)]
pub enum ResourceError {
    #[error("resource {0} does not exist")]
    NotFound(String),
    #[error("scope {0} does not exist")]
    ScopeNotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the API identifier {0} is already in use")]
    IndicatorInUse(String),
    #[error("the scope name {0} is already in use")]
    ScopeNameInUse(String),
    #[error("scope names cannot contain spaces")]
    ScopeNameWithSpace,
    #[error("the Management API resource cannot be modified")]
    ManagementApiImmutable,
    #[error("the Management API resource cannot be deleted")]
    ManagementApiUndeletable,
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(ResourceError);

pub type Result<T> = std::result::Result<T, ResourceError>;

pub struct Resources<'a> {
    pub(crate) core: &'a Core,
}

fn is_management_api(tenant: &TenantId, resource: &StoredResource) -> bool {
    resource.indicator == management_api_indicator(tenant.as_str())
}

impl Resources<'_> {
    pub async fn create(&self, tenant: &TenantId, input: CreateResource) -> Result<ResourceWithScopes> {
        let name = validate::name(&input.name, "name", 128).map_err(ResourceError::Invalid)?;
        if !validate::resource_indicator(&input.indicator) || input.indicator.len() > 256 {
            return Err(ResourceError::Invalid(format!(
                "`indicator` must be an absolute URI without a fragment, got `{}`",
                input.indicator
            )));
        }
        let ttl = check_ttl(input.access_token_ttl.unwrap_or(DEFAULT_ACCESS_TOKEN_TTL))?;
        let resource = StoredResource {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            name,
            indicator: input.indicator,
            is_default: false,
            access_token_ttl: ttl,
        };
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &resource, clock::now_ms()).await.map_err(|e| match e.into() {
            StorageError::Conflict(_) => ResourceError::IndicatorInUse(resource.indicator.clone()),
            other => ResourceError::Store(other),
        })?;
        tx.commit().await?;
        Ok(ResourceWithScopes { resource: rows::resource(resource), scopes: Some(Vec::new()) })
    }

    pub async fn get(&self, tenant: &TenantId, id: &ResourceId) -> Result<Resource> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        let resource = store::find(&mut c, tenant, id).await?.ok_or_else(|| ResourceError::NotFound(id.to_owned()))?;
        Ok(rows::resource(resource))
    }

    /// All resources (or a page), each with its scopes when asked.
    pub async fn list(
        &self,
        tenant: &TenantId,
        include_scopes: bool,
        page: Option<Page>,
    ) -> Result<(Vec<ResourceWithScopes>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (resources, total) = store::list(&mut c, tenant, page).await?;
        let mut scopes = if include_scopes {
            let ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
            store::list_scopes(&mut c, tenant, &ids, None, None).await?.0
        } else {
            Vec::new()
        };
        let items = resources
            .into_iter()
            .map(|resource| {
                let (mine, rest): (Vec<StoredScope>, Vec<StoredScope>) =
                    scopes.drain(..).partition(|s| s.resource_id == resource.id);
                scopes = rest;
                let mine = mine.into_iter().map(rows::scope).collect();
                ResourceWithScopes { resource: rows::resource(resource), scopes: include_scopes.then_some(mine) }
            })
            .collect();
        Ok((items, total))
    }

    pub async fn update(&self, tenant: &TenantId, id: &ResourceId, patch: UpdateResource) -> Result<Resource> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut resource = self.find_mutable(&mut tx, tenant, id).await?;
        if let Some(name) = patch.name {
            resource.name = validate::name(&name, "name", 128).map_err(ResourceError::Invalid)?;
        }
        if let Some(ttl) = patch.access_token_ttl {
            resource.access_token_ttl = check_ttl(ttl)?;
        }
        store::update(&mut tx, &resource).await?;
        tx.commit().await?;
        Ok(rows::resource(resource))
    }

    pub async fn set_default(&self, tenant: &TenantId, id: &ResourceId, is_default: bool) -> Result<Resource> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut resource =
            store::find(&mut tx, tenant, id).await?.ok_or_else(|| ResourceError::NotFound(id.to_owned()))?;
        store::set_default(&mut tx, tenant, id, is_default).await?;
        tx.commit().await?;
        resource.is_default = is_default;
        Ok(rows::resource(resource))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &ResourceId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let resource = store::find(&mut tx, tenant, id).await?.ok_or_else(|| ResourceError::NotFound(id.to_owned()))?;
        if is_management_api(tenant, &resource) {
            return Err(ResourceError::ManagementApiUndeletable);
        }
        store::delete(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads a resource that the caller wants to change; the Management API is refused.
    async fn find_mutable(&self, c: &mut kido_store::Tx, tenant: &TenantId, id: &str) -> Result<StoredResource> {
        let resource = store::find(c, tenant, id).await?.ok_or_else(|| ResourceError::NotFound(id.to_owned()))?;
        if is_management_api(tenant, &resource) {
            return Err(ResourceError::ManagementApiImmutable);
        }
        Ok(resource)
    }

    // --- scopes ------------------------------------------------------------------------

    pub async fn scopes(
        &self,
        tenant: &TenantId,
        resource_id: &ResourceId,
        search: Option<&str>,
        page: Option<Page>,
    ) -> Result<(Vec<Scope>, i64)> {
        let resource_id = resource_id.as_str();
        let mut c = self.core.store.conn().await?;
        store::find(&mut c, tenant, resource_id)
            .await?
            .ok_or_else(|| ResourceError::NotFound(resource_id.to_owned()))?;
        let scopes = store::list_scopes(&mut c, tenant, &[resource_id.to_owned()], search, page).await?;
        Ok(rows::page(scopes, rows::scope))
    }

    pub async fn create_scope(&self, tenant: &TenantId, resource_id: &ResourceId, input: CreateScope) -> Result<Scope> {
        let resource_id = resource_id.as_str();
        let name = scope_name(&input.name)?;
        let description = validate::text(input.description, "description", 512).map_err(ResourceError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        self.find_mutable(&mut tx, tenant, resource_id).await?;
        let scope = StoredScope {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            resource_id: resource_id.to_owned(),
            name,
            description,
            created_at: clock::now_ms(),
        };
        store::insert_scope(&mut tx, &scope).await.map_err(|e| scope_conflict(e, &scope.name))?;
        tx.commit().await?;
        Ok(rows::scope(scope))
    }

    pub async fn update_scope(
        &self,
        tenant: &TenantId,
        resource_id: &ResourceId,
        scope_id: &ScopeId,
        patch: UpdateScope,
    ) -> Result<Scope> {
        let (resource_id, scope_id) = (resource_id.as_str(), scope_id.as_str());
        let mut tx = self.core.store.begin().await?;
        self.find_mutable(&mut tx, tenant, resource_id).await?;
        let mut scope = store::find_scope(&mut tx, tenant, scope_id)
            .await?
            .filter(|s| s.resource_id == resource_id)
            .ok_or_else(|| ResourceError::ScopeNotFound(scope_id.to_owned()))?;
        if let Some(name) = patch.name {
            scope.name = scope_name(&name)?;
        }
        if let Some(description) = patch.description {
            scope.description = validate::text(description, "description", 512).map_err(ResourceError::Invalid)?;
        }
        store::update_scope(&mut tx, &scope).await.map_err(|e| scope_conflict(e, &scope.name))?;
        tx.commit().await?;
        Ok(rows::scope(scope))
    }

    pub async fn delete_scope(&self, tenant: &TenantId, resource_id: &ResourceId, scope_id: &ScopeId) -> Result<()> {
        let (resource_id, scope_id) = (resource_id.as_str(), scope_id.as_str());
        let mut tx = self.core.store.begin().await?;
        self.find_mutable(&mut tx, tenant, resource_id).await?;
        if !store::delete_scope(&mut tx, tenant, resource_id, scope_id).await? {
            return Err(ResourceError::ScopeNotFound(scope_id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Longest access-token lifetime a resource may set: ten years, in seconds.
pub const MAX_ACCESS_TOKEN_TTL: i64 = 315_360_000;

/// A token lifetime of 1 second to ten years (also keeps `iat + ttl` far from overflow).
fn check_ttl(ttl: i64) -> Result<i64> {
    if (1..=MAX_ACCESS_TOKEN_TTL).contains(&ttl) {
        Ok(ttl)
    } else {
        Err(ResourceError::Invalid(format!("`accessTokenTtl` must be 1 to {MAX_ACCESS_TOKEN_TTL} seconds")))
    }
}

fn scope_name(name: &str) -> Result<String> {
    if name.chars().any(char::is_whitespace) {
        return Err(ResourceError::ScopeNameWithSpace);
    }
    validate::name(name, "name", 256).map_err(ResourceError::Invalid)
}

fn scope_conflict(e: impl Into<StorageError>, name: &str) -> ResourceError {
    match e.into() {
        StorageError::Conflict(_) => ResourceError::ScopeNameInUse(name.to_owned()),
        other => ResourceError::Store(other),
    }
}
