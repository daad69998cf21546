//! `/api/users`: users, their data, password, suspension and roles; and `/api/roles/{id}/users`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::applications::RoleIds;
use kido_proto::roles::Role;
use kido_proto::users::{
    CreateUser, CustomDataBody, HasPassword, PasswordBody, ProfileBody, SuspensionBody, UpdateUser, User, UserIds,
    UserProfile, UserWithPasswordHash,
};
use kido_proto::{RoleId, UserId};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope, QueryPairs};
use crate::openapi::{ErrorResponses, PageParams, SearchParams};
use crate::pagination::{Listing, created};
use crate::search::user_search;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(list_user_custom_data, update_user_custom_data))
        .routes(routes!(update_user_profile))
        .routes(routes!(update_user_password))
        .routes(routes!(verify_user_password))
        .routes(routes!(get_user_has_password))
        .routes(routes!(update_user_is_suspended))
        .routes(routes!(list_user_roles, assign_user_roles, replace_user_roles))
        .routes(routes!(delete_user_role))
        .routes(routes!(list_role_users, create_role_user))
        .routes(routes!(delete_role_user))
}

/// User search (documentation; see Logto's search parameters).
#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UserSearchParams {
    /// `exact`, `like` (default; `%` and `_` wildcards), `similar_to` (with `isCaseSensitive=true`)
    /// or `posix`. `mode.<field>` sets it per field; several values for one field need `exact`.
    mode: Option<String>,
    /// How several `search` parameters combine: `or` (default) or `and`. Alias `jointMode`.
    joint: Option<String>,
    /// `true` to match case exactly.
    #[param(rename = "isCaseSensitive")]
    is_case_sensitive: Option<bool>,
    /// Leave out users holding this role.
    #[param(rename = "excludeRoleId")]
    exclude_role_id: Option<String>,
    /// Leave out members of this organization.
    #[param(rename = "excludeOrganizationId")]
    exclude_organization_id: Option<String>,
}

/// List users, newest first. `search` looks in id, primaryEmail, primaryPhone, username and
/// name; `search.<field>` in one field. Exact and prefix searches use indexes.
#[utoipa::path(get, path = "/api/users", operation_id = "ListUsers", tag = "Users",
    params(UserSearchParams, PageParams, SearchParams),
    responses((status = 200, body = [User], description = "Users."), ErrorResponses))]
async fn list_users(State(app): State<AppState>, _: ManagementScope, listing: Listing) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let search = user_search(&listing.query)?;
    let (users, total) = app.core.users().list(app.tenant.id(), &search, pagination.to_page()).await?;
    Ok(listing.respond(Some(pagination), users, total))
}

/// Create a user, with a password or an imported `passwordDigest` + `passwordAlgorithm`.
/// Default roles are given at once.
#[utoipa::path(post, path = "/api/users", operation_id = "CreateUser", tag = "Users", request_body = Option<CreateUser>,
    responses((status = 200, body = User, description = "The new user."), ErrorResponses))]
async fn create_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(app.core.users().create(app.tenant.id(), body).await?))
}

/// Get a user; with `includePasswordHash=true` also its `passwordDigest` and
/// `passwordAlgorithm`.
#[utoipa::path(get, path = "/api/users/{userId}", operation_id = "GetUser", tag = "Users",
    params(("userId" = String, Path, description = "User id."),
        ("includePasswordHash" = Option<bool>, Query, description = "Add the stored password hash and its algorithm.")),
    responses((status = 200, body = UserWithPasswordHash, description = "The user (the hash fields only when asked for)."), ErrorResponses))]
async fn get_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let users = app.core.users();
    Ok(if query.boolean("includePasswordHash")?.unwrap_or(false) {
        axum::Json(users.get_with_password_hash(app.tenant.id(), &id).await?).into_response()
    } else {
        axum::Json(users.get(app.tenant.id(), &id).await?).into_response()
    })
}

/// Update a user's identifiers, name, avatar, custom data or profile (`null` clears).
#[utoipa::path(patch, path = "/api/users/{userId}", operation_id = "UpdateUser", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = Option<UpdateUser>,
    responses((status = 200, body = User, description = "The updated user."), ErrorResponses))]
async fn update_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(app.core.users().update(app.tenant.id(), &id, body).await?))
}

/// Delete a user.
#[utoipa::path(delete, path = "/api/users/{userId}", operation_id = "DeleteUser", tag = "Users",
    params(("userId" = String, Path, description = "User id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    app.core.users().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get a user's custom data.
#[utoipa::path(get, path = "/api/users/{userId}/custom-data", operation_id = "ListUserCustomData", tag = "Users",
    params(("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = Object, description = "The custom data."), ErrorResponses))]
async fn list_user_custom_data(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(app.core.users().custom_data(app.tenant.id(), &id).await?))
}

/// Merge top-level keys into a user's custom data.
#[utoipa::path(patch, path = "/api/users/{userId}/custom-data", operation_id = "UpdateUserCustomData", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = CustomDataBody,
    responses((status = 200, body = Object, description = "The new custom data."), ErrorResponses))]
async fn update_user_custom_data(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<CustomDataBody>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(app.core.users().merge_custom_data(app.tenant.id(), &id, body.custom_data).await?))
}

/// Update some of a user's profile claims (the others stay).
#[utoipa::path(patch, path = "/api/users/{userId}/profile", operation_id = "UpdateUserProfile", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = ProfileBody,
    responses((status = 200, body = UserProfile, description = "The whole profile afterwards."), ErrorResponses))]
async fn update_user_profile(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<axum::Json<UserProfile>, ApiError> {
    Ok(axum::Json(app.core.users().update_profile(app.tenant.id(), &id, body.profile).await?))
}

/// Set a user's password (hashed with argon2id).
#[utoipa::path(patch, path = "/api/users/{userId}/password", operation_id = "UpdateUserPassword", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = PasswordBody,
    responses((status = 200, body = User, description = "The user."), ErrorResponses))]
async fn update_user_password(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(app.core.users().set_password(app.tenant.id(), &id, body.password).await?))
}

/// Check a user's password. An imported or outdated hash is upgraded to argon2id on success.
#[utoipa::path(post, path = "/api/users/{userId}/password/verify", operation_id = "VerifyUserPassword", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = PasswordBody,
    responses((status = 204, description = "The password matches."), ErrorResponses))]
async fn verify_user_password(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    app.core.users().verify_password(app.tenant.id(), &id, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a user has a password.
#[utoipa::path(get, path = "/api/users/{userId}/has-password", operation_id = "GetUserHasPassword", tag = "Users",
    params(("userId" = String, Path, description = "User id.")),
    responses((status = 200, body = HasPassword, description = "`{hasPassword}`."), ErrorResponses))]
async fn get_user_has_password(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
) -> Result<axum::Json<HasPassword>, ApiError> {
    let user = app.core.users().get(app.tenant.id(), &id).await?;
    Ok(axum::Json(HasPassword { has_password: user.has_password }))
}

/// Suspend or reinstate a user.
#[utoipa::path(patch, path = "/api/users/{userId}/is-suspended", operation_id = "UpdateUserIsSuspended", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = SuspensionBody,
    responses((status = 200, body = User, description = "The user."), ErrorResponses))]
async fn update_user_is_suspended(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<SuspensionBody>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(app.core.users().set_suspended(app.tenant.id(), &id, body.is_suspended).await?))
}

/// List a user's roles.
#[utoipa::path(get, path = "/api/users/{userId}/roles", operation_id = "ListUserRoles", tag = "Users",
    params(("userId" = String, Path, description = "User id."), PageParams, SearchParams),
    responses((status = 200, body = [Role], description = "Roles of the user."), ErrorResponses))]
async fn list_user_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (roles, total) =
        app.core.users().roles(app.tenant.id(), &id, listing.query.search(), pagination.to_page()).await?;
    Ok(listing.respond(Some(pagination), roles, total))
}

/// Give user roles to a user.
#[utoipa::path(post, path = "/api/users/{userId}/roles", operation_id = "AssignUserRoles", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = RoleIds,
    responses((status = 201, body = Object, description = "Assigned: `{roleIds, addedRoleIds}` (those the user did not hold)."), ErrorResponses))]
async fn assign_user_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<RoleIds>,
) -> Result<Response, ApiError> {
    let assigned = app.core.users().assign_roles(app.tenant.id(), &id, &body.role_ids, false).await?;
    let body = serde_json::json!({"roleIds": assigned.role_ids, "addedRoleIds": assigned.added_role_ids});
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Replace a user's roles.
#[utoipa::path(put, path = "/api/users/{userId}/roles", operation_id = "ReplaceUserRoles", tag = "Users",
    params(("userId" = String, Path, description = "User id.")), request_body = RoleIds,
    responses((status = 200, body = RoleIds, description = "Replaced: `{roleIds}`."), ErrorResponses))]
async fn replace_user_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<RoleIds>,
) -> Result<axum::Json<RoleIds>, ApiError> {
    let assigned = app.core.users().assign_roles(app.tenant.id(), &id, &body.role_ids, true).await?;
    Ok(axum::Json(RoleIds { role_ids: assigned.role_ids.into_iter().map(RoleId::new).collect() }))
}

/// Take a role away from a user.
#[utoipa::path(delete, path = "/api/users/{userId}/roles/{roleId}", operation_id = "DeleteUserRole", tag = "Users",
    params(("userId" = String, Path, description = "User id."), ("roleId" = String, Path, description = "Role id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_user_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, role_id)): ApiPath<(UserId, RoleId)>,
) -> Result<StatusCode, ApiError> {
    app.core.users().remove_role(app.tenant.id(), &id, &role_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the users holding a role.
#[utoipa::path(get, path = "/api/roles/{id}/users", operation_id = "ListRoleUsers", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), UserSearchParams, PageParams, SearchParams),
    responses((status = 200, body = [User], description = "Users holding the role."), ErrorResponses))]
async fn list_role_users(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let search = user_search(&listing.query)?;
    let (users, total) = app.core.users().of_role(app.tenant.id(), &id, search, pagination.to_page()).await?;
    Ok(listing.respond(Some(pagination), users, total))
}

/// Give a user role to users.
#[utoipa::path(post, path = "/api/roles/{id}/users", operation_id = "CreateRoleUser", tag = "Roles",
    params(("id" = String, Path, description = "Role id.")), request_body = UserIds,
    responses((status = 201, description = "Assigned."), ErrorResponses))]
async fn create_role_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<UserIds>,
) -> Result<Response, ApiError> {
    app.core.users().add_to_role(app.tenant.id(), &id, &body.user_ids).await?;
    Ok(created())
}

/// Take a role away from a user.
#[utoipa::path(delete, path = "/api/roles/{id}/users/{userId}", operation_id = "DeleteRoleUser", tag = "Roles",
    params(("id" = String, Path, description = "Role id."), ("userId" = String, Path, description = "User id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_role_user(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, user_id)): ApiPath<(RoleId, UserId)>,
) -> Result<StatusCode, ApiError> {
    app.core.users().remove_role(app.tenant.id(), &user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
