//! Loading an interaction by its cookie and saving its state: once each per request.

use kido_proto::TenantId;
use kido_store::Exec;
use kido_store::oidc as store;

use super::Interaction;
use crate::{StoreError, clock, ids};

/// The live interaction an `_interaction` cookie points at.
pub async fn load(c: &mut impl Exec, tenant: &TenantId, cookie: Option<&str>) -> Result<Option<Interaction>, StoreError> {
    let Some(cookie) = cookie else { return Ok(None) };
    let Some(row) = store::find_interaction(c, tenant, &ids::digest(cookie), clock::now_ms()).await? else {
        return Ok(None);
    };
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("interaction {}: {e}", row.id));
    let params = serde_json::from_value(row.params.0.clone()).map_err(corrupt)?;
    let state = serde_json::from_value(row.state.0.clone()).map_err(corrupt)?;
    Ok(Some(Interaction { id: row.id, params, state }))
}

/// Writes the interaction's state.
pub async fn save(c: &mut impl Exec, tenant: &TenantId, interaction: &Interaction) -> Result<(), StoreError> {
    let state = serde_json::to_value(&interaction.state)
        .map_err(|e| StoreError::Corrupt(format!("interaction {}: {e}", interaction.id)))?;
    store::update_interaction_state(c, tenant, &interaction.id, &state).await
}
