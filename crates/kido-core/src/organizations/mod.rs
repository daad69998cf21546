//! Organizations (multi-tenant B2B apps): the organizations, their members and member
//! roles (`members.rs`), the organization template of roles and scopes (`template.rs`) and
//! invitations (`invitations.rs`). Every change is written to the audit log in its own
//! transaction under the name of the webhook event Logto fires for it (see `audit::keys`).

pub mod invitations;
pub mod jit;
pub mod members;
pub mod template;

use kido_proto::Page;
use kido_proto::organizations::OrganizationFilter;
use kido_proto::organizations::{CreateOrganization, Organization, OrganizationWithFeatured, UpdateOrganization};
use kido_proto::{OrganizationId, TenantId};
use kido_store::organizations::{self as store, StoredOrganization};
use kido_store::{Exec, Json};
use serde_json::json;
use thiserror::Error;

use crate::connectors::ConnectorError;
use crate::storage::{self, StorageError};
use crate::{Core, audit, clock, ids, rows, validate};

/// What the organization features refuse, in Logto's terms.
#[derive(Debug, Error)]
pub enum OrganizationError {
    /// An entity looked up by id does not exist (`entity` is Logto's table name).
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: String },
    /// The row to delete, or the relation to remove, does not exist.
    #[error("the resource does not exist")]
    Gone,
    #[error("{0}")]
    Invalid(String),
    /// An id in the request names nothing in this tenant.
    #[error("{0}")]
    MissingReference(String),
    #[error("the name {0} is already in use")]
    NameInUse(String),
    /// A role or application of the wrong kind for the relation (Logto's check constraints).
    #[error("{0}")]
    WrongType(String),
    #[error("the user or application must be a member of the organization")]
    RequireMembership,
    #[error("invalid role names: {}", .0.join(", "))]
    RoleNamesNotFound(Vec<String>),
    /// An invitation rule (state machine, invitee, expiry) refused the request.
    #[error("{0}")]
    InvitationRule(String),
    #[error("the value of `expiresAt` must be in the future")]
    ExpiryNotInFuture,
    #[error(transparent)]
    Message(ConnectorError),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(OrganizationError);

pub type Result<T> = std::result::Result<T, OrganizationError>;

fn invalid(details: String) -> OrganizationError {
    OrganizationError::Invalid(details)
}

pub struct Organizations<'a> {
    pub(crate) core: &'a Core,
}

impl Organizations<'_> {
    pub async fn create(&self, tenant: &TenantId, input: CreateOrganization) -> Result<Organization> {
        let org = StoredOrganization {
            tenant_id: tenant.to_string(),
            id: ids::new_short_id(),
            name: validate::name(&input.name, "name", 128).map_err(invalid)?,
            description: validate::text(input.description, "description", 256).map_err(invalid)?,
            custom_data: Json(validate::object(input.custom_data, "customData").map_err(invalid)?),
            is_mfa_required: input.is_mfa_required.unwrap_or(false),
            color: Json(input.color.unwrap_or_default()),
            branding: Json(input.branding.unwrap_or_default()),
            custom_css: input.custom_css,
            created_at: clock::now_ms(),
        };
        check_looks(&org)?;
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &org).await?;
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_CREATED, None, json!({"organizationId": org.id}))
            .await?;
        tx.commit().await?;
        Ok(rows::organization(org))
    }

    pub async fn get(&self, tenant: &TenantId, id: &OrganizationId) -> Result<Organization> {
        let id = id.as_str();
        let mut c = self.core.store.conn().await?;
        Ok(rows::organization(find(&mut c, tenant, id).await?))
    }

    /// A page of organizations; with `featured`, each with its member count and first members.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &OrganizationFilter,
        featured: bool,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationWithFeatured>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (orgs, total) = store::list(&mut c, tenant, filter, page).await?;
        if !featured {
            let items = orgs
                .into_iter()
                .map(|o| OrganizationWithFeatured {
                    organization: rows::organization(o),
                    users_count: None,
                    featured_users: None,
                })
                .collect();
            return Ok((items, total));
        }
        let ids: Vec<String> = orgs.iter().map(|o| o.id.clone()).collect();
        let mut stats = store::user_stats(&mut c, tenant, &ids).await?;
        let items = orgs
            .into_iter()
            .map(|o| {
                let (count, users) = stats.remove(&o.id).unwrap_or_default();
                OrganizationWithFeatured {
                    organization: rows::organization(o),
                    users_count: Some(count),
                    featured_users: Some(users.into_iter().map(rows::featured_user).collect()),
                }
            })
            .collect();
        Ok((items, total))
    }

    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &OrganizationId,
        patch: UpdateOrganization,
    ) -> Result<Organization> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        let mut org = find(&mut tx, tenant, id).await?;
        let mut changed = Vec::new();
        if let Some(name) = patch.name {
            org.name = validate::name(&name, "name", 128).map_err(invalid)?;
            changed.push("name");
        }
        if let Some(description) = patch.description {
            org.description = validate::text(description, "description", 256).map_err(invalid)?;
            changed.push("description");
        }
        if let Some(custom_data) = patch.custom_data {
            // Replaced, not merged (as Logto).
            org.custom_data = Json(validate::object(Some(custom_data), "customData").map_err(invalid)?);
            changed.push("customData");
        }
        if let Some(required) = patch.is_mfa_required {
            org.is_mfa_required = required;
            changed.push("isMfaRequired");
        }
        if let Some(color) = patch.color {
            org.color = Json(color);
            changed.push("color");
        }
        if let Some(branding) = patch.branding {
            org.branding = Json(branding);
            changed.push("branding");
        }
        if let Some(css) = patch.custom_css {
            org.custom_css = css;
            changed.push("customCss");
        }
        check_looks(&org)?;
        store::update(&mut tx, &org).await?;
        let mut details = audit::changed(&changed);
        details["organizationId"] = json!(org.id);
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_DATA_UPDATED, None, details).await?;
        tx.commit().await?;
        Ok(rows::organization(org))
    }

    /// Deletes an organization with its memberships, member roles and invitations.
    pub async fn delete(&self, tenant: &TenantId, id: &OrganizationId) -> Result<()> {
        let id = id.as_str();
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(OrganizationError::Gone);
        }
        audit::record(&mut tx, tenant, audit::keys::ORGANIZATION_DELETED, None, json!({"organizationId": id})).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredOrganization> {
    store::find(c, tenant, id)
        .await?
        .ok_or_else(|| OrganizationError::NotFound { entity: "organizations", id: id.to_owned() })
}

/// Colors are hex colors and branding images are absolute http(s) URLs (Logto's guards).
fn check_looks(org: &StoredOrganization) -> Result<()> {
    let hex = |field: &str, v: &Option<String>| match v {
        Some(v)
            if !(v.len() == 7 || v.len() == 4)
                || !v.starts_with('#')
                || !v[1..].chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Err(invalid(format!("`color.{field}` must be a hex color like #5d34f2")))
        }
        _ => Ok(()),
    };
    hex("primaryColor", &org.color.primary_color)?;
    hex("darkPrimaryColor", &org.color.dark_primary_color)?;
    let b = &org.branding;
    for (field, v) in [
        ("logoUrl", &b.logo_url),
        ("darkLogoUrl", &b.dark_logo_url),
        ("favicon", &b.favicon),
        ("darkFavicon", &b.dark_favicon),
    ] {
        // Any URL as Logto (data:, custom schemes…), but never script: a logo URL ends up
        // in pages and apps as a link target too.
        if let Some(v) = v
            && !matches!(url::Url::parse(v), Ok(u) if !matches!(u.scheme(), "javascript" | "vbscript"))
        {
            return Err(invalid(format!("`branding.{field}` must be a URL (not javascript:)")));
        }
    }
    if org.custom_css.as_ref().is_some_and(|css| css.len() > 64 * 1024) {
        return Err(invalid("`customCss` must be at most 64 KiB".into()));
    }
    Ok(())
}
