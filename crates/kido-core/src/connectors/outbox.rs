//! The development connectors: each message becomes a JSON file in `<data dir>/outbox`
//! (newest last by name), so a local setup can sign users in without a mail server.

use std::path::Path;

use serde_json::json;

use super::{ConnectorError, Message};

pub async fn write(dir: &Path, message: &Message, subject: Option<&str>, text: &str) -> Result<(), ConnectorError> {
    tokio::fs::create_dir_all(dir).await.map_err(|e| ConnectorError::Delivery(format!("{}: {e}", dir.display())))?;
    let name = format!("{}-{}.json", crate::clock::now_ms(), crate::ids::new_id());
    let body = json!({
        "to": message.to,
        "type": message.template.as_str(),
        "subject": subject,
        "text": text,
        "payload": message.payload,
    });
    let bytes = serde_json::to_vec_pretty(&body).map_err(|e| ConnectorError::Delivery(e.to_string()))?;
    let path = dir.join(name);
    tokio::fs::write(&path, bytes).await.map_err(|e| ConnectorError::Delivery(format!("{}: {e}", path.display())))?;
    tracing::info!(to = %message.to, file = %path.display(), "development connector wrote a message");
    Ok(())
}
