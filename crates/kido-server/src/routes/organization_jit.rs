//! `/api/organizations/{id}/jit/*`: who joins an organization by themselves (email
//! domains, SSO connectors) and the default roles they receive.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::organizations::{
    JitEmailDomain, JitEmailDomainBody, JitEmailDomainsBody, OrganizationRole, OrganizationRoleIds,
    ReplaceOrganizationRoleIds, ReplaceSsoConnectorIds, SsoConnectorIds,
};
use kido_proto::sso_connectors::SsoConnector;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope};
use crate::openapi::{ErrorResponses, PageParams};
use crate::pagination::{Listing, Pagination, created};
use crate::state::AppState;
use kido_proto::OrganizationId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            list_organization_jit_email_domains,
            create_organization_jit_email_domain,
            replace_organization_jit_email_domains
        ))
        .routes(routes!(delete_organization_jit_email_domain))
        .routes(routes!(list_organization_jit_roles, create_organization_jit_role, replace_organization_jit_roles))
        .routes(routes!(delete_organization_jit_role))
        .routes(routes!(
            list_organization_jit_sso_connectors,
            create_organization_jit_sso_connector,
            replace_organization_jit_sso_connectors
        ))
        .routes(routes!(delete_organization_jit_sso_connector))
}

/// List the email domains whose newly registered users join the organization. An item
/// carries a `warning` when an SSO connector claims the same domain.
#[utoipa::path(get, path = "/api/organizations/{id}/jit/email-domains", operation_id = "ListOrganizationJitEmailDomains", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), PageParams),
    responses((status = 200, body = [JitEmailDomain], description = "Email domains."), ErrorResponses))]
async fn list_organization_jit_email_domains(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let (items, total) = app.core.organizations().jit_email_domains(app.tenant.id(), &id, pagination.to_page()).await?;
    Ok(listing.respond(Some(pagination), items, total))
}

/// Add an email domain (normalized to lower case; `example.com`, no `@`, no scheme).
#[utoipa::path(post, path = "/api/organizations/{id}/jit/email-domains", operation_id = "CreateOrganizationJitEmailDomain", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = JitEmailDomainBody,
    responses((status = 201, body = JitEmailDomain, description = "The domain, with a `warning` if SSO claims it too."), ErrorResponses))]
async fn create_organization_jit_email_domain(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<JitEmailDomainBody>,
) -> Result<Response, ApiError> {
    let item = app.core.organizations().add_jit_email_domain(app.tenant.id(), &id, &body.email_domain).await?;
    Ok((StatusCode::CREATED, axum::Json(item)).into_response())
}

/// Replace the email domains (an empty list removes all).
#[utoipa::path(put, path = "/api/organizations/{id}/jit/email-domains", operation_id = "ReplaceOrganizationJitEmailDomains", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = JitEmailDomainsBody,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_jit_email_domains(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<JitEmailDomainsBody>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().replace_jit_email_domains(app.tenant.id(), &id, &body.email_domains).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an email domain.
#[utoipa::path(delete, path = "/api/organizations/{id}/jit/email-domains/{emailDomain}", operation_id = "DeleteOrganizationJitEmailDomain", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("emailDomain" = String, Path, description = "The domain.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_jit_email_domain(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, domain)): ApiPath<(OrganizationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_jit_email_domain(app.tenant.id(), &id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the default organization roles of provisioned users. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/organizations/{id}/jit/roles", operation_id = "ListOrganizationJitRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), PageParams),
    responses((status = 200, body = [OrganizationRole], description = "Default roles."), ErrorResponses))]
async fn list_organization_jit_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (items, total) =
        app.core.organizations().jit_roles(app.tenant.id(), &id, pagination.map(Pagination::to_page)).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Add default roles (`User` roles only).
#[utoipa::path(post, path = "/api/organizations/{id}/jit/roles", operation_id = "CreateOrganizationJitRole", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = OrganizationRoleIds,
    responses((status = 201, description = "Added."), ErrorResponses))]
async fn create_organization_jit_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<OrganizationRoleIds>,
) -> Result<Response, ApiError> {
    app.core.organizations().add_jit_roles(app.tenant.id(), &id, &body.organization_role_ids).await?;
    Ok(created())
}

/// Replace the default roles (an empty list removes all).
#[utoipa::path(put, path = "/api/organizations/{id}/jit/roles", operation_id = "ReplaceOrganizationJitRoles", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = ReplaceOrganizationRoleIds,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_jit_roles(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<ReplaceOrganizationRoleIds>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().replace_jit_roles(app.tenant.id(), &id, &body.organization_role_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a default role.
#[utoipa::path(delete, path = "/api/organizations/{id}/jit/roles/{organizationRoleId}", operation_id = "DeleteOrganizationJitRole", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("organizationRoleId" = String, Path, description = "Organization role id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_jit_role(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, role_id)): ApiPath<(OrganizationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_jit_role(app.tenant.id(), &id, &role_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the SSO connectors whose users join the organization. Without `page`/`page_size`, all.
#[utoipa::path(get, path = "/api/organizations/{id}/jit/sso-connectors", operation_id = "ListOrganizationJitSsoConnectors", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), PageParams),
    responses((status = 200, body = [SsoConnector], description = "SSO connectors."), ErrorResponses))]
async fn list_organization_jit_sso_connectors(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    listing: Listing,
) -> Result<Response, ApiError> {
    let pagination = listing.optional_pagination()?;
    let (items, total) =
        app.core.organizations().jit_sso_connectors(app.tenant.id(), &id, pagination.map(Pagination::to_page)).await?;
    Ok(listing.respond(pagination, items, total))
}

/// Add SSO connectors.
#[utoipa::path(post, path = "/api/organizations/{id}/jit/sso-connectors", operation_id = "CreateOrganizationJitSsoConnector", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = SsoConnectorIds,
    responses((status = 201, description = "Added."), ErrorResponses))]
async fn create_organization_jit_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<SsoConnectorIds>,
) -> Result<Response, ApiError> {
    app.core.organizations().add_jit_sso_connectors(app.tenant.id(), &id, &body.sso_connector_ids).await?;
    Ok(created())
}

/// Replace the SSO connectors (an empty list removes all).
#[utoipa::path(put, path = "/api/organizations/{id}/jit/sso-connectors", operation_id = "ReplaceOrganizationJitSsoConnectors", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id.")), request_body = ReplaceSsoConnectorIds,
    responses((status = 204, description = "Replaced."), ErrorResponses))]
async fn replace_organization_jit_sso_connectors(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<OrganizationId>,
    ApiJson(body): ApiJson<ReplaceSsoConnectorIds>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().replace_jit_sso_connectors(app.tenant.id(), &id, &body.sso_connector_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an SSO connector.
#[utoipa::path(delete, path = "/api/organizations/{id}/jit/sso-connectors/{ssoConnectorId}", operation_id = "DeleteOrganizationJitSsoConnector", tag = "Organizations",
    params(("id" = String, Path, description = "Organization id."), ("ssoConnectorId" = String, Path, description = "SSO connector id.")),
    responses((status = 204, description = "Removed."), ErrorResponses))]
async fn delete_organization_jit_sso_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath((id, connector_id)): ApiPath<(OrganizationId, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.organizations().remove_jit_sso_connector(app.tenant.id(), &id, &connector_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
