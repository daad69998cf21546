//! The one place that decides which in-process cache a database change invalidates.
//!
//! The store reports every committed change to a table a cache reads (triggers of migration
//! 0010 note it; the writing node reports before it answers, the other nodes when PostgreSQL
//! delivers the NOTIFY), so no write path invalidates by hand. This file maps tables to caches.

use std::sync::Arc;

use kido_store::Store;
use kido_store::changes::{ChangeEvent, TableChange};

use crate::oidc::clients::ClientCache;
use crate::sign_in_experience;

/// The caches a table feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feeds {
    /// The token endpoint's clients (application, secrets) and resource / organization grants.
    Clients,
    /// The tenant's sign-in experience.
    SignInExperience,
    /// Signing keys: loaded at start; only the bootstrap writes them today, so a change is
    /// logged (key rotation will reload the ring here).
    SigningKeys,
}

/// Every table the triggers of migration 0010 watch, and what it feeds.
const TABLES: &[(&str, Feeds)] = &[
    ("applications", Feeds::Clients),
    ("application_secrets", Feeds::Clients),
    ("resources", Feeds::Clients),
    ("scopes", Feeds::Clients),
    ("roles", Feeds::Clients),
    ("roles_scopes", Feeds::Clients),
    ("applications_roles", Feeds::Clients),
    ("organizations", Feeds::Clients),
    ("organization_roles", Feeds::Clients),
    ("organization_scopes", Feeds::Clients),
    ("organization_role_scope_relations", Feeds::Clients),
    ("organization_role_resource_scope_relations", Feeds::Clients),
    ("organization_application_relations", Feeds::Clients),
    ("organization_role_application_relations", Feeds::Clients),
    ("sign_in_experiences", Feeds::SignInExperience),
    ("signing_keys", Feeds::SigningKeys),
];

fn feeds(table: &str) -> Option<Feeds> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, f)| *f)
}

/// Wires the store's change reports to the caches.
pub(crate) fn invalidate_on_change(
    store: &Store,
    clients: Arc<ClientCache>,
    sign_in_experiences: Arc<sign_in_experience::Cache>,
) {
    store.on_change(Arc::new(move |event| match event {
        ChangeEvent::Committed(changes) => {
            for TableChange { tenant, table } in changes {
                match feeds(table) {
                    Some(Feeds::Clients) => clients.invalidate(tenant),
                    Some(Feeds::SignInExperience) => sign_in_experiences.forget(tenant),
                    Some(Feeds::SigningKeys) => {
                        tracing::info!(tenant = %tenant, "signing keys changed; restart to load them")
                    }
                    None => tracing::warn!(table = %table, "change to a table no cache is mapped to"),
                }
            }
        }
        ChangeEvent::Missed => {
            clients.clear();
            sign_in_experiences.clear();
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The triggers and this map agree: every watched table is mapped, and nothing is mapped
    /// that the migrations do not watch (both dialects).
    #[test]
    fn every_watched_table_is_mapped() {
        for migration in [
            include_str!("../../kido-store/migrations/sqlite/0010_cache_changes.sql"),
            include_str!("../../kido-store/migrations/postgres/0010_cache_changes.sql"),
        ] {
            let mut watched: Vec<&str> = migration
                .lines()
                .filter_map(|l| l.strip_prefix("CREATE TRIGGER "))
                .filter_map(|l| l.split(" ON ").nth(1))
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            watched.dedup();
            let mut mapped: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
            watched.sort_unstable();
            watched.dedup();
            mapped.sort_unstable();
            assert_eq!(watched, mapped);
        }
    }
}
