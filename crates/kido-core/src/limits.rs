//! The bounds on what one request may ask for: lengths of identifiers and OAuth
//! parameters, and how many scopes, resources and ids one request may list. One home, so
//! the OIDC engine and the Management API refuse the same things the same way.

use std::collections::HashSet;
use std::hash::Hash;

/// No id Kido issues is longer (ids are 12–21 characters; imported ids stay well under).
/// A longer `client_id` is refused before any cache or database lookup.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// One OAuth parameter (`state`, `nonce`, `login_hint`, `scope`…), decoded.
pub const MAX_OAUTH_PARAM_BYTES: usize = 2 * 1024;
/// A whole OAuth query string or form body, encoded.
pub const MAX_OAUTH_REQUEST_BYTES: usize = 8 * 1024;
/// Scopes in one `scope` parameter.
pub const MAX_SCOPES: usize = 100;
/// `resource` indicators in one request.
pub const MAX_RESOURCES: usize = 100;
/// Ids in one Management API list (`userIds`, `scopeIds`, `organizationRoleIds`…).
pub const MAX_IDS: usize = 1_000;

/// Sessions one user's session list shows (the newest live ones).
pub const MAX_LISTED_SESSIONS: i64 = 100;
/// Grants one user's grant list shows (the newest live ones).
pub const MAX_LISTED_GRANTS: i64 = 100;
/// Grants read to say which applications a user's listed sessions authorized.
pub const MAX_SESSION_GRANTS_READ: i64 = 1_000;

/// Whether `id` could be an id Kido issued (or imported): not empty and not longer than
/// [`MAX_CLIENT_ID_LEN`]. Anything else is unknown without a database lookup.
pub fn is_plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID_LEN
}

/// `search` / `search.<field>` parameters of one user search (each becomes up to five
/// conditions; SQLite refuses expression trees beyond about a thousand).
pub const MAX_SEARCH_TERMS: usize = 100;

/// More values than a list may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    pub max: usize,
}

/// The distinct values of `values` in first-seen order, refusing more than `max` values
/// (duplicates count: the cap bounds the work, not only the result). Linear: one hash set.
pub fn distinct<T, I>(values: I, max: usize) -> Result<Vec<T>, TooMany>
where
    I: IntoIterator<Item = T>,
    T: Eq + Hash + Clone,
{
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (n, value) in values.into_iter().enumerate() {
        if n >= max {
            return Err(TooMany { max });
        }
        if seen.insert(value.clone()) {
            out.push(value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_order_and_caps_the_input() {
        assert_eq!(distinct(["b", "a", "b", "c", "a"], 5), Ok(vec!["b", "a", "c"]));
        assert_eq!(distinct(["a"; 6], 5), Err(TooMany { max: 5 }));
        // A long list of one repeated value is refused quickly, not deduplicated in n².
        let many = vec!["x"; 200_000];
        assert_eq!(distinct(many, MAX_IDS), Err(TooMany { max: MAX_IDS }));
        assert_eq!(distinct(Vec::<&str>::new(), 1), Ok(vec![]));
    }
}
