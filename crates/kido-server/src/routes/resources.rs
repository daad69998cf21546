//! `/api/resources`: API resources and their scopes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::resources::{
    CreateResource, CreateScope, Resource, ResourceWithScopes, Scope, UpdateResource, UpdateResourceIsDefault,
    UpdateScope,
};
use kido_proto::{ResourceId, ScopeId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams, SearchParams};
use crate::pagination::{Listing, Pagination};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_resources, create_resource))
        .routes(routes!(get_resource, update_resource, delete_resource))
        .routes(routes!(update_resource_is_default))
        .routes(routes!(list_resource_scopes, create_resource_scope))
        .routes(routes!(update_resource_scope, delete_resource_scope))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ResourceListParams {
    /// `true` to include each resource's scopes.
    #[param(rename = "includeScopes")]
    include_scopes: Option<bool>,
}

/// List API resources, oldest first. Without `page`/`page_size`, all of them.
#[utoipa::path(get, path = "/api/resources", operation_id = "ListResources", tag = "Resources",
    params(ResourceListParams, PageParams),
    responses((status = 200, body = [ResourceWithScopes], description = "Resources (with `scopes` when `includeScopes`)."), ErrorResponses))]
async fn list_resources(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let include_scopes = listing.query.boolean("includeScopes")?.unwrap_or(false);
    let (items, total) =
        app.core.resources().list(app.tenant.id(), include_scopes, pagination.map(Pagination::to_page)).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Create an API resource. The indicator is an absolute URI, unique in the tenant.
#[utoipa::path(post, path = "/api/resources", operation_id = "CreateResource", tag = "Resources", request_body = CreateResource,
    responses((status = 201, body = ResourceWithScopes, description = "The new resource."), ErrorResponses))]
async fn create_resource(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateResource>,
) -> Result<Response, ApiError> {
    let resource = app.core.resources().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(resource)).into_response())
}

/// Get an API resource.
#[utoipa::path(get, path = "/api/resources/{id}", operation_id = "GetResource", tag = "Resources",
    params(("id" = String, Path, description = "Resource id.")),
    responses((status = 200, body = Resource, description = "The resource."), ErrorResponses))]
async fn get_resource(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
) -> Result<axum::Json<Resource>, ApiError> {
    Ok(axum::Json(app.core.resources().get(app.tenant.id(), &id).await?))
}

/// Update an API resource's name or token lifetime (the indicator is immutable).
#[utoipa::path(patch, path = "/api/resources/{id}", operation_id = "UpdateResource", tag = "Resources",
    params(("id" = String, Path, description = "Resource id.")), request_body = Option<UpdateResource>,
    responses((status = 200, body = Resource, description = "The updated resource."), ErrorResponses))]
async fn update_resource(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(body): ApiJson<UpdateResource>,
) -> Result<axum::Json<Resource>, ApiError> {
    Ok(axum::Json(app.core.resources().update(app.tenant.id(), &id, body).await?))
}

/// Make a resource the tenant's default (used when a token request names none), or not.
#[utoipa::path(patch, path = "/api/resources/{id}/is-default", operation_id = "UpdateResourceIsDefault", tag = "Resources",
    params(("id" = String, Path, description = "Resource id.")), request_body = UpdateResourceIsDefault,
    responses((status = 200, body = Resource, description = "The updated resource."), ErrorResponses))]
async fn update_resource_is_default(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(body): ApiJson<UpdateResourceIsDefault>,
) -> Result<axum::Json<Resource>, ApiError> {
    Ok(axum::Json(app.core.resources().set_default(app.tenant.id(), &id, body.is_default).await?))
}

/// Delete an API resource with its scopes.
#[utoipa::path(delete, path = "/api/resources/{id}", operation_id = "DeleteResource", tag = "Resources",
    params(("id" = String, Path, description = "Resource id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_resource(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
) -> Result<StatusCode, ApiError> {
    app.core.resources().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the scopes of a resource.
#[utoipa::path(get, path = "/api/resources/{resourceId}/scopes", operation_id = "ListResourceScopes", tag = "Resources",
    params(("resourceId" = String, Path, description = "Resource id."), PageParams, SearchParams),
    responses((status = 200, body = [Scope], description = "Scopes, oldest first."), ErrorResponses))]
async fn list_resource_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let search = listing.query.search();
    let (items, total) =
        app.core.resources().scopes(app.tenant.id(), &id, search.as_deref(), Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Create a scope (a name without spaces, unique in the resource).
#[utoipa::path(post, path = "/api/resources/{resourceId}/scopes", operation_id = "CreateResourceScope", tag = "Resources",
    params(("resourceId" = String, Path, description = "Resource id.")), request_body = CreateScope,
    responses((status = 201, body = Scope, description = "The new scope."), ErrorResponses))]
async fn create_resource_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(body): ApiJson<CreateScope>,
) -> Result<Response, ApiError> {
    let scope = app.core.resources().create_scope(app.tenant.id(), &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(scope)).into_response())
}

/// Update a scope.
#[utoipa::path(patch, path = "/api/resources/{resourceId}/scopes/{scopeId}", operation_id = "UpdateResourceScope", tag = "Resources",
    params(("resourceId" = String, Path, description = "Resource id."), ("scopeId" = String, Path, description = "Scope id.")),
    request_body = Option<UpdateScope>,
    responses((status = 200, body = Scope, description = "The updated scope."), ErrorResponses))]
async fn update_resource_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, scope_id)): ApiPath<(ResourceId, ScopeId)>,
    ApiJson(body): ApiJson<UpdateScope>,
) -> Result<axum::Json<Scope>, ApiError> {
    Ok(axum::Json(app.core.resources().update_scope(app.tenant.id(), &id, &scope_id, body).await?))
}

/// Delete a scope; roles holding it lose it.
#[utoipa::path(delete, path = "/api/resources/{resourceId}/scopes/{scopeId}", operation_id = "DeleteResourceScope", tag = "Resources",
    params(("resourceId" = String, Path, description = "Resource id."), ("scopeId" = String, Path, description = "Scope id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_resource_scope(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, scope_id)): ApiPath<(ResourceId, ScopeId)>,
) -> Result<StatusCode, ApiError> {
    app.core.resources().delete_scope(app.tenant.id(), &id, &scope_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
