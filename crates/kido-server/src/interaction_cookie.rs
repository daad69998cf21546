//! The `_interaction` cookie's value, as Logto 1.42 writes it: a percent-encoded JSON map
//! `{<clientId>: <value>}`, one pending sign-in per client, so two apps signing in in one
//! browser do not clobber each other. Kido's values are its opaque interaction secrets.
//!
//! Entries are kept oldest first; a request picks the entry of its `app_id` query
//! parameter (the hosted pages carry it), else the newest (the sign-in started last).
//! Bounded: at most `MAX_ENTRIES` entries and `MAX_ENCODED_LEN` bytes (the oldest go first),
//! and a malformed value reads as an empty map.

use axum::http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::de::{Deserializer, MapAccess, Visitor};

use crate::cookies;

/// Pending sign-ins one browser keeps apart.
pub const MAX_ENTRIES: usize = 8;
/// Well under the 4 KiB browsers keep per cookie.
pub const MAX_ENCODED_LEN: usize = 3072;

/// What `encodeURIComponent` leaves as is.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionMap(Vec<(String, String)>);

impl InteractionMap {
    /// The request's map; empty unless it carries exactly one `_interaction` cookie (several
    /// are ambiguous: see `interaction_guard`).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        match cookies::all(headers, cookies::INTERACTION).as_slice() {
            [raw] => Self::parse(raw),
            _ => Self::default(),
        }
    }

    /// `(client id, value)` of the sign-in a request acts on: its `app_id` query
    /// parameter's, else the newest.
    pub fn for_request(&self, query: Option<&str>) -> Option<(String, String)> {
        let app_id = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "app_id").map(|(_, v)| v.into_owned())
        });
        self.select(app_id.as_deref()).map(|(k, v)| (k.to_owned(), v.to_owned()))
    }

    /// The map in a cookie value; empty when the value is not one.
    pub fn parse(raw: &str) -> Self {
        if raw.len() > MAX_ENCODED_LEN {
            return Self::default();
        }
        let Ok(json) = percent_decode_str(raw).decode_utf8() else { return Self::default() };
        let mut de = serde_json::Deserializer::from_str(&json);
        match de.deserialize_map(Entries) {
            Ok(entries) if de.end().is_ok() && entries.len() <= MAX_ENTRIES => Self(entries),
            _ => Self::default(),
        }
    }

    /// The cookie value: percent-encoded JSON, oldest entry first.
    pub fn encode(&self) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), serde_json::Value::from(v.as_str())))
            .collect();
        utf8_percent_encode(&format!("{{{}}}", pairs.join(",")), COMPONENT).to_string()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(client id, value)` of `client_id`'s entry, or of the newest when none is named.
    pub fn select(&self, client_id: Option<&str>) -> Option<(&str, &str)> {
        let found = match client_id {
            Some(id) => self.0.iter().find(|(k, _)| k == id),
            None => self.0.last(),
        };
        found.map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The values, newest first.
    pub fn values(&self) -> Vec<String> {
        self.0.iter().rev().map(|(_, v)| v.clone()).collect()
    }

    /// A new sign-in of `client_id`: its entry becomes the newest; the oldest go while the
    /// map is over its bounds.
    pub fn start(mut self, client_id: &str, value: &str) -> Self {
        self.0.retain(|(k, _)| k != client_id);
        self.0.push((client_id.to_owned(), value.to_owned()));
        while self.0.len() > 1 && (self.0.len() > MAX_ENTRIES || self.encode().len() > MAX_ENCODED_LEN) {
            self.0.remove(0);
        }
        self
    }

    /// `client_id`'s sign-in moved to a fresh value (its place kept).
    pub fn rotate(mut self, client_id: &str, value: &str) -> Self {
        match self.0.iter_mut().find(|(k, _)| k == client_id) {
            Some(entry) => entry.1 = value.to_owned(),
            None => return self.start(client_id, value),
        }
        self
    }

    /// `client_id`'s sign-in ended.
    pub fn without(mut self, client_id: &str) -> Self {
        self.0.retain(|(k, _)| k != client_id);
        self
    }
}

/// A JSON object of strings, in document order (serde_json's map would sort it).
struct Entries;

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(String, String)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, String>()? {
            if out.len() == MAX_ENTRIES {
                return Err(serde::de::Error::custom("too many entries"));
            }
            if k.is_empty() || v.is_empty() {
                continue;
            }
            out.retain(|(known, _)| *known != k);
            out.push((k, v));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_order() {
        let map = InteractionMap::default().start("b-app", "v1").start("a-app", "v2");
        let raw = map.encode();
        assert!(!raw.contains(['"', ',', ';', ' ', '{']), "{raw}");
        assert_eq!(percent_decode_str(&raw).decode_utf8().unwrap(), r#"{"b-app":"v1","a-app":"v2"}"#);
        let back = InteractionMap::parse(&raw);
        assert_eq!(back, map);
        assert_eq!(back.select(None), Some(("a-app", "v2")), "the newest");
        assert_eq!(back.select(Some("b-app")), Some(("b-app", "v1")));
        assert_eq!(back.select(Some("c-app")), None);
        assert_eq!(back.values(), ["v2", "v1"]);
        let rotated = back.clone().rotate("b-app", "v3");
        assert_eq!(rotated.select(None), Some(("a-app", "v2")), "a rotation keeps the order");
        assert_eq!(rotated.select(Some("b-app")), Some(("b-app", "v3")));
        let restarted = back.start("b-app", "v4");
        assert_eq!(restarted.select(None), Some(("b-app", "v4")));
        assert_eq!(restarted.without("b-app").without("a-app"), InteractionMap::default());
    }

    #[test]
    fn malformed_values_read_as_empty() {
        for raw in
            ["", "plain-token", "%7B", "%5B%22a%22%5D", "%7B%22a%22%3A1%7D", "%7B%7D%7B%7D", "%FF%FE", "{\"a\":\"b\"}x"]
        {
            assert!(InteractionMap::parse(raw).is_empty(), "{raw}");
        }
        assert!(InteractionMap::parse(&"a".repeat(MAX_ENCODED_LEN + 1)).is_empty());
        let many: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("\"c{i}\":\"v\"")).collect();
        let raw = utf8_percent_encode(&format!("{{{}}}", many.join(",")), COMPONENT).to_string();
        assert!(InteractionMap::parse(&raw).is_empty());
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut map = InteractionMap::default();
        for i in 0..20 {
            map = map.start(&format!("client-{i}"), &"v".repeat(43));
        }
        assert_eq!(map.0.len(), MAX_ENTRIES);
        assert_eq!(map.select(Some("client-19")).map(|e| e.0), Some("client-19"));
        assert_eq!(map.select(Some("client-0")), None, "the oldest went first");
        let long = "x".repeat(128);
        for i in 0..MAX_ENTRIES {
            map = map.start(&format!("{long}{i}"), &"v".repeat(43));
        }
        assert!(map.encode().len() <= MAX_ENCODED_LEN && !map.is_empty());
    }
}
