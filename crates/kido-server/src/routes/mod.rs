//! The HTTP surface of a tenant: the Management API (with its OpenAPI document) and the
//! OIDC endpoints.

mod applications;
mod connectors;
mod experience;
mod logs;
mod oidc;
mod organization_invitations;
mod organization_jit;
mod organization_template;
mod organizations;
mod resources;
mod roles;
mod sign_in_experience;
mod sso_connectors;
mod status;
mod users;
mod verification_codes;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::openapi::{self, ApiDoc};
use crate::state::AppState;

pub use oidc::render_discovery;

/// The router (state still to be given per tenant). The `/api` routes come with their
/// OpenAPI operations, which are dropped here: [`openapi_document`] builds them again when
/// the document is first asked for.
pub fn build() -> Router<AppState> {
    let (api, _) = api().split_for_parts();
    api.merge(oidc::router())
        .merge(experience::router())
        .merge(crate::pages::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::body_limit::limit_body))
}

/// The OpenAPI document of the `/api` routes, serialized.
pub fn openapi_document() -> String {
    openapi::finish(api().split_for_parts().1)
}

/// The Management API (and status, OpenAPI) routes with their OpenAPI operations.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(status::status))
        .routes(routes!(openapi::swagger_json))
        .routes(routes!(openapi::management_openapi_json))
        .merge(applications::router())
        .merge(resources::router())
        .merge(roles::router())
        .merge(users::router())
        .merge(logs::router())
        .merge(sign_in_experience::router())
        .merge(connectors::router())
        .merge(verification_codes::router())
        .merge(organizations::router())
        .merge(organization_template::router())
        .merge(organization_invitations::router())
        .merge(organization_jit::router())
        .merge(sso_connectors::router())
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "guard.route_not_found",
        format!("No route matches `{}`.", uri.path()),
    )
}
