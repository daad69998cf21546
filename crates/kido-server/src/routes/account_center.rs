//! `/api/account-center`: the tenant's account center settings (Management API).

use axum::extract::State;
use kido_proto::account::{AccountCenter, UpdateAccountCenter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ManagementScope};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_account_center, update_account_center))
}

/// Get the account center settings: whether the Account API is on, and per field Off,
/// ReadOnly or Edit.
#[utoipa::path(get, path = "/api/account-center", operation_id = "GetAccountCenterSettings", tag = "Account center",
    responses((status = 200, body = AccountCenter, description = "Account center settings."), ErrorResponses))]
async fn get_account_center(
    State(app): State<AppState>,
    _: ManagementScope,
) -> Result<axum::Json<AccountCenter>, ApiError> {
    Ok(axum::Json(app.core.account().center(app.tenant.id()).await?))
}

/// Update the account center settings: `enabled`, `fields` (replaced as a whole; a field not
/// given is Off) and `webauthnRelatedOrigins`.
#[utoipa::path(patch, path = "/api/account-center", operation_id = "UpdateAccountCenterSettings", tag = "Account center",
    request_body = Option<UpdateAccountCenter>,
    responses((status = 200, body = AccountCenter, description = "Updated account center settings."), ErrorResponses))]
async fn update_account_center(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<UpdateAccountCenter>,
) -> Result<axum::Json<AccountCenter>, ApiError> {
    Ok(axum::Json(app.core.account().update_center(app.tenant.id(), body).await?))
}
