//! `/api/roles`: global roles, their scopes and the applications holding them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::applications::Application;
use kido_proto::resources::Scope;
use kido_proto::roles::RoleFilter;
use kido_proto::roles::{
    ApplicationIds, CreateRole, Role, RoleType, RoleWithStats, ScopeIds, ScopeWithResource, UpdateRole,
};
use kido_proto::{ApplicationId, RoleId, ScopeId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams, SearchParams};
use crate::pagination::{Listing, Pagination, created};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(list_role_scopes, create_role_scope))
        .routes(routes!(delete_role_scope))
        .routes(routes!(list_role_applications, create_role_application))
        .routes(routes!(delete_role_application))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RoleListParams {
    /// Only roles of this type.
    #[param(rename = "type")]
    role_type: Option<RoleType>,
    /// Leave out roles held by this application.
    #[param(rename = "excludeApplicationId")]
    exclude_application_id: Option<String>,
    /// Leave out roles held by this user.
    #[param(rename = "excludeUserId")]
    exclude_user_id: Option<String>,
}

/// List roles, newest first, with how many applications hold each.
#[utoipa::path(get, path = "/api/roles", operation_id = "ListRoles", tag = "Roles",
    params(RoleListParams, PageParams, SearchParams),
    responses((status = 200, body = [RoleWithStats], description = "Roles."), ErrorResponses))]
async fn list_roles(State(app): State<AppState>, _: ManagementScope, listing: Listing) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let q = &listing.query;
    let role_type = match q.get("type") {
        None => None,
        Some(t) => Some(RoleType::parse(t).ok_or_else(|| {
            ApiError::invalid_input("query", format!("`type` must be User or MachineToMachine, got `{t}`"))
        })?),
    };
    let filter = RoleFilter {
        role_type,
        search: q.search(),
        application_id: None,
        exclude_application_id: q.text("excludeApplicationId"),
        exclude_user_id: q.text("excludeUserId"),
        ..Default::default()
    };
    let (items, total) = app.core.roles().list(app.tenant.id(), &filter, Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Create a role, optionally with scopes.
#[utoipa::path(post, path = "/api/roles", operation_id = "CreateRole", tag = "Roles", request_body = CreateRole,
    responses((status = 200, body = Role, description = "The new role."), ErrorResponses))]
async fn create_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateRole>,
) -> Result<axum::Json<Role>, ApiError> {
    Ok(axum::Json(app.core.roles().create(app.tenant.id(), body).await?))
}

/// Get a role.
#[utoipa::path(get, path = "/api/roles/{id}", operation_id = "GetRole", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")),
    responses((status = 200, body = Role, description = "The role."), ErrorResponses))]
async fn get_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
) -> Result<axum::Json<Role>, ApiError> {
    Ok(axum::Json(app.core.roles().get(app.tenant.id(), &id).await?))
}

/// Update a role's name, description or default flag.
#[utoipa::path(patch, path = "/api/roles/{id}", operation_id = "UpdateRole", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")), request_body = Option<UpdateRole>,
    responses((status = 200, body = Role, description = "The updated role."), ErrorResponses))]
async fn update_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<UpdateRole>,
) -> Result<axum::Json<Role>, ApiError> {
    Ok(axum::Json(app.core.roles().update(app.tenant.id(), &id, body).await?))
}

/// Delete a role; its holders lose its scopes.
#[utoipa::path(delete, path = "/api/roles/{id}", operation_id = "DeleteRole", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
) -> Result<StatusCode, ApiError> {
    app.core.roles().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the scopes of a role, each with its resource. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/roles/{id}/scopes", operation_id = "ListRoleScopes", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), PageParams),
    responses((status = 200, body = [ScopeWithResource], description = "Scopes of the role."), ErrorResponses))]
async fn list_role_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (pairs, total) = app.core.roles().scopes(app.tenant.id(), &id, pagination.map(Pagination::to_page)).await?;
    let items: Vec<ScopeWithResource> =
        pairs.into_iter().map(|(scope, resource)| ScopeWithResource { scope, resource }).collect();
    Ok(listing.respond(pagination, items, total))
}

/// Add scopes to a role; answers with all of the role's scopes.
#[utoipa::path(post, path = "/api/roles/{id}/scopes", operation_id = "CreateRoleScope", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")), request_body = ScopeIds,
    responses((status = 201, body = [Scope], description = "All scopes of the role."), ErrorResponses))]
async fn create_role_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<ScopeIds>,
) -> Result<Response, ApiError> {
    let scopes = app.core.roles().add_scopes(app.tenant.id(), &id, &body.scope_ids).await?;
    Ok((StatusCode::CREATED, axum::Json(scopes)).into_response())
}

/// Remove a scope from a role.
#[utoipa::path(delete, path = "/api/roles/{id}/scopes/{scopeId}", operation_id = "DeleteRoleScope", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), ("scopeId" = String, Path, description = "Scope id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_role_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, scope_id)): ApiPath<(RoleId, ScopeId)>,
) -> Result<StatusCode, ApiError> {
    app.core.roles().remove_scope(app.tenant.id(), &id, &scope_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the applications holding a role.
#[utoipa::path(get, path = "/api/roles/{id}/applications", operation_id = "ListRoleApplications", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), PageParams, SearchParams),
    responses((status = 200, body = [Application], description = "Applications holding the role."), ErrorResponses))]
async fn list_role_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) =
        app.core.roles().applications(app.tenant.id(), &id, listing.query.search(), Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Give a machine-to-machine role to applications.
#[utoipa::path(post, path = "/api/roles/{id}/applications", operation_id = "CreateRoleApplication", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")), request_body = ApplicationIds,
    responses((status = 201, description = "Assigned."), ErrorResponses))]
async fn create_role_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<ApplicationIds>,
) -> Result<Response, ApiError> {
    app.core.roles().assign_to_applications(app.tenant.id(), &id, &body.application_ids).await?;
    Ok(created())
}

/// Take a role away from an application.
#[utoipa::path(delete, path = "/api/roles/{id}/applications/{applicationId}", operation_id = "DeleteRoleApplication", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), ("applicationId" = String, Path, description = "Application id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_role_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id)): ApiPath<(RoleId, ApplicationId)>,
) -> Result<StatusCode, ApiError> {
    app.core.roles().remove_from_application(app.tenant.id(), &app_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
