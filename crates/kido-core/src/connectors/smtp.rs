//! The SMTP email connector (Logto's `simple-mail-transfer-protocol` config shape):
//! implicit TLS when `secure`, otherwise STARTTLS when offered (required with
//! `requireTLS`, skipped with `ignoreTLS`), login or XOAUTH2 authentication, or none (a
//! local relay or mail sink: no `auth`, or an empty one).

use std::collections::BTreeMap;
use std::time::Duration;

use kido_proto::connectors::TemplateType;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ConnectorError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpTemplate {
    pub usage_type: String,
    pub content_type: ContentKind,
    pub subject: String,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentKind {
    #[serde(rename = "text/plain")]
    Plain,
    #[serde(rename = "text/html")]
    Html,
}

/// How to log in to the server. OAuth2 is tried first: a login's `user`/`pass` default to
/// empty, and an empty login (`{}`, or `""`/`""` as Logto's console saves it) means none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SmtpAuth {
    OAuth2 {
        user: String,
        #[serde(rename = "accessToken")]
        access_token: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    },
    Login {
        #[serde(default)]
        user: String,
        #[serde(default)]
        pass: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    },
}

impl SmtpAuth {
    /// The credentials and mechanisms to log in with; `None` for a server that takes mail
    /// without a login (a local relay or mail sink).
    fn login(&self) -> Option<(Credentials, Vec<Mechanism>)> {
        match self {
            Self::Login { user, pass, .. } if user.is_empty() && pass.is_empty() => None,
            Self::Login { user, pass, .. } => {
                Some((Credentials::new(user.clone(), pass.clone()), vec![Mechanism::Plain, Mechanism::Login]))
            }
            Self::OAuth2 { user, access_token, .. } => {
                Some((Credentials::new(user.clone(), access_token.clone()), vec![Mechanism::Xoauth2]))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsOptions {
    #[serde(default)]
    pub reject_unauthorized: Option<bool>,
    #[serde(default)]
    pub servername: Option<String>,
}

/// Milliseconds; shorter than nodemailer's two minutes, since a request waits for it.
fn default_connection_timeout() -> u64 {
    30_000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// Absent for a server that takes mail without a login.
    #[serde(default)]
    pub auth: Option<SmtpAuth>,
    pub from_email: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    pub templates: Vec<SmtpTemplate>,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub require_tls: bool,
    #[serde(default)]
    pub ignore_tls: bool,
    #[serde(default)]
    pub tls: TlsOptions,
    #[serde(default)]
    pub servername: Option<String>,
    /// The name sent in EHLO.
    #[serde(default)]
    pub name: Option<String>,
    /// Milliseconds.
    #[serde(default = "default_connection_timeout")]
    pub connection_timeout: u64,
    #[serde(default)]
    pub custom_headers: BTreeMap<String, HeaderValues>,
    /// Accepted for compatibility with Logto's config; not used.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The usage types every SMTP config must carry a template for (as Logto).
const REQUIRED_TEMPLATES: [&str; 4] = ["Register", "SignIn", "ForgotPassword", "Generic"];

impl SmtpConfig {
    pub fn check(&self) -> Result<(), ConnectorError> {
        if self.host.trim().is_empty() {
            return Err(ConnectorError::InvalidConfig("`host`: must not be empty".into()));
        }
        if self.port == 0 {
            return Err(ConnectorError::InvalidConfig("`port`: must be 1–65535".into()));
        }
        if self.from_email.parse::<Mailbox>().is_err() {
            return Err(ConnectorError::InvalidConfig("`fromEmail`: not an email address".into()));
        }
        if let Some(reply_to) = &self.reply_to
            && reply_to.parse::<Mailbox>().is_err()
        {
            return Err(ConnectorError::InvalidConfig("`replyTo`: not an email address".into()));
        }
        let missing: Vec<&str> =
            REQUIRED_TEMPLATES.into_iter().filter(|t| !self.templates.iter().any(|x| x.usage_type == *t)).collect();
        if !missing.is_empty() {
            return Err(ConnectorError::InvalidConfig(format!(
                "`templates`: Template with UsageType ({}) should be provided!",
                missing.join(", ")
            )));
        }
        for name in self.custom_headers.keys() {
            if HeaderName::new_from_ascii(name.clone()).is_err() {
                return Err(ConnectorError::InvalidConfig(format!("`customHeaders.{name}`: not a header name")));
            }
        }
        if self.connection_timeout == 0 {
            return Err(ConnectorError::InvalidConfig("`connectionTimeout`: must be positive".into()));
        }
        Ok(())
    }

    /// The config template for a usage type, else the `Generic` one where that may stand in.
    pub fn template(&self, usage: TemplateType) -> Option<&SmtpTemplate> {
        let find = |wanted: TemplateType| self.templates.iter().find(|t| t.usage_type == wanted.as_str());
        find(usage).or_else(|| usage.generic_may_stand_in().then(|| find(TemplateType::Generic)).flatten())
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, ConnectorError> {
        let domain =
            self.tls.servername.clone().or_else(|| self.servername.clone()).unwrap_or_else(|| self.host.clone());
        let params = TlsParameters::builder(domain)
            .dangerous_accept_invalid_certs(self.tls.reject_unauthorized == Some(false))
            .build()
            .map_err(|e| ConnectorError::Delivery(format!("TLS setup: {e}")))?;
        let tls = if self.secure {
            Tls::Wrapper(params)
        } else if self.ignore_tls {
            Tls::None
        } else if self.require_tls {
            Tls::Required(params)
        } else {
            Tls::Opportunistic(params)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(self.connection_timeout)));
        if let Some((credentials, mechanisms)) = self.auth.as_ref().and_then(SmtpAuth::login) {
            builder = builder.credentials(credentials).authentication(mechanisms);
        }
        if let Some(name) = &self.name {
            builder = builder.hello_name(lettre::transport::smtp::extension::ClientId::Domain(name.clone()));
        }
        Ok(builder.build())
    }

    /// Sends one mail. `from`/`reply_to` override the config's (per-language templates may).
    pub async fn send(&self, mail: Mail<'_>) -> Result<(), ConnectorError> {
        let bad = |field: &str| ConnectorError::Delivery(format!("`{field}` is not a valid email address"));
        let from: Mailbox = mail.from.unwrap_or(&self.from_email).parse().map_err(|_| bad("from"))?;
        let to: Mailbox = mail.to.parse().map_err(|_| bad("to"))?;
        let mut builder: MessageBuilder = lettre::Message::builder().from(from).to(to).subject(mail.subject);
        // A template's free-text `replyTo` that is no address falls back to the config's.
        let template_reply_to = mail.reply_to.and_then(|r| match r.parse::<Mailbox>() {
            Ok(mailbox) => Some(mailbox),
            Err(_) => {
                tracing::warn!(reply_to = r, "the email template's replyTo is not an address; using the connector's");
                None
            }
        });
        let reply_to = match template_reply_to {
            Some(mailbox) => Some(mailbox),
            None => self.reply_to.as_deref().map(str::parse).transpose().map_err(|_| bad("replyTo"))?,
        };
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to);
        }
        for (name, values) in &self.custom_headers {
            let values = match values {
                HeaderValues::One(v) => vec![v.clone()],
                HeaderValues::Many(v) => v.clone(),
            };
            for value in values {
                if let Ok(name) = HeaderName::new_from_ascii(name.clone()) {
                    builder = builder.raw_header(HeaderValue::new(name, value));
                }
            }
        }
        let content_type = match mail.kind {
            ContentKind::Plain => ContentType::TEXT_PLAIN,
            ContentKind::Html => ContentType::TEXT_HTML,
        };
        let message = builder
            .header(content_type)
            .body(mail.body)
            .map_err(|e| ConnectorError::Delivery(format!("building the message: {e}")))?;
        self.transport()?
            .send(message)
            .await
            .map_err(|e| ConnectorError::Delivery(format!("SMTP {}:{}: {e}", self.host, self.port)))?;
        Ok(())
    }
}

/// One rendered mail.
pub struct Mail<'a> {
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub subject: String,
    pub body: String,
    pub kind: ContentKind,
}
