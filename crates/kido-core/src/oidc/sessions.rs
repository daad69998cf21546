//! The browser's session row, found by its `_session` cookie (the row holds the cookie's
//! digest). Shared by the authorization endpoint and logout.

use kido_store::StoreResult;
use kido_store::oidc::{self as store, StoredSession};

use crate::{Core, TenantContext, clock, ids};

/// The browser's live session row, whoever its user is now.
pub(crate) async fn find(
    core: &Core,
    tenant: &TenantContext,
    cookie: Option<&str>,
) -> StoreResult<Option<StoredSession>> {
    let Some(cookie) = cookie else { return Ok(None) };
    let mut c = core.store.conn().await?;
    store::find_session(&mut c, &tenant.id, &ids::digest(cookie), clock::now_ms()).await
}
