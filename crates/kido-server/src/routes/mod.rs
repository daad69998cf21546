//! The HTTP surface of a tenant: the Management API (with its OpenAPI document) and the
//! OIDC endpoints.

mod account_center;
mod applications;
mod connectors;
mod experience;
mod experience_mfa;
mod experience_passkey;
mod logs;
mod my_account;
mod my_account_identities;
mod my_account_mfa;
mod my_account_sessions;
mod oidc;
mod one_time_tokens;
mod organization_invitations;
mod organization_jit;
mod organization_template;
mod organizations;
mod resources;
mod roles;
mod sign_in_experience;
mod sso_connectors;
mod status;
mod user_identities;
mod user_mfa;
mod user_sessions;
mod users;
mod verification_codes;
mod verifications;

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
    // Management API changes get their event line (`events.rs`); the Experience API,
    // pages and OIDC routes are not Management API calls.
    let api = api.layer(axum::middleware::from_fn(crate::events::management_changes));
    // The JSON routes name body keys they ignore; the OAuth routes (forms) need no collector.
    let named = || axum::middleware::from_fn(crate::unknown_keys::report);
    api.layer(named())
        .merge(oidc::router())
        .merge(experience::router().merge(experience_mfa::router()).merge(experience_passkey::router()).layer(named()))
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
        .routes(routes!(status::ready))
        .routes(routes!(openapi::swagger_json))
        .routes(routes!(openapi::management_openapi_json))
        .merge(applications::router())
        .merge(resources::router())
        .merge(roles::router())
        .merge(users::router())
        .merge(user_mfa::router())
        .merge(user_sessions::router())
        .merge(user_identities::router())
        .merge(logs::router())
        .merge(sign_in_experience::router())
        .merge(connectors::router())
        .merge(verification_codes::router())
        .merge(organizations::router())
        .merge(organization_template::router())
        .merge(organization_invitations::router())
        .merge(organization_jit::router())
        .merge(sso_connectors::router())
        .merge(one_time_tokens::router())
        .merge(account_center::router())
        .merge(verifications::router())
        .merge(my_account::router())
        .merge(my_account_mfa::router())
        .merge(my_account_sessions::router())
        .merge(my_account_identities::router())
}

async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path() == "/oidc" || uri.path().starts_with("/oidc/") {
        return oidc::unrecognized(method, uri).await;
    }
    ApiError::route_not_found(uri.path()).into_response()
}
