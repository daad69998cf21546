//! `/api/connector-factories`, `/api/connectors` and `/api/email-templates`: how codes
//! reach users by email and SMS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::connectors::{
    Connector, ConnectorFactory, CreateConnector, DeletedRows, EmailTemplate, PutEmailTemplates, TemplateType,
    TestConnector, UpdateConnector, UpdateEmailTemplateDetails,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope, QueryPairs};
use crate::openapi::ErrorResponses;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_factories))
        .routes(routes!(get_factory))
        .routes(routes!(list_connectors, create_connector))
        .routes(routes!(get_connector, update_connector, delete_connector))
        .routes(routes!(test_connector))
        .routes(routes!(list_email_templates, put_email_templates, delete_email_templates))
        .routes(routes!(get_email_template, delete_email_template))
        .routes(routes!(update_email_template_details))
}

/// List the connector factories this server can run.
#[utoipa::path(get, path = "/api/connector-factories", operation_id = "ListConnectorFactories", tag = "Connector factories",
    responses((status = 200, body = [ConnectorFactory], description = "The factories."), ErrorResponses))]
async fn list_factories(State(app): State<AppState>, _: ManagementScope) -> axum::Json<Vec<ConnectorFactory>> {
    axum::Json(app.core.connectors().factories())
}

/// Get a connector factory.
#[utoipa::path(get, path = "/api/connector-factories/{id}", operation_id = "GetConnectorFactory", tag = "Connector factories",
    params(("id" = String, Path, description = "Factory id, e.g. `simple-mail-transfer-protocol`.")),
    responses((status = 200, body = ConnectorFactory, description = "The factory."), ErrorResponses))]
async fn get_factory(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<ConnectorFactory>, ApiError> {
    Ok(axum::Json(app.core.connectors().factory(&id)?))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TargetParams {
    /// Only connectors with this target (e.g. `smtp`).
    target: Option<String>,
}

/// List the tenant's connectors.
#[utoipa::path(get, path = "/api/connectors", operation_id = "ListConnectors", tag = "Connectors",
    params(TargetParams),
    responses((status = 200, body = [Connector], description = "The connectors."), ErrorResponses))]
async fn list_connectors(
    State(app): State<AppState>,
    _: ManagementScope,
    query: QueryPairs,
) -> Result<axum::Json<Vec<Connector>>, ApiError> {
    Ok(axum::Json(app.core.connectors().list(app.tenant.id(), query.get("target")).await?))
}

/// Create a connector from a factory. A new email or SMS connector replaces the
/// tenant's current one of that type.
#[utoipa::path(post, path = "/api/connectors", operation_id = "CreateConnector", tag = "Connectors", request_body = CreateConnector,
    responses((status = 200, body = Connector, description = "The new connector."), ErrorResponses))]
async fn create_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateConnector>,
) -> Result<axum::Json<Connector>, ApiError> {
    Ok(axum::Json(app.core.connectors().create(app.tenant.id(), body).await?))
}

/// Get a connector.
#[utoipa::path(get, path = "/api/connectors/{id}", operation_id = "GetConnector", tag = "Connectors",
    params(("id" = String, Path, description = "Connector id.")),
    responses((status = 200, body = Connector, description = "The connector."), ErrorResponses))]
async fn get_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Connector>, ApiError> {
    Ok(axum::Json(app.core.connectors().get(app.tenant.id(), &id).await?))
}

/// Replace a connector's config (validated against its factory).
#[utoipa::path(patch, path = "/api/connectors/{id}", operation_id = "UpdateConnector", tag = "Connectors",
    params(("id" = String, Path, description = "Connector id.")), request_body = UpdateConnector,
    responses((status = 200, body = Connector, description = "The updated connector."), ErrorResponses))]
async fn update_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateConnector>,
) -> Result<axum::Json<Connector>, ApiError> {
    Ok(axum::Json(app.core.connectors().update(app.tenant.id(), &id, body).await?))
}

/// Delete a connector.
#[utoipa::path(delete, path = "/api/connectors/{id}", operation_id = "DeleteConnector", tag = "Connectors",
    params(("id" = String, Path, description = "Connector id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.connectors().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test message (`Generic`, code `000000`) with an unsaved config.
#[utoipa::path(post, path = "/api/connectors/{factoryId}/test", operation_id = "CreateConnectorTest", tag = "Connectors",
    params(("factoryId" = String, Path, description = "Factory id.")), request_body = TestConnector,
    responses((status = 204, description = "Sent."), ErrorResponses))]
async fn test_connector(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(factory_id): ApiPath<String>,
    ApiJson(body): ApiJson<TestConnector>,
) -> Result<StatusCode, ApiError> {
    app.core.connectors().test(app.tenant.id(), &factory_id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TemplateFilter {
    /// Only templates of this language (e.g. `ja`).
    #[param(rename = "languageTag")]
    language_tag: Option<String>,
    /// Only templates of this type.
    #[param(rename = "templateType")]
    template_type: Option<TemplateType>,
}

fn template_filter(query: &QueryPairs) -> Result<(Option<&str>, Option<TemplateType>), ApiError> {
    let kind = match query.get("templateType") {
        Some(t) => Some(
            TemplateType::parse(t)
                .ok_or_else(|| ApiError::invalid_input("query", format!("`templateType` `{t}` is unknown")))?,
        ),
        None => None,
    };
    Ok((query.get("languageTag"), kind))
}

/// List email templates.
#[utoipa::path(get, path = "/api/email-templates", operation_id = "ListEmailTemplates", tag = "Email templates",
    params(TemplateFilter),
    responses((status = 200, body = [EmailTemplate], description = "The templates."), ErrorResponses))]
async fn list_email_templates(
    State(app): State<AppState>,
    _: ManagementScope,
    query: QueryPairs,
) -> Result<axum::Json<Vec<EmailTemplate>>, ApiError> {
    let (language, kind) = template_filter(&query)?;
    Ok(axum::Json(app.core.email_templates().list(app.tenant.id(), language, kind).await?))
}

/// Create or replace email templates by (language, type).
#[utoipa::path(put, path = "/api/email-templates", operation_id = "ReplaceEmailTemplates", tag = "Email templates",
    request_body = PutEmailTemplates,
    responses((status = 200, body = [EmailTemplate], description = "The stored templates."), ErrorResponses))]
async fn put_email_templates(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<PutEmailTemplates>,
) -> Result<axum::Json<Vec<EmailTemplate>>, ApiError> {
    Ok(axum::Json(app.core.email_templates().put(app.tenant.id(), body.templates).await?))
}

/// Delete the templates of a language and/or a type (one filter at least).
#[utoipa::path(delete, path = "/api/email-templates", operation_id = "DeleteEmailTemplates", tag = "Email templates",
    params(TemplateFilter),
    responses((status = 200, body = DeletedRows, description = "How many were deleted."), ErrorResponses))]
async fn delete_email_templates(
    State(app): State<AppState>,
    _: ManagementScope,
    query: QueryPairs,
) -> Result<axum::Json<DeletedRows>, ApiError> {
    let (language, kind) = template_filter(&query)?;
    let row_count = app.core.email_templates().delete_matching(app.tenant.id(), language, kind).await?;
    Ok(axum::Json(DeletedRows { row_count }))
}

/// Get an email template.
#[utoipa::path(get, path = "/api/email-templates/{id}", operation_id = "GetEmailTemplate", tag = "Email templates",
    params(("id" = String, Path, description = "Template id.")),
    responses((status = 200, body = EmailTemplate, description = "The template."), ErrorResponses))]
async fn get_email_template(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<EmailTemplate>, ApiError> {
    Ok(axum::Json(app.core.email_templates().get(app.tenant.id(), &id).await?))
}

/// Delete an email template.
#[utoipa::path(delete, path = "/api/email-templates/{id}", operation_id = "DeleteEmailTemplate", tag = "Email templates",
    params(("id" = String, Path, description = "Template id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_email_template(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.email_templates().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change some of a template's details.
#[utoipa::path(patch, path = "/api/email-templates/{id}/details", operation_id = "UpdateEmailTemplateDetails", tag = "Email templates",
    params(("id" = String, Path, description = "Template id.")), request_body = UpdateEmailTemplateDetails,
    responses((status = 200, body = EmailTemplate, description = "The updated template."), ErrorResponses))]
async fn update_email_template_details(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateEmailTemplateDetails>,
) -> Result<Response, ApiError> {
    let template = app.core.email_templates().update_details(app.tenant.id(), &id, body).await?;
    Ok(axum::Json(template).into_response())
}
