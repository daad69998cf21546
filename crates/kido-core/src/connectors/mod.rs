//! Connectors: configured instances of a connector factory that deliver one-time codes
//! by email or SMS. At most one Email and one Sms connector per tenant: creating another
//! replaces the old one (as Logto). Configs are validated against their factory on write.

pub mod email_templates;
mod error;
pub mod factories;
pub mod http;
mod message;
pub mod outbox;
pub mod smtp;
pub mod templates;

use kido_proto::TenantId;
use kido_proto::connectors::{
    Connector, ConnectorFactory, ConnectorType, CreateConnector, EmailTemplateDetails, TemplateType, TestConnector,
    UpdateConnector,
};
use kido_store::connectors::{self as store, StoredConnector};
use kido_store::{Exec, Json};
use serde_json::{Value, json};

pub use self::error::ConnectorError;
use self::factories::Delivery;
pub use self::message::Message;
use crate::outbound;
use crate::{Core, clock, ids};

type Result<T> = std::result::Result<T, ConnectorError>;

pub struct Connectors<'a> {
    pub(crate) core: &'a Core,
}

impl Connectors<'_> {
    pub fn factories(&self) -> Vec<ConnectorFactory> {
        factories::all()
    }

    pub fn factory(&self, id: &str) -> Result<ConnectorFactory> {
        factories::find(id).ok_or_else(|| ConnectorError::NotFound(id.to_owned()))
    }

    /// All connectors, or those whose target is `target`.
    pub async fn list(&self, tenant: &TenantId, target: Option<&str>) -> Result<Vec<Connector>> {
        let mut c = self.core.store.conn().await?;
        let rows = store::list(&mut c, tenant).await?;
        Ok(rows.into_iter().filter_map(to_wire).filter(|x| target.is_none_or(|t| x.factory.target == t)).collect())
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<Connector> {
        let mut c = self.core.store.conn().await?;
        let row = store::find(&mut c, tenant, id).await?.ok_or_else(|| ConnectorError::NotFound(id.to_owned()))?;
        to_wire(row).ok_or_else(|| ConnectorError::NotFound(id.to_owned()))
    }

    pub async fn create(&self, tenant: &TenantId, input: CreateConnector) -> Result<Connector> {
        let factory = factories::find(&input.connector_id)
            .ok_or_else(|| ConnectorError::FactoryNotFound(input.connector_id.clone()))?;
        let config = input.config.unwrap_or_else(|| json!({}));
        Delivery::parse(&factory.id, &config)?;
        check_extras(&factory, input.metadata.as_ref(), input.sync_profile, input.enable_token_storage)?;
        let id = match input.id {
            Some(id) if is_connector_id(&id) => id,
            Some(_) => {
                return Err(ConnectorError::Invalid("`id` must be 1–128 lowercase letters, digits, `-` or `_`".into()));
            }
            None => ids::new_id(),
        };
        let row = StoredConnector {
            tenant_id: tenant.as_str().to_owned(),
            id: id.clone(),
            connector_id: factory.id.clone(),
            kind: factory.kind.as_str().to_owned(),
            config: Json(config),
            metadata: Json(json!({})),
            sync_profile: false,
            enable_token_storage: false,
            created_at: clock::now_ms(),
        };
        let mut tx = self.core.store.begin().await?;
        if store::find(&mut tx, tenant, &id).await?.is_some() {
            return Err(ConnectorError::Invalid(format!("a connector with id `{id}` already exists")));
        }
        // One email and one SMS connector per tenant: the new one replaces the old.
        if let Some(old) = store::find_by_kind(&mut tx, tenant, &row.kind).await? {
            store::delete(&mut tx, tenant, &old.id).await?;
        }
        store::insert(&mut tx, &row).await?;
        tx.commit().await?;
        to_wire(row).ok_or(ConnectorError::NotFound(id))
    }

    pub async fn update(&self, tenant: &TenantId, id: &str, input: UpdateConnector) -> Result<Connector> {
        let mut tx = self.core.store.begin().await?;
        let mut row = store::find(&mut tx, tenant, id).await?.ok_or_else(|| ConnectorError::NotFound(id.to_owned()))?;
        let factory = factories::find(&row.connector_id).ok_or_else(|| ConnectorError::NotFound(id.to_owned()))?;
        check_extras(&factory, input.metadata.as_ref(), input.sync_profile, input.enable_token_storage)?;
        if let Some(config) = input.config {
            Delivery::parse(&factory.id, &config)?;
            row.config = Json(config);
        }
        store::update(&mut tx, &row).await?;
        tx.commit().await?;
        to_wire(row).ok_or_else(|| ConnectorError::NotFound(id.to_owned()))
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<()> {
        let mut c = self.core.store.conn().await?;
        if !store::delete(&mut c, tenant, id).await? {
            return Err(ConnectorError::NotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Whether the tenant has a connector of `kind` (what code sign-in and reset need).
    pub async fn available(&self, c: &mut impl Exec, tenant: &TenantId, kind: ConnectorType) -> Result<bool> {
        Ok(store::find_by_kind(c, tenant, kind.as_str()).await?.is_some())
    }

    /// `POST /api/connectors/{factoryId}/test`: sends a `Generic` message with code
    /// `000000` through an unsaved config.
    pub async fn test(&self, tenant: &TenantId, factory_id: &str, input: TestConnector) -> Result<()> {
        let factory = factories::find(factory_id)
            .filter(|f| f.kind != ConnectorType::Social)
            .ok_or_else(|| ConnectorError::TestFactoryNotFound(factory_id.to_owned()))?;
        let to = match (&input.email, &input.phone, factory.kind) {
            (Some(email), None, ConnectorType::Email) if crate::identifiers::is_email(email) => email.clone(),
            (None, Some(phone), ConnectorType::Sms) if crate::identifiers::is_phone(phone) => phone.clone(),
            (Some(_), None, ConnectorType::Sms) | (None, Some(_), ConnectorType::Email) => {
                return Err(ConnectorError::UnexpectedType);
            }
            _ => return Err(ConnectorError::Invalid("give exactly one valid `email` or `phone`".into())),
        };
        let delivery = Delivery::parse(&factory.id, &input.config)?;
        let message = Message::code(&to, TemplateType::Generic, "000000", input.locale.as_deref());
        self.outgoing(tenant, delivery, message).await?.deliver().await
    }

    /// Delivers `message` through the tenant's connector of `kind`.
    pub async fn send(&self, tenant: &TenantId, kind: ConnectorType, message: Message) -> Result<()> {
        self.prepare(tenant, kind, message).await?.deliver().await
    }

    /// Everything delivering `message` needs, looked up now; the network part is left to
    /// [`Outgoing::deliver`], which may run detached from the request.
    pub async fn prepare(&self, tenant: &TenantId, kind: ConnectorType, message: Message) -> Result<Outgoing> {
        let row = {
            let mut c = self.core.store.conn().await?;
            store::find_by_kind(&mut c, tenant, kind.as_str()).await?.ok_or(ConnectorError::NoConnector(kind))?
        };
        let delivery = Delivery::parse(&row.connector_id, &row.config.0)?;
        self.outgoing(tenant, delivery, message).await
    }

    async fn outgoing(&self, tenant: &TenantId, delivery: Delivery, message: Message) -> Result<Outgoing> {
        let localized = match delivery {
            Delivery::Http(_) => None,
            Delivery::Smtp(_) | Delivery::Outbox => self.email_template(tenant, &message).await?,
        };
        let http = match delivery {
            Delivery::Http(_) => Some(self.core.http_client().await?),
            Delivery::Smtp(_) | Delivery::Outbox => None,
        };
        let (outbox_dir, allow_private) = (self.core.outbox_dir.clone(), self.core.outbound_allow_private);
        Ok(Outgoing { delivery, message, localized, http, outbox_dir, allow_private })
    }

    /// The tenant's email template for the message's type in the best language: the
    /// message's locale, its primary language, the sign-in experience's fallback language;
    /// then `Generic` in the fallback language where that may stand in.
    async fn email_template(&self, tenant: &TenantId, message: &Message) -> Result<Option<EmailTemplateDetails>> {
        let fallback = self
            .core
            .sign_in_experiences()
            .get(tenant)
            .await
            .map(|s| s.language_info.fallback_language)
            .unwrap_or_else(|_| "en".into());
        let mut c = self.core.store.conn().await?;
        let all = store::list_templates(&mut c, tenant, None, None).await?;
        if all.is_empty() {
            return Ok(None);
        }
        let wanted = message.template.as_str();
        let pick = |lang: &str, kind: &str| {
            all.iter().find(|t| t.language_tag.eq_ignore_ascii_case(lang) && t.template_type == kind)
        };
        let found = templates::languages(message.locale(), &fallback)
            .iter()
            .find_map(|lang| pick(lang, wanted))
            .or_else(|| message.template.generic_may_stand_in().then(|| pick(&fallback, "Generic")).flatten());
        Ok(found.and_then(|t| serde_json::from_value(t.details.0.clone()).ok()))
    }
}

/// A message ready to go: its connector's config, the template chosen for it.
pub struct Outgoing {
    delivery: Delivery,
    message: Message,
    localized: Option<EmailTemplateDetails>,
    /// The process's HTTP client, for an HTTP connector's delivery.
    http: Option<reqwest::Client>,
    outbox_dir: Option<std::path::PathBuf>,
    /// `KIDO_OUTBOUND_ALLOW_PRIVATE` (see `outbound`).
    allow_private: bool,
}

impl Outgoing {
    pub async fn deliver(self) -> Result<()> {
        let message = &self.message;
        let render = |text: &str| templates::render(text, &message.payload);
        match &self.delivery {
            Delivery::Http(config) => match &self.http {
                Some(client) => {
                    let url = url::Url::parse(&config.endpoint)
                        .map_err(|_| ConnectorError::Delivery("`endpoint` is not a URL".into()))?;
                    outbound::check_url(&url, self.allow_private).map_err(ConnectorError::Delivery)?;
                    config.send(client, message).await
                }
                None => Err(ConnectorError::Delivery("no HTTP client".into())),
            },
            Delivery::Smtp(config) => {
                // A template's `replyTo` is free text and may use variables.
                let reply_to = self.localized.as_ref().and_then(|t| t.reply_to.as_deref()).map(render);
                let mail = match &self.localized {
                    Some(t) => smtp::Mail {
                        to: &message.to,
                        from: t.send_from.as_deref(),
                        reply_to: reply_to.as_deref(),
                        subject: render(&t.subject),
                        body: render(&t.content),
                        kind: if t.content_type.as_deref() == Some("text/plain") {
                            smtp::ContentKind::Plain
                        } else {
                            smtp::ContentKind::Html
                        },
                    },
                    None => {
                        let t = config
                            .template(message.template)
                            .ok_or_else(|| ConnectorError::TemplateNotFound(message.template.as_str().into()))?;
                        smtp::Mail {
                            to: &message.to,
                            from: None,
                            reply_to: None,
                            subject: render(&t.subject),
                            body: render(&t.content),
                            kind: t.content_type,
                        }
                    }
                };
                // The server's addresses checked before lettre connects to it by name.
                outbound::resolve(&config.host, config.port, self.allow_private)
                    .await
                    .map_err(ConnectorError::Delivery)?;
                config.send(mail).await
            }
            Delivery::Outbox => {
                let dir = self.outbox_dir.as_deref().ok_or_else(|| {
                    ConnectorError::Delivery("this server has no data directory for an outbox".into())
                })?;
                let (subject, text) = match &self.localized {
                    Some(t) => (Some(render(&t.subject)), render(&t.content)),
                    None => (None, render(outbox::default_text(message.template))),
                };
                outbox::write(dir, message, subject.as_deref(), &text).await
            }
        }
    }
}

fn is_connector_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Passwordless connectors take no metadata overrides, no profile sync, no token storage.
fn check_extras(
    factory: &ConnectorFactory,
    metadata: Option<&Value>,
    sync_profile: Option<bool>,
    token_storage: Option<bool>,
) -> Result<()> {
    if metadata.is_some_and(|m| m.as_object().is_none_or(|o| !o.is_empty())) && !factory.is_standard {
        return Err(ConnectorError::MetadataNotAllowed);
    }
    if sync_profile == Some(true) && factory.kind != ConnectorType::Social {
        return Err(ConnectorError::SyncProfileNotAllowed);
    }
    if token_storage == Some(true) && !factory.is_token_storage_supported {
        return Err(ConnectorError::TokenStorageNotSupported);
    }
    Ok(())
}

fn to_wire(row: StoredConnector) -> Option<Connector> {
    let mut factory = factories::find(&row.connector_id)?;
    row.id.clone_into(&mut factory.id);
    Some(Connector {
        factory,
        connector_id: row.connector_id,
        sync_profile: row.sync_profile,
        enable_token_storage: row.enable_token_storage,
        metadata: row.metadata.0,
        extra_info: json!({}),
        config: row.config.0,
    })
}
