//! The passkey script of the hosted pages (`/assets/passkey.js`, from
//! `templates/passkey.js`): the browser's WebAuthn ceremonies against the Experience API, for
//! the second-factor pages. The pages that load it get their own CSP: scripts and fetches from
//! this origin only, and the script tag pins the file by its SHA-256 (subresource integrity).

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

pub const SCRIPT_PATH: &str = "/assets/passkey.js";

const SCRIPT: &str = include_str!("../../templates/passkey.js");

/// The pages' policy with scripts and connections from this origin (the Experience API).
pub const POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src https: http: data:; \
    style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `sha256-<base64>` of the script, for the tag's `integrity` attribute (standard base64 with
/// padding, as subresource integrity wants; `ids::digest` is base64url without it).
pub static INTEGRITY: LazyLock<String> = LazyLock::new(|| {
    let url_safe = kido_core::ids::digest(SCRIPT);
    format!("sha256-{}=", url_safe.replace('-', "+").replace('_', "/"))
});

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router.route(SCRIPT_PATH, get(script))
}

async fn script() -> Response {
    let mut response = SCRIPT.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_padded_standard_base64_of_sha256() {
        let hash = INTEGRITY.strip_prefix("sha256-").unwrap();
        assert_eq!(hash.len(), 44);
        assert!(hash.ends_with('=') && !hash.contains('-') && !hash.contains('_'));
    }
}
