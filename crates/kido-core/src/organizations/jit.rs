//! Just-in-time provisioning: which new users join an organization by themselves (those
//! registering with a verified email of a listed domain; those signing in through a listed
//! SSO connector for the first time) and the default organization roles they receive.
//! Only user-initiated flows provision; the Management API never does.

use kido_proto::Page;
use kido_proto::organizations::{JitEmailDomain, OrganizationRole, SsoDomainConflict};
use kido_proto::organizations::{MemberKind, RoleFilter};
use kido_proto::roles::RoleType;
use kido_proto::sso_connectors::SsoConnector;
use kido_proto::{OrganizationId, TenantId};
use kido_store::organization_jit::{self as store, Jit};
use kido_store::organization_template as template_store;
use kido_store::organizations as member_store;
use kido_store::{Exec, Tx};
use serde_json::json;

use super::members::{admit_user, check_role_types, existing_organization, roles_by_id};
use super::{OrganizationError, Organizations, Result, find, invalid};
use crate::rows;
use crate::storage::StorageError;
use crate::{audit, clock, validate};

/// How a user came to be provisioned (recorded in the audit entry).
#[derive(Debug, Clone, Copy)]
pub enum Via {
    EmailDomain,
    SsoConnector,
    OneTimeToken,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Self::EmailDomain => "emailDomain",
            Self::SsoConnector => "ssoConnector",
            Self::OneTimeToken => "oneTimeToken",
        }
    }
}

impl Organizations<'_> {
    // --- email domains ---------------------------------------------------------------------

    /// A page of the organization's provisioning domains, each with a warning when an SSO
    /// connector claims it too.
    pub async fn jit_email_domains(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        page: Page,
    ) -> Result<(Vec<JitEmailDomain>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, organization_id).await?;
        let (domains, total) = store::values(&mut c, tenant, organization_id, Jit::EmailDomains, Some(page)).await?;
        let mut conflicts = sso_conflicts(&mut c, tenant, &domains).await?;
        let items = domains
            .into_iter()
            .map(|email_domain| {
                let warning =
                    conflicts.iter().position(|w| w.email_domain == email_domain).map(|i| conflicts.swap_remove(i));
                item(tenant, organization_id, email_domain, warning)
            })
            .collect();
        Ok((items, total))
    }

    /// Adds one domain (normalized); a domain already listed is a 422, as in Logto.
    pub async fn add_jit_email_domain(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        domain: &str,
    ) -> Result<JitEmailDomain> {
        let organization_id = organization_id.as_str();
        let domain = validate::email_domain(domain).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        find(&mut tx, tenant, organization_id).await?;
        let (current, _) = store::values(&mut tx, tenant, organization_id, Jit::EmailDomains, None).await?;
        if current.contains(&domain) {
            return Err(StorageError::Conflict(format!("email domain {domain}")).into());
        }
        store::add(&mut tx, tenant, organization_id, Jit::EmailDomains, std::slice::from_ref(&domain), clock::now_ms())
            .await?;
        jit_changed(&mut tx, tenant, organization_id, Jit::EmailDomains).await?;
        let warning = sso_conflicts(&mut tx, tenant, std::slice::from_ref(&domain)).await?.pop();
        tx.commit().await?;
        Ok(item(tenant, organization_id, domain, warning))
    }

    /// Replaces every domain (an empty list removes all).
    pub async fn replace_jit_email_domains(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        domains: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let mut normalized: Vec<String> = Vec::with_capacity(domains.len());
        for d in domains {
            let d = validate::email_domain(d).map_err(invalid)?;
            if normalized.contains(&d) {
                return Err(StorageError::Conflict(format!("email domain {d} is listed twice")).into());
            }
            normalized.push(d);
        }
        self.replace_jit(tenant, organization_id, Jit::EmailDomains, &normalized).await
    }

    pub async fn remove_jit_email_domain(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        domain: &str,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        // An unnormalizable value cannot be listed: the answer is the same 404.
        let domain = validate::email_domain(domain).unwrap_or_else(|_| domain.to_owned());
        self.remove_jit(tenant, organization_id, Jit::EmailDomains, &domain).await
    }

    // --- default roles ---------------------------------------------------------------------

    pub async fn jit_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        page: Option<Page>,
    ) -> Result<(Vec<OrganizationRole>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, organization_id).await?;
        let filter = RoleFilter { jit_of: Some(organization_id.to_owned()), ..Default::default() };
        Ok(rows::page(template_store::list_roles(&mut c, tenant, &filter, page).await?, rows::organization_role))
    }

    /// Adds default roles: existing `User` roles only.
    pub async fn add_jit_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        role_ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let role_ids = validate::ids(role_ids, "organizationRoleIds", false).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        check_user_roles(&mut tx, tenant, &role_ids).await?;
        store::add(&mut tx, tenant, organization_id, Jit::Roles, &role_ids, clock::now_ms()).await?;
        jit_changed(&mut tx, tenant, organization_id, Jit::Roles).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn replace_jit_roles(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        role_ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let role_ids = validate::ids(role_ids, "organizationRoleIds", true).map_err(invalid)?;
        self.replace_jit(tenant, organization_id, Jit::Roles, &role_ids).await
    }

    pub async fn remove_jit_role(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        role_id: &str,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        self.remove_jit(tenant, organization_id, Jit::Roles, role_id).await
    }

    // --- SSO connectors --------------------------------------------------------------------

    pub async fn jit_sso_connectors(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        page: Option<Page>,
    ) -> Result<(Vec<SsoConnector>, i64)> {
        let organization_id = organization_id.as_str();
        let mut c = self.core.store.conn().await?;
        find(&mut c, tenant, organization_id).await?;
        let (ids, total) = store::values(&mut c, tenant, organization_id, Jit::SsoConnectors, page).await?;
        let rows = kido_store::sso_connectors::find_many(&mut c, tenant, &ids).await?;
        Ok((rows.into_iter().map(rows::sso_connector).collect(), total))
    }

    pub async fn add_jit_sso_connectors(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let ids = validate::ids(ids, "ssoConnectorIds", false).map_err(invalid)?;
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        check_sso_connectors(&mut tx, tenant, &ids).await?;
        store::add(&mut tx, tenant, organization_id, Jit::SsoConnectors, &ids, clock::now_ms()).await?;
        jit_changed(&mut tx, tenant, organization_id, Jit::SsoConnectors).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn replace_jit_sso_connectors(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        ids: &[String],
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        let ids = validate::ids(ids, "ssoConnectorIds", true).map_err(invalid)?;
        self.replace_jit(tenant, organization_id, Jit::SsoConnectors, &ids).await
    }

    pub async fn remove_jit_sso_connector(
        &self,
        tenant: &TenantId,
        organization_id: &OrganizationId,
        id: &str,
    ) -> Result<()> {
        let organization_id = organization_id.as_str();
        self.remove_jit(tenant, organization_id, Jit::SsoConnectors, id).await
    }

    /// Provisioning through an SSO connector: called by enterprise sign-in when a new user
    /// signs in through `sso_connector_id`, or an existing user does so for the first time.
    /// Joins the user to every organization listing the connector, with its default roles;
    /// returns the organizations newly joined.
    pub async fn provision_by_sso_connector(
        &self,
        tenant: &TenantId,
        user_id: &str,
        sso_connector_id: &str,
    ) -> Result<Vec<String>> {
        let mut tx = self.core.store.begin().await?;
        if kido_store::users::find(&mut tx, tenant, user_id).await?.is_none() {
            return Err(OrganizationError::NotFound { entity: "users", id: user_id.to_owned() });
        }
        let organizations = store::organizations_with(
            &mut tx,
            tenant,
            Jit::SsoConnectors,
            std::slice::from_ref(&sso_connector_id.to_owned()),
        )
        .await?;
        let joined = join(&mut tx, tenant, user_id, &organizations, Via::SsoConnector).await?;
        tx.commit().await?;
        Ok(joined)
    }

    /// The shared PUT: checks the new values, then replaces the old ones in one transaction.
    async fn replace_jit(&self, tenant: &TenantId, organization_id: &str, kind: Jit, values: &[String]) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        existing_organization(&mut tx, tenant, organization_id).await?;
        match kind {
            Jit::Roles => check_user_roles(&mut tx, tenant, values).await?,
            Jit::SsoConnectors => check_sso_connectors(&mut tx, tenant, values).await?,
            Jit::EmailDomains => {}
        }
        store::remove_all(&mut tx, tenant, organization_id, kind).await?;
        store::add(&mut tx, tenant, organization_id, kind, values, clock::now_ms()).await?;
        jit_changed(&mut tx, tenant, organization_id, kind).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_jit(&self, tenant: &TenantId, organization_id: &str, kind: Jit, value: &str) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        if !store::remove(&mut tx, tenant, organization_id, kind, value).await? {
            return Err(OrganizationError::Gone);
        }
        jit_changed(&mut tx, tenant, organization_id, kind).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Email-domain provisioning, in the transaction that creates the user: a user who
/// registered with a verified `email` joins every organization listing its domain.
pub(crate) async fn provision_by_email(
    tx: &mut Tx,
    tenant: &TenantId,
    user_id: &str,
    email: &str,
) -> std::result::Result<Vec<String>, StorageError> {
    let Some(domain) = crate::identifiers::email_domain(email) else { return Ok(Vec::new()) };
    let organizations = store::organizations_with(tx, tenant, Jit::EmailDomains, &[domain]).await?;
    join(tx, tenant, user_id, &organizations, Via::EmailDomain).await
}

/// One-time-token provisioning, in the transaction that finishes the sign-in: the user joins
/// the organizations the token names (those that still exist in the tenant).
pub(crate) async fn provision_by_one_time_token(
    tx: &mut Tx,
    tenant: &TenantId,
    user_id: &str,
    organization_ids: &[String],
) -> std::result::Result<Vec<String>, StorageError> {
    let mut organizations = Vec::new();
    for id in organization_ids {
        if member_store::find(tx, tenant, id).await?.is_some() && !organizations.contains(id) {
            organizations.push(id.clone());
        }
    }
    join(tx, tenant, user_id, &organizations, Via::OneTimeToken).await
}

/// Makes the user a member of each organization (unless already one) with its default
/// `User` roles, and records `Organization.Membership.Updated` for each one joined.
async fn join(
    tx: &mut Tx,
    tenant: &TenantId,
    user_id: &str,
    organizations: &[String],
    via: Via,
) -> std::result::Result<Vec<String>, StorageError> {
    let mut joined = Vec::new();
    for org in organizations {
        // Provisioning is for newcomers: an existing member's roles stay as they are.
        if member_store::is_member(tx, tenant, org, MemberKind::User, user_id).await? {
            continue;
        }
        let filter = RoleFilter { jit_of: Some(org.clone()), role_type: Some(RoleType::User), ..Default::default() };
        let (roles, _) = template_store::list_roles(tx, tenant, &filter, None).await?;
        let role_ids: Vec<String> = roles.into_iter().map(|r| r.id).collect();
        let details = json!({"jit": via.as_str(), "organizationRoleIds": role_ids});
        admit_user(tx, tenant, org, user_id, &role_ids, details).await?;
        joined.push(org.clone());
    }
    Ok(joined)
}

/// Default roles are given to users, so only `User` roles qualify.
async fn check_user_roles(c: &mut impl Exec, tenant: &TenantId, role_ids: &[String]) -> Result<()> {
    check_role_types(MemberKind::User, &roles_by_id(c, tenant, role_ids).await?)
}

async fn check_sso_connectors(c: &mut impl Exec, tenant: &TenantId, ids: &[String]) -> Result<()> {
    let found = kido_store::sso_connectors::find_many(c, tenant, ids).await?;
    match ids.iter().find(|id| !found.iter().any(|f| &f.id == *id)) {
        None => Ok(()),
        Some(missing) => Err(OrganizationError::MissingReference(format!("SSO connector {missing} does not exist"))),
    }
}

async fn jit_changed(tx: &mut Tx, tenant: &TenantId, organization_id: &str, kind: Jit) -> Result<()> {
    let what = match kind {
        Jit::EmailDomains => "emailDomains",
        Jit::Roles => "roles",
        Jit::SsoConnectors => "ssoConnectors",
    };
    let details = json!({"organizationId": organization_id, "changed": [what]});
    audit::record(tx, tenant, audit::keys::ORGANIZATION_JIT_UPDATED, None, details).await?;
    Ok(())
}

fn item(
    tenant: &TenantId,
    organization_id: &str,
    email_domain: String,
    warning: Option<SsoDomainConflict>,
) -> JitEmailDomain {
    JitEmailDomain { tenant_id: tenant.to_string(), organization_id: organization_id.to_owned(), email_domain, warning }
}

/// For each of `domains` that is both an email-provisioning domain of some organization and
/// a domain of some SSO connector: the conflict. Email sign-in for such a domain goes to
/// SSO, so its email-domain provisioning never fires.
pub(crate) async fn sso_conflicts(
    c: &mut impl Exec,
    tenant: &TenantId,
    domains: &[String],
) -> std::result::Result<Vec<SsoDomainConflict>, StorageError> {
    if domains.is_empty() {
        return Ok(Vec::new());
    }
    let (connectors, _) = kido_store::sso_connectors::list(c, tenant, None).await?;
    let mut conflicts = Vec::new();
    for domain in domains {
        let claimed_by: Vec<String> =
            connectors.iter().filter(|s| s.domains.0.contains(domain)).map(|s| s.id.clone()).collect();
        if claimed_by.is_empty() {
            continue;
        }
        let organization_ids =
            store::organizations_with(c, tenant, Jit::EmailDomains, std::slice::from_ref(domain)).await?;
        if organization_ids.is_empty() {
            continue;
        }
        conflicts.push(SsoDomainConflict {
            code: SsoDomainConflict::CODE.into(),
            message: format!(
                "`{domain}` is also an SSO connector's domain: email sign-in for it goes to SSO, so email-domain \
                 provisioning will never fire. Provision these users through the SSO connector instead."
            ),
            email_domain: domain.clone(),
            organization_ids,
            sso_connector_ids: claimed_by,
        });
    }
    Ok(conflicts)
}
