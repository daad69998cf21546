//! `/api/my-account/identities`: the signed-in user's social identities, and the identity
//! providers' access tokens kept in the secret vault.

use axum::extract::State;
use axum::http::StatusCode;
use kido_proto::account::{LinkIdentity, ThirdPartyAccessToken, VerificationRecordId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{AccountAuth, ApiJson, ApiPath};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_identity, replace_identity))
        .routes(routes!(delete_identity))
        .routes(routes!(get_identity_access_token, update_identity_access_token))
        .routes(routes!(get_sso_identity_access_token))
}

/// Link the social identity a verified social record proves (needs `logto-verification-id`).
#[utoipa::path(post, path = "/api/my-account/identities", operation_id = "AddUserIdentities", tag = "My account",
    request_body = LinkIdentity, responses((status = 204, description = "Linked."), ErrorResponses))]
async fn add_identity(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(_link): ApiJson<LinkIdentity>,
) -> Result<StatusCode, ApiError> {
    app.core.account().link_identity(&caller)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Link a social identity, replacing one of the same connector (needs `logto-verification-id`).
#[utoipa::path(put, path = "/api/my-account/identities", operation_id = "ReplaceUserIdentities", tag = "My account",
    request_body = LinkIdentity, responses((status = 204, description = "Linked."), ErrorResponses))]
async fn replace_identity(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiJson(_link): ApiJson<LinkIdentity>,
) -> Result<StatusCode, ApiError> {
    app.core.account().link_identity(&caller)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlink the social identity of a connector target (needs `logto-verification-id`); the user
/// must keep a way to sign in.
#[utoipa::path(delete, path = "/api/my-account/identities/{target}", operation_id = "DeleteIdentity",
    tag = "My account",
    params(("target" = String, Path, description = "The social connector's target, e.g. `github`.")),
    responses((status = 204, description = "Unlinked."), ErrorResponses))]
async fn delete_identity(
    State(app): State<AppState>,
    AccountAuth(caller): AccountAuth,
    ApiPath(target): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.account().unlink_identity(&app.tenant.context, &caller, &target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The identity provider's access token stored for the user's social identity.
#[utoipa::path(get, path = "/api/my-account/identities/{target}/access-token",
    operation_id = "GetIdentityAccessToken", tag = "My account",
    params(("target" = String, Path, description = "The social connector's target.")),
    responses((status = 200, body = ThirdPartyAccessToken, description = "The access token."), ErrorResponses))]
async fn get_identity_access_token(
    State(app): State<AppState>,
    AccountAuth(_caller): AccountAuth,
    ApiPath(_target): ApiPath<String>,
) -> Result<axum::Json<ThirdPartyAccessToken>, ApiError> {
    Ok(axum::Json(app.core.account().third_party_access_token()?))
}

/// Store the token set a fresh social verification record obtained for this identity.
#[utoipa::path(put, path = "/api/my-account/identities/{target}/access-token",
    operation_id = "UpdateIdentityAccessToken", tag = "My account",
    params(("target" = String, Path, description = "The social connector's target.")),
    request_body = VerificationRecordId,
    responses((status = 200, body = ThirdPartyAccessToken, description = "The new access token."), ErrorResponses))]
async fn update_identity_access_token(
    State(app): State<AppState>,
    AccountAuth(_caller): AccountAuth,
    ApiPath(_target): ApiPath<String>,
    ApiJson(_record): ApiJson<VerificationRecordId>,
) -> Result<axum::Json<ThirdPartyAccessToken>, ApiError> {
    Ok(axum::Json(app.core.account().store_third_party_tokens()?))
}

/// The identity provider's access token stored for the user's enterprise SSO identity.
#[utoipa::path(get, path = "/api/my-account/sso-identities/{connectorId}/access-token",
    operation_id = "GetSsoIdentityAccessToken", tag = "My account",
    params(("connectorId" = String, Path, description = "The SSO connector's id.")),
    responses((status = 200, body = ThirdPartyAccessToken, description = "The access token."), ErrorResponses))]
async fn get_sso_identity_access_token(
    State(app): State<AppState>,
    AccountAuth(_caller): AccountAuth,
    ApiPath(_target): ApiPath<String>,
) -> Result<axum::Json<ThirdPartyAccessToken>, ApiError> {
    Ok(axum::Json(app.core.account().third_party_access_token()?))
}
