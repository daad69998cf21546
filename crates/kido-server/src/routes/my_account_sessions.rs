//! `/api/my-account/sessions` and `/grants`: the signed-in user's browser sessions and the
//! applications they are signed in to, with "sign out this device" and "revoke".

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::sessions::{GrantAppType, RevokeGrantsTarget, UserGrants, UserSessions};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::user_sessions::{GrantListParams, RevokeSessionParams};
use crate::errors::ApiError;
use crate::extract::{AccountAuth, ApiPath, QueryPairs};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_sessions))
        .routes(routes!(delete_session))
        .routes(routes!(get_grants))
        .routes(routes!(delete_grant))
}

/// The user's live sessions, newest first (needs `logto-verification-id` and the
/// `urn:logto:scope:sessions` scope).
#[utoipa::path(get, path = "/api/my-account/sessions", operation_id = "GetSessions", tag = "My account",
    responses((status = 200, body = UserSessions, description = "The live sessions."), ErrorResponses))]
async fn get_sessions(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
) -> Result<axum::Json<UserSessions>, ApiError> {
    Ok(axum::Json(app.core.account().sessions(&app.tenant.context, &caller).await?))
}

/// Sign a session out: its browser must sign in again; its grants without `offline_access`,
/// and those `revokeGrantsTarget` names, are revoked with their tokens.
#[utoipa::path(delete, path = "/api/my-account/sessions/{sessionId}", operation_id = "DeleteSession",
    tag = "My account",
    params(("sessionId" = String, Path, description = "The unique identifier of the session."), RevokeSessionParams),
    responses((status = 204, description = "Session revoked."), ErrorResponses))]
async fn delete_session(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiPath(session): ApiPath<String>,
    query: QueryPairs,
) -> Result<StatusCode, ApiError> {
    let target = query.one_of("revokeGrantsTarget", RevokeGrantsTarget::parse)?;
    app.core.account().revoke_session(&app.tenant.context, &caller, &session, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The applications the user is signed in to (grants that can still issue tokens).
#[utoipa::path(get, path = "/api/my-account/grants", operation_id = "GetGrants", tag = "My account",
    params(GrantListParams),
    responses((status = 200, body = UserGrants, description = "The live grants."), ErrorResponses))]
async fn get_grants(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    query: QueryPairs,
) -> Result<axum::Json<UserGrants>, ApiError> {
    let app_type = query.one_of("appType", GrantAppType::parse)?;
    Ok(axum::Json(app.core.account().grants(&app.tenant.context, &caller, app_type).await?))
}

/// Revoke an application's grant with every code and token issued under it.
#[utoipa::path(delete, path = "/api/my-account/grants/{grantId}", operation_id = "DeleteGrant", tag = "My account",
    params(("grantId" = String, Path, description = "The unique identifier of the grant.")),
    responses((status = 204, description = "Grant revoked."), ErrorResponses))]
async fn delete_grant(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiPath(grant): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.account().revoke_grant(&app.tenant.context, &caller, &grant).await?;
    Ok(StatusCode::NO_CONTENT)
}
