//! The development connectors: each message becomes a JSON file in `<data dir>/outbox`
//! (newest last by name), so a local setup can sign users in without a mail server.

use std::path::Path;

use kido_proto::connectors::TemplateType;
use serde_json::json;

use super::error::ConnectorError;
use super::message::Message;

/// The text of a message the tenant has no template for: the code, or the invitation's link.
pub fn default_text(template: TemplateType) -> &'static str {
    match template {
        TemplateType::OrganizationInvitation => "You are invited to join an organization: {{link}}",
        _ => "Your verification code is {{code}}.",
    }
}

pub async fn write(dir: &Path, message: &Message, subject: Option<&str>, text: &str) -> Result<(), ConnectorError> {
    // Messages carry codes and links: owner-only, like the rest of the data directory.
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await.map_err(|e| ConnectorError::Delivery(format!("{}: {e}", dir.display())))?;
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
    let failed = |e: std::io::Error| ConnectorError::Delivery(format!("{}: {e}", path.display()));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    // Written under a temporary name and renamed: a reader never sees half a message.
    let partial = path.with_extension("json.partial");
    let mut file = options.open(&partial).await.map_err(failed)?;
    tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await.map_err(failed)?;
    // tokio's File finishes a write in the background: flush before the rename.
    tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(failed)?;
    drop(file);
    tokio::fs::rename(&partial, &path).await.map_err(failed)?;
    tracing::info!(to = %message.to, file = %path.display(), "development connector wrote a message");
    Ok(())
}
