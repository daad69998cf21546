//! The consent prompt between a sign-in and the client (`/consent`, `GET|POST
//! /api/interaction/consent`): Logto answers it for first-party clients; a third-party
//! client's user sees what it asks for and allows or denies. The answer is written beside
//! the interaction's state in one statement (`interaction::store::record_consent`), and
//! `/oidc/auth/{uid}` acts on it.

use std::sync::Arc;

use kido_proto::organizations::{MemberKind, OrganizationFilter};
use kido_store::organizations as organization_store;
use kido_store::resources as resource_store;
use kido_store::users as user_store;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Experience, ExperienceError, Interaction, InteractionCookie, Result, resume_url};
use crate::interaction::Consent;
use crate::interaction::store as interactions;
use crate::oidc::claims::is_oidc_scope;
use crate::oidc::clients::{self, Client};
use crate::oidc::organizations::{ORGANIZATIONS_RESOURCE, ORGANIZATIONS_SCOPE};
use crate::{TenantContext, limits};

/// What `/consent` does next.
pub enum ConsentStep {
    /// Answered (a first-party client): back to `/oidc/auth/{uid}`.
    Answered(String),
    /// A third-party client: the user is asked.
    Ask(ConsentInfo),
}

/// What the consent page shows (Logto's consent info): the client, the signed-in user, the
/// scopes it asks for, where the browser goes afterwards.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentInfo {
    pub application: Value,
    pub user: Value,
    #[serde(rename = "missingOIDCScope")]
    pub missing_oidc_scope: Vec<String>,
    pub missing_resource_scopes: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<Value>>,
    pub redirect_uri: String,
    /// For the hosted page (not on the wire): its form's interaction, its language.
    #[serde(skip)]
    pub interaction_id: String,
    #[serde(skip)]
    pub ui_locales: Option<String>,
}

impl ConsentInfo {
    /// One line per scope asked for (OIDC scopes, then `indicator: scope` per resource).
    pub fn scope_lines(&self) -> Vec<String> {
        let mut lines = self.missing_oidc_scope.clone();
        for entry in &self.missing_resource_scopes {
            let indicator = entry["resource"]["indicator"].as_str().unwrap_or_default();
            for scope in entry["scopes"].as_array().into_iter().flatten() {
                lines.push(format!("{indicator}: {}", scope["name"].as_str().unwrap_or_default()));
            }
        }
        lines
    }
}

impl Experience<'_> {
    /// `GET /consent`: answers for a first-party client and returns where to go next; for a
    /// third-party one, what to ask. With `app_id` (the query `/oidc/auth/{uid}` sends) a
    /// first-party answer costs one statement: the interaction is not read.
    pub async fn consent_prompt(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        app_id: Option<&str>,
    ) -> Result<ConsentStep> {
        if let Some(client) = match app_id {
            Some(id) => self.client(tenant, id).await?,
            None => None,
        } && !client.app.is_third_party
            && let Some(uid) = self.record(tenant, cookie, client.id(), &granted(Vec::new())).await?
        {
            return Ok(ConsentStep::Answered(resume_url(tenant, &uid)));
        }
        let interaction = self.load(tenant, cookie).await?;
        let client = self.signed_in_client(tenant, &interaction).await?;
        if client.app.is_third_party {
            return Ok(ConsentStep::Ask(self.consent_info(tenant, &interaction, &client).await?));
        }
        self.answer_consent(tenant, cookie, &interaction, true, Vec::new()).await.map(ConsentStep::Answered)
    }

    /// `GET /api/interaction/consent`: what the consent page shows.
    pub async fn describe_consent(&self, tenant: &TenantContext, cookie: &InteractionCookie) -> Result<ConsentInfo> {
        let interaction = self.load(tenant, cookie).await?;
        let client = self.signed_in_client(tenant, &interaction).await?;
        self.consent_info(tenant, &interaction, &client).await
    }

    /// The user's answer (`POST /api/interaction/consent`, the consent page's buttons) on a
    /// loaded, signed-in interaction; `organization_ids` must be organizations the user is a
    /// member of. Returns where the browser goes next (`/oidc/auth/{uid}`).
    pub async fn answer_consent(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &Interaction,
        granted: bool,
        organization_ids: Vec<String>,
    ) -> Result<String> {
        let user_id = signed_in(interaction)?;
        let organization_ids = limits::distinct(organization_ids.iter().map(String::as_str), limits::MAX_IDS)
            .map_err(|e| ExperienceError::Invalid(format!("at most {} organizations", e.max)))?;
        if !organization_ids.is_empty() {
            let mine = self.user_organizations(tenant, user_id).await?;
            if let Some(other) = organization_ids.iter().find(|id| !mine.iter().any(|o| o["id"] == **id)) {
                return Err(ExperienceError::Invalid(format!("the user is not a member of organization `{other}`")));
            }
        }
        let answer = Consent { granted, organization_ids: organization_ids.into_iter().map(str::to_owned).collect() };
        let client_id = &interaction.params.client_id;
        let uid = self.record(tenant, cookie, client_id, &answer).await?.ok_or(ExperienceError::SessionNotFound)?;
        Ok(resume_url(tenant, &uid))
    }

    async fn record(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        client_id: &str,
        answer: &Consent,
    ) -> Result<Option<String>> {
        let mut c = self.core.store.conn().await?;
        Ok(interactions::record_consent(&mut c, &tenant.id, cookie, client_id, answer).await?)
    }

    async fn client(&self, tenant: &TenantContext, client_id: &str) -> Result<Option<Arc<Client>>> {
        clients::find(self.core, tenant, client_id).await.map_err(|e| ExperienceError::Internal(e.to_string()))
    }

    /// The interaction's client, once its user signed in.
    async fn signed_in_client(&self, tenant: &TenantContext, interaction: &Interaction) -> Result<Arc<Client>> {
        signed_in(interaction)?;
        self.client(tenant, &interaction.params.client_id).await?.ok_or(ExperienceError::SessionNotFound)
    }

    async fn consent_info(
        &self,
        tenant: &TenantContext,
        interaction: &Interaction,
        client: &Client,
    ) -> Result<ConsentInfo> {
        let user_id = signed_in(interaction)?;
        let params = &interaction.params;
        let mut c = self.core.store.conn().await?;
        let user = user_store::find(&mut c, &tenant.id, user_id).await?.ok_or(ExperienceError::UserNotExist)?;
        let mut missing_resource_scopes = Vec::new();
        for indicator in params.resources.iter().filter(|r| *r != ORGANIZATIONS_RESOURCE) {
            let Some(resource) = resource_store::find_by_indicator(&mut c, &tenant.id, indicator).await? else {
                continue;
            };
            let ids = [resource.id.clone()];
            let (scopes, _) = resource_store::list_scopes(&mut c, &tenant.id, &ids, None, None).await?;
            let scopes: Vec<Value> = scopes
                .into_iter()
                .filter(|s| params.scope.contains(&s.name))
                .map(|s| json!({"id": s.id, "name": s.name, "description": s.description}))
                .collect();
            if !scopes.is_empty() {
                let resource = json!({"id": resource.id, "name": resource.name, "indicator": resource.indicator});
                missing_resource_scopes.push(json!({"resource": resource, "scopes": scopes}));
            }
        }
        drop(c);
        let organizations = if params.scope.iter().any(|s| s == ORGANIZATIONS_SCOPE) {
            Some(self.user_organizations(tenant, user_id).await?)
        } else {
            None
        };
        let app = &client.app;
        Ok(ConsentInfo {
            application: json!({
                "id": app.id, "name": app.name, "description": app.description, "isThirdParty": app.is_third_party,
            }),
            user: json!({
                "id": user.id, "name": user.name, "avatar": user.avatar, "username": user.username,
                "primaryEmail": user.primary_email, "primaryPhone": user.primary_phone,
            }),
            missing_oidc_scope: params
                .scope
                .iter()
                .filter(|s| is_oidc_scope(s) || *s == "offline_access")
                .cloned()
                .collect(),
            missing_resource_scopes,
            organizations,
            redirect_uri: params.redirect_uri.clone(),
            interaction_id: interaction.id.clone(),
            ui_locales: params.ui_locales.clone(),
        })
    }

    /// `{id, name}` of the organizations the user is a member of.
    async fn user_organizations(&self, tenant: &TenantContext, user_id: &str) -> Result<Vec<Value>> {
        let filter = OrganizationFilter { member: Some((MemberKind::User, user_id.to_owned())), ..Default::default() };
        let mut c = self.core.store.conn().await?;
        let (found, _) = organization_store::list(&mut c, &tenant.id, &filter, None).await?;
        Ok(found.into_iter().map(|o| json!({"id": o.id, "name": o.name})).collect())
    }
}

fn granted(organization_ids: Vec<String>) -> Consent {
    Consent { granted: true, organization_ids }
}

/// The signed-in user's id; consent is asked only after the sign-in.
fn signed_in(interaction: &Interaction) -> Result<&str> {
    interaction.state.result.as_ref().map(|r| r.account_id.as_str()).ok_or(ExperienceError::IdentifierNotFound)
}
