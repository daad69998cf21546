//! The connector factories this server runs, and how a factory's config becomes a
//! ready-to-use delivery. Adding a connector means one entry here and one module.

use kido_proto::connectors::{ConnectorFactory, ConnectorType};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::ConnectorError;
use super::http::HttpConfig;
use super::smtp::SmtpConfig;

pub const SMTP: &str = "simple-mail-transfer-protocol";
pub const HTTP_EMAIL: &str = "http-email";
pub const HTTP_SMS: &str = "http-sms";
pub const DEV_EMAIL: &str = "kido-dev-email";
pub const DEV_SMS: &str = "kido-dev-sms";

const EMAIL_LOGO: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Cpath d='M3 5h18v14H3zM3 5l9 7 9-7' fill='none' stroke='%23666' stroke-width='1.5'/%3E%3C/svg%3E";
const SMS_LOGO: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Crect x='6' y='2' width='12' height='20' rx='2' fill='none' stroke='%23666' stroke-width='1.5'/%3E%3C/svg%3E";

struct Spec {
    id: &'static str,
    kind: ConnectorType,
    target: &'static str,
    names: [&'static str; 3],
    description: &'static str,
    config_template: fn() -> Value,
}

const SPECS: [Spec; 5] = [
    Spec {
        id: SMTP,
        kind: ConnectorType::Email,
        target: "smtp",
        names: ["SMTP", "SMTP", "SMTP"],
        description: "Sends email through any SMTP server (STARTTLS or implicit TLS).",
        config_template: smtp_template,
    },
    Spec {
        id: HTTP_EMAIL,
        kind: ConnectorType::Email,
        target: "http-email",
        names: ["HTTP email", "HTTP メール", "HTTP 電子郵件"],
        description: "POSTs each email as JSON ({to, type, payload}) to your endpoint.",
        config_template: http_template,
    },
    Spec {
        id: HTTP_SMS,
        kind: ConnectorType::Sms,
        target: "http-sms",
        names: ["HTTP SMS", "HTTP SMS", "HTTP 簡訊"],
        description: "POSTs each text message as JSON ({to, type, payload}) to your endpoint.",
        config_template: http_template,
    },
    Spec {
        id: DEV_EMAIL,
        kind: ConnectorType::Email,
        target: "kido-dev-email",
        names: ["Development email (outbox files)", "開発用メール（ファイル）", "開發用電子郵件（檔案）"],
        description: "Writes each email to <data dir>/outbox instead of sending it. For local development only.",
        config_template: empty_template,
    },
    Spec {
        id: DEV_SMS,
        kind: ConnectorType::Sms,
        target: "kido-dev-sms",
        names: ["Development SMS (outbox files)", "開発用 SMS（ファイル）", "開發用簡訊（檔案）"],
        description: "Writes each text message to <data dir>/outbox instead of sending it. For local development only.",
        config_template: empty_template,
    },
];

fn smtp_template() -> Value {
    let template = |usage: &str, subject: &str| {
        json!({"usageType": usage, "contentType": "text/plain", "subject": subject,
               "content": "Your verification code is {{code}}. It expires in 10 minutes."})
    };
    json!({
        "host": "smtp.example.com",
        "port": 587,
        "auth": {"user": "apikey", "pass": "<password>"},
        "fromEmail": "noreply@example.com",
        "templates": [
            template("SignIn", "Your sign-in code"),
            template("Register", "Your registration code"),
            template("ForgotPassword", "Your password reset code"),
            template("Generic", "Your verification code"),
            json!({"usageType": "OrganizationInvitation", "contentType": "text/plain",
                   "subject": "You are invited to join an organization",
                   "content": "Accept the invitation: {{link}}"}),
        ]
    })
}

fn http_template() -> Value {
    json!({"endpoint": "https://example.com/messages", "authorization": "Bearer <token>"})
}

fn empty_template() -> Value {
    json!({})
}

fn describe(spec: &Spec) -> ConnectorFactory {
    let mut name = Map::new();
    for (lang, n) in ["en", "ja", "zh-TW"].into_iter().zip(spec.names) {
        name.insert(lang.into(), n.into());
    }
    let mut description = Map::new();
    description.insert("en".into(), spec.description.into());
    ConnectorFactory {
        kind: spec.kind,
        is_demo: false,
        id: spec.id.into(),
        target: spec.target.into(),
        platform: None,
        is_standard: false,
        is_token_storage_supported: false,
        name,
        description,
        logo: if spec.kind == ConnectorType::Sms { SMS_LOGO } else { EMAIL_LOGO }.into(),
        logo_dark: None,
        readme: spec.description.into(),
        config_template: serde_json::to_string_pretty(&(spec.config_template)()).unwrap_or_default(),
    }
}

pub fn all() -> Vec<ConnectorFactory> {
    SPECS.iter().map(describe).collect()
}

pub fn find(id: &str) -> Option<ConnectorFactory> {
    SPECS.iter().find(|s| s.id == id).map(describe)
}

/// A factory's config, parsed and checked: what sending a message needs.
#[derive(Debug, Clone)]
pub enum Delivery {
    Smtp(Box<SmtpConfig>),
    Http(HttpConfig),
    Outbox,
}

impl Delivery {
    /// Parses `config` for factory `id`; the error names the field at fault.
    pub fn parse(id: &str, config: &Value) -> Result<Self, ConnectorError> {
        match id {
            SMTP => {
                let c: SmtpConfig = typed(config)?;
                c.check()?;
                Ok(Self::Smtp(Box::new(c)))
            }
            HTTP_EMAIL | HTTP_SMS => {
                let c: HttpConfig = typed(config)?;
                c.check()?;
                Ok(Self::Http(c))
            }
            DEV_EMAIL | DEV_SMS => {
                if !config.is_object() {
                    return Err(ConnectorError::InvalidConfig("`config` must be an object".into()));
                }
                Ok(Self::Outbox)
            }
            other => Err(ConnectorError::FactoryNotFound(other.into())),
        }
    }
}

fn typed<T: DeserializeOwned>(config: &Value) -> Result<T, ConnectorError> {
    serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ConnectorError::InvalidConfig(inner.to_string())
        } else {
            ConnectorError::InvalidConfig(format!("`{path}`: {inner}"))
        }
    })
}
