//! `/api/users/{userId}/sessions` and `/api/users/{userId}/grants`: an administrator lists a
//! user's browser sessions and grants (connected applications) and revokes them.

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::UserId;
use kido_proto::sessions::{GrantAppType, RevokeGrantsTarget, UserGrants, UserSession, UserSessions};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiPath, ManagementScope, QueryPairs};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_user_sessions))
        .routes(routes!(get_user_session, delete_user_session))
        .routes(routes!(list_user_grants))
        .routes(routes!(delete_user_grant))
}

/// Get user active sessions: the user's live sessions, newest first (at most 100), each with
/// the applications it signed in to.
#[utoipa::path(get, path = "/api/users/{userId}/sessions", operation_id = "ListUserSessions", tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user.")),
    responses((status = 200, body = UserSessions, description = "The user's live sessions."), ErrorResponses))]
async fn list_user_sessions(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
) -> Result<axum::Json<UserSessions>, ApiError> {
    Ok(axum::Json(app.core.user_sessions().list(app.tenant.id(), &user).await?))
}

/// Get user active session: one live session of the user.
#[utoipa::path(get, path = "/api/users/{userId}/sessions/{sessionId}", operation_id = "GetUserSession", tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("sessionId" = String, Path, description = "The unique identifier of the session.")),
    responses((status = 200, body = UserSession, description = "The session."), ErrorResponses))]
async fn get_user_session(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, session)): ApiPath<(UserId, String)>,
) -> Result<axum::Json<UserSession>, ApiError> {
    Ok(axum::Json(app.core.user_sessions().get(app.tenant.id(), &user, &session).await?))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RevokeSessionParams {
    /// Grants to revoke besides those without `offline_access` (which end with the session):
    /// `all` every grant of the session, `firstParty` the first-party applications' grants.
    #[param(rename = "revokeGrantsTarget", inline)]
    revoke_grants_target: Option<RevokeGrantsTarget>,
}

/// Revoke a user session: the browser must sign in again; the session's grants without
/// `offline_access`, and those `revokeGrantsTarget` names, are revoked with their tokens.
#[utoipa::path(delete, path = "/api/users/{userId}/sessions/{sessionId}", operation_id = "DeleteUserSession",
    tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("sessionId" = String, Path, description = "The unique identifier of the session."), RevokeSessionParams),
    responses((status = 204, description = "Session revoked."), ErrorResponses))]
async fn delete_user_session(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, session)): ApiPath<(UserId, String)>,
    query: QueryPairs,
) -> Result<StatusCode, ApiError> {
    let target = query.one_of("revokeGrantsTarget", RevokeGrantsTarget::parse)?;
    app.core.user_sessions().revoke(app.tenant.id(), &user, &session, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GrantListParams {
    /// Only first-party (`firstParty`) or third-party (`thirdParty`) applications' grants.
    #[param(rename = "appType", inline)]
    app_type: Option<GrantAppType>,
}

/// Get user active grants: the user's grants that can still issue tokens, newest first (at
/// most 100).
#[utoipa::path(get, path = "/api/users/{userId}/grants", operation_id = "ListUserGrants", tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."), GrantListParams),
    responses((status = 200, body = UserGrants, description = "The user's live grants."), ErrorResponses))]
async fn list_user_grants(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(user): ApiPath<UserId>,
    query: QueryPairs,
) -> Result<axum::Json<UserGrants>, ApiError> {
    let app_type = query.one_of("appType", GrantAppType::parse)?;
    Ok(axum::Json(app.core.user_sessions().grants(app.tenant.id(), &user, app_type).await?))
}

/// Revoke a user grant with every code and token issued under it.
#[utoipa::path(delete, path = "/api/users/{userId}/grants/{grantId}", operation_id = "DeleteUserGrant", tag = "Users",
    params(("userId" = String, Path, description = "The unique identifier of the user."),
        ("grantId" = String, Path, description = "The unique identifier of the grant.")),
    responses((status = 204, description = "Grant revoked."), ErrorResponses))]
async fn delete_user_grant(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((user, grant)): ApiPath<(UserId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.user_sessions().revoke_grant(app.tenant.id(), &user, &grant).await?;
    Ok(StatusCode::NO_CONTENT)
}
