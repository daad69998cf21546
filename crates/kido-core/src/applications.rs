//! Applications (OIDC clients): their metadata, their secrets and the rules around them.

use kido_proto::MANAGEMENT_ROLE_ID;
use kido_proto::Page;
use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::{
    ACCOUNT_APP_ID, Application, ApplicationSecret, ApplicationType, ApplicationWithAdmin, CreateApplication,
    CreateApplicationSecret, CreateProtectedAppMetadata, DEMO_APP_ID, OidcClientMetadata, UpdateApplication,
    is_built_in,
};
use kido_proto::{ApplicationId, TenantId};
use kido_store::Json;
use kido_store::applications::{self as store, StoredApplication, StoredApplicationSecret};
use kido_store::roles as role_store;
use thiserror::Error;

use crate::storage::{self, StorageError};
use crate::{Core, clock, ids, redirect_uris, rows, validate};

/// Name of the secret created with every confidential application, as in Logto.
pub const DEFAULT_SECRET_NAME: &str = "Default secret";

#[derive(Debug, Error)]
pub enum ApplicationError {
    #[error("application {0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("SAML applications are managed under /api/saml-applications")]
    UseSamlApplicationApi,
    #[error("protected applications need `protectedAppMetadata`")]
    ProtectedAppMetadataRequired,
    #[error("`protectedAppMetadata.subDomain` is not a valid subdomain")]
    InvalidSubdomain,
    #[error("protected applications need a hosting provider, which this server does not have")]
    ProtectedAppsNotConfigured,
    #[error("only machine-to-machine applications can hold the Management API role")]
    AdminNeedsMachineToMachine,
    #[error("the tenant's Management API role no longer exists")]
    AdminRoleMissing,
    #[error("machine-to-machine applications cannot be third-party applications")]
    ThirdPartyTypeInvalid,
    #[error("only native applications can use the device flow")]
    DeviceFlowNativeOnly,
    #[error("`isDeviceFlow` cannot change once the application exists")]
    DeviceFlowNotChangeable,
    #[error("public applications (SPA, Native) cannot hold secrets")]
    SecretsNotSupported,
    #[error("a secret with this name already exists")]
    SecretNameExists,
    #[error("secret {0} does not exist")]
    SecretNotFound(String),
    #[error("`expiresAt` must be in the future")]
    ExpiryNotInFuture,
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(ApplicationError);

pub type Result<T> = std::result::Result<T, ApplicationError>;

/// The built-in Live Preview app as the Management API shows it (Logto's fixed data: created
/// at 0, no URIs of its own — the OIDC client adds `<endpoint>/demo-app`, see
/// `oidc::clients`). Bootstrap stores the same row so sign-ins with it can reference it.
pub fn demo_app(tenant: &TenantId) -> Application {
    rows::application(demo_app_row(tenant))
}

/// The stored row behind [`demo_app`].
pub(crate) fn demo_app_row(tenant: &TenantId) -> StoredApplication {
    StoredApplication {
        tenant_id: tenant.to_string(),
        id: DEMO_APP_ID.to_owned(),
        name: "Live Preview".to_owned(),
        description: Some("Preview for Sign-in Experience.".to_owned()),
        app_type: ApplicationType::Spa,
        oidc_client_metadata: Json(OidcClientMetadata::default()),
        custom_client_metadata: Json(Default::default()),
        custom_data: Json(serde_json::json!({})),
        is_third_party: false,
        created_at: 0,
    }
}

/// The stored row of the built-in account pages' client (`/account`, see `oidc::clients`):
/// a first-party SPA (public, PKCE) the server itself drives.
pub(crate) fn account_app_row(tenant: &TenantId) -> StoredApplication {
    StoredApplication {
        id: ACCOUNT_APP_ID.to_owned(),
        name: "Account".to_owned(),
        description: Some("The account pages of the tenant.".to_owned()),
        ..demo_app_row(tenant)
    }
}

/// Built-in apps are not the operator's to change: like Logto, writes find no such app.
fn editable(id: &str) -> Result<()> {
    if is_built_in(id) {
        return Err(ApplicationError::NotFound(id.to_owned()));
    }
    Ok(())
}

pub struct Applications<'a> {
    pub(crate) core: &'a Core,
}

impl Applications<'_> {
    /// Creates an application; confidential ones get a "Default secret". SAML and
    /// protected apps are refused as Logto OSS refuses them, in its order.
    pub async fn create(&self, tenant: &TenantId, input: CreateApplication) -> Result<Application> {
        // The body's shape is checked whatever the type, as Logto's guard does: a subdomain
        // longer than a DNS label is a bad request even where the metadata is then unused.
        if input.protected_app_metadata.as_ref().is_some_and(|m| m.sub_domain.len() > MAX_SUBDOMAIN_LEN) {
            return Err(ApplicationError::Invalid(format!(
                "`protectedAppMetadata.subDomain` must be at most {MAX_SUBDOMAIN_LEN} characters"
            )));
        }
        match (input.app_type, &input.protected_app_metadata) {
            (ApplicationType::Saml, _) => return Err(ApplicationError::UseSamlApplicationApi),
            (ApplicationType::Protected, None) => return Err(ApplicationError::ProtectedAppMetadataRequired),
            (ApplicationType::Protected, Some(metadata)) => return Err(protected_app_refusal(metadata)),
            _ => {}
        }
        self.create_with_id(tenant, ids::new_id(), input, None).await.map(|(app, _)| app)
    }

    /// Creates an application with a chosen id (bootstrap) and, for confidential types, a
    /// secret with the given value (or a fresh one). Returns the app and its secret.
    pub async fn create_with_id(
        &self,
        tenant: &TenantId,
        id: String,
        input: CreateApplication,
        secret_value: Option<String>,
    ) -> Result<(Application, Option<ApplicationSecret>)> {
        // Logto 1.42: SPA and Native apps may be third-party too.
        if input.is_third_party == Some(true) && input.app_type == ApplicationType::MachineToMachine {
            return Err(ApplicationError::ThirdPartyTypeInvalid);
        }
        let metadata = input.oidc_client_metadata.unwrap_or_default();
        check_client_metadata(input.app_type, &metadata)?;
        let custom_metadata = input.custom_client_metadata.unwrap_or_default();
        check_custom_metadata(input.app_type, &custom_metadata)?;
        let now = clock::now_ms();
        let app = StoredApplication {
            tenant_id: tenant.to_string(),
            id,
            name: validate::name(&input.name, "name", 256).map_err(ApplicationError::Invalid)?,
            description: input.description,
            app_type: input.app_type,
            oidc_client_metadata: Json(metadata),
            custom_client_metadata: Json(custom_metadata),
            custom_data: Json(validate::object(input.custom_data, "customData").map_err(ApplicationError::Invalid)?),
            is_third_party: input.is_third_party.unwrap_or(false),
            created_at: now,
        };
        let secret = app.app_type.is_confidential().then(|| StoredApplicationSecret {
            tenant_id: app.tenant_id.clone(),
            application_id: app.id.clone(),
            name: DEFAULT_SECRET_NAME.to_owned(),
            value: secret_value.unwrap_or_else(ids::new_secret),
            created_at: now,
            expires_at: None,
        });
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &app).await.map_err(|e| match e.into() {
            StorageError::Conflict(_) => ApplicationError::Invalid(format!("application id `{}` is taken", app.id)),
            other => ApplicationError::Store(other),
        })?;
        if let Some(secret) = &secret {
            store::insert_secret(&mut tx, secret).await?;
        }
        tx.commit().await?;
        Ok((rows::application(app), secret.map(secret_of)))
    }

    pub async fn get(&self, tenant: &TenantId, id: &ApplicationId) -> Result<Application> {
        let id = id.as_str();
        if id == DEMO_APP_ID {
            return Ok(demo_app(tenant));
        }
        if id == ACCOUNT_APP_ID {
            return Err(ApplicationError::NotFound(id.to_owned()));
        }
        let mut c = self.core.store.conn().await?;
        let app = store::find(&mut c, tenant, id).await?.ok_or_else(|| ApplicationError::NotFound(id.to_owned()))?;
        Ok(rows::application(app))
    }

    /// The application and whether it holds the Management API role (`isAdmin`).
    pub async fn get_with_admin(&self, tenant: &TenantId, id: &ApplicationId) -> Result<ApplicationWithAdmin> {
        let id = id.as_str();
        if id == DEMO_APP_ID {
            return Ok(ApplicationWithAdmin { application: demo_app(tenant), is_admin: false });
        }
        if id == ACCOUNT_APP_ID {
            return Err(ApplicationError::NotFound(id.to_owned()));
        }
        let mut c = self.core.store.conn().await?;
        let app = store::find(&mut c, tenant, id).await?.ok_or_else(|| ApplicationError::NotFound(id.to_owned()))?;
        let roles = role_store::role_ids_of_application(&mut c, tenant, id).await?;
        Ok(ApplicationWithAdmin {
            application: rows::application(app),
            is_admin: roles.iter().any(|r| r == MANAGEMENT_ROLE_ID),
        })
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &ApplicationFilter,
        page: Option<Page>,
    ) -> Result<(Vec<Application>, i64)> {
        let mut c = self.core.store.conn().await?;
        Ok(rows::page(store::list(&mut c, tenant, filter, page).await?, rows::application))
    }

    pub async fn update(&self, tenant: &TenantId, id: &ApplicationId, patch: UpdateApplication) -> Result<Application> {
        let id = id.as_str();
        editable(id)?;
        let mut tx = self.core.store.begin().await?;
        let mut app =
            store::find(&mut tx, tenant, id).await?.ok_or_else(|| ApplicationError::NotFound(id.to_owned()))?;
        if let Some(name) = patch.name {
            app.name = validate::name(&name, "name", 256).map_err(ApplicationError::Invalid)?;
        }
        if let Some(description) = patch.description {
            app.description = description;
        }
        if let Some(metadata) = patch.oidc_client_metadata {
            check_client_metadata(app.app_type, &metadata)?;
            app.oidc_client_metadata = Json(metadata);
        }
        if let Some(mut custom) = patch.custom_client_metadata {
            // The flow an app was made for is fixed: leaving the field out keeps it.
            let was_device_flow = app.custom_client_metadata.is_device_flow;
            if custom.is_device_flow.is_some_and(|d| d != was_device_flow.unwrap_or(false)) {
                return Err(ApplicationError::DeviceFlowNotChangeable);
            }
            custom.is_device_flow = custom.is_device_flow.or(was_device_flow);
            check_custom_metadata(app.app_type, &custom)?;
            app.custom_client_metadata = Json(custom);
        }
        if let Some(data) = patch.custom_data {
            app.custom_data = Json(validate::object(Some(data), "customData").map_err(ApplicationError::Invalid)?);
        }
        if let Some(is_admin) = patch.is_admin {
            set_admin(&mut tx, tenant, &app, is_admin).await?;
        }
        store::update(&mut tx, &app).await?;
        tx.commit().await?;
        Ok(rows::application(app))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &ApplicationId) -> Result<()> {
        let id = id.as_str();
        editable(id)?;
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(ApplicationError::NotFound(id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    // --- secrets -----------------------------------------------------------------------

    pub async fn secrets(&self, tenant: &TenantId, app_id: &ApplicationId) -> Result<Vec<ApplicationSecret>> {
        let app_id = app_id.as_str();
        let mut c = self.core.store.conn().await?;
        store::find(&mut c, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        Ok(store::list_secrets(&mut c, tenant, app_id).await?.into_iter().map(secret_of).collect())
    }

    pub async fn add_secret(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        input: CreateApplicationSecret,
    ) -> Result<ApplicationSecret> {
        let app_id = app_id.as_str();
        let name = validate::name(&input.name, "name", 256).map_err(ApplicationError::Invalid)?;
        let now = clock::now_ms();
        if input.expires_at.is_some_and(|at| at <= now) {
            return Err(ApplicationError::ExpiryNotInFuture);
        }
        let mut tx = self.core.store.begin().await?;
        let app =
            store::find(&mut tx, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        if !app.app_type.is_confidential() {
            return Err(ApplicationError::SecretsNotSupported);
        }
        let secret = StoredApplicationSecret {
            tenant_id: tenant.to_string(),
            application_id: app.id,
            name,
            value: ids::new_secret(),
            created_at: now,
            expires_at: input.expires_at,
        };
        store::insert_secret(&mut tx, &secret).await.map_err(secret_conflict)?;
        tx.commit().await?;
        Ok(secret_of(secret))
    }

    pub async fn rename_secret(
        &self,
        tenant: &TenantId,
        app_id: &ApplicationId,
        name: &str,
        new_name: &str,
    ) -> Result<ApplicationSecret> {
        let app_id = app_id.as_str();
        let new_name = validate::name(new_name, "name", 256).map_err(ApplicationError::Invalid)?;
        let mut tx = self.core.store.begin().await?;
        store::find(&mut tx, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        if !store::rename_secret(&mut tx, tenant, app_id, name, &new_name).await.map_err(secret_conflict)? {
            return Err(ApplicationError::SecretNotFound(name.to_owned()));
        }
        let secret = store::list_secrets(&mut tx, tenant, app_id)
            .await?
            .into_iter()
            .find(|s| s.name == new_name)
            .ok_or_else(|| ApplicationError::SecretNotFound(new_name.clone()))?;
        tx.commit().await?;
        Ok(secret_of(secret))
    }

    pub async fn delete_secret(&self, tenant: &TenantId, app_id: &ApplicationId, name: &str) -> Result<()> {
        let app_id = app_id.as_str();
        let mut tx = self.core.store.begin().await?;
        store::find(&mut tx, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        if !store::delete_secret(&mut tx, tenant, app_id, name).await? {
            return Err(ApplicationError::SecretNotFound(name.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn secret_of(s: StoredApplicationSecret) -> ApplicationSecret {
    ApplicationSecret {
        tenant_id: s.tenant_id,
        application_id: s.application_id,
        name: s.name,
        value: s.value,
        created_at: s.created_at,
        expires_at: s.expires_at,
    }
}

/// `isAdmin` in Logto is holding the tenant's internal admin role; here that is the
/// Management API role the bootstrap creates, so the flag and the access are one fact.
async fn set_admin(tx: &mut kido_store::Tx, tenant: &TenantId, app: &StoredApplication, is_admin: bool) -> Result<()> {
    let held = role_store::role_ids_of_application(tx, tenant, &app.id).await?.iter().any(|r| r == MANAGEMENT_ROLE_ID);
    if is_admin && !held {
        if app.app_type != ApplicationType::MachineToMachine {
            return Err(ApplicationError::AdminNeedsMachineToMachine);
        }
        if role_store::find(tx, tenant, MANAGEMENT_ROLE_ID).await?.is_none() {
            return Err(ApplicationError::AdminRoleMissing);
        }
        role_store::assign_to_application(tx, tenant, &app.id, &[MANAGEMENT_ROLE_ID.to_owned()], clock::now_ms())
            .await?;
    } else if !is_admin && held {
        role_store::remove_from_application(tx, tenant, &app.id, MANAGEMENT_ROLE_ID).await?;
    }
    Ok(())
}

/// What Logto OSS answers for a protected app with metadata: a bad subdomain first, then
/// that no provider is configured (protected apps are a Logto Cloud feature).
fn protected_app_refusal(metadata: &CreateProtectedAppMetadata) -> ApplicationError {
    if is_subdomain_label(&metadata.sub_domain) {
        ApplicationError::ProtectedAppsNotConfigured
    } else {
        ApplicationError::InvalidSubdomain
    }
}

/// The longest DNS label (and so protected-app subdomain).
const MAX_SUBDOMAIN_LEN: usize = 63;

/// One DNS label: 1–63 lowercase letters, digits and inner hyphens.
fn is_subdomain_label(v: &str) -> bool {
    (1..=MAX_SUBDOMAIN_LEN).contains(&v.len())
        && !v.starts_with('-')
        && !v.ends_with('-')
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn secret_conflict(e: impl Into<StorageError>) -> ApplicationError {
    match e.into() {
        StorageError::Conflict(_) => ApplicationError::SecretNameExists,
        other => ApplicationError::Store(other),
    }
}

/// Token lifetimes within the bounds the API documents.
fn check_custom_metadata(app_type: ApplicationType, m: &kido_proto::applications::CustomClientMetadata) -> Result<()> {
    if m.is_device_flow == Some(true) && app_type != ApplicationType::Native {
        return Err(ApplicationError::DeviceFlowNativeOnly);
    }
    if m.max_allowed_grants.is_some_and(|g| !(1..=10_000).contains(&g)) {
        return Err(ApplicationError::Invalid("`customClientMetadata.maxAllowedGrants` must be 1–10000".into()));
    }
    if m.id_token_ttl.is_some_and(|t| !(1..=86_400).contains(&t)) {
        return Err(ApplicationError::Invalid("`customClientMetadata.idTokenTtl` must be 1–86400 seconds".into()));
    }
    if m.refresh_token_ttl_in_days.is_some_and(|d| !(1..=90).contains(&d)) {
        return Err(ApplicationError::Invalid("`customClientMetadata.refreshTokenTtlInDays` must be 1–90".into()));
    }
    Ok(())
}

/// Redirect URIs as `redirect_uris::is_valid` allows for the app's type; post-logout URIs
/// must be URLs.
fn check_client_metadata(app_type: ApplicationType, metadata: &OidcClientMetadata) -> Result<()> {
    for uri in &metadata.redirect_uris {
        if !redirect_uris::is_valid(uri, app_type) {
            return Err(ApplicationError::Invalid(format!("`{uri}` is not a valid redirect URI")));
        }
    }
    for uri in &metadata.post_logout_redirect_uris {
        if url::Url::parse(uri).is_err() {
            return Err(ApplicationError::Invalid(format!("`{uri}` is not a valid post sign-out redirect URI")));
        }
    }
    if let Some(uri) = &metadata.backchannel_logout_uri
        && !matches!(url::Url::parse(uri), Ok(u) if u.scheme() == "https" || u.scheme() == "http")
    {
        return Err(ApplicationError::Invalid(format!("`{uri}` is not a valid back-channel logout URI")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn protected_app_subdomains_are_one_dns_label() {
        assert!(super::is_subdomain_label("my-app1"));
        for bad in ["", "-app", "app-", "My", "a.b", &"a".repeat(64)] {
            assert!(!super::is_subdomain_label(bad), "{bad}");
        }
    }
}
