//! The HTTP email and SMS connectors: each message is POSTed as JSON to the configured
//! endpoint (`{to, type, payload, ip?}`), with the configured `Authorization` header.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ConnectorError;
use super::message::Message;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpConfig {
    pub endpoint: String,
    #[serde(default)]
    pub authorization: Option<String>,
}

impl HttpConfig {
    pub fn check(&self) -> Result<(), ConnectorError> {
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
            _ => Err(ConnectorError::InvalidConfig("`endpoint`: must be an http(s) URL".into())),
        }
    }

    pub async fn send(&self, client: &reqwest::Client, message: &Message) -> Result<(), ConnectorError> {
        let mut body = json!({"to": message.to, "type": message.template.as_str(), "payload": message.payload});
        if let (Some(ip), Some(map)) = (&message.ip, body.as_object_mut()) {
            map.insert("ip".into(), ip.clone().into());
        }
        let mut request = client.post(&self.endpoint).json(&body);
        if let Some(auth) = self.authorization.as_deref().filter(|a| !a.is_empty()) {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        let response =
            request.send().await.map_err(|e| ConnectorError::Delivery(format!("{}: {}", self.endpoint, causes(&e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(500).collect();
        Err(ConnectorError::Delivery(format!("{} answered {status}: {text}", self.endpoint)))
    }
}

/// An error and its causes, innermost last: reqwest's own message names the request, its
/// causes what went wrong (a refused address, a timeout, a TLS failure).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
