//! Form and query parameters of the OAuth endpoints (RFC 6749 §3.1, §3.2): a parameter
//! appears at most once, an empty value counts as absent; `resource` may repeat.

use crate::limits::{MAX_OAUTH_PARAM_BYTES, MAX_OAUTH_REQUEST_BYTES};

/// Decodes a query string or form body, refusing one over [`MAX_OAUTH_REQUEST_BYTES`]
/// or with a parameter (name or value) over [`MAX_OAUTH_PARAM_BYTES`]: the endpoints
/// store and echo what they are sent, so what they are sent is bounded.
pub fn parse(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    if raw.len() > MAX_OAUTH_REQUEST_BYTES {
        return Err(format!("the request's parameters must not exceed {MAX_OAUTH_REQUEST_BYTES} bytes"));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw).into_owned().collect();
    if let Some((key, _)) =
        pairs.iter().find(|(k, v)| k.len() > MAX_OAUTH_PARAM_BYTES || v.len() > MAX_OAUTH_PARAM_BYTES)
    {
        let name: String = key.chars().take(64).collect();
        return Err(format!("parameter '{name}' must not exceed {MAX_OAUTH_PARAM_BYTES} bytes"));
    }
    Ok(pairs)
}

pub struct Params<'a>(pub &'a [(String, String)]);

impl<'a> Params<'a> {
    /// A parameter that may appear once; `Err` names the duplicated one.
    pub fn single(&self, key: &str) -> Result<Option<&'a str>, String> {
        let mut values = self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("'{key}' parameter must not be provided twice"));
        }
        Ok(first)
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, key: &str) -> Vec<&'a str> {
        self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }
}

/// RFC 7636 §4.1–4.2: a PKCE verifier or S256 challenge is 43 to 128 unreserved characters.
pub fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_all_and_pkce() {
        let pairs =
            vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned()), ("b".to_owned(), String::new())];
        let p = Params(&pairs);
        assert!(p.single("a").is_err());
        assert_eq!(p.single("b"), Ok(None));
        assert_eq!(p.all("a"), ["1", "2"]);
        assert!(parse(format!("state={}", "s".repeat(2048)).as_bytes()).is_ok());
        assert!(parse(format!("state={}", "s".repeat(2049)).as_bytes()).is_err());
        let five: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|k| format!("{k}={}", "v".repeat(2000))).collect();
        assert!(parse(five.join("&").as_bytes()).is_err());
        assert!(is_pkce_value(&"a".repeat(43)) && !is_pkce_value(&"a".repeat(42)) && !is_pkce_value(&"+".repeat(43)));
    }
}
