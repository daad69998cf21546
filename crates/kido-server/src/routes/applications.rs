//! `/api/applications`: applications, their secrets and their roles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::{
    Application, ApplicationSecret, ApplicationType, ApplicationWithAdmin, CreateApplication, CreateApplicationSecret,
    RoleIds, UpdateApplication, UpdateApplicationSecret,
};
use kido_proto::roles::Role;
use kido_proto::roles::RoleFilter;
use kido_proto::{ApplicationId, RoleId};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope, QueryPairs};
use crate::openapi::{ErrorResponses, PageParams, SearchParams};
use crate::pagination::{Listing, Pagination};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_applications, create_application))
        .routes(routes!(get_application, update_application, delete_application))
        .routes(routes!(list_application_secrets, create_application_secret))
        .routes(routes!(update_application_secret, delete_application_secret))
        .routes(routes!(list_application_roles, assign_application_roles, replace_application_roles))
        .routes(routes!(delete_application_role))
}

/// Filters of `GET /api/applications` (documentation).
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ApplicationListParams {
    /// Only these application types (repeat the parameter for several).
    types: Option<Vec<ApplicationType>>,
    /// Leave out applications that hold this role.
    #[param(rename = "excludeRoleId")]
    exclude_role_id: Option<String>,
    /// Leave out applications that are members of this organization.
    #[param(rename = "excludeOrganizationId")]
    exclude_organization_id: Option<String>,
    /// `true` or `false`: only third-party, or only first-party applications.
    #[param(rename = "isThirdParty")]
    is_third_party: Option<bool>,
}

fn application_filter(q: &QueryPairs) -> Result<ApplicationFilter, ApiError> {
    let types = q
        .all("types")
        .flat_map(|v| v.split(','))
        .map(|v| {
            ApplicationType::parse(v)
                .ok_or_else(|| ApiError::invalid_input("query", format!("`types`: unknown application type `{v}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let third_party = q.boolean("isThirdParty")?;
    Ok(ApplicationFilter {
        types,
        role_id: None,
        exclude_role_id: q.text("excludeRoleId"),
        exclude_organization_id: q.text("excludeOrganizationId"),
        search: q.search(),
        is_third_party: third_party,
        ..Default::default()
    })
}

/// List applications, newest first. Without `page`/`page_size`, all of them.
#[utoipa::path(get, path = "/api/applications", operation_id = "ListApplications", tag = "Applications",
    params(ApplicationListParams, PageParams, SearchParams),
    responses((status = 200, body = [Application], description = "Applications."), ErrorResponses))]
async fn list_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let filter = application_filter(&listing.query)?;
    let (items, total) =
        app.core.applications().list(app.tenant.id(), &filter, pagination.map(Pagination::to_page)).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Create an application. Traditional and machine-to-machine applications get a
/// "Default secret" (see the secrets endpoints); the response never contains a secret.
#[utoipa::path(post, path = "/api/applications", operation_id = "CreateApplication", tag = "Applications",
    request_body = CreateApplication,
    responses((status = 200, body = Application, description = "The new application."), ErrorResponses))]
async fn create_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateApplication>,
) -> Result<axum::Json<Application>, ApiError> {
    Ok(axum::Json(app.core.applications().create(app.tenant.id(), body).await?))
}

/// Get an application; `isAdmin` says whether it holds the Management API role.
#[utoipa::path(get, path = "/api/applications/{id}", operation_id = "GetApplication", tag = "Applications",
    params(("id" = String, Path, description = "Application id.")),
    responses((status = 200, body = ApplicationWithAdmin, description = "The application."), ErrorResponses))]
async fn get_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
) -> Result<axum::Json<ApplicationWithAdmin>, ApiError> {
    Ok(axum::Json(app.core.applications().get_with_admin(app.tenant.id(), &id).await?))
}

/// Update an application. Objects given replace the stored ones; `isAdmin` gives or takes
/// the Management API role (machine-to-machine applications only).
#[utoipa::path(patch, path = "/api/applications/{id}", operation_id = "UpdateApplication", tag = "Applications",
    params(("id" = String, Path, description = "Application id.")), request_body = Option<UpdateApplication>,
    responses((status = 200, body = Application, description = "The updated application."), ErrorResponses))]
async fn update_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
    ApiJson(body): ApiJson<UpdateApplication>,
) -> Result<axum::Json<Application>, ApiError> {
    Ok(axum::Json(app.core.applications().update(app.tenant.id(), &id, body).await?))
}

/// Delete an application and everything that belongs to it.
#[utoipa::path(delete, path = "/api/applications/{id}", operation_id = "DeleteApplication", tag = "Applications",
    params(("id" = String, Path, description = "Application id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
) -> Result<StatusCode, ApiError> {
    app.core.applications().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the secrets of an application, values included.
#[utoipa::path(get, path = "/api/applications/{id}/secrets", operation_id = "ListApplicationSecrets", tag = "Applications",
    params(("id" = String, Path, description = "Application id.")),
    responses((status = 200, body = [ApplicationSecret], description = "Secrets, oldest first."), ErrorResponses))]
async fn list_application_secrets(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
) -> Result<axum::Json<Vec<ApplicationSecret>>, ApiError> {
    Ok(axum::Json(app.core.applications().secrets(app.tenant.id(), &id).await?))
}

/// Add a secret to a confidential application.
#[utoipa::path(post, path = "/api/applications/{id}/secrets", operation_id = "CreateApplicationSecret", tag = "Applications",
    params(("id" = String, Path, description = "Application id.")), request_body = CreateApplicationSecret,
    responses((status = 201, body = ApplicationSecret, description = "The new secret."), ErrorResponses))]
async fn create_application_secret(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
    ApiJson(body): ApiJson<CreateApplicationSecret>,
) -> Result<Response, ApiError> {
    let secret = app.core.applications().add_secret(app.tenant.id(), &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(secret)).into_response())
}

/// Rename a secret.
#[utoipa::path(patch, path = "/api/applications/{id}/secrets/{name}", operation_id = "UpdateApplicationSecret", tag = "Applications",
    params(("id" = String, Path, description = "Application id."), ("name" = String, Path, description = "Secret name.")),
    request_body = UpdateApplicationSecret,
    responses((status = 200, body = ApplicationSecret, description = "The renamed secret."), ErrorResponses))]
async fn update_application_secret(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, name)): ApiPath<(ApplicationId, String)>,
    ApiJson(body): ApiJson<UpdateApplicationSecret>,
) -> Result<axum::Json<ApplicationSecret>, ApiError> {
    Ok(axum::Json(app.core.applications().rename_secret(app.tenant.id(), &id, &name, &body.name).await?))
}

/// Delete a secret; it stops working at once on this node (within seconds on others).
#[utoipa::path(delete, path = "/api/applications/{id}/secrets/{name}", operation_id = "DeleteApplicationSecret", tag = "Applications",
    params(("id" = String, Path, description = "Application id."), ("name" = String, Path, description = "Secret name.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_application_secret(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, name)): ApiPath<(ApplicationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.applications().delete_secret(app.tenant.id(), &id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the roles of a machine-to-machine application.
#[utoipa::path(get, path = "/api/applications/{applicationId}/roles", operation_id = "ListApplicationRoles", tag = "Applications",
    params(("applicationId" = String, Path, description = "Application id."), PageParams, SearchParams),
    responses((status = 200, body = [Role], description = "Roles of the application."), ErrorResponses))]
async fn list_application_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let filter = RoleFilter { search: listing.query.search(), ..Default::default() };
    let (roles, total) =
        app.core.roles().of_application(app.tenant.id(), &id, filter, Some(pagination.to_page())).await?;
    Ok(listing.respond(Some(pagination), roles, total))
}

/// Give machine-to-machine roles to an application.
#[utoipa::path(post, path = "/api/applications/{applicationId}/roles", operation_id = "AssignApplicationRoles", tag = "Applications",
    params(("applicationId" = String, Path, description = "Application id.")), request_body = RoleIds,
    responses((status = 201, description = "Assigned; `roleIds` as requested and `addedRoleIds` as added.", body = Object), ErrorResponses))]
async fn assign_application_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
    ApiJson(body): ApiJson<RoleIds>,
) -> Result<Response, ApiError> {
    let added = app.core.roles().assign_to_application(app.tenant.id(), &id, &body.role_ids).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"roleIds": body.role_ids, "addedRoleIds": added}))).into_response())
}

/// Replace the roles of an application.
#[utoipa::path(put, path = "/api/applications/{applicationId}/roles", operation_id = "ReplaceApplicationRoles", tag = "Applications",
    params(("applicationId" = String, Path, description = "Application id.")), request_body = RoleIds,
    responses((status = 200, description = "Replaced."), ErrorResponses))]
async fn replace_application_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<ApplicationId>,
    ApiJson(body): ApiJson<RoleIds>,
) -> Result<StatusCode, ApiError> {
    app.core.roles().replace_for_application(app.tenant.id(), &id, &body.role_ids).await?;
    Ok(StatusCode::OK)
}

/// Take a role away from an application.
#[utoipa::path(delete, path = "/api/applications/{applicationId}/roles/{roleId}", operation_id = "DeleteApplicationRole", tag = "Applications",
    params(("applicationId" = String, Path, description = "Application id."), ("roleId" = String, Path, description = "Role id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_application_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, role_id)): ApiPath<(ApplicationId, RoleId)>,
) -> Result<StatusCode, ApiError> {
    app.core.roles().remove_from_application(app.tenant.id(), &id, &role_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
