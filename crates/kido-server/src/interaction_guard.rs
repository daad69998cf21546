//! Defence of the `_interaction` cookie against fixation: a cookie planted in a victim's
//! browser (by a sibling subdomain, a narrower `Path`, an injected header) must never let
//! its planter finish the victim's sign-in.
//!
//! - A request that carries more than one `_interaction` cookie is ambiguous (Kido only
//!   ever sets one, on `Path=/`): all of them are dropped, so the step finds no sign-in.
//! - Every step that can change a sign-in (a `POST`/`PUT` of the Experience API or of a
//!   hosted form) moves the interaction to a fresh cookie, which only this browser
//!   receives: the step's save writes the state and the new cookie digest in one
//!   conditional statement (of two holders of the old value exactly one saves), and a step
//!   that saved nothing moves it when it ends. Whoever else holds the old value holds
//!   nothing from then on.
//!
//! The cookie holds one sign-in per client (`interaction_cookie`); a request acts on the
//! one its `app_id` names, else the newest, and only that entry rotates.
//!
//! Handlers take the request's cookie with the `SignInCookie` extractor.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kido_core::ids;
use kido_core::interaction::{INTERACTION_TTL_MS, InteractionCookie};

use crate::cookies;
use crate::errors::ApiError;
use crate::interaction_cookie::InteractionMap;
use crate::state::AppState;

/// The `_interaction` cookie of this request, as the guard prepared it.
pub struct SignInCookie(pub Arc<InteractionCookie>);

impl<S: Send + Sync> FromRequestParts<S> for SignInCookie {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(cookie) = parts.extensions.get::<Arc<InteractionCookie>>() {
            return Ok(Self(cookie.clone()));
        }
        // Outside the guard (it runs over every route): the header as it is, read-only.
        let selected = InteractionMap::from_headers(&parts.headers).for_request(parts.uri.query());
        Ok(Self(Arc::new(InteractionCookie::read_only(selected.as_ref().map(|(_, v)| v.as_str())))))
    }
}

/// Middleware over every route (cheap when the request has no `_interaction` cookie).
pub async fn guard(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    if cookies::all(request.headers(), cookies::INTERACTION).len() > 1 {
        tracing::warn!("request with several _interaction cookies refused (a planted cookie?)");
        replace_interaction_cookie(request.headers_mut(), None);
    }
    let map = InteractionMap::from_headers(request.headers());
    let selected = map.for_request(request.uri().query());
    let rotating = selected.is_some() && changes_sign_in(request.method(), request.uri().path());
    let cookie = Arc::new(match &selected {
        Some((_, value)) if rotating => InteractionCookie::rotating(value, ids::new_opaque_token()),
        Some((_, value)) => InteractionCookie::read_only(Some(value)),
        None => InteractionCookie::read_only(None),
    });
    request.extensions_mut().insert(cookie.clone());
    let mut response = next.run(request).await;
    let Some((client_id, _)) = selected.filter(|_| rotating) else { return response };
    let fresh = match app.core.experience().settle_cookie(&app.tenant.context, &cookie).await {
        Ok(Some(fresh)) => fresh,
        // Unknown or expired: the step itself answered that the sign-in is lost.
        Ok(None) => return response,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Sent whatever the step answered: the old value no longer works.
    let value = map.rotate(&client_id, &fresh).encode();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::INTERACTION, &value, INTERACTION_TTL_MS / 1000, app.tenant.secure_cookies()),
    );
    response
}

/// Experience API writes and hosted-form posts; not `/oidc/*` (which starts and ends
/// interactions itself) nor the Management API.
fn changes_sign_in(method: &Method, path: &str) -> bool {
    // A magic link's landing signs in on a GET (the link is followed, not posted).
    let writes = matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
        || (*method == Method::GET && path == "/one-time-token");
    let experience = path == "/api/experience" || path.starts_with("/api/experience/");
    let page = !path.starts_with("/api/") && !path.starts_with("/oidc/");
    writes && (experience || page)
}

/// Rewrites the `Cookie` headers with the interaction cookie set to `value` (or removed).
fn replace_interaction_cookie(headers: &mut HeaderMap, value: Option<&str>) {
    let mut pairs: Vec<String> = cookies::pairs(headers)
        .filter(|pair| pair.split_once('=').is_none_or(|(k, _)| k != cookies::INTERACTION))
        .map(str::to_owned)
        .collect();
    if let Some(value) = value {
        pairs.push(format!("{}={value}", cookies::INTERACTION));
    }
    headers.remove(header::COOKIE);
    if let Ok(joined) = HeaderValue::from_str(&pairs.join("; ")) {
        headers.insert(header::COOKIE, joined);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_interaction_cookie() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; _interaction=old"));
        h.append(header::COOKIE, HeaderValue::from_static("_session=s"));
        replace_interaction_cookie(&mut h, Some("new"));
        assert_eq!(cookies::get(&h, cookies::INTERACTION), Some("new"));
        assert_eq!(cookies::get(&h, cookies::SESSION), Some("s"));
        assert_eq!(cookies::get(&h, "a"), Some("1"));
        replace_interaction_cookie(&mut h, None);
        assert_eq!(cookies::get(&h, cookies::INTERACTION), None);
        assert_eq!(cookies::get(&h, cookies::SESSION), Some("s"));
    }

    #[test]
    fn which_requests_rotate() {
        assert!(changes_sign_in(&Method::POST, "/api/experience/verification/password"));
        assert!(changes_sign_in(&Method::PUT, "/api/experience"));
        assert!(changes_sign_in(&Method::POST, "/sign-in"));
        assert!(!changes_sign_in(&Method::GET, "/sign-in"));
        assert!(!changes_sign_in(&Method::GET, "/api/experience/interaction"));
        assert!(!changes_sign_in(&Method::POST, "/oidc/token"));
        assert!(!changes_sign_in(&Method::POST, "/api/users"));
        assert!(!changes_sign_in(&Method::POST, "/api/experiences"));
    }
}
