//! `/api/organization-roles` and `/api/organization-scopes`: the organization template.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_core::organizations::template::OrganizationRoles;
use kido_proto::organizations::{
    CreateOrganizationRole, CreateOrganizationScope, OrganizationRole, OrganizationRoleWithScopes, OrganizationScope,
    OrganizationScopeIds, ResourceScopeIds, UpdateOrganizationRole, UpdateOrganizationScope,
};
use kido_proto::organizations::{Grants, RoleFilter};
use kido_proto::resources::Scope;
use kido_proto::{OrganizationRoleId, OrganizationScopeId, ScopeId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams};
use crate::pagination::{Listing, Pagination, created};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organization_roles, create_organization_role))
        .routes(routes!(get_organization_role, update_organization_role, delete_organization_role))
        .routes(routes!(
            list_organization_role_scopes,
            create_organization_role_scope,
            replace_organization_role_scopes
        ))
        .routes(routes!(delete_organization_role_scope))
        .routes(routes!(
            list_organization_role_resource_scopes,
            create_organization_role_resource_scope,
            replace_organization_role_resource_scopes
        ))
        .routes(routes!(delete_organization_role_resource_scope))
        .routes(routes!(list_organization_scopes, create_organization_scope))
        .routes(routes!(get_organization_scope, update_organization_scope, delete_organization_scope))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QParams {
    /// Case-insensitive substring of the id, the name or the description.
    q: Option<String>,
}

// --- roles ---------------------------------------------------------------------------------

/// List organization roles by name, each with the scopes it grants.
#[utoipa::path(get, path = "/api/organization-roles", operation_id = "ListOrganizationRoles", tag = "Organization roles",
    params(QParams, PageParams),
    responses((status = 200, body = [OrganizationRoleWithScopes], description = "Organization roles."), ErrorResponses))]
async fn list_organization_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let filter = RoleFilter { search: listing.query.text("q"), ..Default::default() };
    let (items, total) =
        app.core.organization_roles().list(app.tenant.id(), &filter, Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Create an organization role, optionally with the organization and resource scopes it grants.
#[utoipa::path(post, path = "/api/organization-roles", operation_id = "CreateOrganizationRole", tag = "Organization roles",
    request_body = CreateOrganizationRole,
    responses((status = 201, body = OrganizationRole, description = "The new role."), ErrorResponses))]
async fn create_organization_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateOrganizationRole>,
) -> Result<Response, ApiError> {
    let role = app.core.organization_roles().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(role)).into_response())
}

/// Get an organization role as created (what it grants: its `scopes` and `resource-scopes`).
#[utoipa::path(get, path = "/api/organization-roles/{id}", operation_id = "GetOrganizationRole", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")),
    responses((status = 200, body = OrganizationRole, description = "The role."), ErrorResponses))]
async fn get_organization_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
) -> Result<axum::Json<OrganizationRole>, ApiError> {
    Ok(axum::Json(app.core.organization_roles().get(app.tenant.id(), &id).await?))
}

/// Update an organization role (its type only while nobody holds it).
#[utoipa::path(patch, path = "/api/organization-roles/{id}", operation_id = "UpdateOrganizationRole", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")), request_body = Option<UpdateOrganizationRole>,
    responses((status = 200, body = OrganizationRole, description = "The updated role."), ErrorResponses))]
async fn update_organization_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    ApiJson(body): ApiJson<UpdateOrganizationRole>,
) -> Result<axum::Json<OrganizationRole>, ApiError> {
    Ok(axum::Json(app.core.organization_roles().update(app.tenant.id(), &id, body).await?))
}

/// Delete an organization role; its holders lose what it granted.
#[utoipa::path(delete, path = "/api/organization-roles/{id}", operation_id = "DeleteOrganizationRole", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_organization_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
) -> Result<StatusCode, ApiError> {
    app.core.organization_roles().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the organization scopes a role grants.
#[utoipa::path(get, path = "/api/organization-roles/{id}/scopes", operation_id = "ListOrganizationRoleScopes", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id."), PageParams),
    responses((status = 200, body = [OrganizationScope], description = "Scopes."), ErrorResponses))]
async fn list_organization_role_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) = app.core.organization_roles().scopes(app.tenant.id(), &id, Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Grant organization scopes to a role.
#[utoipa::path(post, path = "/api/organization-roles/{id}/scopes", operation_id = "CreateOrganizationRoleScope", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")), request_body = OrganizationScopeIds,
    responses((status = 201, description = "Granted."), ErrorResponses))]
async fn create_organization_role_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    ApiJson(body): ApiJson<OrganizationScopeIds>,
) -> Result<Response, ApiError> {
    roles(&app).grant(app.tenant.id(), &id, Grants::OrganizationScopes, &body.organization_scope_ids).await?;
    Ok(created())
}

/// Replace the organization scopes a role grants.
#[utoipa::path(put, path = "/api/organization-roles/{id}/scopes", operation_id = "ReplaceOrganizationRoleScopes", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")), request_body = OrganizationScopeIds,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_role_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    ApiJson(body): ApiJson<OrganizationScopeIds>,
) -> Result<StatusCode, ApiError> {
    roles(&app).replace_grants(app.tenant.id(), &id, Grants::OrganizationScopes, &body.organization_scope_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop a role granting an organization scope.
#[utoipa::path(delete, path = "/api/organization-roles/{id}/scopes/{organizationScopeId}", operation_id = "DeleteOrganizationRoleScope", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id."), ("organizationScopeId" = String, Path, description = "Organization scope id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_role_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, scope_id)): ApiPath<(OrganizationRoleId, OrganizationScopeId)>,
) -> Result<StatusCode, ApiError> {
    roles(&app).revoke(app.tenant.id(), &id, Grants::OrganizationScopes, &scope_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the API-resource scopes a role grants.
#[utoipa::path(get, path = "/api/organization-roles/{id}/resource-scopes", operation_id = "ListOrganizationRoleResourceScopes", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id."), PageParams),
    responses((status = 200, body = [Scope], description = "Resource scopes."), ErrorResponses))]
async fn list_organization_role_resource_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) =
        roles(&app).resource_scopes(app.tenant.id(), &id, Some(Pagination::to_page(pagination))).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Grant API-resource scopes to a role.
#[utoipa::path(post, path = "/api/organization-roles/{id}/resource-scopes", operation_id = "CreateOrganizationRoleResourceScope", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")), request_body = ResourceScopeIds,
    responses((status = 201, description = "Granted."), ErrorResponses))]
async fn create_organization_role_resource_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    ApiJson(body): ApiJson<ResourceScopeIds>,
) -> Result<Response, ApiError> {
    roles(&app).grant(app.tenant.id(), &id, Grants::ResourceScopes, &body.scope_ids).await?;
    Ok(created())
}

/// Replace the API-resource scopes a role grants.
#[utoipa::path(put, path = "/api/organization-roles/{id}/resource-scopes", operation_id = "ReplaceOrganizationRoleResourceScopes", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id.")), request_body = ResourceScopeIds,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_role_resource_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationRoleId>,
    ApiJson(body): ApiJson<ResourceScopeIds>,
) -> Result<StatusCode, ApiError> {
    roles(&app).replace_grants(app.tenant.id(), &id, Grants::ResourceScopes, &body.scope_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop a role granting an API-resource scope.
#[utoipa::path(delete, path = "/api/organization-roles/{id}/resource-scopes/{scopeId}", operation_id = "DeleteOrganizationRoleResourceScope", tag = "Organization roles",
    params(("id" = String, Path, description = "Organization role id."), ("scopeId" = String, Path, description = "Scope id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_role_resource_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, scope_id)): ApiPath<(OrganizationRoleId, ScopeId)>,
) -> Result<StatusCode, ApiError> {
    roles(&app).revoke(app.tenant.id(), &id, Grants::ResourceScopes, &scope_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn roles(app: &AppState) -> OrganizationRoles<'_> {
    app.core.organization_roles()
}

// --- scopes --------------------------------------------------------------------------------

/// List organization scopes by name.
#[utoipa::path(get, path = "/api/organization-scopes", operation_id = "ListOrganizationScopes", tag = "Organization scopes",
    params(QParams, PageParams),
    responses((status = 200, body = [OrganizationScope], description = "Organization scopes."), ErrorResponses))]
async fn list_organization_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) = app
        .core
        .organization_scopes()
        .list(app.tenant.id(), listing.query.text("q"), Some(pagination.to_page()))
        .await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Create an organization scope.
#[utoipa::path(post, path = "/api/organization-scopes", operation_id = "CreateOrganizationScope", tag = "Organization scopes",
    request_body = CreateOrganizationScope,
    responses((status = 201, body = OrganizationScope, description = "The new scope."), ErrorResponses))]
async fn create_organization_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateOrganizationScope>,
) -> Result<Response, ApiError> {
    let scope = app.core.organization_scopes().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(scope)).into_response())
}

/// Get an organization scope.
#[utoipa::path(get, path = "/api/organization-scopes/{id}", operation_id = "GetOrganizationScope", tag = "Organization scopes",
    params(("id" = String, Path, description = "Organization scope id.")),
    responses((status = 200, body = OrganizationScope, description = "The scope."), ErrorResponses))]
async fn get_organization_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationScopeId>,
) -> Result<axum::Json<OrganizationScope>, ApiError> {
    Ok(axum::Json(app.core.organization_scopes().get(app.tenant.id(), &id).await?))
}

/// Update an organization scope.
#[utoipa::path(patch, path = "/api/organization-scopes/{id}", operation_id = "UpdateOrganizationScope", tag = "Organization scopes",
    params(("id" = String, Path, description = "Organization scope id.")), request_body = Option<UpdateOrganizationScope>,
    responses((status = 200, body = OrganizationScope, description = "The updated scope."), ErrorResponses))]
async fn update_organization_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationScopeId>,
    ApiJson(body): ApiJson<UpdateOrganizationScope>,
) -> Result<axum::Json<OrganizationScope>, ApiError> {
    Ok(axum::Json(app.core.organization_scopes().update(app.tenant.id(), &id, body).await?))
}

/// Delete an organization scope; roles stop granting it.
#[utoipa::path(delete, path = "/api/organization-scopes/{id}", operation_id = "DeleteOrganizationScope", tag = "Organization scopes",
    params(("id" = String, Path, description = "Organization scope id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_organization_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationScopeId>,
) -> Result<StatusCode, ApiError> {
    app.core.organization_scopes().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
