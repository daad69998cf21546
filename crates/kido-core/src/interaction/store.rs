//! Loading an interaction by its cookie and saving its state: once each per request. A
//! save of a rotating request moves the cookie in the same statement.

use kido_proto::TenantId;
use kido_store::Exec;
use kido_store::logs::StoredLog;
use kido_store::oidc::{self as store, StoredInteraction, UserOf};
use kido_store::users::StoredUser;

use super::passkey::PasskeyChallenge;
use super::{Consent, ExperienceState, Interaction, InteractionCookie};
use crate::storage::StorageError;
use crate::{clock, ids};

/// The live interaction the cookie points at.
pub async fn load(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
) -> Result<Option<Interaction>, StorageError> {
    let Some(cookie) = cookie.current() else { return Ok(None) };
    let row = store::find_interaction(c, tenant, &ids::digest(&cookie), clock::now_ms()).await?;
    row.map(decode).transpose()
}

/// The live interaction the cookie points at and the user `of` names (`None`: no one), read
/// by one statement: a step's interaction and the account it is about.
pub async fn load_with_user(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
    of: UserOf<'_>,
) -> Result<Option<(Interaction, Option<StoredUser>)>, StorageError> {
    let Some(cookie) = cookie.current() else { return Ok(None) };
    let row = store::find_interaction_and_user(c, tenant, &ids::digest(&cookie), clock::now_ms(), of).await?;
    row.map(|(interaction, user)| Ok((decode(interaction)?, user))).transpose()
}

/// Spends the live, submitted interaction `id` that the cookie value names once its consent
/// prompt is answered: deleted and returned by one statement (`None` when the cookie names
/// no such interaction, its sign-in is not submitted yet or the prompt not answered).
pub async fn take_answered(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    cookie: &str,
) -> Result<Option<Interaction>, StorageError> {
    let row = store::take_answered_interaction(c, tenant, id, &ids::digest(cookie), clock::now_ms()).await?;
    row.map(decode).transpose()
}

fn decode(row: StoredInteraction) -> Result<Interaction, StorageError> {
    let corrupt = |e: serde_json::Error| StorageError::Corrupt(format!("interaction {}: {e}", row.id));
    let params = serde_json::from_value(row.params.0.clone()).map_err(corrupt)?;
    let state = serde_json::from_value(row.state.0.clone()).map_err(corrupt)?;
    let consent = row.consent.map(|c| serde_json::from_value(c.0)).transpose().map_err(corrupt)?;
    let passkey_challenge = match (row.passkey_challenge, row.passkey_challenge_expires_at) {
        (Some(challenge), Some(expires_at)) => Some(PasskeyChallenge { challenge, expires_at }),
        _ => None,
    };
    Ok(Interaction { id: row.id, params, state, consent, passkey_challenge })
}

/// Records the answer to `client_id`'s consent prompt on the interaction the cookie names
/// (one statement, the state neither read nor written); its id, or `None` when the cookie
/// names no live interaction of that client.
pub async fn record_consent(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
    client_id: &str,
    consent: &Consent,
) -> Result<Option<String>, StorageError> {
    let Some(current) = cookie.current() else { return Ok(None) };
    let consent = serde_json::to_value(consent).map_err(|e| StorageError::Corrupt(format!("consent: {e}")))?;
    Ok(store::set_interaction_consent(c, tenant, &ids::digest(&current), client_id, &consent, clock::now_ms()).await?)
}

/// Writes the interaction's state (and moves its cookie when one is due) with the audit
/// entries `logs` of the step, by one statement: the entries exist exactly when the save
/// does. False when the cookie no longer names it (another request holding the same value
/// moved it first).
pub async fn save(
    c: &mut impl Exec,
    tenant: &TenantId,
    interaction: &Interaction,
    cookie: &InteractionCookie,
    logs: &[StoredLog],
) -> Result<bool, StorageError> {
    let state = serde_json::to_value(&interaction.state)
        .map_err(|e| StorageError::Corrupt(format!("interaction {}: {e}", interaction.id)))?;
    let Some((old, fresh)) = cookie.pending_move() else {
        store::update_interaction_state(c, tenant, &interaction.id, &state, logs).await?;
        return Ok(true);
    };
    let (old, fresh) = (ids::digest(&old), ids::digest(&fresh));
    let moved =
        store::update_interaction_state_rotating(c, tenant, &interaction.id, &state, &old, &fresh, logs).await?;
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
) -> Result<bool, StorageError> {
    let Some(current) = cookie.current() else { return Ok(false) };
    let state = serde_json::to_value(state).map_err(|e| StorageError::Corrupt(format!("interaction state: {e}")))?;
    let old = ids::digest(&current);
    let fresh = cookie.pending_move().map_or_else(|| old.clone(), |(_, fresh)| ids::digest(&fresh));
    let replaced = store::replace_interaction_state(c, tenant, &old, &fresh, &state, clock::now_ms()).await?;
    if replaced {
        cookie.mark_moved();
    }
    Ok(replaced)
}

/// Puts a passkey sign-in challenge on the interaction the cookie names (replacing any
/// earlier one) without reading it, moving the cookie when a move is due; false when it
/// names none.
pub async fn set_passkey_challenge(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
    challenge: &PasskeyChallenge,
) -> Result<bool, StorageError> {
    let Some(current) = cookie.current() else { return Ok(false) };
    let old = ids::digest(&current);
    let fresh = cookie.pending_move().map_or_else(|| old.clone(), |(_, fresh)| ids::digest(&fresh));
    let (value, expires_at, now) = (&challenge.challenge, challenge.expires_at, clock::now_ms());
    let set = store::set_passkey_challenge(c, tenant, &old, &fresh, value, expires_at, now).await?;
    if set {
        cookie.mark_moved();
    }
    Ok(set)
}

/// Spends interaction `id`'s passkey sign-in challenge if it is still `challenge` (of two
/// answers to it, exactly one gets true).
pub async fn take_passkey_challenge(
    c: &mut impl Exec,
    tenant: &TenantId,
    id: &str,
    challenge: &str,
) -> Result<bool, StorageError> {
    Ok(store::take_passkey_challenge(c, tenant, id, challenge).await?)
}

/// At the end of a rotating request that saved nothing: moves the cookie now. Returns the
/// value the interaction answers to if it moved (now or at a save), `None` when the old
/// value named no live interaction.
pub async fn settle(
    c: &mut impl Exec,
    tenant: &TenantId,
    cookie: &InteractionCookie,
) -> Result<Option<String>, StorageError> {
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
