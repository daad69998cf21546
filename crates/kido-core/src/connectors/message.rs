//! The message a connector delivers, shared by every delivery module.

use kido_proto::connectors::TemplateType;
use serde_json::{Map, Value};

/// One message to deliver: recipient, purpose and the template variables (`code`, `locale`…).
#[derive(Debug, Clone)]
pub struct Message {
    pub to: String,
    pub template: TemplateType,
    pub payload: Map<String, Value>,
    pub ip: Option<String>,
}

impl Message {
    pub fn code(to: &str, template: TemplateType, code: &str, locale: Option<&str>) -> Self {
        let mut payload = Map::new();
        payload.insert("code".into(), code.into());
        if let Some(locale) = locale {
            payload.insert("locale".into(), locale.into());
        }
        Self { to: to.to_owned(), template, payload, ip: None }
    }

    pub(super) fn locale(&self) -> Option<&str> {
        self.payload.get("locale").and_then(Value::as_str)
    }
}
