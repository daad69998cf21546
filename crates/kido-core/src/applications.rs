//! Applications (OIDC clients): their metadata, their secrets and the rules around them.

use kido_proto::Page;
use kido_proto::TenantId;
use kido_proto::applications::ApplicationFilter;
use kido_proto::applications::{
    Application, ApplicationSecret, ApplicationType, CreateApplication, CreateApplicationSecret, OidcClientMetadata,
    UpdateApplication,
};
use kido_store::StoreError;
use kido_store::applications as store;
use thiserror::Error;

use crate::{Core, clock, ids, validate};

/// Name of the secret created with every confidential application, as in Logto.
pub const DEFAULT_SECRET_NAME: &str = "Default secret";

#[derive(Debug, Error)]
pub enum ApplicationError {
    #[error("application {0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
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
    Store(StoreError),
}

impl From<StoreError> for ApplicationError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

pub type Result<T> = std::result::Result<T, ApplicationError>;

pub struct Applications<'a> {
    pub(crate) core: &'a Core,
}

impl Applications<'_> {
    /// Creates an application; confidential ones get a "Default secret".
    pub async fn create(&self, tenant: &TenantId, input: CreateApplication) -> Result<Application> {
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
        check_client_metadata(&metadata)?;
        let custom_metadata = input.custom_client_metadata.unwrap_or_default();
        check_custom_metadata(input.app_type, &custom_metadata)?;
        let now = clock::now_ms();
        let app = Application {
            tenant_id: tenant.to_string(),
            id,
            name: validate::name(&input.name, "name", 256).map_err(ApplicationError::Invalid)?,
            description: input.description,
            app_type: input.app_type,
            oidc_client_metadata: metadata,
            custom_client_metadata: custom_metadata,
            protected_app_metadata: None,
            custom_data: validate::object(input.custom_data, "customData").map_err(ApplicationError::Invalid)?,
            is_third_party: input.is_third_party.unwrap_or(false),
            created_at: now,
        };
        let secret = app.app_type.is_confidential().then(|| ApplicationSecret {
            tenant_id: app.tenant_id.clone(),
            application_id: app.id.clone(),
            name: DEFAULT_SECRET_NAME.to_owned(),
            value: secret_value.unwrap_or_else(ids::new_secret),
            created_at: now,
            expires_at: None,
        });
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &app).await.map_err(|e| match e {
            StoreError::Conflict(_) => ApplicationError::Invalid(format!("application id `{}` is taken", app.id)),
            other => other.into(),
        })?;
        if let Some(secret) = &secret {
            store::insert_secret(&mut tx, secret).await?;
        }
        tx.commit().await?;
        Ok((app, secret))
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<Application> {
        let mut c = self.core.store.conn().await?;
        store::find(&mut c, tenant, id).await?.ok_or_else(|| ApplicationError::NotFound(id.to_owned()))
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &ApplicationFilter,
        page: Option<Page>,
    ) -> Result<(Vec<Application>, i64)> {
        let mut c = self.core.store.conn().await?;
        Ok(store::list(&mut c, tenant, filter, page).await?)
    }

    pub async fn update(&self, tenant: &TenantId, id: &str, patch: UpdateApplication) -> Result<Application> {
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
            check_client_metadata(&metadata)?;
            app.oidc_client_metadata = metadata;
        }
        if let Some(mut custom) = patch.custom_client_metadata {
            // The flow an app was made for is fixed: leaving the field out keeps it.
            let was_device_flow = app.custom_client_metadata.is_device_flow;
            if custom.is_device_flow.is_some_and(|d| d != was_device_flow.unwrap_or(false)) {
                return Err(ApplicationError::DeviceFlowNotChangeable);
            }
            custom.is_device_flow = custom.is_device_flow.or(was_device_flow);
            check_custom_metadata(app.app_type, &custom)?;
            app.custom_client_metadata = custom;
        }
        if let Some(data) = patch.custom_data {
            app.custom_data = validate::object(Some(data), "customData").map_err(ApplicationError::Invalid)?;
        }
        store::update(&mut tx, &app).await?;
        tx.commit().await?;
        Ok(app)
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(ApplicationError::NotFound(id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    // --- secrets -----------------------------------------------------------------------

    pub async fn secrets(&self, tenant: &TenantId, app_id: &str) -> Result<Vec<ApplicationSecret>> {
        let mut c = self.core.store.conn().await?;
        store::find(&mut c, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        Ok(store::list_secrets(&mut c, tenant, app_id).await?)
    }

    pub async fn add_secret(
        &self,
        tenant: &TenantId,
        app_id: &str,
        input: CreateApplicationSecret,
    ) -> Result<ApplicationSecret> {
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
        let secret = ApplicationSecret {
            tenant_id: tenant.to_string(),
            application_id: app.id,
            name,
            value: ids::new_secret(),
            created_at: now,
            expires_at: input.expires_at,
        };
        store::insert_secret(&mut tx, &secret).await.map_err(secret_conflict)?;
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn rename_secret(
        &self,
        tenant: &TenantId,
        app_id: &str,
        name: &str,
        new_name: &str,
    ) -> Result<ApplicationSecret> {
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
        Ok(secret)
    }

    pub async fn delete_secret(&self, tenant: &TenantId, app_id: &str, name: &str) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        store::find(&mut tx, tenant, app_id).await?.ok_or_else(|| ApplicationError::NotFound(app_id.to_owned()))?;
        if !store::delete_secret(&mut tx, tenant, app_id, name).await? {
            return Err(ApplicationError::SecretNotFound(name.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn secret_conflict(e: StoreError) -> ApplicationError {
    match e {
        StoreError::Conflict(_) => ApplicationError::SecretNameExists,
        other => other.into(),
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

/// Redirect URIs must be http(s) URLs or reverse-domain custom schemes (native apps);
/// post-logout URIs must be URLs. No fragments, no credentials, no dot segments.
fn check_client_metadata(metadata: &OidcClientMetadata) -> Result<()> {
    for uri in &metadata.redirect_uris {
        if !is_valid_redirect_uri(uri) {
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

fn is_valid_redirect_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else { return false };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if uri.split(['?', '#']).next().unwrap_or_default().split('/').any(|seg| matches!(seg, "." | ".." | "%2e" | "%2E"))
    {
        return false;
    }
    match url.scheme() {
        "http" | "https" => url.host().is_some(),
        // Native apps: reverse-domain custom scheme such as `com.example.app:/callback`.
        scheme => {
            let mut parts = scheme.split('.');
            let first_ok = parts.next().is_some_and(|p| p.starts_with(|c: char| c.is_ascii_lowercase()));
            let rest: Vec<&str> = parts.collect();
            first_ok
                && !rest.is_empty()
                && scheme.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                && rest.iter().all(|p| !p.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_redirect_uri;

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://app.example.com/callback",
            "http://localhost:3000/cb?x=1",
            "com.example.app:/callback",
            "io.kido.demo://cb",
        ] {
            assert!(is_valid_redirect_uri(ok), "{ok}");
        }
        for bad in [
            "not a url",
            "https://app.example.com/cb#frag",
            "https://u:p@example.com/cb",
            "myapp://cb",
            "javascript:alert(1)",
            "https://example.com/a/../b",
            "ftp:/x",
        ] {
            assert!(!is_valid_redirect_uri(bad), "{bad}");
        }
    }
}
