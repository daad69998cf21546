//! Per-language email templates (`/api/email-templates`): they override an email
//! connector's own templates for a language and a message type.

use kido_proto::TenantId;
use kido_proto::connectors::{
    EmailTemplate, EmailTemplateDetails, NewEmailTemplate, TemplateType, UpdateEmailTemplateDetails,
};
use kido_store::Json;
use kido_store::connectors::{self as store, StoredEmailTemplate};

use super::ConnectorError;
use crate::{Core, clock, ids};

type Result<T> = std::result::Result<T, ConnectorError>;

pub struct EmailTemplates<'a> {
    pub(crate) core: &'a Core,
}

impl EmailTemplates<'_> {
    pub async fn list(
        &self,
        tenant: &TenantId,
        language_tag: Option<&str>,
        template_type: Option<TemplateType>,
    ) -> Result<Vec<EmailTemplate>> {
        let mut c = self.core.store.conn().await?;
        let rows = store::list_templates(&mut c, tenant, language_tag, template_type.map(TemplateType::as_str)).await?;
        Ok(rows.into_iter().filter_map(to_wire).collect())
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<EmailTemplate> {
        let mut c = self.core.store.conn().await?;
        let row = store::find_template(&mut c, tenant, id)
            .await?
            .ok_or_else(|| ConnectorError::EmailTemplateNotFound(id.into()))?;
        to_wire(row).ok_or_else(|| ConnectorError::EmailTemplateNotFound(id.into()))
    }

    /// Creates or replaces each (language, type) given, in one transaction.
    pub async fn put(&self, tenant: &TenantId, templates: Vec<NewEmailTemplate>) -> Result<Vec<EmailTemplate>> {
        if templates.is_empty() {
            return Err(ConnectorError::Invalid("`templates` must hold at least one template".into()));
        }
        for t in &templates {
            check_language(&t.language_tag)?;
            check_details(&t.details)?;
        }
        let now = clock::now_ms();
        let mut tx = self.core.store.begin().await?;
        let mut out = Vec::with_capacity(templates.len());
        for t in templates {
            let details = serde_json::to_value(&t.details).map_err(|e| ConnectorError::Invalid(e.to_string()))?;
            let row = StoredEmailTemplate {
                tenant_id: tenant.as_str().to_owned(),
                id: ids::new_id(),
                language_tag: t.language_tag,
                template_type: t.template_type.as_str().to_owned(),
                details: Json(details),
                created_at: now,
            };
            out.extend(to_wire(store::upsert_template(&mut tx, &row).await?));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Shallow-merges `patch` into a template's details.
    pub async fn update_details(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: UpdateEmailTemplateDetails,
    ) -> Result<EmailTemplate> {
        let mut tx = self.core.store.begin().await?;
        let row = store::find_template(&mut tx, tenant, id)
            .await?
            .ok_or_else(|| ConnectorError::EmailTemplateNotFound(id.into()))?;
        let mut details: EmailTemplateDetails =
            serde_json::from_value(row.details.0.clone()).map_err(|e| ConnectorError::Invalid(e.to_string()))?;
        if let Some(v) = patch.subject {
            details.subject = v;
        }
        if let Some(v) = patch.content {
            details.content = v;
        }
        if patch.content_type.is_some() {
            details.content_type = patch.content_type;
        }
        if patch.reply_to.is_some() {
            details.reply_to = patch.reply_to;
        }
        if patch.send_from.is_some() {
            details.send_from = patch.send_from;
        }
        check_details(&details)?;
        let value = serde_json::to_value(&details).map_err(|e| ConnectorError::Invalid(e.to_string()))?;
        store::update_template_details(&mut tx, tenant, id, &value).await?;
        tx.commit().await?;
        Ok(EmailTemplate { details, ..to_wire(row).ok_or_else(|| ConnectorError::EmailTemplateNotFound(id.into()))? })
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        if store::delete_templates(&mut c, tenant, Some(id), None, None).await? == 0 {
            return Err(ConnectorError::EmailTemplateNotFound(id.into()));
        }
        Ok(())
    }

    /// Deletes every template of a language and/or a type; at least one filter is required.
    pub async fn delete_matching(
        &self,
        tenant: &TenantId,
        language_tag: Option<&str>,
        template_type: Option<TemplateType>,
    ) -> Result<u64> {
        if language_tag.is_none() && template_type.is_none() {
            return Err(ConnectorError::BulkDeletionWithoutFilter);
        }
        let mut c = self.core.store.conn().await?;
        Ok(store::delete_templates(&mut c, tenant, None, language_tag, template_type.map(TemplateType::as_str)).await?)
    }
}

fn check_language(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 16
        && tag.split('-').all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok { Ok(()) } else { Err(ConnectorError::Invalid(format!("`languageTag` `{tag}` is not a language tag"))) }
}

fn check_details(d: &EmailTemplateDetails) -> Result<()> {
    if d.subject.trim().is_empty() || d.content.trim().is_empty() {
        return Err(ConnectorError::Invalid("`details.subject` and `details.content` must not be empty".into()));
    }
    if d.content_type.as_deref().is_some_and(|t| t != "text/html" && t != "text/plain") {
        return Err(ConnectorError::Invalid("`details.contentType` must be `text/html` or `text/plain`".into()));
    }
    // `replyTo` is free text (as Logto's: it may hold `{{…}}` variables); the mail takes it
    // when it renders to an address. `sendFrom` must be one.
    if d.send_from.as_deref().is_some_and(|v| !crate::identifiers::is_email(v)) {
        return Err(ConnectorError::Invalid("`details.sendFrom` must be an email address".into()));
    }
    if d.reply_to.as_deref().is_some_and(|v| v.len() > 256) {
        return Err(ConnectorError::Invalid("`details.replyTo` must be at most 256 characters".into()));
    }
    Ok(())
}

fn to_wire(row: StoredEmailTemplate) -> Option<EmailTemplate> {
    Some(EmailTemplate {
        template_type: TemplateType::parse(&row.template_type)?,
        details: serde_json::from_value(row.details.0).ok()?,
        tenant_id: row.tenant_id,
        id: row.id,
        language_tag: row.language_tag,
        created_at: row.created_at,
    })
}
