//! `/api/organizations`: organizations, their members (users and machine-to-machine
//! applications) and the organization roles members hold. The user and application
//! routes are thin twins over the same domain calls (`MemberKind`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::OrganizationId;
use kido_proto::organizations::{
    ApplicationWithOrganizationRoles, ApplicationsRolesBody, CreateOrganization, Organization,
    OrganizationApplicationIds, OrganizationRole, OrganizationRoleRefs, OrganizationScope, OrganizationUserIds,
    OrganizationWithFeatured, OrganizationWithRoles, ReplaceOrganizationApplications, ReplaceOrganizationUsers,
    UpdateOrganization, UserWithOrganizationRoles, UsersRolesBody,
};
use kido_proto::organizations::{MemberKind, OrganizationFilter};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams};
use crate::pagination::{Listing, Pagination, created};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, update_organization, delete_organization))
        .routes(routes!(list_organization_users, add_organization_users, replace_organization_users))
        .routes(routes!(delete_organization_user))
        .routes(routes!(assign_organization_roles_to_users))
        .routes(routes!(
            list_organization_user_roles,
            assign_organization_roles_to_user,
            replace_organization_user_roles
        ))
        .routes(routes!(delete_organization_user_role))
        .routes(routes!(list_organization_user_scopes))
        .routes(routes!(
            list_organization_applications,
            add_organization_applications,
            replace_organization_applications
        ))
        .routes(routes!(delete_organization_application))
        .routes(routes!(assign_organization_roles_to_applications))
        .routes(routes!(
            list_organization_application_roles,
            assign_organization_roles_to_application,
            replace_organization_application_roles
        ))
        .routes(routes!(delete_organization_application_role))
        .routes(routes!(list_user_organizations))
        .routes(routes!(list_application_organizations))
}

/// `q`: a case-insensitive substring to look for.
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QParams {
    /// Case-insensitive substring of the id, the name (and more, per list).
    q: Option<String>,
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FeaturedParams {
    /// `true` adds `usersCount` and up to three `featuredUsers` to each organization.
    #[param(rename = "showFeatured")]
    show_featured: Option<bool>,
}

/// List organizations, newest first; `q` looks in id, name and description.
#[utoipa::path(get, path = "/api/organizations", operation_id = "ListOrganizations", tag = "Organizations",
    params(QParams, FeaturedParams, PageParams),
    responses((status = 200, body = [OrganizationWithFeatured], description = "Organizations."), ErrorResponses))]
async fn list_organizations(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    // As Logto: without `page`/`page_size` the whole list.
    let pagination = listing.optional_pagination()?;
    let featured = listing.query.boolean("showFeatured")?.unwrap_or(false);
    let filter = OrganizationFilter { search: listing.query.text("q"), ..Default::default() };
    let page = pagination.map(|p| p.to_page());
    let (items, total) = app.core.organizations().list(app.tenant.id(), &filter, featured, page).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Create an organization.
#[utoipa::path(post, path = "/api/organizations", operation_id = "CreateOrganization", tag = "Organizations",
    request_body = CreateOrganization,
    responses((status = 201, body = Organization, description = "The new organization."), ErrorResponses))]
async fn create_organization(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateOrganization>,
) -> Result<Response, ApiError> {
    let org = app.core.organizations().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(org)).into_response())
}

/// Get an organization.
#[utoipa::path(get, path = "/api/organizations/{id}", operation_id = "GetOrganization", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")),
    responses((status = 200, body = Organization, description = "The organization."), ErrorResponses))]
async fn get_organization(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
) -> Result<axum::Json<Organization>, ApiError> {
    Ok(axum::Json(app.core.organizations().get(app.tenant.id(), &id).await?))
}

/// Update an organization; `customData`, `color` and `branding` are replaced as a whole.
#[utoipa::path(patch, path = "/api/organizations/{id}", operation_id = "UpdateOrganization", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = Option<UpdateOrganization>,
    responses((status = 200, body = Organization, description = "The updated organization."), ErrorResponses))]
async fn update_organization(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<UpdateOrganization>,
) -> Result<axum::Json<Organization>, ApiError> {
    Ok(axum::Json(app.core.organizations().update(app.tenant.id(), &id, body).await?))
}

/// Delete an organization with its memberships and invitations.
#[utoipa::path(delete, path = "/api/organizations/{id}", operation_id = "DeleteOrganization", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_organization(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- users -------------------------------------------------------------------------------

/// List the organization's users with their organization roles; `q` looks in id, email,
/// phone, username and name.
#[utoipa::path(get, path = "/api/organizations/{id}/users", operation_id = "ListOrganizationUsers", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), QParams, PageParams),
    responses((status = 200, body = [UserWithOrganizationRoles], description = "Members."), ErrorResponses))]
async fn list_organization_users(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) = app
        .core
        .organizations()
        .users(app.tenant.id(), &id, listing.query.text("q"), Some(pagination.to_page()))
        .await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Add users to the organization (members already in are left as they are).
#[utoipa::path(post, path = "/api/organizations/{id}/users", operation_id = "AddOrganizationUsers", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = OrganizationUserIds,
    responses((status = 201, body = OrganizationUserIds, description = "Added: the ids given."), ErrorResponses))]
async fn add_organization_users(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<OrganizationUserIds>,
) -> Result<Response, ApiError> {
    app.core.organizations().add_members(app.tenant.id(), &id, MemberKind::User, &body.user_ids).await?;
    // Logto echoes the request.
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Replace the organization's users (those removed lose their organization roles).
#[utoipa::path(put, path = "/api/organizations/{id}/users", operation_id = "ReplaceOrganizationUsers", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = ReplaceOrganizationUsers,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_users(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<ReplaceOrganizationUsers>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().replace_members(app.tenant.id(), &id, MemberKind::User, &body.user_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from the organization.
#[utoipa::path(delete, path = "/api/organizations/{id}/users/{userId}", operation_id = "DeleteOrganizationUser", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(OrganizationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_member(app.tenant.id(), &id, MemberKind::User, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give every listed organization role to every listed member.
#[utoipa::path(post, path = "/api/organizations/{id}/users/roles", operation_id = "AssignOrganizationRolesToUsers", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = UsersRolesBody,
    responses((status = 201, description = "Assigned."), ErrorResponses))]
async fn assign_organization_roles_to_users(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<UsersRolesBody>,
) -> Result<Response, ApiError> {
    app.core
        .organizations()
        .add_roles_to_members(app.tenant.id(), &id, MemberKind::User, &body.user_ids, &body.organization_role_ids)
        .await?;
    Ok(created())
}

/// List the organization roles a member holds. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/organizations/{id}/users/{userId}/roles", operation_id = "ListOrganizationUserRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id."), PageParams),
    responses((status = 200, body = [OrganizationRole], description = "Roles of the member."), ErrorResponses))]
async fn list_organization_user_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(OrganizationId, String)>,
    listing: Listing,
) -> Result<Response, ApiError> {
    member_roles(app, listing, id, MemberKind::User, user_id).await
}

/// Give organization roles (by id and/or name) to a member; answers with the ids given.
#[utoipa::path(post, path = "/api/organizations/{id}/users/{userId}/roles", operation_id = "AssignOrganizationRolesToUser", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id.")),
    request_body = OrganizationRoleRefs,
    responses((status = 201, description = "Assigned: `{organizationRoleIds}`."), ErrorResponses))]
async fn assign_organization_roles_to_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(OrganizationId, String)>,
    ApiJson(body): ApiJson<OrganizationRoleRefs>,
) -> Result<Response, ApiError> {
    add_member_roles(app, id, MemberKind::User, user_id, body).await
}

/// Replace the organization roles of a member (an empty list removes all).
#[utoipa::path(put, path = "/api/organizations/{id}/users/{userId}/roles", operation_id = "ReplaceOrganizationUserRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id.")),
    request_body = OrganizationRoleRefs,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_user_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(OrganizationId, String)>,
    ApiJson(body): ApiJson<OrganizationRoleRefs>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().replace_member_roles(app.tenant.id(), &id, MemberKind::User, &user_id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an organization role away from a member.
#[utoipa::path(delete, path = "/api/organizations/{id}/users/{userId}/roles/{organizationRoleId}", operation_id = "DeleteOrganizationUserRole", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id."),
        ("organizationRoleId" = String, Path, description = "Organization role id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_user_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id, role_id)): ApiPath<(OrganizationId, String, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_member_role(app.tenant.id(), &id, MemberKind::User, &user_id, &role_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization scopes a member's roles grant.
#[utoipa::path(get, path = "/api/organizations/{id}/users/{userId}/scopes", operation_id = "ListOrganizationUserScopes", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = [OrganizationScope], description = "Scopes."), ErrorResponses))]
async fn list_organization_user_scopes(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(OrganizationId, String)>,
) -> Result<axum::Json<Vec<OrganizationScope>>, ApiError> {
    Ok(axum::Json(app.core.organizations().user_scopes(app.tenant.id(), &id, &user_id).await?))
}

// --- applications --------------------------------------------------------------------------

/// List the organization's machine-to-machine applications with their organization roles.
#[utoipa::path(get, path = "/api/organizations/{id}/applications", operation_id = "ListOrganizationApplications", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), QParams, PageParams),
    responses((status = 200, body = [ApplicationWithOrganizationRoles], description = "Applications."), ErrorResponses))]
async fn list_organization_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) = app
        .core
        .organizations()
        .applications(app.tenant.id(), &id, listing.query.text("q"), Some(pagination.to_page()))
        .await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Add machine-to-machine applications to the organization.
#[utoipa::path(post, path = "/api/organizations/{id}/applications", operation_id = "AddOrganizationApplications", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = OrganizationApplicationIds,
    responses((status = 201, description = "Added."), ErrorResponses))]
async fn add_organization_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<OrganizationApplicationIds>,
) -> Result<Response, ApiError> {
    app.core.organizations().add_members(app.tenant.id(), &id, MemberKind::Application, &body.application_ids).await?;
    Ok(created())
}

/// Replace the organization's applications.
#[utoipa::path(put, path = "/api/organizations/{id}/applications", operation_id = "ReplaceOrganizationApplications", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = ReplaceOrganizationApplications,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<ReplaceOrganizationApplications>,
) -> Result<StatusCode, ApiError> {
    app.core
        .organizations()
        .replace_members(app.tenant.id(), &id, MemberKind::Application, &body.application_ids)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an application from the organization.
#[utoipa::path(delete, path = "/api/organizations/{id}/applications/{applicationId}", operation_id = "DeleteOrganizationApplication", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("applicationId" = String, Path, description = "Application id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id)): ApiPath<(OrganizationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_member(app.tenant.id(), &id, MemberKind::Application, &app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give every listed organization role to every listed application.
#[utoipa::path(post, path = "/api/organizations/{id}/applications/roles", operation_id = "AssignOrganizationRolesToApplications", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = ApplicationsRolesBody,
    responses((status = 201, description = "Assigned."), ErrorResponses))]
async fn assign_organization_roles_to_applications(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<ApplicationsRolesBody>,
) -> Result<Response, ApiError> {
    app.core
        .organizations()
        .add_roles_to_members(
            app.tenant.id(),
            &id,
            MemberKind::Application,
            &body.application_ids,
            &body.organization_role_ids,
        )
        .await?;
    Ok(created())
}

/// List the organization roles an application holds. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/organizations/{id}/applications/{applicationId}/roles", operation_id = "ListOrganizationApplicationRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("applicationId" = String, Path, description = "Application id."), PageParams),
    responses((status = 200, body = [OrganizationRole], description = "Roles of the application."), ErrorResponses))]
async fn list_organization_application_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id)): ApiPath<(OrganizationId, String)>,
    listing: Listing,
) -> Result<Response, ApiError> {
    member_roles(app, listing, id, MemberKind::Application, app_id).await
}

/// Give organization roles to an application; answers with the ids given.
#[utoipa::path(post, path = "/api/organizations/{id}/applications/{applicationId}/roles", operation_id = "AssignOrganizationRolesToApplication", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("applicationId" = String, Path, description = "Application id.")),
    request_body = OrganizationRoleRefs,
    responses((status = 201, description = "Assigned: `{organizationRoleIds}`."), ErrorResponses))]
async fn assign_organization_roles_to_application(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id)): ApiPath<(OrganizationId, String)>,
    ApiJson(body): ApiJson<OrganizationRoleRefs>,
) -> Result<Response, ApiError> {
    add_member_roles(app, id, MemberKind::Application, app_id, body).await
}

/// Replace the organization roles of an application (at least one).
#[utoipa::path(put, path = "/api/organizations/{id}/applications/{applicationId}/roles", operation_id = "ReplaceOrganizationApplicationRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("applicationId" = String, Path, description = "Application id.")),
    request_body = OrganizationRoleRefs,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_application_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id)): ApiPath<(OrganizationId, String)>,
    ApiJson(body): ApiJson<OrganizationRoleRefs>,
) -> Result<StatusCode, ApiError> {
    app.core
        .organizations()
        .replace_member_roles(app.tenant.id(), &id, MemberKind::Application, &app_id, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an organization role away from an application.
#[utoipa::path(delete, path = "/api/organizations/{id}/applications/{applicationId}/roles/{organizationRoleId}", operation_id = "DeleteOrganizationApplicationRole", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("applicationId" = String, Path, description = "Application id."),
        ("organizationRoleId" = String, Path, description = "Organization role id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_application_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, app_id, role_id)): ApiPath<(OrganizationId, String, String)>,
) -> Result<StatusCode, ApiError> {
    app.core
        .organizations()
        .remove_member_role(app.tenant.id(), &id, MemberKind::Application, &app_id, &role_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organizations a user belongs to, each with the user's roles in it.
#[utoipa::path(get, path = "/api/users/{userId}/organizations", operation_id = "ListUserOrganizations", tag = "Users",
    params(("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = [OrganizationWithRoles], description = "Organizations of the user."), ErrorResponses))]
async fn list_user_organizations(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user_id): ApiPath<String>,
) -> Result<axum::Json<Vec<OrganizationWithRoles>>, ApiError> {
    let (items, _) =
        app.core.organizations().organizations_of(app.tenant.id(), MemberKind::User, &user_id, None).await?;
    Ok(axum::Json(items))
}

/// The organizations an application belongs to, each with its roles in it. Without
/// `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/applications/{id}/organizations", operation_id = "ListApplicationOrganizations", tag = "Applications",
    params(("id" = String, Path, description = "Application id."), PageParams),
    responses((status = 200, body = [OrganizationWithRoles], description = "Organizations of the application."), ErrorResponses))]
async fn list_application_organizations(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(app_id): ApiPath<String>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (items, total) = app
        .core
        .organizations()
        .organizations_of(app.tenant.id(), MemberKind::Application, &app_id, pagination.map(Pagination::to_page))
        .await?;
    Ok(listing.respond(pagination, items, total))
}

// --- shared by the user and application twins ---------------------------------------------

async fn member_roles(
    app: AppState,
    listing: Listing,
    organization_id: OrganizationId,
    kind: MemberKind,
    member_id: String,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (items, total) = app
        .core
        .organizations()
        .member_roles(app.tenant.id(), &organization_id, kind, &member_id, pagination.map(Pagination::to_page))
        .await?;
    Ok(listing.respond(pagination, items, total))
}

async fn add_member_roles(
    app: AppState,
    organization_id: OrganizationId,
    kind: MemberKind,
    member_id: String,
    refs: OrganizationRoleRefs,
) -> Result<Response, ApiError> {
    let ids =
        app.core.organizations().add_member_roles(app.tenant.id(), &organization_id, kind, &member_id, &refs).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"organizationRoleIds": ids}))).into_response())
}
