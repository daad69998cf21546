//! The browser cookies of the sign-in flow: opaque random values (the database holds their
//! digests), `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the tenant's endpoint
//! is https.

use axum::http::{HeaderMap, HeaderValue, header};

/// The pending sign-in (an interaction row).
pub const INTERACTION: &str = "_interaction";
/// The signed-in browser (a session row).
pub const SESSION: &str = "_session";
/// The session cookie's signature (koa's `<name>.sig`: a MAC of `_session=<value>`).
pub const SESSION_SIG: &str = "_session.sig";

/// Every `name=value` pair of the request's `Cookie` headers, trimmed, in order.
pub fn pairs(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
}

/// The non-empty values of cookie `name`, in the order the browser sent them.
fn values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    pairs(headers)
        .filter_map(|pair| pair.split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// A cookie's value from the request's `Cookie` headers.
pub fn get<'a>(headers: &'a HeaderMap, name: &'a str) -> Option<&'a str> {
    values(headers, name).next()
}

/// Every distinct value the request carries for `name` (browsers send one per matching
/// domain/path, most specific first).
pub fn all(headers: &HeaderMap, name: &str) -> Vec<String> {
    let mut distinct: Vec<String> = Vec::new();
    for v in values(headers, name) {
        if !distinct.iter().any(|known| known == v) {
            distinct.push(v.to_owned());
        }
    }
    distinct
}

/// `Set-Cookie` for `name=value` living `max_age_secs` (0 deletes it).
pub fn set(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}");
    // Names are constants and values our own base62 tokens: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; _session=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("_interaction=xyz"));
        assert_eq!(get(&h, SESSION), Some("abc"));
        assert_eq!(get(&h, INTERACTION), Some("xyz"));
        assert_eq!(get(&h, "missing"), None);
        let c = set(SESSION, "v", 60, true);
        assert_eq!(c.to_str().unwrap(), "_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
        assert!(clear(INTERACTION, false).to_str().unwrap().contains("Max-Age=0"));
    }
}
