//! Form and query parameters of the OAuth endpoints (RFC 6749 §3.1, §3.2): a parameter
//! appears at most once, an empty value counts as absent; `resource` may repeat.

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
        assert!(is_pkce_value(&"a".repeat(43)) && !is_pkce_value(&"a".repeat(42)) && !is_pkce_value(&"+".repeat(43)));
    }
}
