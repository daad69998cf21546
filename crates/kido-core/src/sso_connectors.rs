//! Enterprise SSO connectors: their configuration, checked per provider, and the email
//! domains they claim. Organizations list them for just-in-time provisioning; signing in
//! through them comes later.

use kido_proto::Page;
use kido_proto::TenantId;
use kido_proto::sso_connectors::{
    CreateSsoConnector, PROVIDERS, SsoBranding, SsoConnectorMetadata, SsoConnectorProvider, SsoConnectorWithProvider,
    UpdateSsoConnector,
};
use kido_store::sso_connectors::{self as store, StoredSsoConnector};
use kido_store::{Exec, Json};
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::organizations::jit::sso_conflicts;
use crate::storage::{self, StorageError};
use crate::{Core, audit, clock, ids, rows, validate};

#[derive(Debug, Error)]
pub enum SsoConnectorError {
    #[error("SSO connector {0} does not exist")]
    NotFound(String),
    #[error("there is no SSO provider `{0}`")]
    UnknownProvider(String),
    #[error("the connector name {0} is already in use")]
    NameInUse(String),
    #[error("public email domains cannot be claimed by SSO: {}", .0.join(", "))]
    ForbiddenDomains(Vec<String>),
    #[error("domains listed twice: {}", .0.join(", "))]
    DuplicatedDomains(Vec<String>),
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(SsoConnectorError);

type Result<T> = std::result::Result<T, SsoConnectorError>;

/// Consumer mail services: nobody's organization, so no connector may claim them (Logto's list).
const PUBLIC_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "aol.com",
    "yandex.com",
    "mail.com",
    "protonmail.com",
    "yanex.com",
    "gmx.com",
    "mail.ru",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "sohu.com",
];

pub struct SsoConnectors<'a> {
    pub(crate) core: &'a Core,
}

impl SsoConnectors<'_> {
    pub fn providers(&self) -> Vec<SsoConnectorProvider> {
        PROVIDERS
            .iter()
            .map(|(provider_name, provider_type, name)| SsoConnectorProvider {
                provider_name: (*provider_name).into(),
                provider_type: (*provider_type).into(),
                name: (*name).into(),
                description: format!("Enterprise single sign-on through {name}."),
                logo: String::new(),
                logo_dark: String::new(),
            })
            .collect()
    }

    pub async fn create(&self, tenant: &TenantId, input: CreateSsoConnector) -> Result<SsoConnectorWithProvider> {
        let provider_type = provider_type(&input.provider_name)?;
        let row = StoredSsoConnector {
            tenant_id: tenant.to_string(),
            id: ids::new_id(),
            connector_name: validate::name(&input.connector_name, "connectorName", 128)
                .map_err(SsoConnectorError::Invalid)?,
            domains: Json(domains(input.domains.unwrap_or_default())?),
            config: Json(config(provider_type, input.config)?),
            branding: Json(branding(input.branding.unwrap_or_default())?),
            sync_profile: input.sync_profile.unwrap_or(false),
            provider_name: input.provider_name,
            created_at: clock::now_ms(),
        };
        let mut tx = self.core.store.begin().await?;
        store::insert(&mut tx, &row).await.map_err(|e| name_conflict(e, &row.connector_name))?;
        audit::record(&mut tx, tenant, audit::keys::SSO_CONNECTOR_CREATED, None, json!({"ssoConnectorId": row.id}))
            .await?;
        let out = with_provider(&mut tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<SsoConnectorWithProvider> {
        let mut c = self.core.store.conn().await?;
        let row = find(&mut c, tenant, id).await?;
        with_provider(&mut c, tenant, row).await
    }

    pub async fn list(&self, tenant: &TenantId, page: Option<Page>) -> Result<(Vec<SsoConnectorWithProvider>, i64)> {
        let mut c = self.core.store.conn().await?;
        let (rows, total) = store::list(&mut c, tenant, page).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(with_provider(&mut c, tenant, row).await?);
        }
        Ok((items, total))
    }

    /// Updates a connector; `config`, `domains` and `branding` are replaced as a whole, the
    /// provider cannot change.
    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: UpdateSsoConnector,
    ) -> Result<SsoConnectorWithProvider> {
        let mut tx = self.core.store.begin().await?;
        let mut row = find(&mut tx, tenant, id).await?;
        let mut changed = Vec::new();
        if let Some(name) = patch.connector_name {
            row.connector_name = validate::name(&name, "connectorName", 128).map_err(SsoConnectorError::Invalid)?;
            changed.push("connectorName");
        }
        if let Some(config_value) = patch.config {
            row.config = Json(config(provider_type(&row.provider_name)?, Some(config_value))?);
            changed.push("config");
        }
        if let Some(list) = patch.domains {
            row.domains = Json(domains(list)?);
            changed.push("domains");
        }
        if let Some(b) = patch.branding {
            row.branding = Json(branding(b)?);
            changed.push("branding");
        }
        if let Some(sync) = patch.sync_profile {
            row.sync_profile = sync;
            changed.push("syncProfile");
        }
        store::update(&mut tx, &row).await.map_err(|e| name_conflict(e, &row.connector_name))?;
        let mut details = audit::changed(&changed);
        details["ssoConnectorId"] = json!(row.id);
        audit::record(&mut tx, tenant, audit::keys::SSO_CONNECTOR_UPDATED, None, details).await?;
        let out = with_provider(&mut tx, tenant, row).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The connectors a user can sign in with: configured and claiming at least one domain.
    pub async fn for_sign_in(&self, tenant: &TenantId) -> Result<Vec<SsoConnectorMetadata>> {
        let mut c = self.core.store.conn().await?;
        let (rows, _) = store::list(&mut c, tenant, None).await?;
        Ok(rows
            .into_iter()
            .filter(|row| row.config.0.as_object().is_some_and(|c| !c.is_empty()) && !row.domains.0.is_empty())
            .map(|row| {
                let branding: SsoBranding = serde_json::from_value(row.branding.0).unwrap_or_default();
                SsoConnectorMetadata {
                    id: row.id,
                    connector_name: branding.display_name.unwrap_or(row.connector_name),
                    logo: branding.logo.unwrap_or_default(),
                    dark_logo: branding.dark_logo,
                    domains: row.domains.0,
                }
            })
            .collect())
    }

    /// Deletes a connector; organizations stop listing it.
    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut tx = self.core.store.begin().await?;
        if !store::delete(&mut tx, tenant, id).await? {
            return Err(SsoConnectorError::NotFound(id.to_owned()));
        }
        audit::record(&mut tx, tenant, audit::keys::SSO_CONNECTOR_DELETED, None, json!({"ssoConnectorId": id})).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn with_provider(
    c: &mut impl Exec,
    tenant: &TenantId,
    row: StoredSsoConnector,
) -> Result<SsoConnectorWithProvider> {
    let (_, provider_type, name) = PROVIDERS
        .iter()
        .find(|(p, _, _)| *p == row.provider_name)
        .ok_or_else(|| StorageError::Corrupt(format!("SSO connector {} has provider {}", row.id, row.provider_name)))?;
    let warnings = sso_conflicts(c, tenant, &row.domains.0).await?;
    Ok(SsoConnectorWithProvider {
        connector: rows::sso_connector(row),
        name: (*name).into(),
        provider_type: (*provider_type).into(),
        provider_logo: String::new(),
        provider_logo_dark: String::new(),
        warnings,
    })
}

async fn find(c: &mut impl Exec, tenant: &TenantId, id: &str) -> Result<StoredSsoConnector> {
    store::find(c, tenant, id).await?.ok_or_else(|| SsoConnectorError::NotFound(id.to_owned()))
}

fn provider_type(provider_name: &str) -> Result<&'static str> {
    PROVIDERS
        .iter()
        .find(|(p, _, _)| *p == provider_name)
        .map(|(_, t, _)| *t)
        .ok_or_else(|| SsoConnectorError::UnknownProvider(provider_name.to_owned()))
}

/// Lower-cased, well-formed, listed once, and no public mail service.
fn domains(list: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    let mut duplicated = Vec::new();
    for d in &list {
        let d = validate::email_domain(d).map_err(SsoConnectorError::Invalid)?;
        if out.contains(&d) {
            duplicated.push(d);
        } else {
            out.push(d);
        }
    }
    if !duplicated.is_empty() {
        return Err(SsoConnectorError::DuplicatedDomains(duplicated));
    }
    let forbidden: Vec<String> = out.iter().filter(|d| PUBLIC_EMAIL_DOMAINS.contains(&d.as_str())).cloned().collect();
    if !forbidden.is_empty() {
        return Err(SsoConnectorError::ForbiddenDomains(forbidden));
    }
    Ok(out)
}

/// SAML request-signing settings Logto drops from a connector's config on create and update.
const SAML_UNSUPPORTED_KEYS: [&str; 2] = ["signAuthnRequest", "requestSignatureAlgorithm"];

/// A provider's config is all or nothing: absent (to be filled in later) or complete.
/// OIDC-based providers need `clientId`, `clientSecret` and an https `issuer`; SAML-based ones
/// `metadataUrl`, `metadata`, or `entityId` + `signInEndpoint` + `x509Certificate`.
fn config(provider_type: &str, value: Option<Value>) -> Result<Value> {
    let mut map: Map<String, Value> = match value {
        None => return Ok(json!({})),
        Some(Value::Object(map)) if map.is_empty() => return Ok(json!({})),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(SsoConnectorError::InvalidConfig("`config` must be an object".into())),
    };
    if provider_type != "oidc" {
        // As Logto: SAML requests are not signed, so these settings are not kept.
        for key in SAML_UNSUPPORTED_KEYS {
            map.remove(key);
        }
    }
    let text = |key: &str| map.get(key).and_then(Value::as_str).filter(|v| !v.trim().is_empty());
    let url = |key: &str| {
        text(key).and_then(|v| url::Url::parse(v).ok()).filter(|u| u.scheme() == "https" || u.scheme() == "http")
    };
    match provider_type {
        "oidc" => {
            for key in ["clientId", "clientSecret"] {
                if text(key).is_none() {
                    return Err(SsoConnectorError::InvalidConfig(format!("`{key}` is required")));
                }
            }
            if url("issuer").is_none() {
                return Err(SsoConnectorError::InvalidConfig("`issuer` must be an http(s) URL".into()));
            }
        }
        _ => {
            let by_url = url("metadataUrl").is_some();
            let by_document = text("metadata").is_some();
            let by_fields =
                text("entityId").is_some() && url("signInEndpoint").is_some() && text("x509Certificate").is_some();
            if !(by_url || by_document || by_fields) {
                return Err(SsoConnectorError::InvalidConfig(
                    "give `metadataUrl`, `metadata`, or `entityId` with `signInEndpoint` and `x509Certificate`".into(),
                ));
            }
        }
    }
    Ok(Value::Object(map))
}

fn branding(b: SsoBranding) -> Result<Value> {
    for (field, v) in [("logo", &b.logo), ("darkLogo", &b.dark_logo)] {
        if let Some(v) = v
            && !matches!(url::Url::parse(v), Ok(u) if u.scheme() == "https" || u.scheme() == "http")
        {
            return Err(SsoConnectorError::Invalid(format!("`branding.{field}` must be an http(s) URL")));
        }
    }
    serde_json::to_value(b).map_err(|e| SsoConnectorError::Invalid(e.to_string()))
}

fn name_conflict(e: impl Into<StorageError>, name: &str) -> SsoConnectorError {
    match e.into() {
        StorageError::Conflict(_) => SsoConnectorError::NameInUse(name.to_owned()),
        other => SsoConnectorError::Store(other),
    }
}
