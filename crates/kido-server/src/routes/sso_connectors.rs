//! `/api/sso-connectors` and `/api/sso-connector-providers`: enterprise SSO connectors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kido_proto::sso_connectors::{
    CreateSsoConnector, SsoConnectorProvider, SsoConnectorWithProvider, UpdateSsoConnector,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ConflictResponse, ErrorResponses, PageParams};
use crate::pagination::{Listing, Pagination};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sso_connector_providers))
        .routes(routes!(list_sso_connectors, create_sso_connector))
        .routes(routes!(get_sso_connector, update_sso_connector, delete_sso_connector))
}

/// The identity providers SSO connectors can be made for.
#[utoipa::path(get, path = "/api/sso-connector-providers", operation_id = "ListSsoConnectorProviders", tag = "SSO connectors",
    responses((status = 200, body = [SsoConnectorProvider], description = "Providers."), ErrorResponses))]
async fn list_sso_connector_providers(
    State(app): State<AppState>,
    _: ManagementScope,
) -> axum::Json<Vec<SsoConnectorProvider>> {
    axum::Json(app.core.sso_connectors().providers())
}

/// List SSO connectors, oldest first. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/sso-connectors", operation_id = "ListSsoConnectors", tag = "SSO connectors",
    params(PageParams),
    responses((status = 200, body = [SsoConnectorWithProvider], description = "SSO connectors."), ErrorResponses))]
async fn list_sso_connectors(
    State(app): State<AppState>,
    _: ManagementScope,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (items, total) = app.core.sso_connectors().list(app.tenant.id(), pagination.map(Pagination::to_page)).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Create an SSO connector. `config` is optional (fill it in later) but complete when given;
/// `domains` are the email domains it serves (public mail services are refused). A
/// `warnings` entry says when an organization provisions one of them by email domain.
#[utoipa::path(post, path = "/api/sso-connectors", operation_id = "CreateSsoConnector", tag = "SSO connectors",
    request_body = CreateSsoConnector,
    responses((status = 200, body = SsoConnectorWithProvider, description = "The new connector."), ErrorResponses, ConflictResponse))]
async fn create_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateSsoConnector>,
) -> Result<axum::Json<SsoConnectorWithProvider>, ApiError> {
    Ok(axum::Json(app.core.sso_connectors().create(app.tenant.id(), body).await?))
}

/// Get an SSO connector.
#[utoipa::path(get, path = "/api/sso-connectors/{id}", operation_id = "GetSsoConnector", tag = "SSO connectors",
    params(("id" = String, Path, description = "SSO connector id.")),
    responses((status = 200, body = SsoConnectorWithProvider, description = "The connector."), ErrorResponses))]
async fn get_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<SsoConnectorWithProvider>, ApiError> {
    Ok(axum::Json(app.core.sso_connectors().get(app.tenant.id(), &id).await?))
}

/// Update an SSO connector (`config`, `domains`, `branding` replaced as a whole).
#[utoipa::path(patch, path = "/api/sso-connectors/{id}", operation_id = "UpdateSsoConnector", tag = "SSO connectors",
    params(("id" = String, Path, description = "SSO connector id.")), request_body = Option<UpdateSsoConnector>,
    responses((status = 200, body = SsoConnectorWithProvider, description = "The updated connector."), ErrorResponses, ConflictResponse))]
async fn update_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateSsoConnector>,
) -> Result<axum::Json<SsoConnectorWithProvider>, ApiError> {
    Ok(axum::Json(app.core.sso_connectors().update(app.tenant.id(), &id, body).await?))
}

/// Delete an SSO connector; organizations stop listing it.
#[utoipa::path(delete, path = "/api/sso-connectors/{id}", operation_id = "DeleteSsoConnector", tag = "SSO connectors",
    params(("id" = String, Path, description = "SSO connector id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.sso_connectors().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
