//! `/api/users/{userId}/identities/{target}`: an administrator reads, sets and removes a
//! user's social identity. Linking through a connector (`POST /api/users/{userId}/identities`)
//! comes with social connectors.

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::UserId;
use kido_proto::users::{SocialIdentity, User, UserIdentity};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_user_identity, replace_user_identity, delete_user_identity))
}

/// Retrieve a user's social identity (`includeTokenSecret` is accepted; no connector stores
/// provider tokens yet, so none is included).
#[utoipa::path(get, path = "/api/users/{userId}/identities/{target}", operation_id = "GetUserIdentity", tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("target" = String, Path, description = "The social connector's target."),
        ("includeTokenSecret" = Option<String>, Query, description = "Whether to include the stored token set's metadata.")),
    responses((status = 200, body = UserIdentity, description = "The identity."), ErrorResponses))]
async fn get_user_identity(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, target)): ApiPath<(UserId, String)>,
) -> Result<axum::Json<UserIdentity>, ApiError> {
    let identity = app.core.users().identity(app.tenant.id(), &user, &target).await?;
    Ok(axum::Json(UserIdentity { identity }))
}

/// Update social identity of user: set (201) or replace (200) the identity of a connector
/// target; a provider account linked to another user is refused.
#[utoipa::path(put, path = "/api/users/{userId}/identities/{target}", operation_id = "ReplaceUserIdentity",
    tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("target" = String, Path, description = "The social connector's target.")),
    request_body = SocialIdentity,
    responses((status = 200, body = Object, description = "The identity is updated: the user's identities."),
        (status = 201, body = Object, description = "The identity is created: the user's identities."),
        ErrorResponses))]
async fn replace_user_identity(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, target)): ApiPath<(UserId, String)>,
    ApiJson(identity): ApiJson<SocialIdentity>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (created, identities) = app.core.users().put_identity(app.tenant.id(), &user, &target, identity).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, axum::Json(identities)))
}

/// Delete social identity from user; returns the user.
#[utoipa::path(delete, path = "/api/users/{userId}/identities/{target}", operation_id = "DeleteUserIdentity",
    tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("target" = String, Path, description = "The social connector's target.")),
    responses((status = 200, body = User, description = "The identity is deleted from the user."), ErrorResponses))]
async fn delete_user_identity(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, target)): ApiPath<(UserId, String)>,
) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(app.core.users().remove_identity(app.tenant.id(), &user, &target, false).await?))
}
