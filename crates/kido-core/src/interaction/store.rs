//! Loading an interaction by its cookie and saving its state: once each per request. A
//! save of a rotating request moves the cookie in the same statement.

use kido_proto::TenantId;
use kido_store::Exec;
use kido_store::oidc as store;

use super::{ExperienceState, Interaction, InteractionCookie};
use crate::{StoreError, clock, ids};

/// The live interaction the cookie points at.
pub async fn load(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
) -> Result<Option<Interaction>, StoreError> {
    let Some(cookie) = cookie.current() else { return Ok(None) };
    let Some(row) = store::find_interaction(c, tenant, &ids::digest(&cookie), clock::now_ms()).await? else {
        return Ok(None);
    };
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("interaction {}: {e}", row.id));
    let params = serde_json::from_value(row.params.0.clone()).map_err(corrupt)?;
    let state = serde_json::from_value(row.state.0.clone()).map_err(corrupt)?;
    Ok(Some(Interaction { id: row.id, params, state }))
}

/// Writes the interaction's state (and moves its cookie when one is due); false when the
/// cookie no longer names it (another request holding the same value moved it first).
pub async fn save(
    c: &mut impl Exec,
    tenant: &TenantId,
    interaction: &Interaction,
    cookie: &InteractionCookie,
) -> Result<bool, StoreError> {
    let state = serde_json::to_value(&interaction.state)
        .map_err(|e| StoreError::Corrupt(format!("interaction {}: {e}", interaction.id)))?;
    let Some((old, fresh)) = cookie.pending_move() else {
        store::update_interaction_state(c, tenant, &interaction.id, &state).await?;
        return Ok(true);
    };
    let (old, fresh) = (ids::digest(&old), ids::digest(&fresh));
    let moved = store::update_interaction_state_rotating(c, tenant, &interaction.id, &state, &old, &fresh).await?;
    if moved {
        cookie.mark_moved();
    }
    Ok(moved)
}

/// Replaces the whole state of the interaction the cookie names without reading it first
/// (a fresh start), moving the cookie when a move is due; false when it names none.
pub async fn replace(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
    state: &ExperienceState,
) -> Result<bool, StoreError> {
    let Some(current) = cookie.current() else { return Ok(false) };
    let state = serde_json::to_value(state).map_err(|e| StoreError::Corrupt(format!("interaction state: {e}")))?;
    let old = ids::digest(&current);
    let fresh = cookie.pending_move().map_or_else(|| old.clone(), |(_, fresh)| ids::digest(&fresh));
    let replaced = store::replace_interaction_state(c, tenant, &old, &fresh, &state, clock::now_ms()).await?;
    if replaced {
        cookie.mark_moved();
    }
    Ok(replaced)
}

/// At the end of a rotating request that saved nothing: moves the cookie now. Returns the
/// value the interaction answers to if it moved (now or at a save), `None` when the old
/// value named no live interaction.
pub async fn settle(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
) -> Result<Option<String>, StoreError> {
    if let Some(fresh) = cookie.moved_to() {
        return Ok(Some(fresh));
    }
    let Some((old, fresh)) = cookie.pending_move() else { return Ok(None) };
    let moved =
        store::rotate_interaction_cookie(c, tenant, &ids::digest(&old), &ids::digest(&fresh), clock::now_ms()).await?;
    if moved {
        cookie.mark_moved();
    }
    Ok(moved.then_some(fresh))
}
