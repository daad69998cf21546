//! `/api/organization-invitations`: invitations to join an organization.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kido_proto::organizations::InvitationFilter;
use kido_proto::organizations::{
    CreateOrganizationInvitation, InvitationMessage, InvitationStatusBody, OrganizationInvitation,
};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiJson, ApiPath, ManagementScope, QueryPairs};
use crate::openapi::{DeliveryErrorResponses, ErrorResponses};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organization_invitations, create_organization_invitation))
        .routes(routes!(get_organization_invitation, delete_organization_invitation))
        .routes(routes!(replace_organization_invitation_status))
        .routes(routes!(create_organization_invitation_message))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct InvitationListParams {
    #[param(rename = "organizationId")]
    organization_id: Option<String>,
    #[param(rename = "inviterId")]
    inviter_id: Option<String>,
    /// The invitee's email (case-insensitive).
    invitee: Option<String>,
}

/// List invitations, newest first (not paginated).
#[utoipa::path(get, path = "/api/organization-invitations", operation_id = "ListOrganizationInvitations", tag = "Organization invitations",
    params(InvitationListParams),
    responses((status = 200, body = [OrganizationInvitation], description = "Invitations."), ErrorResponses))]
async fn list_organization_invitations(
    State(app): State<AppState>,
    _: ManagementScope,
    q: QueryPairs,
) -> Result<axum::Json<Vec<OrganizationInvitation>>, ApiError> {
    let filter = InvitationFilter {
        organization_id: q.text("organizationId"),
        inviter_id: q.text("inviterId"),
        invitee: q.text("invitee"),
    };
    Ok(axum::Json(app.core.organization_invitations().list(app.tenant.id(), &filter).await?))
}

/// Invite someone to an organization; with a `messagePayload` object, the invitation is
/// emailed through the email connector (`OrganizationInvitation` template).
#[utoipa::path(post, path = "/api/organization-invitations", operation_id = "CreateOrganizationInvitation", tag = "Organization invitations",
    request_body = CreateOrganizationInvitation,
    responses((status = 201, body = OrganizationInvitation, description = "The new invitation."), ErrorResponses, DeliveryErrorResponses))]
async fn create_organization_invitation(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiJson(body): ApiJson<CreateOrganizationInvitation>,
) -> Result<Response, ApiError> {
    let invitation = app.core.organization_invitations().create(app.tenant.id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(invitation)).into_response())
}

/// Get an invitation.
#[utoipa::path(get, path = "/api/organization-invitations/{id}", operation_id = "GetOrganizationInvitation", tag = "Organization invitations",
    params(("id" = String, Path, description = "Invitation id.")),
    responses((status = 200, body = OrganizationInvitation, description = "The invitation."), ErrorResponses))]
async fn get_organization_invitation(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OrganizationInvitation>, ApiError> {
    Ok(axum::Json(app.core.organization_invitations().get(app.tenant.id(), &id).await?))
}

/// Delete an invitation.
#[utoipa::path(delete, path = "/api/organization-invitations/{id}", operation_id = "DeleteOrganizationInvitation", tag = "Organization invitations",
    params(("id" = String, Path, description = "Invitation id.")),
    responses((status = 204, description = "Deleted."), ErrorResponses))]
async fn delete_organization_invitation(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    app.core.organization_invitations().delete(app.tenant.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept (`acceptedUserId` becomes a member with the invitation's roles) or revoke a
/// pending invitation.
#[utoipa::path(put, path = "/api/organization-invitations/{id}/status", operation_id = "ReplaceOrganizationInvitationStatus", tag = "Organization invitations",
    params(("id" = String, Path, description = "Invitation id.")), request_body = InvitationStatusBody,
    responses((status = 200, body = OrganizationInvitation, description = "The updated invitation."), ErrorResponses))]
async fn replace_organization_invitation_status(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InvitationStatusBody>,
) -> Result<axum::Json<OrganizationInvitation>, ApiError> {
    let invitation = app
        .core
        .organization_invitations()
        .set_status(app.tenant.id(), &id, body.status, body.accepted_user_id.as_deref())
        .await?;
    Ok(axum::Json(invitation))
}

/// (Re)send the invitation email; the body holds the template variables (`link`…).
#[utoipa::path(post, path = "/api/organization-invitations/{id}/message", operation_id = "CreateOrganizationInvitationMessage", tag = "Organization invitations",
    params(("id" = String, Path, description = "Invitation id.")), request_body = InvitationMessage,
    responses((status = 204, description = "Sent."), ErrorResponses, DeliveryErrorResponses))]
async fn create_organization_invitation_message(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InvitationMessage>,
) -> Result<StatusCode, ApiError> {
    let mut payload: Map<String, Value> = body.extra;
    if let Some(link) = body.link {
        payload.insert("link".into(), link.into());
    }
    app.core.organization_invitations().send_message(app.tenant.id(), &id, payload).await?;
    Ok(StatusCode::NO_CONTENT)
}
